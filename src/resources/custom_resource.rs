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
        let versions: &[serde_json::Value] = crd["spec"]["versions"]
            .as_array()
            .map_or(&[], Vec::as_slice);
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
            openapi::validate_object(schema, &Value::Object(inputs.clone()), failures);
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
        ready_condition(live)
    }
}

/// Ready when the object says so: a `Ready` condition that is `True`, if it has one.
fn ready_condition(live: &serde_json::Value) -> Readiness {
    match condition(live, "Ready") {
        None | Some(("True", _)) => Readiness::Ready,
        Some((_, why)) => Readiness::Waiting(format!("condition Ready to be True (now {why})")),
    }
}
