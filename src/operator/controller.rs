//! The reconcile loop of one served kind: gather what the scaling decision needs, decide
//! (`scaling::decide`, a pure function), apply the Deployment and Service when they differ
//! from what was last applied, and report status, conditions and Events.
//!
//! Ownership: the IaC side owns `spec`; the operator owns `status` and the Deployment's
//! replicas. It never writes `spec`. In steady state it writes nothing: every write is
//! skipped when the object already says what it would write.
//!
//! Reads cost no request: a reconcile reads the watched copies of the served object and of the
//! Deployment and Service it owns (`owned`), and trusts its own recent writes over copies that
//! do not show them yet.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde_json::json;
use tokio_stream::StreamExt;

use crate::api::{Metric, ScalingMode, ServingStatus};

use super::metric_source::{self, CounterSample};
use super::owned::{APPLIED_HASH, EXPECTATION_TTL, Expected, Owned, believe};
use super::scaling::{self, Decision, History};
use super::stats::Stats;
use super::workload::{self, Served};
use crate::api::OPERATOR_NAME;

/// How often a Manual-mode object is looked at without a change to it or its Deployment.
const MANUAL_RESYNC: Duration = Duration::from_secs(300);
/// Reconciles of one kind that run at once. A reconcile holds no object of its own (it reads
/// the watched copies), so this bounds the requests in flight, not memory.
const CONCURRENCY: u16 = 32;
/// The longest wait between retries of a failing object.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Watch only this namespace; `None`: every namespace.
    pub namespace: Option<String>,
    /// How often an Auto-mode object's metric is read and its scale decided.
    pub poll_interval: Duration,
    /// The serving image of objects that name none.
    pub default_image: String,
    /// The admin addresses of the request interceptor's replicas (`http://host:9090`), read
    /// for objects whose metric is `interceptor`.
    pub interceptors: Vec<String>,
}

/// How often an object scaled on the interceptor's counts is looked at: its requests per
/// second, and a request waiting at zero, are seen within this.
const INTERCEPTOR_POLL: Duration = Duration::from_secs(1);

/// Why a reconcile failed; it is retried with exponential backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {source}")]
    Kube {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("{0} has no namespace")]
    NoNamespace(String),
    #[error("the watch of {0} stopped before it listed them")]
    WatchStopped(&'static str),
}

fn kube_error(what: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let what = what.into();
    move |source| Error::Kube { what, source }
}

/// What the operator remembers of one object between reconciles (in memory: a new leader
/// starts afresh, as the HPA does).
#[derive(Default)]
struct Memory {
    history: History,
    /// When this operator last changed the replicas. Kept here, not only read back from the
    /// status: the cached object may not show the last status write yet, and a status applied
    /// without the field would remove it.
    last_scale_time: Option<Time>,
    samples: BTreeMap<String, CounterSample>,
    failures: u32,
    /// The hash and replicas of the Deployment last applied, until its watch shows the hash.
    deployment: Option<Expected<(String, i32)>>,
    /// The hash of the Service last applied, until its watch shows it.
    service: Option<Expected<String>>,
    /// The status last written, until the watched object shows it.
    status: Option<Expected<ServingStatus>>,
}

/// The fewest reconciles between two sweeps of the memory of deleted objects; a sweep reads
/// every watched object, so they are at least as many as the objects.
const SWEEP_EVERY: u64 = 64;

/// Shared by every reconcile of one kind.
pub struct Reconciler<S: Served> {
    client: Client,
    settings: Settings,
    recorder: Recorder,
    memory: Mutex<HashMap<String, Memory>>,
    /// The controller's cache of the watched objects, to forget deleted ones.
    objects: Store<S>,
    owned: Owned,
    stats: Arc<Stats>,
    /// The reconcile count at the last sweep of the memory of deleted objects.
    swept_at: std::sync::atomic::AtomicU64,
}

impl<S: Served> Reconciler<S> {
    fn remember<T>(&self, key: &str, f: impl FnOnce(&mut Memory) -> T) -> T {
        let mut memory = self
            .memory
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(memory.entry(key.to_string()).or_default())
    }

    /// Drops what is remembered of objects that no longer exist, so memory stays bounded by
    /// the objects watched (the controller is never told about a deletion otherwise). It reads
    /// every watched object, so it runs once per as many reconciles as there are objects.
    fn forget_deleted_now_and_then(&self, reconciles: u64) {
        use std::sync::atomic::Ordering;
        let swept_at = self.swept_at.load(Ordering::Relaxed);
        let every = SWEEP_EVERY.max(self.objects.len() as u64);
        if reconciles < swept_at + every
            || self
                .swept_at
                .compare_exchange(swept_at, reconciles, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let live: HashSet<String> = self
            .objects
            .state()
            .iter()
            .map(|object| memory_key(object.as_ref()))
            .collect();
        self.memory
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|key, _| live.contains(key));
    }
}

/// Runs the controller of kind `S` until `shutdown` completes.
pub async fn run<S: Served>(
    client: Client,
    settings: Settings,
    stats: Arc<Stats>,
    shutdown: impl std::future::Future<Output = ()> + Send + Sync + 'static,
) {
    let objects = match &settings.namespace {
        Some(ns) => Api::<S>::namespaced(client.clone(), ns),
        None => Api::<S>::all(client.clone()),
    };
    let reporter = Reporter {
        controller: OPERATOR_NAME.into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    // The store keeps every object for the controller's lifetime: without the bookkeeping no
    // reconcile reads (managedFields, kubectl's last-applied copy of the whole object) each
    // takes a fraction of the memory.
    let (reader, writer) = reflector::store();
    let watched = reflector(
        writer,
        watcher(objects, watcher::Config::default()).modify(slim::<S>),
    )
    .applied_objects();
    let controller = Controller::for_stream(watched, reader)
        .with_config(kube::runtime::controller::Config::default().concurrency(CONCURRENCY))
        .graceful_shutdown_on(shutdown);
    let (owned, controller) = Owned::watch(&client, settings.namespace.as_deref(), controller);
    let context = Arc::new(Reconciler {
        recorder: Recorder::new(client.clone(), reporter),
        client,
        settings,
        memory: Mutex::default(),
        objects: controller.store(),
        owned,
        stats: stats.clone(),
        swept_at: Default::default(),
    });
    let kind = S::kind(&()).to_string();
    let results = controller.run(reconcile::<S>, error_policy::<S>, context);
    tokio::pin!(results);
    while let Some(result) = results.next().await {
        if let Err(e) = result {
            // Object errors are logged in error_policy; these are the watch's own.
            tracing::debug!(kind, "controller: {e}");
        }
    }
}

/// Drops what the apiserver and kubectl record for themselves; the operator reads neither.
fn slim<S: Served>(object: &mut S) {
    object.managed_fields_mut().clear();
    object
        .annotations_mut()
        .remove(crate::cluster::KUBECTL_LAST_APPLIED);
}

fn memory_key<S: Served>(object: &S) -> String {
    format!(
        "{}/{}/{}",
        S::kind(&()),
        object.namespace().unwrap_or_default(),
        object.name_any()
    )
}

async fn reconcile<S: Served>(object: Arc<S>, ctx: Arc<Reconciler<S>>) -> Result<Action, Error> {
    ctx.stats.reconciles.inc();
    ctx.forget_deleted_now_and_then(ctx.stats.reconciles.get());
    ctx.stats.in_flight.inc();
    let action = reconcile_object(object.as_ref(), &ctx).await;
    ctx.stats.in_flight.dec();
    ctx.remember(&memory_key(object.as_ref()), |m| {
        if action.is_ok() {
            m.failures = 0;
        }
    });
    action
}

fn error_policy<S: Served>(object: Arc<S>, error: &Error, ctx: Arc<Reconciler<S>>) -> Action {
    ctx.stats.errors.inc();
    let failures = ctx.remember(&memory_key(object.as_ref()), |m| {
        m.failures = m.failures.saturating_add(1);
        m.failures
    });
    let backoff = Duration::from_secs(1 << failures.min(9)).min(MAX_BACKOFF);
    tracing::warn!(
        "{} {}: {error}; retrying in {}s",
        S::kind(&()),
        object.name_any(),
        backoff.as_secs()
    );
    Action::requeue(backoff)
}

/// One reconcile: observe, decide, act.
async fn reconcile_object<S: Served>(object: &S, ctx: &Reconciler<S>) -> Result<Action, Error> {
    let seen = observe(object, ctx).await?;
    let decision = decide(ctx, &seen);
    apply_workload(object, ctx, &seen, &decision).await?;
    let status_believed = report(object, ctx, &seen, &decision).await?;
    let on_interceptor = object
        .workload()
        .scaling
        .metric
        .is_some_and(|m| m.interceptor.is_some());
    let requeue = if seen.auto && on_interceptor {
        ctx.settings.poll_interval.min(INTERCEPTOR_POLL)
    } else if seen.auto {
        ctx.settings.poll_interval
    } else {
        MANUAL_RESYNC
    };
    if seen.believed_write || status_believed {
        // A write was believed over its watched copy: look again once it no longer is, in
        // case the copy never shows it (the object was deleted meanwhile).
        return Ok(Action::requeue(requeue.min(EXPECTATION_TTL)));
    }
    Ok(Action::requeue(requeue))
}

/// What a reconcile sees of one object's world: its Deployment and Service as watched (or as
/// the operator last wrote them, while the copies do not show it yet) and its load.
struct Observation {
    namespace: String,
    name: String,
    /// The object's key in the operator's memory.
    key: String,
    /// The Deployment's replicas; `None` before it exists.
    current: Option<i32>,
    /// The hashes of what was last applied to the Deployment and the Service.
    deployment_hash: Option<String>,
    service_hash: Option<String>,
    /// The Deployment's replicas and ready replicas as its status counts them.
    replicas: i32,
    ready: i32,
    auto: bool,
    requests_per_second: Result<f64, String>,
    /// Whether one of the operator's writes was believed over a watched copy.
    believed_write: bool,
    /// What the object asks for (its spec, read once per reconcile).
    workload: workload::Workload,
}

impl Observation {
    /// Whether `decision` changes the Deployment's replicas.
    fn scales(&self, decision: &Decision) -> bool {
        self.current.is_some_and(|c| c != decision.desired)
    }
}

async fn observe<S: Served>(object: &S, ctx: &Reconciler<S>) -> Result<Observation, Error> {
    let name = object.name_any();
    let namespace = object
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    let key = memory_key(object);
    if !ctx.owned.listed().await {
        return Err(Error::WatchStopped("Deployments and Services"));
    }
    let deployment = ctx.owned.deployment(&namespace, &name);
    let watched_hash = deployment.as_ref().and_then(|d| d.applied_hash.clone());
    let applied = ctx.remember(&key, |m| {
        believe(&mut m.deployment, |(hash, _)| {
            watched_hash.as_ref() == Some(hash)
        })
    });
    let believed_deployment = applied.is_some();
    let (deployment_hash, current) = match applied {
        Some((hash, replicas)) => (Some(hash), Some(replicas)),
        None => (
            watched_hash,
            deployment.as_ref().and_then(|d| d.spec.replicas),
        ),
    };
    let counts = deployment
        .as_ref()
        .and_then(|d| d.status.clone())
        .unwrap_or_default();
    let watched_service_hash = ctx
        .owned
        .service(&namespace, &name)
        .and_then(|s| s.applied_hash.clone());
    let applied_service = ctx.remember(&key, |m| {
        believe(&mut m.service, |hash| {
            watched_service_hash.as_ref() == Some(hash)
        })
    });
    let believed_service = applied_service.is_some();
    let workload = object.workload();
    let auto = workload.scaling.mode == ScalingMode::Auto;
    let requests_per_second = if auto {
        measure(object, &workload.scaling.metric, &key, ctx).await
    } else {
        Err("not measured in Manual mode".to_string())
    };
    Ok(Observation {
        namespace,
        name,
        key,
        current,
        deployment_hash,
        service_hash: applied_service.or(watched_service_hash),
        replicas: counts.replicas.unwrap_or(0),
        ready: counts.ready_replicas.unwrap_or(0),
        auto,
        requests_per_second,
        believed_write: believed_deployment || believed_service,
        workload,
    })
}

/// The scaling decision (a pure function) on what was seen and the object's history.
fn decide<S: Served>(ctx: &Reconciler<S>, seen: &Observation) -> Decision {
    let workload = &seen.workload;
    let history = ctx.remember(&seen.key, |m| m.history.clone());
    let decision = scaling::decide(&scaling::Inputs {
        scaling: &workload.scaling,
        spec_replicas: workload.replicas,
        current: seen.current,
        ready: seen.ready,
        requests_per_second: seen.requests_per_second.clone(),
        history: &history,
        now: SystemTime::now(),
    });
    ctx.remember(&seen.key, |m| m.history = decision.history.clone());
    ctx.stats.decisions.inc();
    decision
}

/// Applies the Deployment and Service the decision asks for, each only when it differs from
/// what was last applied, and says so with an Event when the replicas changed.
async fn apply_workload<S: Served>(
    object: &S,
    ctx: &Reconciler<S>,
    seen: &Observation,
    decision: &Decision,
) -> Result<(), Error> {
    // Someone may have scaled the Deployment itself (kubectl scale deployment, an HPA): its
    // replicas then differ from what the hash recorded, and the operator takes them back.
    let deployment_hash = seen
        .deployment_hash
        .as_deref()
        .filter(|_| seen.current == Some(decision.desired));
    let deployments = Api::<Deployment>::namespaced(ctx.client.clone(), &seen.namespace);
    let services = Api::<Service>::namespaced(ctx.client.clone(), &seen.namespace);
    // The two are independent: applied side by side.
    let (deployment_applied, service_applied) = tokio::join!(
        apply_if_changed(
            &deployments,
            &seen.name,
            workload::deployment(object, decision.desired, &ctx.settings.default_image),
            deployment_hash,
            &ctx.stats,
        ),
        apply_if_changed(
            &services,
            &seen.name,
            workload::service(object),
            seen.service_hash.as_deref(),
            &ctx.stats,
        ),
    );
    ctx.remember(&seen.key, |m| {
        if let Ok(Some(hash)) = &deployment_applied {
            m.deployment = Some(Expected::new((hash.clone(), decision.desired)));
        }
        if let Ok(Some(hash)) = &service_applied {
            m.service = Some(Expected::new(hash.clone()));
        }
    });
    deployment_applied?;
    service_applied?;
    if seen.scales(decision) {
        publish(
            ctx,
            object,
            EventType::Normal,
            decision.reason.as_str(),
            &decision.message,
        )
        .await;
    }
    Ok(())
}

/// Writes the object's status when it changed. Returns whether the status the operator last
/// wrote was believed over the watched object, which does not show it yet.
async fn report<S: Served>(
    object: &S,
    ctx: &Reconciler<S>,
    seen: &Observation,
    decision: &Decision,
) -> Result<bool, Error> {
    let (key, namespace, name) = (&seen.key, &seen.namespace, &seen.name);
    let watched_status = object.serving_status();
    let written = ctx.remember(key, |m| {
        believe(&mut m.status, |s| watched_status == Some(s))
    });
    let old_status = written.as_ref().or(watched_status);
    let scaled = seen.scales(decision);
    let last_scale_time = ctx
        .remember(key, |m| {
            if scaled {
                m.last_scale_time = Some(now_time());
            }
            m.last_scale_time.clone()
        })
        .or_else(|| old_status?.last_scale_time.clone());
    let new_status = serving_status(
        object,
        old_status,
        &Observed {
            replicas: seen.replicas,
            ready: seen.ready,
            auto: seen.auto,
            requests_per_second: &seen.requests_per_second,
            decision,
            last_scale_time,
        },
    );
    if old_status == Some(&new_status) {
        return Ok(written.is_some());
    }
    let objects = Api::<S>::namespaced(ctx.client.clone(), namespace);
    let patch = json!({
        "apiVersion": S::api_version(&()),
        "kind": S::kind(&()),
        "status": new_status,
    });
    match objects
        .patch_status(name, &apply_params(), &Patch::Apply(&patch))
        .await
    {
        Ok(_) => {
            ctx.stats.writes.inc();
            ctx.remember(key, |m| m.status = Some(Expected::new(new_status)));
        }
        // A CRD of the same kind without a status subresource (a hand-written one, such as
        // the seed's): the workload runs, there is just nowhere to report.
        Err(kube::Error::Api(e)) if e.code == 404 => tracing::debug!(
            "{} {namespace}/{name}: its CRD has no status subresource; status not written",
            S::kind(&())
        ),
        Err(e) => {
            return Err(kube_error(format!(
                "writing the status of {} {namespace}/{name}",
                S::kind(&())
            ))(e));
        }
    }
    Ok(written.is_some())
}

/// Now, in whole seconds: what the API keeps of a time, so that a status written is equal to
/// the one read back.
fn now_time() -> Time {
    let now = Timestamp::now();
    Time(Timestamp::from_second(now.as_second()).unwrap_or(now))
}

fn apply_params() -> PatchParams {
    // The operator is the only owner of what it applies; forcing takes back a field someone
    // else changed by hand (kubectl scale on the Deployment), as a controller must.
    PatchParams::apply(OPERATOR_NAME).force()
}

/// Server-side applies `desired` unless the live object's hash of what was applied to it,
/// `applied`, is that of the same content. Returns the hash it applied, if it did.
async fn apply_if_changed<K>(
    api: &Api<K>,
    name: &str,
    mut desired: K,
    applied: Option<&str>,
    stats: &Stats,
) -> Result<Option<String>, Error>
where
    K: Resource<DynamicType = ()>
        + Clone
        + Serialize
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let hash = content_hash(&desired);
    if applied == Some(hash.as_str()) {
        return Ok(None);
    }
    desired
        .annotations_mut()
        .insert(APPLIED_HASH.into(), hash.clone());
    let mut patch = serde_json::to_value(&desired).map_err(|e| {
        kube_error(format!("encoding {} {name}", K::kind(&())))(kube::Error::SerdeError(e))
    })?;
    patch["apiVersion"] = json!(K::api_version(&()));
    patch["kind"] = json!(K::kind(&()));
    api.patch(name, &apply_params(), &Patch::Apply(&patch))
        .await
        .map_err(kube_error(format!("applying {} {name}", K::kind(&()))))?;
    stats.writes.inc();
    Ok(Some(hash))
}

/// A hash of an object's content as the operator builds it (stable for one build of the
/// operator; a new build may write each object once more).
fn content_hash<K: Serialize>(object: &K) -> String {
    let text = serde_json::to_string(object).unwrap_or_default();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Requests per second of `object` from its metric source, on the blocking pool.
async fn measure<S: Served>(
    object: &S,
    metric: &Option<Metric>,
    key: &str,
    ctx: &Reconciler<S>,
) -> Result<f64, String> {
    let name = object.name_any();
    let namespace = object.namespace().unwrap_or_default();
    match metric {
        None => Err("spec.scaling.metric is not set".into()),
        Some(Metric {
            prometheus: Some(source),
            ..
        }) => {
            let address = source.address.clone();
            let query = metric_source::expand_query(&source.query, &name, &namespace);
            blocking(move || metric_source::prometheus(&address, &query)).await
        }
        Some(Metric {
            pod_scrape: Some(source),
            ..
        }) => {
            let pods = Api::<Pod>::namespaced(ctx.client.clone(), &namespace)
                .list(&ListParams::default().labels(&workload::selector_string(&name)))
                .await
                .map_err(|e| format!("listing the pods of {namespace}/{name}: {e}"))?;
            let targets: Vec<(String, String)> = pods
                .items
                .iter()
                .filter(|pod| is_ready(pod))
                .filter_map(|pod| {
                    let ip = pod.status.as_ref()?.pod_ip.clone()?;
                    Some((
                        pod.name_any(),
                        format!("http://{ip}:{}{}", source.port, source.path),
                    ))
                })
                .collect();
            let counter = source.counter.clone();
            let scraped = blocking(move || {
                let mut samples = BTreeMap::new();
                for (pod, url) in targets {
                    let value = metric_source::scrape_counter(&url, &counter)?;
                    samples.insert(
                        pod,
                        CounterSample {
                            value,
                            at: SystemTime::now(),
                        },
                    );
                }
                Ok(samples)
            })
            .await?;
            let previous =
                ctx.remember(key, |m| std::mem::replace(&mut m.samples, scraped.clone()));
            metric_source::rate(&previous, &scraped)
        }
        Some(Metric {
            interceptor: Some(_),
            ..
        }) => {
            if ctx.settings.interceptors.is_empty() {
                return Err(
                    "the operator was started without --interceptor-admin: no interceptor to ask"
                        .into(),
                );
            }
            let admins = ctx.settings.interceptors.clone();
            let (scraped, queued) = blocking(move || {
                let mut samples = BTreeMap::new();
                let mut queued = 0;
                for admin in admins {
                    let counts = metric_source::interceptor_counts(&admin, &namespace, &name)?;
                    queued += counts.queued;
                    let at = SystemTime::now();
                    let value = counts.requests as f64;
                    samples.insert(admin, CounterSample { value, at });
                }
                Ok((samples, queued))
            })
            .await?;
            let previous =
                ctx.remember(key, |m| std::mem::replace(&mut m.samples, scraped.clone()));
            let rate = metric_source::rate(&previous, &scraped);
            // Requests held at zero are demand now: at least that many a second, so the
            // first one wakes the service without waiting for a second reading.
            match (rate, queued) {
                (rate, 0) => rate,
                (Ok(rate), queued) => Ok(rate.max(queued as f64)),
                (Err(_), queued) => Ok(queued as f64),
            }
        }
        Some(_) => Err("spec.scaling.metric names no source".into()),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(format!("the metric reader failed: {e}")))
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

async fn publish<S: Served>(
    ctx: &Reconciler<S>,
    object: &S,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.into(),
        note: Some(note.into()),
        action: "Scale".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &object.object_ref(&())).await {
        tracing::warn!("publishing an event for {}: {e}", object.name_any());
    }
}

/// What one reconcile saw and decided, for the status.
struct Observed<'a> {
    replicas: i32,
    ready: i32,
    auto: bool,
    requests_per_second: &'a Result<f64, String>,
    decision: &'a Decision,
    last_scale_time: Option<Time>,
}

/// The status the operator reports: unchanged fields of `old` keep their values (condition
/// transition times, the last scale time), so an unchanged world produces an equal status.
fn serving_status<S: Served>(
    object: &S,
    old: Option<&ServingStatus>,
    seen: &Observed,
) -> ServingStatus {
    let old = old.cloned().unwrap_or_default();
    let now = now_time();
    let desired = seen.decision.desired;
    let mut conditions = Vec::new();
    let ready = if desired == 0 {
        (
            "True",
            "ScaledToZero",
            "no replicas wanted: no traffic".to_string(),
        )
    } else if seen.ready >= desired {
        (
            "True",
            "Ready",
            format!("{} of {desired} replicas ready", seen.ready),
        )
    } else {
        (
            "False",
            "Progressing",
            format!("{} of {desired} replicas ready", seen.ready),
        )
    };
    conditions.push(condition(&old, "Ready", ready, object, &now));
    if seen.auto {
        let metrics = match seen.requests_per_second {
            Ok(rps) => ("True", "Measured", format!("{rps:.2} requests/s")),
            Err(why) => ("False", "MetricUnavailable", why.clone()),
        };
        conditions.push(condition(&old, "MetricsAvailable", metrics, object, &now));
        let limited = match &seen.decision.limited {
            Some((limit, message)) => ("True", limit.as_str(), message.clone()),
            None => (
                "False",
                "WithinLimits",
                "the decision needed no clamping".to_string(),
            ),
        };
        conditions.push(condition(&old, "ScalingLimited", limited, object, &now));
    }
    ServingStatus {
        observed_generation: object.meta().generation,
        replicas: Some(seen.replicas),
        ready_replicas: Some(seen.ready),
        desired_replicas: Some(desired),
        selector: Some(workload::selector_string(&object.name_any())),
        requests_per_second: match seen.requests_per_second {
            // Rounded, so that jitter in the last digits is not a status write every poll.
            Ok(rps) if seen.auto => Some((rps * 10.0).round() / 10.0),
            _ => None,
        },
        last_scale_time: seen.last_scale_time.clone(),
        url: Some(workload::url(object)),
        conditions: Some(conditions),
    }
}

/// A condition, keeping its transition time while its status stays the same.
fn condition<S: Served>(
    old: &ServingStatus,
    type_: &str,
    (status, reason, message): (&str, &str, String),
    object: &S,
    now: &Time,
) -> Condition {
    let previous = old.conditions.iter().flatten().find(|c| c.type_ == type_);
    let last_transition_time = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => now.clone(),
    };
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message,
        observed_generation: object.meta().generation,
        last_transition_time,
    }
}
