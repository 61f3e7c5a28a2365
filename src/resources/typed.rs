//! `aiservice:index:AIService` and `aiservice:index:ModelServing`: this crate's own APIs
//! (`src/api`) as resources. `apiVersion` and `kind` are fixed; Check validates against the
//! CRD this crate generates (schema and CEL rules), so a bad spec fails preview whether or not
//! the cluster has the CRD. The operator owns `status`; Diff never looks at it.

use std::marker::PhantomData;
use std::sync::OnceLock;
use std::time::Duration;

use crate::cluster::{ObjectType, Readiness, condition};
use crate::contract::{CheckFailure, Context, ResourceError};
use crate::description::{Description, Form, ObjectForm, Spec};
use crate::value::{Object, PropertyPath, Value};

use super::object::Shape;
use super::openapi;

/// One of our own kinds.
pub trait TypedKind: Send + Sync + 'static {
    const TOKEN: &'static str;
    const API_VERSION: &'static str;
    const KIND: &'static str;
    /// What the kind is for, in both schemas.
    const SUMMARY: &'static str;
}

pub struct AIServiceKind;

impl TypedKind for AIServiceKind {
    const TOKEN: &'static str = "aiservice:index:AIService";
    const API_VERSION: &'static str = "stable.example.com/v1";
    const KIND: &'static str = "AIService";
    const SUMMARY: &'static str = "An AI model served by the aiservice operator (stable.example.com/v1 AIService), scaled manually or on requests per second. The spec is checked against the AIService CRD, CEL rules included, before anything reaches the cluster; `status` is the operator's.";
}

pub struct ModelServingKind;

impl TypedKind for ModelServingKind {
    const TOKEN: &'static str = "aiservice:index:ModelServing";
    const API_VERSION: &'static str = "ai.example.com/v1";
    const KIND: &'static str = "ModelServing";
    const SUMMARY: &'static str = "A model serving instance (ai.example.com/v1 ModelServing): a model server image and how many replicas run it. The spec is checked against the ModelServing CRD before anything reaches the cluster; `status` is the operator's.";
}

pub struct Typed<K>(PhantomData<K>);

/// The generated CRDs' schemas, by kind, computed once.
fn schema_of(kind: &str) -> Option<&'static serde_json::Value> {
    static SCHEMAS: OnceLock<Vec<(String, serde_json::Value)>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        crate::api::crds()
            .into_iter()
            .filter_map(|crd| {
                let schema = crd
                    .spec
                    .versions
                    .first()?
                    .schema
                    .as_ref()?
                    .open_api_v3_schema
                    .as_ref()?;
                Some((
                    crd.spec.names.kind.clone(),
                    serde_json::to_value(schema).ok()?,
                ))
            })
            .collect()
    });
    schemas.iter().find(|(k, _)| k == kind).map(|(_, s)| s)
}

#[async_trait::async_trait]
impl<K: TypedKind> Shape for Typed<K> {
    fn description() -> Description {
        Description {
            token: K::TOKEN,
            summary: K::SUMMARY,
            form: Form::Object(ObjectForm {
                fixed_type: Some((K::API_VERSION, K::KIND)),
                spec: Spec::OurKind(K::KIND),
                namespaced: Some(true),
                import_id: "<namespace>/<name>, or <name> in the provider's namespace",
            }),
        }
    }
    const REPLACE_PATHS: &'static [&'static str] = &["metadata.namespace", "metadata.name"];
    const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

    fn api_version_kind(_inputs: &Object) -> Option<(String, String)> {
        Some((K::API_VERSION.into(), K::KIND.into()))
    }

    async fn validate(
        _ctx: &Context,
        inputs: &Object,
        failures: &mut Vec<CheckFailure>,
    ) -> Result<(), ResourceError> {
        if matches!(inputs.get("spec"), None | Some(Value::Null)) {
            failures.push(CheckFailure::new(
                PropertyPath::dotted("spec"),
                format!("required: the {} to run", K::KIND),
            ));
            return Ok(());
        }
        let Some(schema) = schema_of(K::KIND) else {
            return Ok(());
        };
        let mut object = inputs.clone();
        object.insert("apiVersion".into(), Value::String(K::API_VERSION.into()));
        object.insert("kind".into(), Value::String(K::KIND.into()));
        openapi::validate_object(schema, &Value::Object(object), failures);
        Ok(())
    }

    async fn object_type(
        ctx: &Context,
        _inputs: &Object,
    ) -> Result<Option<ObjectType>, ResourceError> {
        Ok(ctx.kube.discover(K::API_VERSION, K::KIND).await?)
    }

    /// Only a running operator reports readiness (it holds its leader-election Lease); with
    /// none, the object is done once the apiserver accepted it.
    async fn awaitable(ctx: &Context) -> Result<bool, ResourceError> {
        let running = ctx.kube.operator_running().await?;
        if !running {
            ctx.progress
                .info("no aiservice operator is running (no held Lease): not waiting for Ready");
        }
        Ok(running)
    }

    /// Ready when the operator says so for the generation just applied: a `Ready` condition
    /// that is `True` and a `status.observedGeneration` that has caught up.
    fn readiness(live: &serde_json::Value) -> Readiness {
        let generation = live["metadata"]["generation"].as_i64().unwrap_or(0);
        match live["status"]["observedGeneration"].as_i64() {
            Some(observed) if observed >= generation => match condition(live, "Ready") {
                Some(("True", _)) => Readiness::Ready,
                Some((_, why)) => {
                    Readiness::Waiting(format!("condition Ready to be True (now {why})"))
                }
                None => Readiness::Waiting("the operator to report condition Ready".into()),
            },
            Some(observed) => Readiness::Waiting(format!(
                "the operator to observe generation {generation} (it has seen {observed})"
            )),
            None => Readiness::Waiting(format!(
                "the operator to observe generation {generation} (it has reported nothing yet)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failures_for(spec: serde_json::Value) -> Vec<String> {
        let object = serde_json::json!({
            "apiVersion": AIServiceKind::API_VERSION,
            "kind": AIServiceKind::KIND,
            "metadata": {"name": "x"},
            "spec": spec,
        });
        let mut failures = Vec::new();
        openapi::validate_object(
            schema_of("AIService").unwrap(),
            &Value::from_json(&object),
            &mut failures,
        );
        failures
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect()
    }

    #[test]
    fn bad_specs_fail_locally_naming_the_property() {
        assert!(failures_for(serde_json::json!({"modelUri": "s3://m"})).is_empty());
        let missing = failures_for(serde_json::json!({"replicas": 1}));
        assert!(
            missing.iter().any(|f| f.starts_with("spec.modelUri")),
            "{missing:?}"
        );
        let negative = failures_for(serde_json::json!({"modelUri": "s3://m", "replicas": -1}));
        assert!(
            negative.iter().any(|f| f.starts_with("spec.replicas")),
            "{negative:?}"
        );
        let mode = failures_for(
            serde_json::json!({"modelUri": "s3://m", "scaling": {"mode": "Sometimes"}}),
        );
        assert!(
            mode.iter().any(|f| f.starts_with("spec.scaling.mode")),
            "{mode:?}"
        );
        let bounds = failures_for(
            serde_json::json!({"modelUri": "s3://m", "scaling": {"minReplicas": 5, "maxReplicas": 2}}),
        );
        assert!(
            bounds
                .iter()
                .any(|f| f.contains("minReplicas must be less than or equal to maxReplicas")),
            "{bounds:?}"
        );
    }

    #[test]
    fn readiness_waits_for_the_operator_to_catch_up() {
        let live = |observed: i64, ready: &str| {
            serde_json::json!({
                "metadata": {"generation": 2},
                "status": {"observedGeneration": observed, "conditions": [{"type": "Ready", "status": ready}]},
            })
        };
        assert!(matches!(
            Typed::<AIServiceKind>::readiness(&live(1, "True")),
            Readiness::Waiting(_)
        ));
        assert!(matches!(
            Typed::<AIServiceKind>::readiness(&live(2, "False")),
            Readiness::Waiting(_)
        ));
        assert_eq!(
            Typed::<AIServiceKind>::readiness(&live(2, "True")),
            Readiness::Ready
        );
        // Awaited only while an operator runs: until it reports, the object is not ready.
        let fresh = serde_json::json!({"metadata": {"generation": 1}});
        assert!(matches!(
            Typed::<AIServiceKind>::readiness(&fresh),
            Readiness::Waiting(_)
        ));
    }
}
