//! Pulumi object and enum types from JSON Schema: the shared vocabulary of the Kubernetes
//! types (from k8s-openapi's schemars schemas, see `kubernetes.rs`) and of our CRDs' spec and
//! status (from their generated openAPIV3Schema, see `crd.rs`).
//!
//! Everything here is total: a JSON Schema shape Pulumi cannot express becomes
//! `pulumi.json#/Any` rather than an error, because the provider validates values against the
//! real schema in Check anyway; the package schema only has to describe them faithfully.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The package name, the first part of every token.
pub const PACKAGE: &str = "aiservice";

/// Any value: what Pulumi's type system cannot narrow further.
pub fn any() -> Value {
    json!({"$ref": "pulumi.json#/Any"})
}

/// The Pulumi types of the package, by token.
#[derive(Default)]
pub struct Types {
    by_token: BTreeMap<String, Value>,
}

impl Types {
    /// Adds a type unless one with this token exists (the first definition wins: one Rust
    /// type is one Pulumi type, however many places use it).
    pub fn insert(&mut self, token: String, spec: Value) {
        self.by_token.entry(token).or_insert(spec);
    }

    pub fn contains(&self, token: &str) -> bool {
        self.by_token.contains_key(token)
    }

    pub fn into_json(self) -> Map<String, Value> {
        self.by_token.into_iter().collect()
    }
}

/// A reference to a type of the package.
pub fn type_ref(token: &str) -> Value {
    json!({"$ref": format!("#/types/{token}")})
}

/// The token of a schema definition. Kubernetes definitions are named
/// `io.k8s.<...>.<group>.<version>.<Kind>`; their module is `<group>/<version>`, so
/// `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta` is `aiservice:meta/v1:ObjectMeta` and
/// the SDKs place it where pulumi-kubernetes users look for it (`meta.v1.ObjectMetaArgs`).
/// Our own Rust types have plain names and live in the `index` module.
pub fn token_for(definition: &str) -> String {
    token_in(PACKAGE, definition)
}

/// [`token_for`] in another package: a CRD package carries its own copy of `ObjectMeta`.
pub fn token_in(package: &str, definition: &str) -> String {
    let parts: Vec<&str> = definition.split('.').collect();
    match parts.as_slice() {
        [.., group, version, name] if parts.len() > 3 => {
            format!("{package}:{group}/{version}:{name}")
        }
        _ => format!("{package}:index:{}", definition.replace('.', "")),
    }
}

/// The scalar or collection shape of a schema node that is not a named object type, in
/// Pulumi's terms. `resolve` turns a nested schema into a Pulumi type (a named type reference
/// or, recursively, a shape): the callers differ in how they name object types.
pub fn shape(node: &Value, resolve: &mut dyn FnMut(&Value) -> Value) -> Value {
    if node.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        // Kubernetes' IntOrString (and Quantity): either JSON type is valid on the wire.
        return json!({"oneOf": [{"type": "integer"}, {"type": "string"}]});
    }
    match node.get("type").and_then(Value::as_str) {
        Some(scalar @ ("string" | "integer" | "number" | "boolean")) => json!({"type": scalar}),
        Some("array") => match node.get("items") {
            Some(items) => json!({"type": "array", "items": resolve(items)}),
            None => json!({"type": "array", "items": any()}),
        },
        Some("object") => match node.get("additionalProperties") {
            Some(values) if values.is_object() => {
                json!({"type": "object", "additionalProperties": resolve(values)})
            }
            // An object without declared fields (JSON, FieldsV1, the status subresource):
            // any shape.
            _ => any(),
        },
        // Unions such as JSONSchemaPropsOrBool, or no type at all.
        _ => any(),
    }
}

/// Whether a schema node is an object with declared fields: those become named types.
pub fn is_object_type(node: &Value) -> bool {
    node.get("properties").is_some_and(Value::is_object)
}

/// A node's description, with doc-comment line breaks joined into paragraphs.
pub fn description(node: &Value) -> Option<String> {
    node.get("description")
        .and_then(Value::as_str)
        .map(crate::api::reflow)
        .filter(|text| !text.is_empty())
}

/// Every property gets a description: Kubernetes leaves a few undocumented (JSONSchemaProps'
/// JSON Schema keywords), and the SDKs' docs should never be blank.
pub fn fallback_description(owner: &str, property: &str) -> String {
    match owner {
        "JSONSchemaProps" => format!("The JSON Schema keyword `{property}`."),
        _ => format!("The `{property}` field of {owner}."),
    }
}

/// A property spec with its description.
pub fn with_description(mut property: Value, text: String) -> Value {
    if let Some(map) = property.as_object_mut() {
        map.insert("description".into(), Value::String(text));
    }
    property
}

/// The names listed in a schema node's `required`.
pub fn required(node: &Value) -> Vec<Value> {
    node.get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// A Pulumi object type.
pub fn object_type(
    description: String,
    properties: Map<String, Value>,
    required: Vec<Value>,
) -> Value {
    let mut spec = json!({"type": "object", "description": description, "properties": properties});
    if !required.is_empty() {
        spec["required"] = Value::Array(required);
    }
    spec
}

/// `FooBar` from `fooBar` / `foo-bar`: names of object types derived from property paths.
pub fn pascal_case(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_definitions_map_to_group_version_modules() {
        assert_eq!(
            token_for("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps"),
            "aiservice:apiextensions/v1:JSONSchemaProps"
        );
        assert_eq!(
            token_for("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            "aiservice:meta/v1:ObjectMeta"
        );
        assert_eq!(token_for("Scaling"), "aiservice:index:Scaling");
    }

    #[test]
    fn unknown_shapes_are_any() {
        let mut resolve = |_: &Value| any();
        assert_eq!(
            shape(&json!({"oneOf": [{}, {"type": "boolean"}]}), &mut resolve),
            any()
        );
        assert_eq!(shape(&json!({"type": "object"}), &mut resolve), any());
        assert_eq!(
            shape(&json!({"x-kubernetes-int-or-string": true}), &mut resolve),
            json!({"oneOf": [{"type": "integer"}, {"type": "string"}]})
        );
    }
}
