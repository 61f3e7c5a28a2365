//! How a Terraform resource type's attributes hold a resource's inputs and outputs. Three
//! layouts cover every resource, chosen from its description: the whole object in one
//! `manifest` (like `kubernetes_manifest`), `metadata` and `spec` for our typed kinds, and one
//! attribute per setting for a settings resource (the Operator).

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use crate::contract::State;
use crate::description::{Description, Form, Property, PropertyKind, Spec};
use crate::proto::tfplugin6 as tf;
use crate::value::{Object, PropertyPath, Segment, Value};

use super::cty::{self, Type};
use super::diagnostics::{self, bad_value};

/// A state or configuration object as the CLI sent it: each attribute's raw value, so that
/// attributes the provider does not change go back exactly as they came, types included.
pub type Attributes = BTreeMap<String, Mp>;

#[derive(Clone, Debug)]
pub enum Layout {
    /// One `manifest` attribute holds the whole object (`apiVersion`, `kind`, `metadata`,
    /// `spec`, any other top-level field).
    Manifest,
    /// `metadata` and `spec` attributes; `apiVersion` and `kind` are fixed by the type.
    MetadataAndSpec,
    /// One attribute per setting, in snake_case; unset ones take the resource's default, so
    /// they are optional and computed. Outputs that are no setting are computed.
    Settings {
        inputs: Vec<Property>,
        outputs: Vec<Property>,
    },
}

/// Attributes a Kubernetes object's layout fills in; none of them is ever configured.
pub const ID: &str = "id";
pub const UID: &str = "uid";
pub const OBJECT: &str = "object";
pub const STATUS: &str = "status";

/// One attribute: name, type, role and what the documentation says.
pub struct Attr {
    pub name: String,
    pub ty: Type,
    pub role: Role,
    pub description: String,
    /// Never shown by the CLI: a kubeconfig may be given as contents, credentials and all.
    pub sensitive: bool,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Role {
    Required,
    Optional,
    /// Optional; when unset, the provider fills in the default.
    OptionalComputed,
    Computed,
}

/// The type of a setting's attribute.
pub fn setting_type(kind: PropertyKind) -> Type {
    match kind {
        PropertyKind::String => Type::String,
        PropertyKind::Bool => Type::Bool,
        PropertyKind::Integer => Type::Number,
        PropertyKind::StringList => Type::List(Box::new(Type::String)),
    }
}

/// A setting as an attribute of the given role.
pub fn setting_attr(property: &Property, role: Role) -> Attr {
    Attr {
        name: property.snake_case(),
        ty: setting_type(property.kind),
        role,
        description: property.description.clone(),
        sensitive: property.secret,
    }
}

/// The computed attributes of a Kubernetes object, for resources and data sources.
pub fn object_outputs() -> [Attr; 4] {
    let computed = |name: &str, ty: Type, description: &str| Attr {
        name: name.into(),
        ty,
        role: Role::Computed,
        description: description.into(),
        sensitive: false,
    };
    [
        computed(
            ID,
            Type::String,
            "`namespace/name`, or `name` for a cluster-scoped object.",
        ),
        computed(UID, Type::String, "The object's metadata.uid."),
        computed(
            OBJECT,
            Type::Dynamic,
            "The object as the cluster returned it after apply, without status and managedFields.",
        ),
        computed(
            STATUS,
            Type::Dynamic,
            "The object's status as last read. Readable, never part of a plan's diff.",
        ),
    ]
}

/// The computed attributes of a Kubernetes object's state, as the cluster returned it.
pub fn object_output_values(state: &State) -> [(&'static str, Value); 4] {
    let mut object = state.outputs.clone();
    let status = object.remove("status").unwrap_or(Value::Null);
    if let Some(Value::Object(metadata)) = object.get_mut("metadata") {
        metadata.remove("managedFields");
    }
    let uid = object
        .get("metadata")
        .and_then(|m| m.get_str("uid"))
        .map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null);
    [
        (ID, Value::String(state.id.clone())),
        (UID, uid),
        (OBJECT, Value::Object(object)),
        (STATUS, status),
    ]
}

/// Decodes one attribute with its schema type.
pub fn attribute(attrs: &Attributes, name: &str, ty: &Type) -> Result<Value, cty::CtyError> {
    match attrs.get(name) {
        None => Ok(Value::Null),
        Some(mp) => cty::decode(mp, ty, &PropertyPath::root().key(name)),
    }
}

pub fn set(attrs: &mut Attributes, name: &str, value: &Value, ty: &Type) {
    attrs.insert(name.to_string(), cty::encode(value, ty));
}

impl Layout {
    pub fn of(description: &Description) -> Layout {
        match &description.form {
            Form::Object(object) => match object.spec {
                Spec::OurKind(_) => Layout::MetadataAndSpec,
                Spec::CustomResourceDefinition | Spec::Any => Layout::Manifest,
            },
            Form::Settings {
                inputs, outputs, ..
            } => Layout::Settings {
                inputs: inputs.clone(),
                outputs: outputs.clone(),
            },
        }
    }

    /// Whether the attributes hold a Kubernetes object (with `metadata.name`).
    pub fn is_object(&self) -> bool {
        !matches!(self, Layout::Settings { .. })
    }

    /// Every attribute of the type, configurable ones first.
    pub fn attributes(&self) -> Vec<Attr> {
        let configured = |name: &str, description: &str| Attr {
            name: name.into(),
            ty: Type::Dynamic,
            role: Role::Required,
            description: description.into(),
            sensitive: false,
        };
        match self {
            Layout::Manifest => {
                let mut attrs = vec![configured(
                    "manifest",
                    "The object as Kubernetes spells it: apiVersion, kind, metadata (name required), spec and any other top-level field.",
                )];
                attrs.extend(object_outputs());
                attrs
            }
            Layout::MetadataAndSpec => {
                let mut attrs = vec![
                    configured(
                        "metadata",
                        "ObjectMeta: name (required), namespace (default: the provider's), labels, annotations.",
                    ),
                    configured(
                        "spec",
                        "The spec, with the field names of the CRD (camelCase), validated at plan time.",
                    ),
                ];
                attrs.extend(object_outputs());
                attrs
            }
            Layout::Settings { inputs, outputs } => {
                let mut attrs: Vec<Attr> = inputs
                    .iter()
                    .map(|p| setting_attr(p, Role::OptionalComputed))
                    .collect();
                attrs.extend(
                    outputs
                        .iter()
                        .filter(|p| !inputs.contains(p))
                        .map(|p| setting_attr(p, Role::Computed)),
                );
                attrs.push(Attr {
                    name: ID.into(),
                    ty: Type::String,
                    role: Role::Computed,
                    description: "The installation's identity, for `terraform import`.".into(),
                    sensitive: false,
                });
                attrs
            }
        }
    }

    /// The attributes only the provider sets.
    pub fn computed(&self) -> Vec<String> {
        self.attributes()
            .into_iter()
            .filter(|a| a.role == Role::Computed)
            .map(|a| a.name)
            .collect()
    }

    /// The computed attributes the cluster may change on an update (the identity stays).
    pub fn changed_by_update(&self) -> Vec<String> {
        self.computed()
            .into_iter()
            .filter(|name| name != ID && name != UID)
            .collect()
    }

    /// The resource's inputs held by a configuration or state.
    pub fn inputs_of(&self, type_name: &str, attrs: &Attributes) -> Result<Object, tf::Diagnostic> {
        let unreadable = |e: cty::CtyError| bad_value(type_name, &e);
        let mut inputs = Object::new();
        match self {
            Layout::Manifest => {
                match attribute(attrs, "manifest", &Type::Dynamic).map_err(unreadable)? {
                    Value::Object(manifest) => inputs = manifest,
                    // Wholly unknown (validated before `for_each` expands, or known only after
                    // apply): so is the name, which is then not missing.
                    Value::Unknown => {
                        inputs.insert("metadata".into(), Value::Unknown);
                    }
                    Value::Null => {}
                    other => {
                        return Err(diagnostics::check_failure(
                            type_name,
                            self,
                            &crate::contract::CheckFailure::new(
                                PropertyPath::root(),
                                format!(
                                    "expected an object (the whole Kubernetes object), got {}",
                                    other.type_name()
                                ),
                            ),
                        ));
                    }
                }
            }
            Layout::MetadataAndSpec => {
                for name in ["metadata", "spec"] {
                    let value = attribute(attrs, name, &Type::Dynamic).map_err(unreadable)?;
                    if value != Value::Null {
                        inputs.insert(name.to_string(), value);
                    }
                }
            }
            Layout::Settings {
                inputs: settings, ..
            } => {
                for p in settings {
                    let value = attribute(attrs, &p.snake_case(), &setting_type(p.kind))
                        .map_err(unreadable)?;
                    if value != Value::Null {
                        inputs.insert(p.name.clone(), value);
                    }
                }
            }
        }
        Ok(inputs)
    }

    /// Puts new input values into a state, keeping the raw value where nothing changed so the
    /// types the configuration used survive. A typed kind's fixed `apiVersion` and `kind` are
    /// no attribute's.
    pub fn set_inputs(
        &self,
        type_name: &str,
        attrs: &mut Attributes,
        inputs: &Object,
    ) -> Result<(), tf::Diagnostic> {
        let old = self.inputs_of(type_name, attrs)?;
        let input = |inputs: &Object, name: &str| inputs.get(name).cloned().unwrap_or(Value::Null);
        let changes: Vec<(String, Value, Value, Type)> = match self {
            Layout::Manifest => vec![(
                "manifest".into(),
                Value::Object(old),
                Value::Object(inputs.clone()),
                Type::Dynamic,
            )],
            Layout::MetadataAndSpec => ["metadata", "spec"]
                .into_iter()
                .map(|name| {
                    (
                        name.into(),
                        input(&old, name),
                        input(inputs, name),
                        Type::Dynamic,
                    )
                })
                .collect(),
            Layout::Settings {
                inputs: settings, ..
            } => settings
                .iter()
                .map(|p| {
                    let ty = setting_type(p.kind);
                    (
                        p.snake_case(),
                        input(&old, &p.name),
                        input(inputs, &p.name),
                        ty,
                    )
                })
                .collect(),
        };
        for (name, before, after, ty) in changes {
            if before != after || !attrs.contains_key(&name) {
                set(attrs, &name, &after, &ty);
            }
        }
        Ok(())
    }

    /// Sets the computed attributes from a state the resource returned.
    pub fn set_outputs(&self, attrs: &mut Attributes, state: &State) {
        match self {
            Layout::Manifest | Layout::MetadataAndSpec => {
                for (attr, (name, value)) in
                    object_outputs().iter().zip(object_output_values(state))
                {
                    set(attrs, name, &value, &attr.ty);
                }
            }
            Layout::Settings { inputs, outputs } => {
                set(attrs, ID, &Value::String(state.id.clone()), &Type::String);
                for p in outputs.iter().filter(|p| !inputs.contains(p)) {
                    let value = state.outputs.get(&p.name).cloned().unwrap_or(Value::Null);
                    set(attrs, &p.snake_case(), &value, &setting_type(p.kind));
                }
            }
        }
    }

    /// The state recorded before: its id and outputs.
    pub fn recorded_state(&self, attrs: &Attributes) -> State {
        let id = match attribute(attrs, ID, &Type::String) {
            Ok(Value::String(id)) => id,
            _ => String::new(),
        };
        let outputs = match self {
            Layout::Manifest | Layout::MetadataAndSpec => {
                match attribute(attrs, OBJECT, &Type::Dynamic) {
                    Ok(Value::Object(object)) => object,
                    _ => Object::new(),
                }
            }
            Layout::Settings { outputs, .. } => outputs
                .iter()
                .filter_map(|p| {
                    let value = attribute(attrs, &p.snake_case(), &setting_type(p.kind)).ok()?;
                    Some((p.name.clone(), value))
                })
                .collect(),
        };
        State { id, outputs }
    }

    /// The inputs these attributes hold of what `read` found (a typed kind's fixed
    /// `apiVersion` and `kind` are no attribute's).
    pub fn held(&self, inputs: Object) -> Object {
        match self {
            Layout::MetadataAndSpec => inputs
                .into_iter()
                .filter(|(k, _)| k == "metadata" || k == "spec")
                .collect(),
            Layout::Manifest | Layout::Settings { .. } => inputs,
        }
    }

    /// The attribute holding an input property: `manifest` for a whole object, `metadata` or
    /// `spec` for a typed one, the setting's own; `None` for inputs no attribute holds (a
    /// typed resource's fixed `apiVersion`).
    pub fn attribute_of(&self, path: &PropertyPath) -> Option<String> {
        let first = match path.0.first() {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        match (self, first) {
            (Layout::Manifest, _) => Some("manifest".into()),
            (Layout::MetadataAndSpec, Some(k)) if k == "metadata" || k == "spec" => Some(k.into()),
            (Layout::Settings { inputs, .. }, Some(k)) => inputs
                .iter()
                .find(|p| p.name == k)
                .map(Property::snake_case),
            _ => None,
        }
    }
}
