//! `aiservice:index:Operator`: installs the operator as one unit, the objects of
//! `api::bundle` (our CRDs, a namespace, a ServiceAccount, RBAC, the Deployment). Create
//! and update server-side apply them in order and wait until the CRDs are Established and the
//! Deployment is available; delete removes them in reverse order, each waited for. It is a
//! custom resource, not a component: the provider has no resource types for namespaces or
//! Deployments to make children of.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::api::bundle::{self, BundleSettings, Installation};
use crate::cluster::{ApplyOptions, DeleteOptions, ObjectRef, Readiness};
use crate::contract::{
    CheckFailure, CheckRequest, Checked, Context, Diff, ReadResult, Resource, ResourceError, State,
};
use crate::description::{Description, Form, properties_of};
use crate::value::{Object, PropertyPath, Value};

use super::crd::Crd;
use super::object::Shape;
use super::{diff, naming, ownership};

/// How long the whole installation may take when the program sets no custom timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Moving the operator to another namespace is a new installation.
const REPLACE_PATHS: &[&str] = &["namespace"];

pub struct Operator;

/// The settings of inputs with no unknown values, defaults filled in.
fn settings(inputs: &Object) -> Option<BundleSettings> {
    let json = Value::Object(inputs.clone()).to_json().ok()?;
    serde_json::from_value(json).ok()
}

/// The settings of an installation the engine recorded.
fn recorded(outputs: &Object) -> Result<BundleSettings, ResourceError> {
    settings(outputs).ok_or_else(|| ResourceError::Invalid {
        path: PropertyPath::root(),
        reason:
            "the recorded settings are unreadable: expected image, replicas, namespace and logLevel"
                .into(),
    })
}

/// The inputs with every unset setting at its default; unknown values stay unknown.
fn with_defaults(mut inputs: Object) -> Object {
    let Value::Object(defaults) = Value::from_json(&json!(BundleSettings::default())) else {
        unreachable!("BundleSettings is a struct")
    };
    for (key, default) in defaults {
        if matches!(inputs.get(&key), None | Some(Value::Null)) {
            inputs.insert(key, default);
        }
    }
    inputs
}

fn check_inputs(inputs: &Object, failures: &mut Vec<CheckFailure>) {
    let mut fail = |key: &str, reason: String| {
        failures.push(CheckFailure::new(PropertyPath::dotted(key), reason))
    };
    for key in ["image", "logLevel"] {
        match inputs.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::Unknown) => {}
            Some(other) => fail(
                key,
                format!("expected a non-empty string, got {}", other.type_name()),
            ),
            None => {}
        }
    }
    match inputs.get("replicas") {
        Some(Value::Number(n)) if n.fract() == 0.0 && (1.0..=10.0).contains(n) => {}
        Some(Value::Unknown) => {}
        Some(Value::Number(n)) => fail(
            "replicas",
            format!("must be a whole number from 1 to 10, got {n}"),
        ),
        Some(other) => fail(
            "replicas",
            format!("expected an integer, got {}", other.type_name()),
        ),
        None => {}
    }
    match inputs.get("namespace") {
        Some(Value::String(ns)) => {
            if let Some(problem) = naming::label_problem(ns) {
                fail(
                    "namespace",
                    format!("not a valid namespace name: {problem}"),
                );
            }
        }
        Some(Value::Unknown) => {}
        Some(other) => fail(
            "namespace",
            format!("expected a string, got {}", other.type_name()),
        ),
        None => {}
    }
    // The settings' names, from their schema once rather than on every check.
    static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
        properties_of::<BundleSettings>()
            .into_iter()
            .map(|p| p.name)
            .collect()
    });
    let names = &*NAMES;
    for key in inputs.keys() {
        if !names.contains(key) {
            fail(
                key,
                format!("not an input of Operator ({})", names.join(", ")),
            );
        }
    }
}

/// The outputs: the settings and the objects installed (unknown while a setting is).
fn outputs(inputs: &Object) -> Object {
    let mut outputs = inputs.clone();
    let objects = match settings(inputs) {
        Some(settings) => Value::Array(
            bundle::describe(&bundle::objects(&settings))
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
        None => Value::Unknown,
    };
    outputs.insert("objects".into(), objects);
    outputs
}

/// Where one object of the bundle lives, as the cluster serves its type.
async fn object_ref(ctx: &Context, object: &Json) -> Result<ObjectRef, ResourceError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let object_type =
        ctx.kube
            .discover(api_version, kind)
            .await?
            .ok_or_else(|| ResourceError::Invalid {
                path: PropertyPath::root(),
                reason: format!("the cluster serves no {kind} in {api_version}"),
            })?;
    Ok(ObjectRef {
        object_type,
        namespace: object["metadata"]["namespace"].as_str().map(str::to_string),
        name: name.to_string(),
    })
}

/// The operator Deployment is available with every replica up to date.
fn deployment_readiness(live: &Json) -> Readiness {
    let wanted = live["spec"]["replicas"].as_i64().unwrap_or(1);
    let status = &live["status"];
    let current = status["observedGeneration"].as_i64() >= live["metadata"]["generation"].as_i64();
    let available = status["availableReplicas"].as_i64().unwrap_or(0);
    let updated = status["updatedReplicas"].as_i64().unwrap_or(0);
    if current && available >= wanted && updated >= wanted {
        Readiness::Ready
    } else {
        Readiness::Waiting(format!(
            "the operator Deployment: {available} of {wanted} replicas available"
        ))
    }
}

/// Preview of a first install: fails when an object of the bundle (the namespace aside) exists
/// and was not created by this resource, as the install would.
async fn refuse_taken(ctx: &Context, objects: &[Json]) -> Result<(), ResourceError> {
    for object in objects.iter().filter(|o| o["kind"] != "Namespace") {
        let target = object_ref(ctx, object).await?;
        let mut desired = object.clone();
        ownership::stamp(&mut desired, ctx.owner.as_deref());
        let dry_run = ApplyOptions {
            dry_run: true,
            force: false,
        };
        match ownership::create_owned(ctx, &target, &desired, dry_run, || target.id()).await {
            // The namespace comes first in the same install.
            Err(ResourceError::Kube(e)) if e.is_namespace_missing() => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Applies the bundle in order. A first install creates each object as `ownership` says: an
/// existing object it did not create fails the install, except the namespace, which the
/// operator may share with what already lives there (and then leaves in place on delete).
async fn install(
    ctx: &Context,
    inputs: &Object,
    preview: bool,
    creating: bool,
) -> Result<State, ResourceError> {
    let outputs = outputs(inputs);
    let Some(settings) = settings(inputs) else {
        // A setting is known only after an earlier resource is created.
        return Ok(State {
            id: String::new(),
            outputs,
        });
    };
    let state = State {
        id: settings.namespace.clone(),
        outputs,
    };
    let objects = bundle::objects(&settings);
    if preview {
        if creating {
            match refuse_taken(ctx, &objects).await {
                Err(e) if !super::object::went_offline(ctx, &e) => return Err(e),
                _ => {}
            }
        }
        return Ok(state);
    }
    let timeout = ctx.timeout.unwrap_or(DEFAULT_TIMEOUT);
    ctx.progress
        .info(&format!("applying {} objects", objects.len()));
    for object in &objects {
        let target = object_ref(ctx, object).await?;
        let mut desired = object.clone();
        ownership::stamp(&mut desired, ctx.owner.as_deref());
        let shared_namespace = object["kind"] == "Namespace"
            && ctx
                .kube
                .get(&target)
                .await?
                .is_some_and(|live| !ownership::created_by(&live, ctx.owner.as_deref()));
        if shared_namespace {
            // Someone else's namespace: used, never stamped as this resource's (its destroy
            // would then delete it).
            ctx.progress
                .info(&format!("using the existing {}", target.describe()));
        } else if creating {
            ownership::create_owned(ctx, &target, &desired, ApplyOptions::default(), || {
                target.id()
            })
            .await?;
        } else {
            ctx.kube
                .apply(&target, &desired, ApplyOptions::default())
                .await?;
        }
        let rule: Option<fn(&Json) -> Readiness> = match object["kind"].as_str() {
            Some("CustomResourceDefinition") => Some(Crd::readiness),
            Some("Deployment") => Some(deployment_readiness),
            _ => None,
        };
        if let Some(rule) = rule {
            ctx.progress
                .info(&format!("waiting for {}", target.describe()));
            if let Err((why, _)) = ctx
                .kube
                .wait_until(&target, rule, timeout, &ctx.cancel)
                .await
            {
                return Err(ResourceError::NotReady {
                    object: target.describe(),
                    state,
                    reasons: vec![why.explain(timeout)],
                });
            }
        }
    }
    Ok(state)
}

#[async_trait::async_trait]
impl Resource for Operator {
    fn describe(&self) -> Description {
        Description {
            token: "aiservice:index:Operator",
            summary: "The aiservice operator, installed as one unit: the AIService and ModelServing CRDs, a namespace, a ServiceAccount, least-privilege RBAC and the operator Deployment, applied in that order and awaited until the Deployment is available; deleted in reverse order. `schema/operator.yaml` is the same bundle for kubectl.",
            form: Form::Settings {
                inputs: properties_of::<BundleSettings>(),
                outputs: properties_of::<Installation>(),
                import_id: "the namespace the operator runs in",
            },
        }
    }

    async fn check(&self, ctx: &Context, req: CheckRequest<'_>) -> Result<Checked, ResourceError> {
        let mut failures = Vec::new();
        check_inputs(&req.news, &mut failures);
        // Its install waits on the cluster and owns what it created there: not a manifest.
        if ctx.kube.rendering() {
            failures.push(CheckFailure::new(
                PropertyPath::root(),
                "the operator installs into a cluster and is not rendered in render mode \
(renderYamlToDirectory); for GitOps, commit what `aiservice-operator bundle` prints instead",
            ));
        }
        Ok(Checked {
            inputs: with_defaults(req.news),
            failures,
        })
    }

    fn diff(&self, old_inputs: &Object, old: &State, news: &Object) -> Diff {
        let changes = diff::changes_since(old_inputs, &old.outputs, news, REPLACE_PATHS);
        // The CRDs and cluster role keep their names in any namespace: delete first.
        let delete_before_replace = changes.iter().any(|c| c.replace);
        Diff {
            changes,
            delete_before_replace,
        }
    }

    async fn create(
        &self,
        ctx: &Context,
        inputs: &Object,
        preview: bool,
    ) -> Result<State, ResourceError> {
        install(ctx, inputs, preview, true).await
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        old_inputs: &Object,
    ) -> Result<Option<ReadResult>, ResourceError> {
        let mut inputs = with_defaults(old_inputs.clone());
        if old_inputs.is_empty() {
            // An import by namespace: the installation found there, with default settings.
            inputs.insert("namespace".into(), Value::String(id.to_string()));
        }
        let objects = bundle::objects(&recorded(&inputs)?);
        let Some(deployment) = objects.last() else {
            return Ok(None);
        };
        let target = object_ref(ctx, deployment).await?;
        if ctx.kube.get(&target).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(ReadResult {
            state: State {
                id: id.to_string(),
                outputs: outputs(&inputs),
            },
            inputs,
        }))
    }

    async fn update(
        &self,
        ctx: &Context,
        _old: &State,
        news: &Object,
        preview: bool,
    ) -> Result<State, ResourceError> {
        install(ctx, news, preview, false).await
    }

    async fn delete(&self, ctx: &Context, old: &State) -> Result<(), ResourceError> {
        let timeout = ctx.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let objects = bundle::objects(&recorded(&old.outputs)?);
        ctx.progress.info(&format!(
            "deleting {} objects in reverse order, waiting for each",
            objects.len()
        ));
        for object in objects.iter().rev() {
            let target = object_ref(ctx, object).await?;
            let Some(live) = ctx.kube.get(&target).await? else {
                continue;
            };
            if !ownership::created_by(&live, ctx.owner.as_deref()) {
                ctx.progress.info(&format!(
                    "leaving {} in place: this resource did not create it",
                    target.describe()
                ));
                continue;
            }
            let options = DeleteOptions {
                uid: live["metadata"]["uid"].as_str().map(str::to_string),
                ..DeleteOptions::default()
            };
            ctx.kube
                .delete_and_wait(&target, &options, timeout, &ctx.cancel, || {
                    ctx.progress.info(&format!(
                        "deleted {}; waiting until it is gone",
                        target.describe()
                    ))
                })
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(json: serde_json::Value) -> Object {
        match Value::from_json(&json) {
            Value::Object(o) => o,
            _ => unreachable!("an object literal"),
        }
    }

    #[test]
    fn unset_inputs_take_the_defaults() {
        let filled = with_defaults(inputs(serde_json::json!({"replicas": 2})));
        let settings = settings(&filled).unwrap();
        assert_eq!(settings.replicas, 2);
        assert_eq!(settings.namespace, bundle::DEFAULT_NAMESPACE);
        assert_eq!(settings.log_level, "info");
    }

    #[test]
    fn bad_inputs_name_the_property() {
        let mut failures = Vec::new();
        check_inputs(
            &inputs(
                serde_json::json!({"replicas": 0, "namespace": "Not_Valid", "image": "", "extra": 1}),
            ),
            &mut failures,
        );
        let found: Vec<String> = failures.iter().map(|f| f.path.to_string()).collect();
        assert_eq!(found, ["image", "replicas", "namespace", "extra"]);
    }

    #[test]
    fn the_deployment_is_ready_when_every_replica_is_available_and_current() {
        let live = serde_json::json!({
            "metadata": {"generation": 2},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "availableReplicas": 2, "updatedReplicas": 2},
        });
        assert_eq!(deployment_readiness(&live), Readiness::Ready);
        let mut behind = live.clone();
        behind["status"]["observedGeneration"] = serde_json::json!(1);
        assert!(matches!(
            deployment_readiness(&behind),
            Readiness::Waiting(_)
        ));
    }
}
