//! The Pulumi package schema: what the engine, the YAML language host and SDK generators know
//! about our resources and configuration. `schema/schema.json` is this, committed;
//! `make schema` regenerates it and a test fails when it is stale.

mod crd;
pub mod crd_package;
mod kubernetes;
mod types;

pub use types::PACKAGE;

use serde_json::{Map, Value, json};

use crate::description::{Description, Form, ObjectForm, Property, PropertyKind, Spec};
use crate::resources;

use types::{Types, type_ref};

/// The Go module path of the generated Go SDK. `example.com` is reserved, so it can never
/// clash with a real module; publishing the SDK means choosing its real home here.
const GO_IMPORT_BASE_PATH: &str = "example.com/aiservice/sdk/go/aiservice";

/// The schema as pretty JSON, exactly as committed in `schema/schema.json`.
pub fn schema_json() -> String {
    // `{:#}` is serde_json's pretty form, which cannot fail for a `Value`.
    let mut text = format!("{:#}", schema());
    text.push('\n');
    text
}

fn schema() -> Value {
    let config = config_properties();
    let mut types = Types::default();
    kubernetes::add_types(&mut types);
    let kinds = crd::add_types(&mut types);
    let mut resources: Map<String, Value> = resources::all()
        .iter()
        .map(|r| {
            let d = &r.description;
            (d.token.to_string(), resource_schema(d, &kinds))
        })
        .collect();
    for component in resources::components() {
        let required: Vec<&str> = component.outputs.iter().map(|p| p.name.as_str()).collect();
        resources.insert(
            component.token.to_string(),
            json!({
                "isComponent": true,
                "description": component.summary,
                "inputProperties": property_specs(&component.inputs),
                "properties": property_specs(&component.outputs),
                "required": required,
            }),
        );
    }
    json!({
        "name": types::PACKAGE,
        "displayName": "AI Service",
        "version": crate::VERSION,
        "description": "Kubernetes CRDs, any custom resource and AI model services, planned in one go.",
        "license": "Apache-2.0",
        "repository": env!("CARGO_PKG_REPOSITORY"),
        // Where the CLI downloads the plugin archive that `make dist` builds when a program
        // needs it (the SDKs declare it): the release of this version. `${VERSION}` is the
        // CLI's own placeholder; PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES points it elsewhere.
        "pluginDownloadURL": concat!(env!("CARGO_PKG_REPOSITORY"), "/releases/download/v${VERSION}"),
        "keywords": ["kubernetes", "crd", "ai", "category/cloud"],
        // A token's module is its SDK module as is: `apiextensions/v1` is Python's
        // `pulumi_aiservice.apiextensions.v1`, `meta/v1` is `pulumi_aiservice.meta.v1`,
        // `index` the top level (as `pulumi package gen-sdk` shows, see
        // tests/schema_codegen.rs).
        "meta": {"moduleFormat": "(.*)"},
        "language": languages(),
        "config": {"variables": config},
        "provider": {"description": "Which cluster to manage and how.", "inputProperties": config},
        "types": types.into_json(),
        "resources": resources,
        "functions": functions(&kinds),
    })
}

/// Package names per SDK.
///
/// - Python `pulumi_aiservice`: the seeds `import pulumi_aiservice`, following the
///   `pulumi_<name>` convention of every Pulumi package.
/// - Node.js `@aiservice/pulumi`: a scope of our own (`@pulumi/*` is Pulumi's), so
///   `import * as aiservice from "@aiservice/pulumi"` can never be squatted.
/// - Go: see [`GO_IMPORT_BASE_PATH`].
fn languages() -> Value {
    json!({
        "python": {
            "packageName": "pulumi_aiservice",
            "pyproject": {"enabled": true},
            "respectSchemaVersion": true,
        },
        "nodejs": {
            "packageName": "@aiservice/pulumi",
            "packageDescription": "Kubernetes CRDs, any custom resource and AI model services, planned in one go.",
            "respectSchemaVersion": true,
        },
        "go": {
            "importBasePath": GO_IMPORT_BASE_PATH,
            "generateResourceContainerTypes": true,
            "respectSchemaVersion": true,
        },
    })
}

/// The configuration variables, from [`crate::provider_config::ProviderConfig`].
pub(super) fn config_properties() -> Value {
    property_specs(&crate::provider_config::keys())
}

/// Settings as Pulumi property specs, by name.
fn property_specs(properties: &[Property]) -> Value {
    let specs: Map<String, Value> = properties
        .iter()
        .map(|property| {
            let mut spec = match property.kind {
                PropertyKind::String => json!({"type": "string"}),
                PropertyKind::Bool => json!({"type": "boolean"}),
                PropertyKind::Integer => json!({"type": "integer"}),
                PropertyKind::StringList => json!({"type": "array", "items": {"type": "string"}}),
            };
            spec["description"] = json!(property.description);
            if property.secret {
                spec["secret"] = json!(true);
            }
            (property.name.clone(), spec)
        })
        .collect();
    Value::Object(specs)
}

/// A property spec with a description.
fn described(mut spec: Value, description: &str) -> Value {
    spec["description"] = Value::String(description.to_string());
    spec
}

fn resource_schema(description: &Description, kinds: &[crd::KindTypes]) -> Value {
    match &description.form {
        Form::Object(object) => object_schema(description.summary, object, kinds),
        Form::Settings {
            inputs, outputs, ..
        } => {
            let required: Vec<&str> = outputs.iter().map(|p| p.name.as_str()).collect();
            json!({
                "description": description.summary,
                "inputProperties": property_specs(inputs),
                "properties": property_specs(outputs),
                "required": required,
            })
        }
    }
}

/// The lookups, as functions: the query in, the object out.
fn functions(kinds: &[crd::KindTypes]) -> Value {
    let functions: Map<String, Value> = resources::LOOKUPS
        .iter()
        .map(|lookup| {
            let query = lookup.query();
            let properties: Vec<Property> = query.iter().map(|(p, _)| p.clone()).collect();
            let required: Vec<&str> = query
                .iter()
                .filter(|(_, required)| *required)
                .map(|(p, _)| p.name.as_str())
                .collect();
            let (spec, status) = spec_and_status(lookup.spec, kinds);
            let string = |description: &str| described(json!({"type": "string"}), description);
            let outputs = json!({
                "id": string("`namespace/name`, or `name` for a cluster-scoped object."),
                "apiVersion": string("The object's API version, `<group>/<version>`."),
                "kind": string("The object's kind."),
                "metadata": described(type_ref(&types::token_for(kubernetes::OBJECT_META)), "The object's metadata."),
                "spec": described(spec, "The object's spec."),
                "status": described(status, "The object's status, as the cluster reports it."),
            });
            let spec = json!({
                "description": lookup.summary,
                "inputs": {"properties": property_specs(&properties), "required": required},
                "outputs": {"properties": outputs, "required": ["id", "apiVersion", "kind", "metadata"]},
            });
            (lookup.token.to_string(), spec)
        })
        .collect();
    Value::Object(functions)
}

/// What the schema says about an object's `spec` and `status`.
fn spec_and_status(spec: Spec, kinds: &[crd::KindTypes]) -> (Value, Value) {
    match spec {
        Spec::CustomResourceDefinition => (
            type_ref(&types::token_for(kubernetes::CRD_SPEC)),
            types::any(),
        ),
        Spec::Any => (types::any(), types::any()),
        Spec::OurKind(kind) => kinds
            .iter()
            .find(|k| k.kind == kind)
            .map(|k| (k.spec.clone(), k.status.clone()))
            .unwrap_or_else(|| unreachable!("{kind} is one of api::crds()")),
    }
}

/// A Kubernetes object: `metadata` and `spec` in (with `apiVersion` and `kind` unless the
/// resource fixes them), the object as the cluster has it out.
fn object_schema(summary: &str, object: &ObjectForm, kinds: &[crd::KindTypes]) -> Value {
    let (spec, status) = spec_and_status(object.spec, kinds);
    let meta = described(
        type_ref(&types::token_for(kubernetes::OBJECT_META)),
        "Standard object metadata. Unset `name`: a name is generated from the resource name.",
    );
    let string = |description: &str| described(json!({"type": "string"}), description);
    let (mut inputs, required_inputs) = match object.fixed_type {
        Some(_) => (json!({}), json!(["spec"])),
        None => (
            json!({
                "apiVersion": string("The API version of the custom resource, `<group>/<version>`, such as `ai.example.com/v1`; or `v1` for a core object such as a Namespace."),
                "kind": string("The kind of the custom resource, such as `ModelServing`."),
            }),
            json!(["apiVersion", "kind"]),
        ),
    };
    inputs["metadata"] = meta.clone();
    inputs["spec"] = described(spec.clone(), "The desired state.");
    let outputs = json!({
        "apiVersion": string("The object's API version, `<group>/<version>`."),
        "kind": string("The object's kind."),
        "metadata": meta,
        "spec": described(spec, "The desired state, as the cluster has it."),
        "status": described(status, "The observed state, as the cluster reports it; never diffed."),
    });
    json!({
        "description": summary,
        "inputProperties": inputs,
        "requiredInputs": required_inputs,
        "properties": outputs,
        "required": ["apiVersion", "kind", "metadata"],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_schema_is_current() {
        assert!(
            super::schema_json() == include_str!("../../schema/schema.json"),
            "schema/schema.json is stale: run `make schema` and commit it"
        );
    }

    /// The SDKs' docs are never blank: every property of every type and resource says what
    /// it is.
    #[test]
    fn every_property_has_a_description() {
        let schema = super::schema();
        let mut owners: Vec<(&String, &serde_json::Value)> = Vec::new();
        for section in ["types", "resources"] {
            owners.extend(schema[section].as_object().into_iter().flatten());
        }
        for (token, function) in schema["functions"].as_object().into_iter().flatten() {
            owners.extend(["inputs", "outputs"].map(|part| (token, &function[part])));
        }
        for (token, spec) in owners {
            for list in ["properties", "inputProperties"] {
                for (name, property) in spec[list].as_object().into_iter().flatten() {
                    let text = property["description"].as_str().unwrap_or_default();
                    assert!(!text.is_empty(), "{token}.{name} has no description");
                }
            }
        }
    }
}
