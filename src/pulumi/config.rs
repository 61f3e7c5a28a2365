//! Provider configuration from the engine (`aiservice:kubeconfig`, ...), in either form the
//! engine sends it: typed `args` or the older string `variables`.

use std::collections::HashMap;

use crate::kube::DEFAULT_FIELD_MANAGER;
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

/// Settings from typed arguments, falling back to `aiservice:config:<key>` variables.
pub fn settings(
    args: &Object,
    variables: &HashMap<String, String>,
) -> Result<KubeSettings, CheckFailure> {
    let text = |key: &str| -> Result<Option<String>, CheckFailure> {
        match args.get(key).map(reveal) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(Value::Null | Value::String(_)) => Ok(None),
            Some(other) => Err(CheckFailure::new(
                PropertyPath::root().key(key),
                format!("expected a string, got {}", other.type_name()),
            )),
            None => Ok(variables
                .get(&format!("aiservice:config:{key}"))
                .filter(|s| !s.is_empty())
                .cloned()),
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
        field_manager: text("fieldManager")?.unwrap_or_else(|| DEFAULT_FIELD_MANAGER.to_string()),
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
    use super::*;

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
        let vars: HashMap<String, String> = [(
            "aiservice:config:namespace".to_string(),
            "team-a".to_string(),
        )]
        .into();
        let s = settings(&args, &vars).unwrap();
        assert_eq!(s.kubeconfig.as_deref(), Some("/k"));
        assert_eq!(s.namespace.as_deref(), Some("team-a"));
        assert!(s.skip_await);
        assert_eq!(s.field_manager, "pulumi-aiservice");
    }

    #[test]
    fn bad_values_name_the_key() {
        let args: Object = [("namespace".to_string(), Value::String("Team_A".into()))].into();
        assert_eq!(
            settings(&args, &HashMap::new())
                .unwrap_err()
                .path
                .to_string(),
            "namespace"
        );
        let args: Object = [("context".to_string(), Value::Number(1.0))].into();
        let err = settings(&args, &HashMap::new()).unwrap_err();
        assert_eq!(
            (err.path.to_string(), err.reason.as_str()),
            ("context".into(), "expected a string, got number")
        );
    }
}
