//! The provider's configuration: which cluster, and how to write to it. [`ProviderConfig`] is
//! the one place a key is said: the Pulumi schema's config variables and the Terraform
//! provider block are rendered from it ([`keys`]), and both adapters read it with
//! [`ProviderConfig::from_args`].

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::contract::CheckFailure;
use crate::description::{Property, PropertyKind, properties_of};
use crate::value::{Object, PropertyPath, Value};

/// Which cluster to manage and how (each field's doc comment is its description in both
/// schemas).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// A kubeconfig file's path or its contents (secret: never shown in plans or logs).
    /// Unset: $KUBECONFIG, then ~/.kube/config.
    #[schemars(extend("secret" = true))]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use. Unset: its current context.
    pub context: Option<String>,
    /// The namespace of namespaced objects that set none. Unset: the context's namespace,
    /// else `default`.
    pub namespace: Option<String>,
    /// The server-side apply field manager. Default: `pulumi-aiservice` with Pulumi,
    /// `terraform-aiservice` with Terraform.
    pub field_manager: String,
    /// Do not wait for objects to become ready (CRDs Established, AIServices Ready).
    pub skip_await: bool,
    /// Render mode: write each object's manifest to a file under this directory instead of
    /// applying it (for GitOps tools such as Argo CD or Flux); no cluster is contacted. CRDs go
    /// to `0-crd/`, other objects to `1-manifest/`; a destroy removes the files. Secret values
    /// are written in plain text.
    pub render_yaml_to_directory: Option<String>,
}

/// Every configuration key, by name.
pub fn keys() -> Vec<Property> {
    properties_of::<ProviderConfig>()
}

impl ProviderConfig {
    /// The configuration from an adapter's typed arguments (keyed by [`Property::name`]); a key the
    /// arguments lack is asked of `fallback` (the Pulumi engine's older string variables).
    /// Empty strings count as unset; an unset field manager is `default_field_manager`, the
    /// adapter's tool. A failure names the key.
    pub fn from_args(
        args: &Object,
        fallback: &dyn Fn(&str) -> Option<String>,
        default_field_manager: &str,
    ) -> Result<ProviderConfig, CheckFailure> {
        let mut given = serde_json::Map::new();
        for key in keys() {
            let problem = |reason: String| {
                CheckFailure::new(PropertyPath::root().key(key.name.as_str()), reason)
            };
            let text = match args.get(&key.name).map(reveal) {
                None => fallback(&key.name),
                Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Bool(b)) if key.kind == PropertyKind::Bool => Some(b.to_string()),
                Some(other) => {
                    let expected = match key.kind {
                        PropertyKind::Bool => "true or false",
                        _ => "a string",
                    };
                    return Err(problem(format!(
                        "expected {expected}, got {}",
                        other.type_name()
                    )));
                }
            };
            let Some(text) = text.filter(|t| !t.is_empty()) else {
                continue;
            };
            let value = match key.kind {
                PropertyKind::Bool => match text.as_str() {
                    "true" => Json::Bool(true),
                    "false" => Json::Bool(false),
                    other => return Err(problem(format!("expected true or false, got {other:?}"))),
                },
                _ => Json::String(text),
            };
            given.insert(key.name, value);
        }
        let mut config: ProviderConfig = serde_json::from_value(Json::Object(given))
            .map_err(|e| CheckFailure::new(PropertyPath::root(), e.to_string()))?;
        if config.field_manager.is_empty() {
            config.field_manager = default_field_manager.to_string();
        }
        if let Some(ns) = &config.namespace
            && let Some(problem) = crate::resources::namespace_problem(ns)
        {
            return Err(CheckFailure::new(
                PropertyPath::root().key("namespace"),
                problem,
            ));
        }
        Ok(config)
    }
}

fn reveal(value: &Value) -> &Value {
    match value {
        Value::Secret(inner) => reveal(inner),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(args: &Object, vars: &HashMap<String, String>) -> Result<ProviderConfig, CheckFailure> {
        ProviderConfig::from_args(args, &|key| vars.get(key).cloned(), "pulumi-aiservice")
    }

    #[test]
    fn typed_args_and_string_variables() {
        let args: Object = [
            (
                "kubeconfig".to_string(),
                Value::Secret(Box::new(Value::String("/k".into()))),
            ),
            ("skipAwait".to_string(), Value::Bool(true)),
        ]
        .into();
        let vars: HashMap<String, String> =
            [("namespace".to_string(), "team-a".to_string())].into();
        let s = from(&args, &vars).unwrap();
        assert_eq!(s.kubeconfig.as_deref(), Some("/k"));
        assert_eq!(s.namespace.as_deref(), Some("team-a"));
        assert!(s.skip_await);
        assert_eq!(s.field_manager, "pulumi-aiservice");
        let vars: HashMap<String, String> = [("skipAwait".to_string(), "true".into())].into();
        assert!(from(&Object::new(), &vars).unwrap().skip_await);
    }

    #[test]
    fn bad_values_name_the_key() {
        let args: Object = [("namespace".to_string(), Value::String("Team_A".into()))].into();
        assert_eq!(
            from(&args, &HashMap::new()).unwrap_err().path.to_string(),
            "namespace"
        );
        let args: Object = [("context".to_string(), Value::Number(1.0))].into();
        let err = from(&args, &HashMap::new()).unwrap_err();
        assert_eq!(
            (err.path.to_string(), err.reason.as_str()),
            ("context".into(), "expected a string, got number")
        );
        let args: Object = [("skipAwait".to_string(), Value::String("yes".into()))].into();
        let err = from(&args, &HashMap::new()).unwrap_err();
        assert_eq!(
            (err.path.to_string(), err.reason.as_str()),
            ("skipAwait".into(), "expected true or false, got \"yes\"")
        );
    }

    #[test]
    fn keys_come_from_the_type() {
        let keys = keys();
        let names: Vec<(&str, String)> = keys
            .iter()
            .map(|k| (k.name.as_str(), k.snake_case()))
            .collect();
        assert_eq!(
            names,
            [
                ("context", "context".into()),
                ("fieldManager", "field_manager".into()),
                ("kubeconfig", "kubeconfig".into()),
                ("namespace", "namespace".into()),
                ("renderYamlToDirectory", "render_yaml_to_directory".into()),
                ("skipAwait", "skip_await".into()),
            ]
        );
        assert!(keys.iter().all(|k| !k.description.is_empty()));
        assert_eq!(
            keys.iter()
                .filter(|k| k.secret)
                .map(|k| &k.name)
                .collect::<Vec<_>>(),
            ["kubeconfig"]
        );
        let bools: Vec<&str> = keys
            .iter()
            .filter(|k| k.kind == PropertyKind::Bool)
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(bools, ["skipAwait"]);
    }
}
