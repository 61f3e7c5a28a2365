//! What Terraform sees: the provider's configuration, one Terraform resource type per
//! protocol-neutral resource, and the data sources. Each type says how its attributes map to
//! the resource's inputs, so the adapter itself knows no resource by name.

use std::collections::BTreeMap;

use crate::proto::tfplugin6::{Schema, StringKind, schema};

use super::cty::Type;
use crate::provider_config::KeyKind;

/// How a Terraform resource's configuration becomes the resource's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One `manifest` attribute holds the whole object (`apiVersion`, `kind`, `metadata`,
    /// `spec`, any other top-level field), like `kubernetes_manifest`.
    Manifest,
    /// `metadata` and `spec` attributes; `apiVersion` and `kind` are fixed by the type.
    MetadataAndSpec,
}

impl Layout {
    /// The configurable attributes, each holding the input of the same name (or all of them).
    pub fn input_attributes(self) -> &'static [&'static str] {
        match self {
            Layout::Manifest => &["manifest"],
            Layout::MetadataAndSpec => &["metadata", "spec"],
        }
    }
}

/// How `terraform import` names an existing object of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportId {
    /// A cluster-scoped object's name.
    Name,
    /// `namespace/name`, or `name` in the provider's namespace.
    NamespacedName,
    /// The type and the object: `apiVersion=...,kind=...,name=...[,namespace=...]`.
    TypeAndName,
}

impl ImportId {
    pub fn form(self) -> &'static str {
        match self {
            ImportId::Name => "the object's name, e.g. modelservings.ai.example.com",
            ImportId::NamespacedName => "<namespace>/<name>, or <name> in the provider's namespace",
            ImportId::TypeAndName => crate::resources::import_id::FORM,
        }
    }
}

/// A Terraform resource type and the resource behind it.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    /// The protocol-neutral resource's token (`resources::find`).
    pub token: &'static str,
    pub layout: Layout,
    pub import_id: ImportId,
    /// Whether objects of this type live in a namespace, when the type alone tells (a
    /// custom resource's scope is its CRD's).
    pub namespaced: Option<bool>,
    pub description: &'static str,
}

pub const RESOURCE_TYPES: [ResourceType; 4] = [
    ResourceType {
        name: "aiservice_custom_resource_definition",
        token: "aiservice:apiextensions/v1:CustomResourceDefinition",
        layout: Layout::Manifest,
        import_id: ImportId::Name,
        namespaced: Some(false),
        description: "A CustomResourceDefinition (apiextensions.k8s.io/v1). Waits until the CRD is Established; custom resources planned in the same configuration are validated against it.",
    },
    ResourceType {
        name: "aiservice_custom_resource",
        token: "aiservice:apiextensions:CustomResource",
        layout: Layout::Manifest,
        import_id: ImportId::TypeAndName,
        namespaced: None,
        description: "Any custom resource, validated at plan time against its CRD: the live one or the one planned in the same configuration.",
    },
    ResourceType {
        name: "aiservice_ai_service",
        token: "aiservice:index:AIService",
        layout: Layout::MetadataAndSpec,
        import_id: ImportId::NamespacedName,
        namespaced: Some(true),
        description: "An AIService (stable.example.com/v1): a model server with requests-per-second scaling, run by aiservice-operator.",
    },
    ResourceType {
        name: "aiservice_model_serving",
        token: "aiservice:index:ModelServing",
        layout: Layout::MetadataAndSpec,
        import_id: ImportId::NamespacedName,
        namespaced: Some(true),
        description: "A ModelServing (ai.example.com/v1): a model server image and how many replicas run it, validated at plan time against its CRD.",
    },
];

pub fn resource_type(name: &str) -> Option<&'static ResourceType> {
    RESOURCE_TYPES.iter().find(|t| t.name == name)
}

/// Attributes the provider fills in; none of them is ever set in configuration.
pub const ID: &str = "id";
pub const UID: &str = "uid";
pub const OBJECT: &str = "object";
pub const STATUS: &str = "status";
pub const COMPUTED: [&str; 4] = [ID, UID, OBJECT, STATUS];

/// The schema type of a computed attribute.
pub fn computed_type(name: &str) -> Type {
    computed_attributes()
        .into_iter()
        .find(|a| a.name == name)
        .map_or(Type::Dynamic, |a| a.ty)
}

/// One attribute: name, type, role and what the documentation says.
struct Attr {
    name: String,
    ty: Type,
    role: Role,
    description: String,
    /// Never shown by the CLI: a kubeconfig may be given as contents, credentials and all.
    sensitive: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Required,
    Optional,
    Computed,
}

impl ResourceType {
    fn attributes(&self) -> Vec<Attr> {
        let mut attrs = match self.layout {
            Layout::Manifest => vec![Attr {
                name: "manifest".into(),
                ty: Type::Dynamic,
                role: Role::Required,
                description: "The object as Kubernetes spells it: apiVersion, kind, metadata (name required), spec and any other top-level field.".into(),
                sensitive: false,
            }],
            Layout::MetadataAndSpec => vec![
                Attr {
                    name: "metadata".into(),
                    ty: Type::Dynamic,
                    role: Role::Required,
                    description: "ObjectMeta: name (required), namespace (default: the provider's), labels, annotations.".into(),
                    sensitive: false,
                },
                Attr {
                    name: "spec".into(),
                    ty: Type::Dynamic,
                    role: Role::Required,
                    description: "The spec, with the field names of the CRD (camelCase), validated at plan time.".into(),
                    sensitive: false,
                },
            ],
        };
        attrs.extend(computed_attributes());
        attrs
    }

    /// The state's object type, for encoding and decoding whole states.
    pub fn state_type(&self) -> Type {
        object_type(&self.attributes())
    }

    pub fn schema(&self) -> Schema {
        block_schema(self.description, &self.attributes())
    }
}

fn computed_attributes() -> [Attr; 4] {
    [
        Attr {
            name: ID.into(),
            ty: Type::String,
            role: Role::Computed,
            description: "`namespace/name`, or `name` for a cluster-scoped object.".into(),
            sensitive: false,
        },
        Attr {
            name: UID.into(),
            ty: Type::String,
            role: Role::Computed,
            description: "The object's metadata.uid.".into(),
            sensitive: false,
        },
        Attr {
            name: OBJECT.into(),
            ty: Type::Dynamic,
            role: Role::Computed,
            description: "The object as the cluster returned it after apply, without status and managedFields.".into(),
            sensitive: false,
        },
        Attr {
            name: STATUS.into(),
            ty: Type::Dynamic,
            role: Role::Computed,
            description: "The object's status as last read. Readable, never part of a plan's diff.".into(),
            sensitive: false,
        },
    ]
}

/// A data source: its lookup attributes and what it returns.
#[derive(Debug)]
pub struct DataSourceType {
    pub name: &'static str,
    /// Fixed `apiVersion` and `kind`, or `None` when the configuration names them.
    pub fixed_kind: Option<(&'static str, &'static str)>,
    pub description: &'static str,
}

pub const DATA_SOURCE_TYPES: [DataSourceType; 2] = [
    DataSourceType {
        name: "aiservice_custom_resource",
        fixed_kind: None,
        description: "Reads any object the cluster serves, by apiVersion, kind, name and namespace.",
    },
    DataSourceType {
        name: "aiservice_ai_service",
        fixed_kind: Some(("stable.example.com/v1", "AIService")),
        description: "Reads an AIService: its spec and the status the operator reports (replicas, readyReplicas, url, conditions).",
    },
];

pub fn data_source_type(name: &str) -> Option<&'static DataSourceType> {
    DATA_SOURCE_TYPES.iter().find(|t| t.name == name)
}

impl DataSourceType {
    fn attributes(&self) -> Vec<Attr> {
        let lookup = |name: &str, description: &str| Attr {
            name: name.into(),
            ty: Type::String,
            role: Role::Required,
            description: description.into(),
            sensitive: false,
        };
        let mut attrs = Vec::new();
        if self.fixed_kind.is_none() {
            attrs.push(lookup("api_version", "e.g. ai.example.com/v1"));
            attrs.push(lookup("kind", "e.g. ModelServing"));
        }
        attrs.push(lookup("name", "metadata.name"));
        attrs.push(Attr {
            name: "namespace".into(),
            ty: Type::String,
            role: Role::Optional,
            description: "metadata.namespace; default: the provider's namespace. Ignored for cluster-scoped kinds.".into(),
            sensitive: false,
        });
        attrs.extend(computed_attributes());
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
        block_schema(self.description, &self.attributes())
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
        .into_iter()
        .map(|key| Attr {
            name: key.snake_case(),
            ty: match key.kind {
                KeyKind::String => Type::String,
                KeyKind::Bool => Type::Bool,
            },
            role: Role::Optional,
            description: key.description,
            sensitive: key.secret,
        })
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
                    optional: a.role == Role::Optional,
                    computed: a.role == Role::Computed,
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
    fn every_resource_type_has_a_resource() {
        for t in &RESOURCE_TYPES {
            assert!(crate::resources::find(t.token).is_some(), "{}", t.name);
        }
    }

    #[test]
    fn configuration_never_sets_a_computed_attribute() {
        let schema = resource_type("aiservice_ai_service").unwrap().schema();
        for attr in schema.block.unwrap().attributes {
            let configurable = ["metadata", "spec"].contains(&attr.name.as_str());
            assert_eq!(attr.computed, !configurable, "{}", attr.name);
            assert_eq!(attr.required, configurable, "{}", attr.name);
        }
    }
}
