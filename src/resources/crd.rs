//! `aiservice:apiextensions/v1:CustomResourceDefinition`: any CRD, with the input shape of
//! `apiextensions.k8s.io/v1`.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::ApiResource;

use crate::cluster::{ObjectType, Readiness, condition};
use crate::contract::{CheckFailure, Context, ResourceError};
use crate::description::{Description, Form, ObjectForm, Spec};
use crate::value::{Object, PropertyPath, Value};

use super::object::Shape;
use super::openapi;

pub struct Crd;

const API_VERSION: &str = "apiextensions.k8s.io/v1";
const KIND: &str = "CustomResourceDefinition";

#[async_trait::async_trait]
impl Shape for Crd {
    fn description() -> Description {
        Description {
            token: "aiservice:apiextensions/v1:CustomResourceDefinition",
            summary: "Any CustomResourceDefinition (apiextensions.k8s.io/v1). Waits until it is Established; custom resources planned in the same deployment are validated against it; deletion waits until it is gone.",
            form: Form::Object(ObjectForm {
                fixed_type: Some((API_VERSION, KIND)),
                spec: Spec::CustomResourceDefinition,
                namespaced: Some(false),
                import_id: "the CRD's name, e.g. modelservings.ai.example.com",
            }),
        }
    }
    const REPLACE_PATHS: &'static [&'static str] = &[
        "metadata.name",
        "spec.group",
        "spec.scope",
        "spec.names.plural",
    ];
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    fn api_version_kind(_inputs: &Object) -> Option<(String, String)> {
        Some((API_VERSION.into(), KIND.into()))
    }

    fn to_wire(inputs: &mut Object) {
        let Some(Value::Object(spec)) = inputs.get_mut("spec") else {
            return;
        };
        let Some(Value::Array(versions)) = spec.get_mut("versions") else {
            return;
        };
        for version in versions {
            if let Value::Object(version) = version
                && let Some(Value::Object(schema)) = version.get_mut("schema")
                && let Some(node) = schema.get_mut("openAPIV3Schema")
            {
                extensions_to_wire(node);
            }
        }
    }

    /// A CRD's name is always `<plural>.<group>`, so the program need not repeat it.
    fn derived_name(inputs: &Object) -> Option<String> {
        let spec = inputs.get("spec")?;
        Some(format!(
            "{}.{}",
            spec.get_str("names.plural")?,
            spec.get_str("group")?
        ))
    }

    async fn validate(
        _ctx: &Context,
        inputs: &Object,
        failures: &mut Vec<CheckFailure>,
    ) -> Result<(), ResourceError> {
        let mut fail = |path: &str, reason: String| {
            failures.push(CheckFailure::new(PropertyPath::dotted(path), reason))
        };
        let Some(spec) = inputs.get("spec") else {
            fail(
                "spec",
                "required: the CRD's group, names, scope and versions".into(),
            );
            return Ok(());
        };
        if matches!(spec, Value::Unknown) {
            return Ok(());
        }
        for path in ["group", "names.plural", "names.kind"] {
            match spec.get(&PropertyPath::dotted(path).0) {
                Some(Value::String(s)) if !s.is_empty() => {}
                Some(Value::Unknown) => {}
                None | Some(Value::Null) => fail(
                    &format!("spec.{path}"),
                    "required, a non-empty string".into(),
                ),
                Some(other) => fail(
                    &format!("spec.{path}"),
                    format!("expected a string, got {}", other.type_name()),
                ),
            }
        }
        for path in ["names.plural", "names.singular"] {
            if let Some(s) = spec.get_str(path)
                && s != s.to_ascii_lowercase()
            {
                fail(
                    &format!("spec.{path}"),
                    format!("must be lower case, got {s:?}"),
                );
            }
        }
        match spec.get_str("scope") {
            Some("Namespaced" | "Cluster") | None => {}
            Some(other) => fail(
                "spec.scope",
                format!("expected Namespaced or Cluster, got {other:?}"),
            ),
        }
        if let (Some(name), Some(derived)) = (
            inputs.get("metadata").and_then(|m| m.get_str("name")),
            Self::derived_name(inputs),
        ) && name != derived
        {
            fail(
                "metadata.name",
                format!("must be <plural>.<group>, that is {derived:?}, got {name:?}"),
            );
        }
        validate_versions(spec, failures);
        Ok(())
    }

    fn checked(ctx: &Context, inputs: &Object) {
        if let Ok(json) = Value::Object(inputs.clone()).to_json() {
            ctx.kube.crds.plan(&json);
        }
    }

    async fn object_type(
        _ctx: &Context,
        _inputs: &Object,
    ) -> Result<Option<ObjectType>, ResourceError> {
        Ok(Some(ObjectType {
            resource: ApiResource::erase::<CustomResourceDefinition>(&()),
            namespaced: false,
        }))
    }

    /// The CRD changed which types the cluster serves.
    fn applied(ctx: &Context) {
        ctx.kube.forget_discovery();
    }

    fn readiness(live: &serde_json::Value) -> Readiness {
        if let Some(("False", why)) = condition(live, "NamesAccepted") {
            return Readiness::Failed(format!("the apiserver did not accept the names ({why})"));
        }
        let established = matches!(condition(live, "Established"), Some(("True", _)));
        let names_accepted = matches!(condition(live, "NamesAccepted"), Some(("True", _)));
        if established && names_accepted {
            Readiness::Ready
        } else {
            Readiness::Waiting("conditions Established and NamesAccepted".into())
        }
    }
}

/// How Kubernetes spells the schema extensions (`x-kubernetes-preserve-unknown-fields`).
const EXTENSION_WIRE_PREFIX: &str = "x-kubernetes-";
/// How programs spell them: no language takes `-` in a property name, so the package schema
/// names them `x_kubernetes_preserve_unknown_fields` (as pulumi-kubernetes does).
const EXTENSION_PROGRAM_PREFIX: &str = "x_kubernetes_";

/// The program's name of a `JSONSchemaProps` property.
pub fn program_property_name(wire: &str) -> String {
    match wire.strip_prefix(EXTENSION_WIRE_PREFIX) {
        Some(rest) => format!("{EXTENSION_PROGRAM_PREFIX}{}", rest.replace('-', "_")),
        None => wire.to_string(),
    }
}

/// Renames the program spelling of the extensions to the apiserver's in a `JSONSchemaProps`
/// node and every schema below it. Values such as `default`, `enum` and `example` are user
/// data and keep their keys.
fn extensions_to_wire(node: &mut Value) {
    let Value::Object(fields) = node else {
        return;
    };
    let program_spelled: Vec<String> = fields
        .keys()
        .filter(|k| k.starts_with(EXTENSION_PROGRAM_PREFIX))
        .cloned()
        .collect();
    for key in program_spelled {
        let rest = &key[EXTENSION_PROGRAM_PREFIX.len()..];
        let wire = format!("{EXTENSION_WIRE_PREFIX}{}", rest.replace('_', "-"));
        if let Some(value) = fields.remove(&key) {
            fields.insert(wire, value);
        }
    }
    for (key, child) in fields.iter_mut() {
        match (key.as_str(), child) {
            (
                "properties" | "patternProperties" | "definitions" | "dependencies",
                Value::Object(map),
            ) => map.values_mut().for_each(extensions_to_wire),
            ("allOf" | "anyOf" | "oneOf" | "items", Value::Array(schemas)) => {
                schemas.iter_mut().for_each(extensions_to_wire)
            }
            ("items" | "additionalProperties" | "additionalItems" | "not", schema) => {
                extensions_to_wire(schema)
            }
            _ => {}
        }
    }
}

fn validate_versions(spec: &Value, failures: &mut Vec<CheckFailure>) {
    let path = PropertyPath::dotted("spec.versions");
    let versions = match spec.get(&PropertyPath::dotted("versions").0) {
        Some(Value::Array(v)) if !v.is_empty() => v,
        Some(Value::Unknown) => return,
        _ => {
            failures.push(CheckFailure::new(path, "required: at least one version"));
            return;
        }
    };
    let mut storage = 0;
    let mut storage_known = true;
    for (i, version) in versions.iter().enumerate() {
        let at = path.index(i);
        match version.get(&PropertyPath::dotted("storage").0) {
            Some(Value::Bool(true)) => storage += 1,
            Some(Value::Unknown) => storage_known = false,
            _ => {}
        }
        if !matches!(
            version.get(&PropertyPath::dotted("name").0),
            Some(Value::String(_) | Value::Unknown)
        ) {
            failures.push(CheckFailure::new(
                at.key("name"),
                "required, a string such as v1",
            ));
        }
        let schema_path = at.key("schema").key("openAPIV3Schema");
        match version.get(&PropertyPath::dotted("schema.openAPIV3Schema").0) {
            Some(Value::Unknown) => {}
            Some(schema) => {
                // Parts still unknown are checked by the apiserver's dry-run in the update.
                if let Ok(json) = schema.to_json() {
                    failures.extend(openapi::structural_problems(&json, &schema_path));
                }
            }
            None => failures.push(CheckFailure::new(
                schema_path,
                "required: apiextensions.k8s.io/v1 needs a structural schema for every version",
            )),
        }
    }
    if storage_known && storage != 1 {
        failures.push(CheckFailure::new(
            path,
            format!("exactly one version must have storage: true, found {storage}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd_inputs(schema: serde_json::Value) -> Object {
        match Value::from_json(
            &json!({"spec": {"versions": [{"schema": {"openAPIV3Schema": schema}}]}}),
        ) {
            Value::Object(inputs) => inputs,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn program_spelled_extensions_reach_the_apiserver_spelled_its_way() {
        let mut inputs = crd_inputs(json!({
            "type": "object",
            "x_kubernetes_preserve_unknown_fields": true,
            "properties": {
                "port": {"x_kubernetes_int_or_string": true, "default": {"x_kubernetes_data": 1}},
                "ports": {"type": "array", "x_kubernetes_list_type": "map",
                          "x_kubernetes_list_map_keys": ["name"],
                          "items": {"type": "object", "x-kubernetes-map-type": "atomic"}},
            },
            "anyOf": [{"x_kubernetes_embedded_resource": true}],
        }));
        Crd::to_wire(&mut inputs);
        let wire = Value::Object(inputs).to_json().unwrap();
        assert_eq!(
            wire["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
            json!({
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": true,
                "properties": {
                    // A default is user data: its keys are kept as written.
                    "port": {"x-kubernetes-int-or-string": true, "default": {"x_kubernetes_data": 1}},
                    "ports": {"type": "array", "x-kubernetes-list-type": "map",
                              "x-kubernetes-list-map-keys": ["name"],
                              "items": {"type": "object", "x-kubernetes-map-type": "atomic"}},
                },
                "anyOf": [{"x-kubernetes-embedded-resource": true}],
            })
        );
    }

    #[test]
    fn the_package_schema_spells_extensions_for_programs() {
        assert_eq!(
            program_property_name("x-kubernetes-preserve-unknown-fields"),
            "x_kubernetes_preserve_unknown_fields"
        );
        assert_eq!(program_property_name("openAPIV3Schema"), "openAPIV3Schema");
    }
}
