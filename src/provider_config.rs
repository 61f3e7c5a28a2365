//! Provider configuration (kubeconfig, context, namespace, field manager, skipAwait), the same
//! for every protocol adapter: each hands over the values it received under these keys.

use crate::kube::KubeSettings;
use crate::resource::CheckFailure;
use crate::value::{Object, PropertyPath, Value};

/// The configuration keys, as the schema lists them.
pub const KEYS: [&str; 5] = [
    "kubeconfig",
    "context",
    "namespace",
    "fieldManager",
    "skipAwait",
];

/// Settings from typed arguments; a key the arguments lack is asked of `fallback` (the Pulumi
/// engine's older string variables). `default_field_manager` names the adapter's tool.
pub fn settings(
    args: &Object,
    fallback: &dyn Fn(&str) -> Option<String>,
    default_field_manager: &str,
) -> Result<KubeSettings, CheckFailure> {
    let text = |key: &str| -> Result<Option<String>, CheckFailure> {
        match args.get(key).map(reveal) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(Value::Null | Value::String(_)) => Ok(None),
            Some(other) => Err(CheckFailure::new(
                PropertyPath::root().key(key),
                format!("expected a string, got {}", other.type_name()),
            )),
            None => Ok(fallback(key).filter(|s| !s.is_empty())),
        }
    };
    let skip_await = match text("skipAwait") {
        Err(_) => matches!(args.get("skipAwait").map(reveal), Some(Value::Bool(true))),
        Ok(None) => false,
        Ok(Some(s)) => match s.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(CheckFailure::new(
                    PropertyPath::root().key("skipAwait"),
                    format!("expected true or false, got {other:?}"),
                ));
            }
        },
    };
    let settings = KubeSettings {
        kubeconfig: text("kubeconfig")?,
        context: text("context")?,
        namespace: text("namespace")?,
        field_manager: text("fieldManager")?.unwrap_or_else(|| default_field_manager.to_string()),
        skip_await,
    };
    if let Some(ns) = &settings.namespace
        && let Some(problem) = crate::resources::namespace_problem(ns)
    {
        return Err(CheckFailure::new(
            PropertyPath::root().key("namespace"),
            problem,
        ));
    }
    Ok(settings)
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

    fn from(args: &Object, vars: &HashMap<String, String>) -> Result<KubeSettings, CheckFailure> {
        settings(args, &|key| vars.get(key).cloned(), "pulumi-aiservice")
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
    }
}
