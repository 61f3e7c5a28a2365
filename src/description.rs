//! What a resource or the provider configuration is, said once. Each resource returns its
//! [`Description`] ([`crate::contract::Resource::describe`]); the Pulumi package schema, the
//! Terraform schema and both adapters' registries are rendered from these, so adding a
//! resource or a setting is one change in one place.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value as Json;

/// What a resource is.
#[derive(Clone, Debug)]
pub struct Description {
    /// The Pulumi type token, e.g. `aiservice:index:AIService`; the Terraform type name is
    /// derived from it ([`Description::terraform_name`]).
    pub token: &'static str,
    /// What it does, shown by both schemas (Markdown).
    pub summary: &'static str,
    pub form: Form,
}

/// How a resource's inputs and outputs are laid out.
#[derive(Clone, Debug)]
pub enum Form {
    /// A Kubernetes object: `metadata`, `spec` and what else the object carries.
    Object(ObjectForm),
    /// Settings of our own, one property each (from a `JsonSchema` type); the outputs are the
    /// settings with their defaults, plus what the resource reports.
    Settings {
        inputs: Vec<Property>,
        outputs: Vec<Property>,
        /// What `pulumi import` and `terraform import` take.
        import_id: &'static str,
    },
}

#[derive(Clone, Debug)]
pub struct ObjectForm {
    /// The `apiVersion` and `kind` every object of this resource has; `None`: the inputs
    /// name them.
    pub fixed_type: Option<(&'static str, &'static str)>,
    pub spec: Spec,
    /// Whether objects live in a namespace, when the resource alone tells (a custom
    /// resource's scope is its CRD's).
    pub namespaced: Option<bool>,
    /// What `pulumi import` and `terraform import` take.
    pub import_id: &'static str,
}

/// What the schemas can say about an object's `spec` and `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spec {
    /// A CustomResourceDefinition's (apiextensions.k8s.io/v1).
    CustomResourceDefinition,
    /// Whatever the object's CRD says, unknown to the schemas.
    Any,
    /// One of our CRDs' (`api::crds()`), by kind: typed in every SDK.
    OurKind(&'static str),
}

impl Description {
    /// The Terraform type: `aiservice_` and the token's type name in snake_case
    /// (`aiservice:index:AIService` → `aiservice_ai_service`).
    pub fn terraform_name(&self) -> String {
        let type_name = self.token.rsplit(':').next().unwrap_or(self.token);
        format!("aiservice_{}", snake_case(type_name))
    }
}

/// A lookup: reads an object the cluster has without managing it. Pulumi programs call it as a
/// function, Terraform configurations as a data source.
#[derive(Clone, Debug)]
pub struct LookupDescription {
    /// The Pulumi function token, e.g. `aiservice:index:getAIService`; the Terraform data
    /// source is named without `get` ([`LookupDescription::terraform_name`]).
    pub token: &'static str,
    pub summary: &'static str,
    /// The `apiVersion` and `kind` every object found has; `None`: the query names them.
    pub fixed_type: Option<(&'static str, &'static str)>,
    /// What the schemas say about the object's `spec` and `status`.
    pub spec: Spec,
}

impl LookupDescription {
    /// `aiservice:index:getAIService` → `aiservice_ai_service`.
    pub fn terraform_name(&self) -> String {
        let function = self.token.rsplit(':').next().unwrap_or(self.token);
        let type_name = function.strip_prefix("get").unwrap_or(function);
        format!("aiservice_{}", snake_case(type_name))
    }

    /// What the query takes, and whether each is required.
    pub fn query(&self) -> Vec<(Property, bool)> {
        let text = |name: &str, description: &str| Property {
            name: name.into(),
            kind: PropertyKind::String,
            description: description.into(),
            secret: false,
        };
        let mut query = Vec::new();
        if self.fixed_type.is_none() {
            query.push((
                text(
                    "apiVersion",
                    "The object's API version, `<group>/<version>`, such as `ai.example.com/v1`.",
                ),
                true,
            ));
            query.push((
                text("kind", "The object's kind, such as `ModelServing`."),
                true,
            ));
        }
        query.push((text("name", "The object's `metadata.name`."), true));
        query.push((
            text(
                "namespace",
                "The object's `metadata.namespace`. Unset: the provider's namespace. Ignored for cluster-scoped kinds.",
            ),
            false,
        ));
        query
    }
}

/// A component: a resource made of other resources, which Pulumi programs create as one.
/// (Terraform composes resources in HCL instead.)
#[derive(Clone, Debug)]
pub struct ComponentDescription {
    pub token: &'static str,
    pub summary: &'static str,
    pub inputs: Vec<Property>,
    pub outputs: Vec<Property>,
}

/// One property of a settings type.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    /// As Pulumi spells it (camelCase); Terraform's attribute is [`Property::snake_case`].
    pub name: String,
    pub kind: PropertyKind,
    pub description: String,
    /// Never shown in plans or logs.
    pub secret: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyKind {
    String,
    Bool,
    Integer,
    StringList,
}

impl Property {
    /// The Terraform attribute name: `fieldManager` → `field_manager`.
    pub fn snake_case(&self) -> String {
        snake_case(&self.name)
    }
}

/// `fieldManager` → `field_manager`, `AIService` → `ai_service`: an underscore where a lower
/// case letter meets an upper case one, or before the last capital of an acronym.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let after_lower = chars[i - 1].is_ascii_lowercase();
            let ends_acronym = chars[i - 1].is_ascii_uppercase()
                && chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if after_lower || ends_acronym {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The properties of a settings type, in its schema's order: each field's doc comment is its
/// description, `#[schemars(extend("secret" = true))]` marks a secret.
pub fn properties_of<T: JsonSchema>() -> Vec<Property> {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    let Some(properties) = schema["properties"].as_object() else {
        unreachable!("a settings type is a struct, so its schema has properties")
    };
    properties
        .iter()
        .map(|(name, property)| Property {
            name: name.clone(),
            kind: property_kind(name, property),
            description: property["description"]
                .as_str()
                .unwrap_or_default()
                .replace('\n', " "),
            secret: property["secret"] == true,
        })
        .collect()
}

/// A property's type, `"string"` or, for an `Option`, `["string", "null"]`: unset is a
/// setting's default in every schema, so null is no type of its own.
fn property_kind(name: &str, property: &Json) -> PropertyKind {
    let types = &property["type"];
    let named = |t: &str| types == t || types.as_array().is_some_and(|a| a.iter().any(|x| x == t));
    if named("boolean") {
        PropertyKind::Bool
    } else if named("string") {
        PropertyKind::String
    } else if named("integer") {
        PropertyKind::Integer
    } else if named("array") && property["items"]["type"] == "string" {
        PropertyKind::StringList
    } else {
        unreachable!(
            "setting {name} has type {types}: settings are strings, booleans, integers or lists of strings"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_are_named_like_their_types() {
        let lookup = LookupDescription {
            token: "aiservice:index:getAIService",
            summary: "",
            fixed_type: None,
            spec: Spec::Any,
        };
        assert_eq!(lookup.terraform_name(), "aiservice_ai_service");
    }

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        let cases = [
            ("fieldManager", "field_manager"),
            ("AIService", "ai_service"),
            ("CustomResourceDefinition", "custom_resource_definition"),
            ("kubeconfig", "kubeconfig"),
            ("logLevel", "log_level"),
        ];
        for (name, expected) in cases {
            assert_eq!(snake_case(name), expected, "{name}");
        }
    }
}
