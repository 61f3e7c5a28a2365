//! The Pulumi package schema: what the engine, the YAML language host and SDK generators know
//! about our resources and configuration. `schema/schema.json` is this, committed;
//! `make schema` regenerates it and a test fails when it is stale.

mod crd;
mod kubernetes;
mod types;

use serde_json::{Map, Value, json};

use crate::resources;

use types::{Types, type_ref};

/// The Go module path of the generated Go SDK. `example.com` is reserved, so it can never
/// clash with a real module; publishing the SDK means choosing its real home here.
const GO_IMPORT_BASE_PATH: &str = "example.com/aiservice/sdk/go/aiservice";

/// The schema as pretty JSON, exactly as committed in `schema/schema.json`.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

fn schema() -> Value {
    let config = config_properties();
    let mut types = Types::default();
    kubernetes::add_types(&mut types);
    let kinds = crd::add_types(&mut types);
    let resources: Map<String, Value> = resources::all()
        .iter()
        .map(|r| (r.token().to_string(), resource_schema(r.token(), &kinds)))
        .collect();
    json!({
        "name": types::PACKAGE,
        "displayName": "AI Service",
        "version": crate::VERSION,
        "description": "Kubernetes CRDs, any custom resource and AI model services, planned in one go.",
        "license": "Apache-2.0",
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
fn config_properties() -> Value {
    let properties: Map<String, Value> = crate::provider_config::keys()
        .into_iter()
        .map(|key| {
            let kind = match key.kind {
                crate::provider_config::KeyKind::String => "string",
                crate::provider_config::KeyKind::Bool => "boolean",
            };
            let mut spec = json!({"type": kind, "description": key.description});
            if key.secret {
                spec["secret"] = json!(true);
            }
            (key.name, spec)
        })
        .collect();
    Value::Object(properties)
}

/// A property spec with a description.
fn described(mut spec: Value, description: &str) -> Value {
    spec["description"] = Value::String(description.to_string());
    spec
}

/// What a resource takes and reports, besides its description.
struct ResourceProperties {
    description: &'static str,
    inputs: Value,
    required_inputs: Value,
    spec: Value,
    status: Value,
}

fn resource_schema(token: &str, kinds: &[crd::KindTypes]) -> Value {
    if token == resources::OPERATOR_TOKEN {
        return operator_schema();
    }
    let shape = resource_properties(token, kinds);
    let meta = described(
        type_ref(&types::token_for(kubernetes::OBJECT_META)),
        "Standard object metadata. Unset `name`: a name is generated from the resource name.",
    );
    let string = |description: &str| described(json!({"type": "string"}), description);
    let mut inputs = shape.inputs;
    inputs["metadata"] = meta.clone();
    inputs["spec"] = described(shape.spec.clone(), "The desired state.");
    let outputs = json!({
        "apiVersion": string("The object's API version, `<group>/<version>`."),
        "kind": string("The object's kind."),
        "metadata": meta,
        "spec": described(shape.spec, "The desired state, as the cluster has it."),
        "status": described(shape.status, "The observed state, as the cluster reports it; never diffed."),
    });
    json!({
        "description": shape.description,
        "inputProperties": inputs,
        "requiredInputs": shape.required_inputs,
        "properties": outputs,
        "required": ["apiVersion", "kind", "metadata"],
    })
}

/// `aiservice:index:Operator`: the installation's settings in, the same plus the objects out.
fn operator_schema() -> Value {
    let defaults = crate::api::bundle::BundleSettings::default();
    let inputs = json!({
        "image": described(json!({"type": "string"}), &format!("The operator's container image. Default `{}`.", defaults.image)),
        "replicas": described(json!({"type": "integer"}), "How many operator pods run (1 to 10); one acts, the others stand by (leader election). Default 1."),
        "namespace": described(json!({"type": "string"}), &format!("The namespace the operator runs in, created with it. Changing it reinstalls the operator. Default `{}`.", defaults.namespace)),
        "logLevel": described(json!({"type": "string"}), "The operator's log filter, such as `info` or `aiservice=debug`. Default `info`."),
    });
    let mut outputs = inputs.clone();
    outputs["objects"] = described(
        json!({"type": "array", "items": {"type": "string"}}),
        "The objects installed, as `Kind name` or `Kind namespace/name`, in the order they are applied.",
    );
    json!({
        "description": "The aiservice operator, installed as one unit: the AIService and ModelServing CRDs, a namespace, a ServiceAccount, least-privilege RBAC and the operator Deployment, applied in that order and awaited until the Deployment is available; deleted in reverse order. `schema/operator.yaml` is the same bundle for kubectl.",
        "inputProperties": inputs,
        "properties": outputs,
        "required": ["image", "replicas", "namespace", "logLevel", "objects"],
    })
}

fn resource_properties(token: &str, kinds: &[crd::KindTypes]) -> ResourceProperties {
    let any = types::any();
    let kind_types = |kind: &str| {
        kinds
            .iter()
            .find(|k| k.kind == kind)
            .map(|k| (k.spec.clone(), k.status.clone()))
            .unwrap_or_else(|| (any.clone(), any.clone()))
    };
    match token {
        "aiservice:apiextensions/v1:CustomResourceDefinition" => ResourceProperties {
            description: "Any CustomResourceDefinition (apiextensions.k8s.io/v1). Waits until it is Established; deletion waits until it is gone.",
            inputs: json!({}),
            required_inputs: json!(["spec"]),
            spec: type_ref(&types::token_for(kubernetes::CRD_SPEC)),
            status: any.clone(),
        },
        "aiservice:apiextensions:CustomResource" => ResourceProperties {
            description: "Any custom resource, validated against its CRD: the live one or the one planned in the same deployment. Also a built-in object of the core group (`apiVersion: v1`), such as the Namespace other objects go into.",
            inputs: json!({
                "apiVersion": {"type": "string", "description": "The API version of the custom resource, `<group>/<version>`, such as `ai.example.com/v1`; or `v1` for a core object such as a Namespace."},
                "kind": {"type": "string", "description": "The kind of the custom resource, such as `ModelServing`."},
            }),
            required_inputs: json!(["apiVersion", "kind"]),
            spec: any.clone(),
            status: any.clone(),
        },
        "aiservice:index:AIService" => {
            let (spec, status) = kind_types("AIService");
            ResourceProperties {
                description: "An AI model served by the aiservice operator (stable.example.com/v1 AIService), scaled manually or on requests per second. The spec is checked against the AIService CRD, CEL rules included, before anything reaches the cluster; `status` is the operator's.",
                inputs: json!({}),
                required_inputs: json!(["spec"]),
                spec,
                status,
            }
        }
        _ => {
            let (spec, status) = kind_types("ModelServing");
            ResourceProperties {
                description: "A model serving instance (ai.example.com/v1 ModelServing): a model server image and how many replicas run it. The spec is checked against the ModelServing CRD before anything reaches the cluster; `status` is the operator's.",
                inputs: json!({}),
                required_inputs: json!(["spec"]),
                spec,
                status,
            }
        }
    }
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
