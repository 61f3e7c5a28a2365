//! `aiservice:apiextensions:CustomResource`: any custom resource, validated against its CRD:
//! the live one, or the one checked earlier in the same deployment. Built-in kinds of the
//! core group (`apiVersion: v1`, such as a Namespace) are managed the same way, validated by
//! the apiserver's dry-run.

use std::time::Duration;

use crate::cluster::{CrdLookup, ObjectRef, ObjectType, Readiness, condition};
use crate::contract::{CheckFailure, Context, ResourceError};
use crate::description::{Description, Form, ObjectForm, Spec};
use crate::value::{Object, PropertyPath, Value};

use super::import_id::TypedId;
use super::object::Shape;
use super::openapi;

pub struct CustomResource;

#[async_trait::async_trait]
impl Shape for CustomResource {
    fn description() -> Description {
        Description {
            token: "aiservice:apiextensions:CustomResource",
            summary: "Any custom resource, validated against its CRD: the live one or the one planned in the same deployment. Also a built-in object of the core group (`apiVersion: v1`), such as the Namespace other objects go into.",
            form: Form::Object(ObjectForm {
                fixed_type: None,
                spec: Spec::Any,
                namespaced: None,
                import_id: super::import_id::FORM,
            }),
        }
    }
    const REPLACE_PATHS: &'static [&'static str] =
        &["apiVersion", "kind", "metadata.namespace", "metadata.name"];
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

    fn api_version_kind(inputs: &Object) -> Option<(String, String)> {
        Some((
            inputs.get("apiVersion")?.as_str()?.to_string(),
            inputs.get("kind")?.as_str()?.to_string(),
        ))
    }

    /// The typed form: `namespace/name` cannot tell which custom resource type to read.
    fn import_id(object: &ObjectRef, inputs: &Object) -> String {
        let (api_version, kind) = Self::api_version_kind(inputs).unwrap_or_default();
        TypedId {
            api_version,
            kind,
            name: object.name.clone(),
            namespace: object.namespace.clone(),
        }
        .to_string()
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
            if api_version != "v1" {
                failures.push(CheckFailure::new(
                    PropertyPath::dotted("apiVersion"),
                    format!(
                        "expected <group>/<version> of a custom resource, or v1 for a core object such as a Namespace, got {api_version:?}"
                    ),
                ));
            } else if !ctx.kube.is_offline() {
                match ctx.kube.discover(&api_version, &kind).await {
                    // No CRD adds to the core group: a kind it lacks now it will always lack.
                    Ok(None) => failures.push(CheckFailure::new(
                        PropertyPath::dotted("kind"),
                        format!("the cluster serves no core kind {kind:?} in v1"),
                    )),
                    Ok(Some(_)) => {}
                    // Without a cluster to ask, the apiserver checks it on apply.
                    Err(e) if ctx.kube.note_offline(&e) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Ok(());
        };
        let crd = match ctx.kube.find_crd(group, &kind).await? {
            CrdLookup::Found(crd, _) => crd,
            // Caught here, or the preview passes and `up` fails waiting for a type that will
            // never be served.
            CrdLookup::OtherKinds(kinds) => {
                failures.push(CheckFailure::new(
                    PropertyPath::dotted("kind"),
                    format!(
                        "no CustomResourceDefinition of group {group} defines kind {kind:?}; its CRDs define {}; did you mean {:?}?",
                        kinds.join(", "),
                        nearest(&kind, &kinds)
                    ),
                ));
                return Ok(());
            }
            // No CRD of the group we can see (perhaps another tool installs it): the
            // apiserver validates on apply.
            CrdLookup::Unknown => return Ok(()),
        };
        let versions: &[serde_json::Value] = crd["spec"]["versions"]
            .as_array()
            .map_or(&[], Vec::as_slice);
        let Some(served) = versions.iter().find(|v| v["name"] == version) else {
            let names: Vec<&str> = versions.iter().filter_map(|v| v["name"].as_str()).collect();
            failures.push(CheckFailure::new(
                PropertyPath::dotted("apiVersion"),
                format!(
                    "the CRD for {kind} defines versions {}, not {version:?}; did you mean \"{group}/{}\"?",
                    names.join(", "),
                    nearest(version, &names)
                ),
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

    /// A namespace made here may hold objects this deployment previews before it exists.
    fn checked(ctx: &Context, inputs: &Object) {
        if Self::api_version_kind(inputs).is_some_and(|(v, k)| v == "v1" && k == "Namespace")
            && let Some(name) = inputs.get("metadata").and_then(|m| m.get_str("name"))
        {
            ctx.kube.plan_namespace(name);
        }
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

/// The candidate closest to what the user wrote (edit distance, ignoring case), to suggest.
fn nearest<'a>(written: &str, candidates: &'a [impl AsRef<str>]) -> &'a str {
    let written = written.to_lowercase();
    candidates
        .iter()
        .map(AsRef::as_ref)
        .min_by_key(|c| strsim::levenshtein(&written, &c.to_lowercase()))
        .unwrap_or_default()
}

/// Ready when the object says so: a `Ready` condition that is `True`, if it has one.
fn ready_condition(live: &serde_json::Value) -> Readiness {
    match condition(live, "Ready") {
        None | Some(("True", _)) => Readiness::Ready,
        Some((_, why)) => Readiness::Waiting(format!("condition Ready to be True (now {why})")),
    }
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn suggests_the_closest_kind_or_version() {
        let kinds = ["ModelRouter", "ModelServing"];
        assert_eq!(nearest("ModelServng", &kinds), "ModelServing");
        assert_eq!(nearest("modelrouter", &kinds), "ModelRouter");
        assert_eq!(nearest("v2", &["v1", "v1beta1"]), "v1");
    }
}
