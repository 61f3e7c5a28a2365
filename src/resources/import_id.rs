//! The import id that names an object's type as well as the object:
//! `apiVersion=<group/version>,kind=<Kind>,name=<name>[,namespace=<namespace>]`. A plain
//! `namespace/name` cannot tell which custom resource type to read, so `pulumi import` and
//! `terraform import` of a custom resource take this form; both adapters reach this one parser
//! through the resource's `read`.

use std::fmt;

use crate::value::{Object, Value};

/// How the typed form is written, for messages and documentation.
pub const FORM: &str = "apiVersion=<group/version>,kind=<Kind>,name=<name>[,namespace=<namespace>]";

/// An object named with its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedId {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl TypedId {
    /// The typed id `id` spells; `Ok(None)` for an id of another form (`name`,
    /// `namespace/name`), which has no `=`.
    pub fn parse(id: &str) -> Result<Option<TypedId>, String> {
        if !id.contains('=') {
            return Ok(None);
        }
        let mut api_version = None;
        let mut kind = None;
        let mut name = None;
        let mut namespace = None;
        for part in id.split(',') {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not key=value"))?;
            let slot = match key.trim() {
                "apiVersion" => &mut api_version,
                "kind" => &mut kind,
                "name" => &mut name,
                "namespace" => &mut namespace,
                other => {
                    return Err(format!(
                        "unknown key {other:?} (the keys are apiVersion, kind, name and namespace)"
                    ));
                }
            };
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("{} is empty", key.trim()));
            }
            if slot.replace(value.to_string()).is_some() {
                return Err(format!("{} is given twice", key.trim()));
            }
        }
        let required = |field: Option<String>, key: &str| field.ok_or(format!("{key} is missing"));
        Ok(Some(TypedId {
            api_version: required(api_version, "apiVersion")?,
            kind: required(kind, "kind")?,
            name: required(name, "name")?,
            namespace,
        }))
    }

    /// The id of the object in the cluster: `namespace/name`, or `name` when the id names no
    /// namespace (cluster-scoped, or the provider's namespace).
    pub fn object_id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The inputs that tell the type: `apiVersion` and `kind`.
    pub fn type_inputs(&self) -> Object {
        [
            ("apiVersion".into(), Value::String(self.api_version.clone())),
            ("kind".into(), Value::String(self.kind.clone())),
        ]
        .into()
    }
}

impl fmt::Display for TypedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "apiVersion={},kind={},name={}",
            self.api_version, self.kind, self.name
        )?;
        match &self.namespace {
            Some(ns) => write!(f, ",namespace={ns}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(namespace: Option<&str>) -> TypedId {
        TypedId {
            api_version: "ai.example.com/v1".into(),
            kind: "ModelServing".into(),
            name: "small".into(),
            namespace: namespace.map(str::to_string),
        }
    }

    #[test]
    fn parses_the_typed_form_in_any_order() {
        assert_eq!(
            TypedId::parse(
                "apiVersion=ai.example.com/v1,kind=ModelServing,namespace=team,name=small"
            ),
            Ok(Some(typed(Some("team"))))
        );
        assert_eq!(
            TypedId::parse("name=small, kind=ModelServing, apiVersion=ai.example.com/v1"),
            Ok(Some(typed(None)))
        );
        assert_eq!(typed(Some("team")).object_id(), "team/small");
        assert_eq!(typed(None).object_id(), "small");
    }

    #[test]
    fn prints_what_it_parses() {
        for id in [typed(Some("team")), typed(None)] {
            assert_eq!(TypedId::parse(&id.to_string()), Ok(Some(id)));
        }
    }

    #[test]
    fn other_forms_are_not_typed_ids() {
        assert_eq!(TypedId::parse("team/small"), Ok(None));
        assert_eq!(TypedId::parse("modelservings.ai.example.com"), Ok(None));
    }

    #[test]
    fn says_what_is_wrong_with_a_typed_id() {
        let problem = |id| TypedId::parse(id).unwrap_err();
        assert_eq!(
            problem("apiVersion=ai.example.com/v1,name=small"),
            "kind is missing"
        );
        assert_eq!(
            problem("apiVersion=a/v1,kind=K,name=n,team"),
            "\"team\" is not key=value"
        );
        assert_eq!(
            problem("apiVersion=a/v1,kind=K,name=n,nmespace=x"),
            "unknown key \"nmespace\" (the keys are apiVersion, kind, name and namespace)"
        );
        assert_eq!(problem("apiVersion=a/v1,kind=K,name="), "name is empty");
        assert_eq!(
            problem("apiVersion=a/v1,kind=K,name=n,name=m"),
            "name is given twice"
        );
    }
}
