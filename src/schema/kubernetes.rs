//! Pulumi types of the Kubernetes API objects our resources take: `CustomResourceDefinitionSpec`
//! with everything it references (versions, validation, the recursive `JSONSchemaProps`,
//! names, subresources, conversion) and `ObjectMeta`. They come from k8s-openapi's schemars
//! schemas, the same Rust types the provider deserializes into, so the package schema cannot
//! drift from what the provider accepts.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use super::types::{self, Types};
use crate::resources::crd;

/// Where schemars puts definitions with draft 2020-12 settings.
const DEFINITIONS: &str = "#/$defs/";

/// The definition name of `ObjectMeta`, for the resources' `metadata`.
pub const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// The definition name of `CustomResourceDefinitionSpec`.
pub const CRD_SPEC: &str =
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec";

/// Adds the types of `CustomResourceDefinitionSpec` and `ObjectMeta`, and every object type
/// they reference, to `types`.
pub fn add_types(types: &mut Types) {
    // Not inlining is schemars' default: every k8s-openapi type stays a definition of its
    // own, which is what lets the recursive JSONSchemaProps refer to itself.
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<CustomResourceDefinitionSpec>();
    generator.subschema_for::<ObjectMeta>();
    add_definitions(types, types::PACKAGE, generator);
}

/// Adds `ObjectMeta` and the types it references to the types of `package` (a CRD package).
pub fn add_object_meta(types: &mut Types, package: &str) {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    generator.subschema_for::<ObjectMeta>();
    add_definitions(types, package, generator);
}

fn add_definitions(types: &mut Types, package: &str, mut generator: SchemaGenerator) {
    let definitions = generator.take_definitions(true);
    for (name, definition) in &definitions {
        if types::is_object_type(definition) {
            types.insert(
                types::token_in(package, name),
                object_type(package, name, definition, &definitions),
            );
        }
    }
}

/// The Pulumi object type of one definition.
fn object_type(
    package: &str,
    name: &str,
    definition: &Value,
    definitions: &Map<String, Value>,
) -> Value {
    let owner = name.rsplit('.').next().unwrap_or(name);
    let properties = definition
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(property, node)| {
                    let spec = property_type(package, owner, property, node, definitions);
                    (crd::program_property_name(property), spec)
                })
                .collect()
        })
        .unwrap_or_default();
    let description =
        types::description(definition).unwrap_or_else(|| format!("The Kubernetes {owner} object."));
    types::object_type(description, properties, types::required(definition))
}

/// A property of a Kubernetes type: its type and description.
fn property_type(
    package: &str,
    owner: &str,
    property: &str,
    node: &Value,
    definitions: &Map<String, Value>,
) -> Value {
    // A `$ref` property carries the field's description; the referenced type its own.
    let description = types::description(node)
        .or_else(|| referenced(node, definitions).and_then(|(_, def)| types::description(def)))
        .unwrap_or_else(|| types::fallback_description(owner, property));
    types::with_description(resolve(package, node, definitions), description)
}

/// The definition a `$ref` node points to.
fn referenced<'a>(
    node: &Value,
    definitions: &'a Map<String, Value>,
) -> Option<(&'a String, &'a Value)> {
    let name = node.get("$ref")?.as_str()?.strip_prefix(DEFINITIONS)?;
    definitions.get_key_value(name)
}

/// The Pulumi type of a schema node: a reference to a named object type, or its shape.
fn resolve(package: &str, node: &Value, definitions: &Map<String, Value>) -> Value {
    let mut nested = |n: &Value| resolve(package, n, definitions);
    match referenced(node, definitions) {
        Some((name, definition)) if types::is_object_type(definition) => {
            types::type_ref(&types::token_in(package, name))
        }
        // A named scalar (Time, Quantity, IntOrString) or shapeless type (JSON, FieldsV1).
        Some((_, definition)) => types::shape(definition, &mut nested),
        None => types::shape(node, &mut nested),
    }
}
