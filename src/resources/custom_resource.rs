//! `aiservice:apiextensions:CustomResource`: any custom resource, validated against its CRD:
//! the live one, or the one checked earlier in the same deployment.

use std::time::Duration;

use crate::kube::{ObjectType, Readiness, condition};
use crate::resource::{CheckFailure, Context, ResourceError};
use crate::value::{Object, PropertyPath, Value};

use super::object::Shape;
use super::openapi;

pub struct CustomResource;

#[async_trait::async_trait]
impl Shape for CustomResource {
    const TOKEN: &'static str = "aiservice:apiextensions:CustomResource";
    const REPLACE_PATHS: &'static [&'static str] =
        &["apiVersion", "kind", "metadata.namespace", "metadata.name"];
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

    fn api_version_kind(inputs: &Object) -> Option<(String, String)> {
        Some((
            inputs.get("apiVersion")?.as_str()?.to_string(),
            inputs.get("kind")?.as_str()?.to_string(),
        ))
    }

    async fn validate(
        ctx: &Context,
        inputs: &Object,
        failures: &mut Vec<CheckFailure>,
    ) -> Result<(), ResourceError> {
        for (field, example) in [
            ("apiVersion", "ai.example.com/v1"),
            ("kind", "ModelServing"),
        ] {
            match inputs.get(field) {
                Some(Value::String(s)) if !s.is_empty() => {}
                Some(Value::Unknown) => return Ok(()),
                _ => failures.push(CheckFailure::new(
                    PropertyPath::dotted(field),
                    format!("required, a non-empty string such as {example:?}"),
                )),
            }
        }
        let Some((api_version, kind)) = Self::api_version_kind(inputs) else {
            return Ok(());
        };
        let Some((group, version)) = api_version.split_once('/') else {
            failures.push(CheckFailure::new(
                PropertyPath::dotted("apiVersion"),
                format!("expected <group>/<version> of a custom resource, got {api_version:?}"),
            ));
            return Ok(());
        };
        let Some((crd, _)) = ctx.kube.find_crd(group, &kind).await? else {
            // Not defined by any CRD we can see (perhaps another tool installs it): the
            // apiserver validates on apply.
            return Ok(());
        };
        let versions = crd["spec"]["versions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(served) = versions.iter().find(|v| v["name"] == version) else {
            let names: Vec<&str> = versions.iter().filter_map(|v| v["name"].as_str()).collect();
            failures.push(CheckFailure::new(
                PropertyPath::dotted("apiVersion"),
                format!("the CRD for {kind} defines versions {names:?}, not {version:?}"),
            ));
            return Ok(());
        };
        if served["served"] == false {
            failures.push(CheckFailure::new(
                PropertyPath::dotted("apiVersion"),
                format!("version {version:?} of {kind} is not served by its CRD"),
            ));
        }
        let schema = &served["schema"]["openAPIV3Schema"];
        if !schema.is_null() {
            let object = Value::Object(inputs.clone());
            let before = failures.len();
            openapi::validate(schema, &object, &PropertyPath::root(), failures);
            // CEL rules assume a well-typed object, and need every value known.
            if failures.len() == before
                && let Ok(json) = object.to_json()
            {
                failures.extend(cel_failures(schema, &json));
            }
        }
        Ok(())
    }

    async fn object_type(
        ctx: &Context,
        inputs: &Object,
    ) -> Result<Option<ObjectType>, ResourceError> {
        let Some((api_version, kind)) = Self::api_version_kind(inputs) else {
            return Ok(None);
        };
        Ok(ctx.kube.discover(&api_version, &kind).await?)
    }

    /// Custom resources are ready when they say so: a `Ready` condition, if they have one.
    fn readiness(live: &serde_json::Value) -> Readiness {
        match condition(live, "Ready") {
            None | Some(("True", _)) => Readiness::Ready,
            Some((_, why)) => Readiness::Waiting(format!("condition Ready to be True (now {why})")),
        }
    }
}

/// The CRD's `x-kubernetes-validations` (CEL) rules this object breaks, evaluated locally the
/// way the apiserver does (defaults applied first). Rules the local evaluator cannot run are
/// left to the apiserver's dry-run rather than blocking the user.
fn cel_failures(schema: &serde_json::Value, object: &serde_json::Value) -> Vec<CheckFailure> {
    use kube::core::cel::{ErrorKind, Validator};
    let Err(errors) = Validator::new().validate(schema, object, None) else {
        return Vec::new();
    };
    errors
        .into_vec()
        .into_iter()
        .filter(|e| {
            matches!(
                e.kind,
                ErrorKind::ValidationFailure | ErrorKind::InvalidResult
            )
        })
        .map(|e| {
            let path = if e.field_path.is_empty() {
                PropertyPath::root()
            } else {
                PropertyPath::dotted(&e.field_path)
            };
            CheckFailure::new(path, format!("{} (rule: {})", e.message, e.rule))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cel_rules_of_any_crd_are_checked_locally() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"spec": {
                "type": "object",
                "properties": {"minReplicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"}],
            }},
        });
        let bad = serde_json::json!({"spec": {"minReplicas": 5, "maxReplicas": 2}});
        let failures = cel_failures(&schema, &bad);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!(failures[0].path.to_string(), "spec");
        assert!(
            failures[0]
                .reason
                .starts_with("minReplicas must not exceed maxReplicas"),
            "{}",
            failures[0].reason
        );
        let good = serde_json::json!({"spec": {"minReplicas": 1, "maxReplicas": 2}});
        assert!(cel_failures(&schema, &good).is_empty());
    }
}
