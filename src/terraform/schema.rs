//! What Terraform sees: the provider's configuration, one Terraform resource type per
//! protocol-neutral resource (rendered from its description, so every resource is served),
//! and the data sources.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::contract::Resource;
use crate::description::{Form, LookupDescription};
use crate::proto::tfplugin6::{Schema, StringKind, schema};
use crate::resources;

use super::cty::Type;
use super::layout::{Attr, Layout, Role, object_outputs, setting_attr};

/// A Terraform resource type and the resource behind it.
pub struct ResourceType {
    /// `aiservice_` and the resource's type name in snake_case.
    pub name: String,
    pub resource: &'static dyn Resource,
    pub layout: Layout,
    /// What `terraform import` takes.
    pub import_id: &'static str,
    /// Whether objects of this type live in a namespace, when the type alone tells (a
    /// custom resource's scope is its CRD's; settings are no object).
    pub namespaced: Option<bool>,
    pub description: &'static str,
}

/// Every resource of the registry, as a Terraform type.
pub fn resource_types() -> &'static [ResourceType] {
    static TYPES: LazyLock<Vec<ResourceType>> = LazyLock::new(|| {
        resources::all()
            .iter()
            .map(|r| {
                let d = &r.description;
                let (import_id, namespaced) = match &d.form {
                    Form::Object(object) => (object.import_id, object.namespaced),
                    Form::Settings { import_id, .. } => (*import_id, None),
                };
                ResourceType {
                    name: d.terraform_name(),
                    resource: r.resource,
                    layout: Layout::of(d),
                    import_id,
                    namespaced,
                    description: d.summary,
                }
            })
            .collect()
    });
    &TYPES
}

pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    resource_types().iter().find(|t| t.name == name)
}

impl ResourceType {
    /// The state's object type, for encoding and decoding whole states.
    pub fn state_type(&self) -> Type {
        object_type(&self.layout.attributes())
    }

    pub fn schema(&self) -> Schema {
        block_schema(self.description, &self.layout.attributes())
    }
}

/// A data source: a lookup of the registry ([`resources::LOOKUPS`]).
pub struct DataSourceType {
    /// `aiservice_` and the looked-up type in snake_case.
    pub name: String,
    pub lookup: &'static LookupDescription,
}

/// Every lookup, as a Terraform data source.
pub fn data_source_types() -> impl Iterator<Item = DataSourceType> {
    resources::LOOKUPS.iter().map(|lookup| DataSourceType {
        name: lookup.terraform_name(),
        lookup,
    })
}

pub fn data_source_type(name: &str) -> Option<DataSourceType> {
    data_source_types().find(|t| t.name == name)
}

impl DataSourceType {
    /// The query's attributes, then what the lookup returns.
    fn attributes(&self) -> Vec<Attr> {
        let mut attrs: Vec<Attr> = self
            .lookup
            .query()
            .iter()
            .map(|(p, required)| {
                setting_attr(
                    p,
                    if *required {
                        Role::Required
                    } else {
                        Role::Optional
                    },
                )
            })
            .collect();
        attrs.extend(object_outputs());
        attrs.push(Attr {
            name: "spec".into(),
            ty: Type::Dynamic,
            role: Role::Computed,
            description: "The object's spec.".into(),
            sensitive: false,
        });
        attrs
    }

    pub fn state_type(&self) -> Type {
        object_type(&self.attributes())
    }

    pub fn schema(&self) -> Schema {
        block_schema(self.lookup.summary, &self.attributes())
    }
}

/// The provider block: where the cluster is and how to write to it.
pub fn provider_schema() -> Schema {
    block_schema(
        "Where the cluster is and how to write to it.",
        &provider_attributes(),
    )
}

pub fn provider_type() -> Type {
    object_type(&provider_attributes())
}

/// The provider block's attributes: the configuration keys in snake_case.
fn provider_attributes() -> Vec<Attr> {
    crate::provider_config::keys()
        .iter()
        .map(|key| setting_attr(key, Role::Optional))
        .collect()
}

fn object_type(attrs: &[Attr]) -> Type {
    Type::Object(
        attrs
            .iter()
            .map(|a| (a.name.to_string(), a.ty.clone()))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn block_schema(description: &str, attrs: &[Attr]) -> Schema {
    Schema {
        version: 0,
        block: Some(schema::Block {
            version: 0,
            attributes: attrs
                .iter()
                .map(|a| schema::Attribute {
                    name: a.name.to_string(),
                    r#type: a.ty.to_json().to_string().into_bytes(),
                    description: a.description.to_string(),
                    required: a.role == Role::Required,
                    optional: matches!(a.role, Role::Optional | Role::OptionalComputed),
                    computed: matches!(a.role, Role::Computed | Role::OptionalComputed),
                    sensitive: a.sensitive,
                    description_kind: StringKind::Markdown as i32,
                    deprecated: false,
                })
                .collect(),
            block_types: Vec::new(),
            description: description.to_string(),
            description_kind: StringKind::Markdown as i32,
            deprecated: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_never_sets_a_computed_attribute() {
        let schema = resource_type("aiservice_ai_service").unwrap().schema();
        for attr in schema.block.unwrap().attributes {
            let configurable = ["metadata", "spec"].contains(&attr.name.as_str());
            assert_eq!(attr.computed, !configurable, "{}", attr.name);
            assert_eq!(attr.required, configurable, "{}", attr.name);
        }
    }

    /// The Operator's settings are optional with the resource's defaults; what it installed
    /// is the provider's.
    #[test]
    fn settings_are_optional_attributes_with_defaults() {
        let schema = resource_type("aiservice_operator").unwrap().schema();
        let roles: Vec<(String, bool, bool)> = schema
            .block
            .unwrap()
            .attributes
            .into_iter()
            .map(|a| (a.name, a.optional, a.computed))
            .collect();
        let expect = |name: &str, optional, computed| (name.to_string(), optional, computed);
        assert_eq!(
            roles,
            [
                expect("image", true, true),
                expect("log_level", true, true),
                expect("namespace", true, true),
                expect("replicas", true, true),
                expect("objects", false, true),
                expect("id", false, true),
            ]
        );
    }
}
