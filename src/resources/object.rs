//! The lifecycle every Kubernetes-object resource shares: auto-naming, diff by user-set
//! fields, server-side apply (dry-run in preview), await, read-with-drift and
//! delete-and-wait. What differs per kind is a [`Shape`].

use std::time::Duration;

use crate::cluster::{
    ApplyOptions, DeleteOptions, Deleted, KUBECTL_LAST_APPLIED, ObjectRef, ObjectType,
    PATCH_FORCE_ANNOTATION, Readiness,
};
use crate::contract::{
    CheckFailure, CheckRequest, Checked, Context, Diff, ReadResult, Resource, ResourceError, State,
};
use crate::description::Description;
use crate::value::{Object, PropertyPath, Value, carry_secrets};

use super::import_id::{self, TypedId};
use super::{diff, naming, ownership, ratchet};

/// `"true"` opts one object out of waiting for readiness.
pub const SKIP_AWAIT_ANNOTATION: &str = "aiservice.example.com/skip-await";
/// pulumi-kubernetes' spellings of the patch-force and skip-await annotations, accepted so
/// programs written for it keep working.
const PULUMI_PATCH_FORCE_ANNOTATION: &str = "pulumi.com/patchForce";
const PULUMI_SKIP_AWAIT_ANNOTATION: &str = "pulumi.com/skipAwait";
/// How long a just-established CRD's type may take to appear in discovery.
const DISCOVERY_GRACE: Duration = Duration::from_secs(10);

/// What makes one kind of Kubernetes object different from another.
#[async_trait::async_trait]
pub trait Shape: Send + Sync + 'static {
    /// What the resource is: token, summary, the object's type and spec, import id.
    fn description() -> Description;
    /// Fields Kubernetes cannot change in place (dotted paths).
    const REPLACE_PATHS: &'static [&'static str];
    /// How long to wait for readiness when the program sets no custom timeout.
    const DEFAULT_TIMEOUT: Duration;

    /// The `apiVersion` and `kind` of the object these inputs describe, when known.
    fn api_version_kind(inputs: &Object) -> Option<(String, String)>;
    /// The name to use when `metadata.name` is unset, if this kind derives one.
    fn derived_name(_inputs: &Object) -> Option<String> {
        None
    }
    /// Rewrites what programs may spell differently from the apiserver, before validation.
    fn to_wire(_inputs: &mut Object) {}
    /// Kind-specific validation of (possibly partly unknown) inputs.
    async fn validate(
        ctx: &Context,
        inputs: &Object,
        failures: &mut Vec<CheckFailure>,
    ) -> Result<(), ResourceError>;
    /// Called once the inputs passed Check (a CRD records itself as planned).
    fn checked(_ctx: &Context, _inputs: &Object) {}
    /// The type as the cluster serves it; `None` when the cluster does not know it yet.
    async fn object_type(
        ctx: &Context,
        inputs: &Object,
    ) -> Result<Option<ObjectType>, ResourceError>;
    /// Whether anyone will report this kind ready, so that waiting makes sense.
    async fn awaitable(_ctx: &Context) -> Result<bool, ResourceError> {
        Ok(true)
    }
    /// Called after a real (not dry-run) write.
    fn applied(_ctx: &Context) {}
    /// The id that imports the object (`pulumi import`, `terraform import`).
    fn import_id(object: &ObjectRef, _inputs: &Object) -> String {
        object.id()
    }
    fn readiness(live: &serde_json::Value) -> Readiness;
}

/// A resource made of a [`Shape`].
pub struct KubeObject<S>(std::marker::PhantomData<S>);

impl<S> KubeObject<S> {
    pub const fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

#[async_trait::async_trait]
impl<S: Shape> Resource for KubeObject<S> {
    fn describe(&self) -> Description {
        S::description()
    }

    async fn check(&self, ctx: &Context, req: CheckRequest<'_>) -> Result<Checked, ResourceError> {
        let mut inputs = req.news;
        let mut failures = Vec::new();
        let metadata = match inputs.remove("metadata") {
            None | Some(Value::Null) => Object::new(),
            Some(Value::Object(m)) => m,
            Some(Value::Unknown) => {
                inputs.insert("metadata".into(), Value::Unknown);
                return Ok(Checked { inputs, failures });
            }
            Some(other) => {
                failures.push(CheckFailure::new(
                    PropertyPath::dotted("metadata"),
                    format!("expected an object (ObjectMeta), got {}", other.type_name()),
                ));
                Object::new()
            }
        };
        let mut metadata = metadata;
        if matches!(metadata.get("name"), None | Some(Value::Null)) {
            let old_name = req.olds.get("metadata").and_then(|m| m.get_str("name"));
            let name = S::derived_name(&inputs)
                .or_else(|| old_name.map(str::to_string))
                .or_else(|| req.proposed_name.map(str::to_string))
                .unwrap_or_else(|| naming::auto_name(req.name, req.random_seed));
            metadata.insert("name".into(), Value::String(name));
        }
        check_metadata(&metadata, &mut failures);
        inputs.insert("metadata".into(), Value::Object(metadata));
        ownership::check_propagation(&inputs, &mut failures);
        S::to_wire(&mut inputs);
        S::validate(ctx, &inputs, &mut failures).await?;
        tell_if_offline(ctx);
        ratchet::ratchet(req.olds, &inputs, S::REPLACE_PATHS, &mut failures);
        if failures.is_empty() {
            S::checked(ctx, &inputs);
        }
        Ok(Checked { inputs, failures })
    }

    fn diff(&self, old_inputs: &Object, old: &State, news: &Object) -> Diff {
        let changes = diff::changes_since(old_inputs, &old.outputs, news, S::REPLACE_PATHS);
        let replaces = changes.iter().any(|c| c.replace);
        // Create-before-delete would collide when the replacement keeps the same identity.
        let delete_before_replace = replaces && same_identity(&old.outputs, news);
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
        write::<S>(ctx, inputs, preview, Write::Create).await
    }

    async fn update(
        &self,
        ctx: &Context,
        _old: &State,
        news: &Object,
        preview: bool,
    ) -> Result<State, ResourceError> {
        write::<S>(ctx, news, preview, Write::Update).await
    }

    async fn read(
        &self,
        ctx: &Context,
        id: &str,
        old_inputs: &Object,
    ) -> Result<Option<ReadResult>, ResourceError> {
        let Some(object) = existing_object::<S>(ctx, id, old_inputs).await? else {
            return Ok(None);
        };
        let Some(live) = ctx.kube.get(&object).await? else {
            return Ok(None);
        };
        let live = object_of(&live);
        // Recorded inputs without metadata name only the type: an import.
        let inputs = if !old_inputs.contains_key("metadata") {
            import_inputs(&live)
        } else {
            match project(
                &Value::Object(old_inputs.clone()),
                &Value::Object(live.clone()),
            ) {
                Some(Value::Object(inputs)) => inputs,
                _ => Object::new(),
            }
        };
        let mut outputs = live;
        carry_secrets(old_inputs, &mut outputs);
        Ok(Some(ReadResult {
            state: State {
                id: object.id(),
                outputs,
            },
            inputs,
        }))
    }

    async fn delete(&self, ctx: &Context, old: &State) -> Result<(), ResourceError> {
        let Some(object) = existing_object::<S>(ctx, &old.id, &old.outputs).await? else {
            return Ok(());
        };
        let options = DeleteOptions {
            propagation: ownership::propagation(&old.outputs),
            uid: ownership::recorded_uid(&old.outputs),
        };
        let timeout = ctx.timeout.unwrap_or(S::DEFAULT_TIMEOUT);
        // Said only when the object is not gone at once: a message per deleted object would
        // cost the engine more than the delete.
        let waiting = || {
            ctx.progress.info(&format!(
                "deleted {} ({:?} propagation); waiting until it is gone",
                object.describe(),
                options.propagation
            ))
        };
        if ctx
            .kube
            .delete_and_wait(&object, &options, timeout, &ctx.cancel, waiting)
            .await?
            == Deleted::Replaced
        {
            ctx.progress.warn(&format!(
                "{} is another object than the one this resource created (its uid changed): left in place",
                object.describe()
            ));
        }
        Ok(())
    }
}

/// Which write an operation is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// A new object: never takes over one that exists (see `ownership`).
    Create,
    /// The object this resource manages: a server-side apply of the inputs.
    Update,
}

/// Writes the inputs (a dry-run in preview) and, unless told not to, waits until the object
/// is ready.
async fn write<S: Shape>(
    ctx: &Context,
    inputs: &Object,
    preview: bool,
    write: Write,
) -> Result<State, ResourceError> {
    let whole = Value::Object(inputs.clone());
    if whole.contains_unknown() {
        // Only preview sees unknowns; what depends on them is unknown too.
        return Ok(preview_state(inputs));
    }
    // A preview of the many objects of a type that a planned CRD adds asks discovery once;
    // without a cluster, not at all.
    if preview
        && (ctx.kube.is_offline()
            || S::api_version_kind(inputs)
                .is_some_and(|(api_version, kind)| ctx.kube.known_absent(&api_version, &kind)))
    {
        return Ok(preview_state(inputs));
    }
    let object_type = match type_of::<S>(ctx, inputs, &planned_id(inputs)).await {
        Ok(Some(found)) => found,
        Ok(None) if preview => return Ok(preview_state(inputs)),
        Ok(None) => wait_for_type::<S>(ctx, inputs).await?,
        Err(e) if preview && went_offline(ctx, &e) => return Ok(preview_state(inputs)),
        Err(e) => return Err(e),
    };
    let object = object_ref(ctx, object_type, inputs);
    let mut desired = whole.to_json().unwrap_or_default();
    if let Some((api_version, kind)) = S::api_version_kind(inputs) {
        desired["apiVersion"] = serde_json::Value::String(api_version);
        desired["kind"] = serde_json::Value::String(kind);
    }
    if let Some(ns) = &object.namespace {
        desired["metadata"]["namespace"] = serde_json::Value::String(ns.clone());
    }
    // A rendered object is applied by another tool: it is that tool's, not this resource's.
    if !ctx.kube.rendering() {
        ownership::stamp(&mut desired, ctx.owner.as_deref());
    }
    let options = ApplyOptions {
        dry_run: preview,
        force: annotation_is_true(
            inputs,
            PATCH_FORCE_ANNOTATION,
            PULUMI_PATCH_FORCE_ANNOTATION,
        ),
    };
    let written = match write {
        Write::Create => {
            ownership::create_owned(ctx, &object, &desired, options, || {
                S::import_id(&object, inputs)
            })
            .await
        }
        Write::Update => ctx
            .kube
            .apply(&object, &desired, options)
            .await
            .map_err(ResourceError::from),
    };
    let applied = match written {
        Err(ResourceError::Kube(e)) if preview && e.is_namespace_missing() => {
            return missing_namespace(ctx, &object, inputs);
        }
        Err(e) if preview && went_offline(ctx, &e) => return Ok(preview_state(inputs)),
        other => other?,
    };
    let mut outputs = object_of(&applied);
    carry_secrets(inputs, &mut outputs);
    let id = object.id();
    if preview {
        return Ok(State { id, outputs });
    }
    S::applied(ctx);
    if ctx.kube.skip_await
        || annotation_is_true(inputs, SKIP_AWAIT_ANNOTATION, PULUMI_SKIP_AWAIT_ANNOTATION)
    {
        return Ok(State { id, outputs });
    }
    // Most objects are ready as written (a custom resource without a Ready condition):
    // no watch, no further request.
    if S::readiness(&applied) == Readiness::Ready || !S::awaitable(ctx).await? {
        return Ok(State { id, outputs });
    }
    ctx.progress.info(&format!(
        "waiting for {} to become ready",
        object.describe()
    ));
    let timeout = ctx.timeout.unwrap_or(S::DEFAULT_TIMEOUT);
    match ctx
        .kube
        .wait_until(&object, S::readiness, timeout, &ctx.cancel)
        .await
    {
        Ok(live) => {
            let mut outputs = object_of(&live);
            carry_secrets(inputs, &mut outputs);
            Ok(State { id, outputs })
        }
        Err((why, last)) => {
            if let Some(last) = last {
                outputs = object_of(&last);
                carry_secrets(inputs, &mut outputs);
            }
            Err(ResourceError::NotReady {
                object: object.describe(),
                state: State { id, outputs },
                reasons: vec![why.explain(timeout)],
            })
        }
    }
}

/// Whether `error` says the cluster cannot be asked, so a preview goes on without it (telling
/// the user once).
pub(super) fn went_offline(ctx: &Context, error: &ResourceError) -> bool {
    let offline = matches!(error, ResourceError::Kube(e) if ctx.kube.note_offline(e));
    tell_if_offline(ctx);
    offline
}

/// Warns, once per provider process, that the cluster could not be asked.
fn tell_if_offline(ctx: &Context) {
    if let Some(notice) = ctx.kube.offline_notice() {
        ctx.progress.warn(&notice);
    }
}

/// Preview of an object whose namespace does not exist: fine when this deployment creates the
/// namespace first, a Check-like failure otherwise (the update would fail).
fn missing_namespace(
    ctx: &Context,
    object: &ObjectRef,
    inputs: &Object,
) -> Result<State, ResourceError> {
    let namespace = object.namespace.clone().unwrap_or_default();
    if ctx.kube.namespace_planned(&namespace) {
        return Ok(preview_state(inputs));
    }
    Err(ResourceError::Invalid {
        path: PropertyPath::dotted("metadata.namespace"),
        reason: format!(
            "namespace {namespace:?} does not exist in the cluster and this deployment does not create it; \
create it first (a resource with apiVersion v1, kind Namespace, that this one depends on) or choose an existing namespace"
        ),
    })
}

/// A type no CRD serves yet: the CRD may have just been created (by this deployment, or by
/// another tool); wait a moment for it to be Established.
async fn wait_for_type<S: Shape>(
    ctx: &Context,
    inputs: &Object,
) -> Result<ObjectType, ResourceError> {
    let (api_version, kind) = S::api_version_kind(inputs).unwrap_or_default();
    let served = ctx
        .kube
        .await_served(&api_version, &kind, DISCOVERY_GRACE, &ctx.cancel)
        .await?;
    if ctx.cancel.is_cancelled() {
        return Err(ResourceError::Cancelled);
    }
    served.ok_or_else(|| ResourceError::Invalid {
        path: PropertyPath::dotted("kind"),
        reason: format!(
            "the cluster serves no kind {kind} in {api_version}; create its CustomResourceDefinition first (and make this resource depend on it)"
        ),
    })
}

/// The type of the object `inputs` describe. A failure to find it out (an unreachable cluster,
/// rejected credentials) names that object, `Widget team-a/small (example.com/v1)`, not only
/// the type being looked up.
async fn type_of<S: Shape>(
    ctx: &Context,
    inputs: &Object,
    id: &str,
) -> Result<Option<ObjectType>, ResourceError> {
    S::object_type(ctx, inputs).await.map_err(|e| match e {
        ResourceError::Kube(e) => {
            let (api_version, kind) = S::api_version_kind(inputs).unwrap_or_default();
            ResourceError::Kube(e.about(format!("{kind} {id} ({api_version})")))
        }
        other => other,
    })
}

/// How messages name an object before its type, and so its scope, is known.
fn planned_id(inputs: &Object) -> String {
    let metadata = inputs.get("metadata");
    let name = metadata.and_then(|m| m.get_str("name")).unwrap_or_default();
    match metadata.and_then(|m| m.get_str("namespace")) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn preview_state(inputs: &Object) -> State {
    let mut outputs = inputs.clone();
    outputs.insert("status".into(), Value::Unknown);
    State {
        id: String::new(),
        outputs,
    }
}

fn object_ref(ctx: &Context, object_type: ObjectType, inputs: &Object) -> ObjectRef {
    let metadata = inputs.get("metadata");
    let name = metadata
        .and_then(|m| m.get_str("name"))
        .unwrap_or_default()
        .to_string();
    let namespace = object_type.namespaced.then(|| {
        metadata
            .and_then(|m| m.get_str("namespace"))
            .unwrap_or(&ctx.kube.default_namespace)
            .to_string()
    });
    ObjectRef {
        object_type,
        namespace,
        name,
    }
}

/// The object an id names, typed by the id itself when it has the typed form
/// (`apiVersion=...,kind=...,name=...`, what `pulumi import` and `terraform import` of a custom
/// resource take), else by the recorded inputs or outputs; `None` when the cluster no longer
/// serves its type (its CRD is gone, and with it every object of the type).
async fn existing_object<S: Shape>(
    ctx: &Context,
    id: &str,
    recorded: &Object,
) -> Result<Option<ObjectRef>, ResourceError> {
    let invalid_id = |problem: String| ResourceError::Invalid {
        path: PropertyPath::dotted("id"),
        reason: format!("{id:?}: {problem}"),
    };
    let typed = TypedId::parse(id)
        .map_err(|problem| invalid_id(format!("{problem}; expected {}", import_id::FORM)))?;
    let type_inputs = typed.as_ref().map(TypedId::type_inputs);
    if let Some((typed, type_inputs)) = typed.as_ref().zip(type_inputs.as_ref()) {
        // A typed resource (an AIService, a CRD) reads only objects of its own type.
        if let Some((api_version, kind)) = S::api_version_kind(type_inputs)
            && (api_version.as_str(), kind.as_str()) != (&typed.api_version, &typed.kind)
        {
            return Err(invalid_id(format!(
                "names a {} ({}), but this resource is a {kind} ({api_version})",
                typed.kind, typed.api_version
            )));
        }
    }
    let recorded = type_inputs.as_ref().unwrap_or(recorded);
    let Some(object_type) = type_of::<S>(ctx, recorded, id).await? else {
        if S::api_version_kind(recorded).is_none() {
            return Err(invalid_id(format!(
                "cannot tell the type of the object: import it with an id that names the type, {}, or set apiVersion and kind in the program and use the import resource option",
                import_id::FORM
            )));
        }
        return Ok(None);
    };
    let default_namespace = || ctx.kube.default_namespace.clone();
    let (namespace, name) = match (typed, object_type.namespaced) {
        (Some(typed), true) => (
            Some(typed.namespace.unwrap_or_else(default_namespace)),
            typed.name,
        ),
        (Some(typed), false) => (None, typed.name),
        (None, true) => match id.split_once('/') {
            Some((ns, name)) => (Some(ns.to_string()), name.to_string()),
            None => (Some(default_namespace()), id.to_string()),
        },
        (None, false) => (None, id.to_string()),
    };
    Ok(Some(ObjectRef {
        object_type,
        namespace,
        name,
    }))
}

fn check_metadata(metadata: &Object, failures: &mut Vec<CheckFailure>) {
    if let Some(Value::String(name)) = metadata.get("name")
        && let Some(problem) = naming::subdomain_problem(name)
    {
        failures.push(CheckFailure::new(
            PropertyPath::dotted("metadata.name"),
            problem,
        ));
    }
    if let Some(Value::String(ns)) = metadata.get("namespace")
        && let Some(problem) = naming::label_problem(ns)
    {
        failures.push(CheckFailure::new(
            PropertyPath::dotted("metadata.namespace"),
            problem,
        ));
    }
    for map in ["labels", "annotations"] {
        match metadata.get(map) {
            None | Some(Value::Null | Value::Unknown) => {}
            Some(Value::Object(entries)) => {
                for (key, value) in entries {
                    if !matches!(value, Value::String(_) | Value::Unknown | Value::Secret(_)) {
                        failures.push(CheckFailure::new(
                            PropertyPath::dotted("metadata").key(map).key(key),
                            format!("expected a string, got {}", value.type_name()),
                        ));
                    }
                }
            }
            Some(other) => failures.push(CheckFailure::new(
                PropertyPath::dotted("metadata").key(map),
                format!("expected a map of strings, got {}", other.type_name()),
            )),
        }
    }
}

fn identity(properties: &Object) -> Option<(Option<&str>, &str)> {
    let metadata = properties.get("metadata")?;
    Some((metadata.get_str("namespace"), metadata.get_str("name")?))
}

/// Whether the new inputs name the same object as the old outputs. New inputs without a
/// namespace mean the provider's namespace, which the old outputs spell out.
fn same_identity(old_outputs: &Object, news: &Object) -> bool {
    match (identity(old_outputs), identity(news)) {
        (Some((old_ns, old_name)), Some((new_ns, new_name))) => {
            old_name == new_name && (new_ns.is_none() || new_ns == old_ns)
        }
        _ => false,
    }
}

/// The annotation `key`, looked up field by field rather than by a `PropertyPath` (which
/// allocates its segments): every Check reads annotations.
pub(super) fn annotation<'a>(inputs: &'a Object, key: &str) -> Option<&'a str> {
    // `get(&[])` is the value itself, seen through a secret as a path lookup sees it.
    let field = |value: &'a Value, key: &str| match value.get(&[])? {
        Value::Object(fields) => fields.get(key),
        _ => None,
    };
    field(field(inputs.get("metadata")?, "annotations")?, key)?
        .get(&[])?
        .as_str()
}

/// Whether the annotation, under its name or pulumi-kubernetes' alias, is `"true"`.
fn annotation_is_true(inputs: &Object, name: &str, alias: &str) -> bool {
    [name, alias]
        .into_iter()
        .any(|key| annotation(inputs, key) == Some("true"))
}

fn object_of(json: &serde_json::Value) -> Object {
    match Value::from_json(json) {
        Value::Object(fields) => fields,
        _ => Object::new(),
    }
}

/// The live values of exactly the fields the user set, so a refresh shows drift in the
/// user's own terms.
fn project(user: &Value, live: &Value) -> Option<Value> {
    match (user, live) {
        (Value::Secret(inner), _) => project(inner, live).map(|v| Value::Secret(Box::new(v))),
        (Value::Object(u), Value::Object(l)) => Some(Value::Object(
            u.iter()
                .filter_map(|(k, uv)| Some((k.clone(), project(uv, l.get(k)?)?)))
                .collect(),
        )),
        (Value::Array(u), Value::Array(l)) if u.len() == l.len() => u
            .iter()
            .zip(l)
            .map(|(uv, lv)| project(uv, lv))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        (_, live) => Some(live.clone()),
    }
}

/// Inputs for an imported object: everything a user would write, nothing the server or
/// `kubectl apply` adds.
fn import_inputs(live: &Object) -> Object {
    let mut inputs = live.clone();
    inputs.remove("status");
    if let Some(Value::Object(metadata)) = inputs.get_mut("metadata") {
        metadata
            .retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "labels" | "annotations"));
        // kubectl's copy of what it last applied would pin a stale duplicate of the object in
        // the program; the creator's identity is the provider's to write, not the program's.
        if let Some(Value::Object(annotations)) = metadata.get_mut("annotations") {
            annotations.remove(KUBECTL_LAST_APPLIED);
            annotations.remove(ownership::OWNER_ANNOTATION);
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: serde_json::Value) -> Object {
        object_of(&json)
    }

    #[test]
    fn inputs_without_a_namespace_keep_the_identity_of_the_old_outputs() {
        let old = object(serde_json::json!({"metadata": {"name": "a", "namespace": "team"}}));
        let same = object(serde_json::json!({"metadata": {"name": "a"}}));
        let moved = object(serde_json::json!({"metadata": {"name": "a", "namespace": "other"}}));
        let renamed = object(serde_json::json!({"metadata": {"name": "b"}}));
        assert!(same_identity(&old, &same));
        assert!(!same_identity(&old, &moved));
        assert!(!same_identity(&old, &renamed));
    }

    #[test]
    fn imported_inputs_are_what_a_user_writes() {
        let live = object(serde_json::json!({
            "apiVersion": "ai.example.com/v1",
            "kind": "ModelServing",
            "metadata": {
                "name": "a",
                "namespace": "team",
                "uid": "0b1c",
                "resourceVersion": "12",
                "managedFields": [],
                "annotations": {
                    KUBECTL_LAST_APPLIED: "{}",
                    ownership::OWNER_ANNOTATION: "urn:pulumi:other::p::t::a",
                },
            },
            "spec": {"replicas": 2},
            "status": {"ready": true},
        }));
        assert_eq!(
            import_inputs(&live),
            object(serde_json::json!({
                "apiVersion": "ai.example.com/v1",
                "kind": "ModelServing",
                "metadata": {"name": "a", "namespace": "team"},
                "spec": {"replicas": 2},
            }))
        );
    }

    #[test]
    fn objects_are_named_before_their_type_is_known() {
        let named = object(serde_json::json!({"metadata": {"name": "a"}}));
        let placed = object(serde_json::json!({"metadata": {"name": "a", "namespace": "team"}}));
        assert_eq!(
            (planned_id(&named), planned_id(&placed)),
            ("a".into(), "team/a".into())
        );
    }
}
