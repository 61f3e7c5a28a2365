//! Pulumi types of our own kinds' `spec` and `status`, walked from the generated CRDs'
//! openAPIV3Schema (`api::crds()`): the very schema the apiserver and the provider's Check
//! validate against, with its descriptions and enums.
//!
//! The CRD schema is fully inlined, so it carries no type names. Names come from the Rust
//! types in `src/api`: each is rendered the way kube renders a CRD schema, and a CRD node with
//! the same content (ignoring what the field adds: its description, default and nullability)
//! takes that type's name. So the scaling block, the same Rust type in AIService and
//! ModelServing, is one Pulumi type `aiservice:index:Scaling`. A node no Rust type matches
//! is named by its path (`AIServiceSpecFoo`), and identical such nodes share one name.

use kube::core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::api;

use super::types::{self, Types};

/// The Pulumi types of one kind's top-level fields.
pub struct KindTypes {
    /// The kind, such as `AIService`.
    pub kind: String,
    pub spec: Value,
    pub status: Value,
}

/// A Rust type's name and its schema rendered as in a CRD, to recognise it in the CRD.
struct Named {
    name: String,
    fingerprint: Value,
    /// The type's own doc comment (the CRD node carries the field's).
    description: Option<String>,
    /// For enums: each value's doc comment, from the non-structural schema.
    value_descriptions: Map<String, Value>,
}

/// Every Rust type of `src/api` that may appear in a CRD. A type missing here still gets a
/// Pulumi type, named by its path; the schema test insists that none is.
fn named_types() -> Vec<Named> {
    vec![
        named::<api::AIServiceSpec>(),
        named::<api::ModelServingSpec>(),
        named::<api::ModelResources>(),
        named::<api::Scaling>(),
        named::<api::ScalingMode>(),
        named::<api::Metric>(),
        named::<api::PrometheusMetric>(),
        named::<api::PodScrapeMetric>(),
        named::<api::ScalingBehavior>(),
        named::<api::ScalingRules>(),
        named::<api::ScalingPolicy>(),
        named::<api::PolicyType>(),
        named::<api::SelectPolicy>(),
        named::<api::ServingStatus>(),
        named::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition>(),
    ]
}

/// `T` rendered with kube's CRD schema settings (inlined, structural), normalised like the
/// published CRDs.
fn named<T: JsonSchema>() -> Named {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(schemars::transform::AddNullable::default())
        .with_transform(StructuralSchemaRewriter)
        .with_transform(OptionalEnum)
        .with_transform(OptionalIntOrString)
        .into_generator();
    let crd_style = normalise(generator.into_root_schema_for::<T>().to_value());
    let plain = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    Named {
        name: T::schema_name().into_owned(),
        description: types::description(&crd_style),
        fingerprint: fingerprint(&crd_style),
        value_descriptions: enum_value_descriptions(&plain),
    }
}

/// A schema as it is published in a CRD: through `JSONSchemaProps` (which, for one, writes
/// integer bounds as floats) with reflowed descriptions.
fn normalise(schema: Value) -> Value {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
    let typed =
        serde_json::from_value::<JSONSchemaProps>(schema.clone()).and_then(serde_json::to_value);
    let mut value = typed.unwrap_or(schema);
    reflow_all(&mut value);
    value
}

fn reflow_all(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "description" => *text = api::reflow(text),
                    _ => reflow_all(child),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(reflow_all),
        _ => {}
    }
}

/// Whether every field of an object node can be an SDK property. A field name that is no
/// identifier (`app.kubernetes.io/name`, `x-y`) makes the object a free-form map, still
/// validated by Check against the CRD.
fn has_program_names(node: &Value) -> bool {
    let identifier = |name: &str| {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    node.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|fields| fields.keys().all(|name| identifier(name)))
}

/// A node's content without what the field using it adds.
fn fingerprint(node: &Value) -> Value {
    let mut node = node.clone();
    if let Some(map) = node.as_object_mut() {
        for key in ["description", "default", "nullable", "title"] {
            map.remove(key);
        }
    }
    node
}

/// `{"Manual": "<doc comment>", ...}` from schemars' `oneOf` of documented constants.
fn enum_value_descriptions(plain: &Value) -> Map<String, Value> {
    let variants = plain.get("oneOf").and_then(Value::as_array);
    variants
        .into_iter()
        .flatten()
        .filter_map(|variant| {
            let value = variant.get("const")?.as_str()?;
            let text = types::description(variant)?;
            Some((value.to_string(), Value::String(text)))
        })
        .collect()
}

/// Adds the types of every CRD's spec and status and returns them per kind.
pub fn add_types(types: &mut Types) -> Vec<KindTypes> {
    let mut walker = Walker {
        types,
        named: named_types(),
        by_content: Vec::new(),
        module: format!("{}:index", types::PACKAGE),
    };
    api::crds()
        .iter()
        .filter_map(|crd| {
            let version = crd.spec.versions.first()?;
            let schema = version.schema.as_ref()?.open_api_v3_schema.as_ref()?;
            let root = serde_json::to_value(schema).ok()?;
            let kind = crd.spec.names.kind.clone();
            let spec = walker.field(&root, &kind, "spec");
            let status = walker.field(&root, &kind, "status");
            Some(KindTypes { kind, spec, status })
        })
        .collect()
}

struct Walker<'a> {
    types: &'a mut Types,
    named: Vec<Named>,
    /// Path-named types by content, so identical unnamed nodes share one type.
    by_content: Vec<(Value, String)>,
    /// Where path-named types go: `aiservice:index`, or `<package>:<module>` in a CRD package.
    module: String,
}

/// The types of the custom resources of one module of a CRD package (`<package>:<group>/<version>`),
/// named by their paths: identical nodes of the module's kinds share one type.
pub struct ModuleTypes<'a>(Walker<'a>);

impl<'a> ModuleTypes<'a> {
    pub fn new(types: &'a mut Types, module: String) -> Self {
        Self(Walker {
            types,
            named: Vec::new(),
            by_content: Vec::new(),
            module,
        })
    }

    /// The property spec of the top-level field `field` of `kind` (schema `node`): its type,
    /// named `<Kind><Field>` if it is an object, and its description.
    pub fn field(&mut self, kind: &str, field: &str, node: &Value) -> Value {
        self.0.property(kind, field, node)
    }
}

impl Walker<'_> {
    /// The Pulumi type of a top-level field of a kind (`spec`, `status`); Any if absent.
    fn field(&mut self, root: &Value, kind: &str, field: &str) -> Value {
        match root.pointer(&format!("/properties/{field}")) {
            Some(node) => self.resolve(node, &format!("{kind}{}", types::pascal_case(field))),
            None => types::any(),
        }
    }

    /// The Pulumi type of a node; `path_name` names it if no Rust type matches.
    fn resolve(&mut self, node: &Value, path_name: &str) -> Value {
        let named = self.named_index(node);
        if let Some(values) = node.get("enum").and_then(Value::as_array)
            && let Some(index) = named
        {
            return self.enum_type(index, values);
        }
        if types::is_object_type(node) && has_program_names(node) {
            let token = self.object_token(node, named, path_name);
            return types::type_ref(&token);
        }
        let item_name = format!("{path_name}Item");
        types::shape(node, &mut |child| self.resolve(child, &item_name))
    }

    fn named_index(&self, node: &Value) -> Option<usize> {
        let print = fingerprint(node);
        self.named.iter().position(|n| n.fingerprint == print)
    }

    /// The token of an object node's type, adding the type on first sight.
    fn object_token(&mut self, node: &Value, named: Option<usize>, path_name: &str) -> String {
        let print = fingerprint(node);
        let (name, description) = match named {
            Some(index) => (
                self.named[index].name.clone(),
                self.named[index].description.clone(),
            ),
            None => match self.by_content.iter().find(|(p, _)| *p == print) {
                Some((_, name)) => (name.clone(), None),
                None => {
                    let name = self.unused_name(path_name);
                    self.by_content.push((print, name.clone()));
                    (name, None)
                }
            },
        };
        let token = match named {
            Some(_) => types::token_for(&name),
            None => format!("{}:{name}", self.module),
        };
        if !self.types.contains(&token) {
            let description = description
                .or_else(|| types::description(node))
                .unwrap_or_else(|| format!("The {name} object."));
            let spec = self.object_type(node, &name, description);
            self.types.insert(token.clone(), spec);
        }
        token
    }

    /// `path_name`, or with a number if a node of other content took it (`FooBar` can be
    /// `Foo.bar` and `FooB.ar`).
    fn unused_name(&self, path_name: &str) -> String {
        let taken = |name: &str| self.by_content.iter().any(|(_, n)| n == name);
        (1..)
            .map(|n| match n {
                1 => path_name.to_string(),
                n => format!("{path_name}{n}"),
            })
            .find(|name| !taken(name))
            .unwrap_or_default()
    }

    fn object_type(&mut self, node: &Value, name: &str, description: String) -> Value {
        let owner = name.rsplit('.').next().unwrap_or(name).to_string();
        let mut properties = Map::new();
        if let Some(fields) = node.get("properties").and_then(Value::as_object) {
            for (field, child) in fields {
                let spec = self.property(&owner, field, child);
                properties.insert(field.clone(), spec);
            }
        }
        types::object_type(description, properties, types::required(node))
    }

    /// A field: its type and description. Defaults stay the CRD's, applied by the apiserver
    /// (the descriptions name them): a `default` in the package schema would make every SDK
    /// send the value as if the user had set it, so the program would own a value it never
    /// chose, and a CRD without the field (an older version, the user's own) would reject it.
    fn property(&mut self, owner: &str, field: &str, node: &Value) -> Value {
        let path_name = format!("{owner}{}", types::pascal_case(field));
        let spec = self.resolve(node, &path_name);
        let description =
            types::description(node).unwrap_or_else(|| types::fallback_description(owner, field));
        types::with_description(spec, description)
    }

    /// A Pulumi enum type for a named Rust enum, each value with its doc comment.
    fn enum_type(&mut self, index: usize, values: &[Value]) -> Value {
        let named = &self.named[index];
        let token = types::token_for(&named.name);
        let values: Vec<Value> = values
            .iter()
            .map(|value| {
                let mut entry = json!({"value": value});
                let text = value.as_str().and_then(|v| named.value_descriptions.get(v));
                if let Some(text) = text {
                    entry["description"] = text.clone();
                }
                entry
            })
            .collect();
        let description = named
            .description
            .clone()
            .unwrap_or_else(|| format!("The values of {}.", named.name));
        self.types.insert(
            token.clone(),
            json!({"type": "string", "description": description, "enum": values}),
        );
        types::type_ref(&token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spec and status type carries the name of its Rust type: none fell back to a
    /// path name (a new API type must be added to `named_types`).
    #[test]
    fn every_type_is_named_after_its_rust_type() {
        let mut types = Types::default();
        add_types(&mut types);
        let names: Vec<String> = named_types()
            .iter()
            .map(|n| types::token_for(&n.name))
            .collect();
        for token in types.into_json().keys() {
            assert!(names.contains(token), "{token} is named by its path");
        }
    }

    /// The scaling block is one Rust type in both kinds, so one Pulumi type.
    #[test]
    fn shared_rust_types_are_one_pulumi_type() {
        let mut types = Types::default();
        let kinds = add_types(&mut types);
        let types = types.into_json();
        for kind in ["AIServiceSpec", "ModelServingSpec"] {
            let spec = &types[&format!("aiservice:index:{kind}")];
            assert_eq!(
                spec["properties"]["scaling"]["$ref"],
                "#/types/aiservice:index:Scaling"
            );
        }
        let statuses: Vec<&Value> = kinds.iter().map(|k| &k.status).collect();
        assert_eq!(
            statuses,
            [&types::type_ref("aiservice:index:ServingStatus"); 2]
        );
    }
}
