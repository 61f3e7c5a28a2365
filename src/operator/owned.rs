//! The Deployments and Services the operator owns, as their watches last saw them, and what
//! it wrote that those copies may not show yet.
//!
//! A reconcile reads these copies instead of asking the apiserver, so one that has nothing to
//! write (most of them: every write of the operator and of the Deployment controller triggers
//! one) costs no request. A copy lags the apiserver by a moment; a write the operator made in
//! that moment is [`Expected`], and believed over the copy until the copy shows it.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{self, ObjectRef, Store, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use tokio_stream::StreamExt;

use super::workload::Served;
use crate::api::OPERATOR_NAME;

/// The annotation holding a hash of what the operator last applied to a Deployment or
/// Service, so an unchanged object is not written again.
pub(super) const APPLIED_HASH: &str = "aiservice.example.com/applied-hash";
/// How long a write is trusted over a watched copy that does not show it yet: the watch
/// normally shows it within milliseconds; past this, the copy is believed again.
pub(super) const EXPECTATION_TTL: Duration = Duration::from_secs(30);

/// Something this operator wrote that the watched copy may not show yet.
#[derive(Clone)]
pub(super) struct Expected<T> {
    value: T,
    at: Instant,
}

impl<T> Expected<T> {
    pub(super) fn new(value: T) -> Self {
        Expected {
            value,
            at: Instant::now(),
        }
    }
}

/// What a reconcile believes of something it wrote: `None` (the watched copy) once the copy
/// shows the write (`shows`) or the write is older than [`EXPECTATION_TTL`], and the
/// expectation is dropped; else the write, which the copy does not show yet.
pub(super) fn believe<T: Clone>(
    expected: &mut Option<Expected<T>>,
    shows: impl FnOnce(&T) -> bool,
) -> Option<T> {
    match expected.take() {
        Some(e) if e.at.elapsed() < EXPECTATION_TTL && !shows(&e.value) => {
            let value = e.value.clone();
            *expected = Some(e);
            Some(value)
        }
        _ => None,
    }
}

/// The Deployments and Services of one kind's objects as their watches last saw them.
pub(super) struct Owned {
    deployments: Store<Watched<Deployment>>,
    services: Store<Watched<Service>>,
    /// Whether both watches have listed (false: a watch stopped first). Reconciles wait on
    /// this, not on the stores: a store's `wait_until_ready` wakes only the last of several
    /// tasks waiting at once, and the others would wait forever.
    listed: tokio::sync::OnceCell<bool>,
}

impl Owned {
    /// Watches the Deployments and Services that objects of kind `S` control (in `namespace`,
    /// or everywhere) for `controller`: each change triggers the owner's reconcile, and the
    /// copies are kept for it to read.
    pub(super) fn watch<S: Served>(
        client: &Client,
        namespace: Option<&str>,
        controller: Controller<S>,
    ) -> (Owned, Controller<S>) {
        let ours = watcher::Config::default()
            .labels(&format!("app.kubernetes.io/managed-by={OPERATOR_NAME}"));
        let (deployments, deployments_writer) = reflector::store();
        let deployment_events = reflector(
            deployments_writer,
            watcher(api(client, namespace), ours.clone())
                .filter(controlled_by::<S, Watched<Deployment>>)
                .modify(slim_owned),
        )
        .touched_objects();
        let (services, services_writer) = reflector::store();
        let service_events = reflector(
            services_writer,
            watcher(api(client, namespace), ours)
                .filter(controlled_by::<S, Watched<Service>>)
                .modify(slim_owned),
        )
        .touched_objects();
        let owned = Owned {
            deployments,
            services,
            listed: tokio::sync::OnceCell::new(),
        };
        let controller = controller
            .owns_stream(deployment_events)
            .owns_stream(service_events);
        (owned, controller)
    }

    /// The copy of Deployment `namespace/name`, if it exists.
    pub(super) fn deployment(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Watched<Deployment>>> {
        self.deployments
            .get(&ObjectRef::new(name).within(namespace))
    }

    /// The copy of Service `namespace/name`, if it exists.
    pub(super) fn service(&self, namespace: &str, name: &str) -> Option<Arc<Watched<Service>>> {
        self.services.get(&ObjectRef::new(name).within(namespace))
    }

    /// Waits until both watches have listed, so that a missing copy means a missing object;
    /// false if a watch stopped first.
    pub(super) async fn listed(&self) -> bool {
        let listed = self
            .listed
            .get_or_init(|| async {
                self.deployments.wait_until_ready().await.is_ok()
                    && self.services.wait_until_ready().await.is_ok()
            })
            .await;
        *listed
    }
}

/// What the controller keeps of an owned object `K` from its watch: its name, namespace and
/// owner, the hash of what the operator applied to it, and a Deployment's replicas and their
/// counts. Decoding skips everything else (the pod template and `managedFields` above all,
/// which would otherwise be decoded into trees of JSON values only to be dropped), and a
/// copy takes a few hundred bytes where a `Deployment` takes 2.5 KB before any of its fields.
#[derive(Clone, Debug)]
pub(super) struct Watched<K> {
    metadata: ObjectMeta,
    pub(super) spec: WatchedSpec,
    pub(super) status: Option<WatchedStatus>,
    /// The `APPLIED_HASH` annotation.
    pub(super) applied_hash: Option<String>,
    kind: PhantomData<K>,
}

impl<'de, K> serde::Deserialize<'de> for Watched<K> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The fields read; serde skips the others without keeping them.
        #[derive(serde::Deserialize)]
        struct Object {
            metadata: Metadata,
            #[serde(default)]
            spec: WatchedSpec,
            #[serde(default)]
            status: Option<WatchedStatus>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Metadata {
            name: Option<String>,
            namespace: Option<String>,
            /// The watch resumes from the last one it saw.
            resource_version: Option<String>,
            owner_references: Option<Vec<OwnerReference>>,
            #[serde(default)]
            annotations: BTreeMap<String, String>,
        }
        let Object {
            metadata: mut meta,
            spec,
            status,
        } = Object::deserialize(deserializer)?;
        Ok(Watched {
            metadata: ObjectMeta {
                name: meta.name,
                namespace: meta.namespace,
                resource_version: meta.resource_version,
                owner_references: meta.owner_references,
                ..ObjectMeta::default()
            },
            spec,
            status,
            applied_hash: meta.annotations.remove(APPLIED_HASH),
            kind: PhantomData,
        })
    }
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WatchedSpec {
    pub(super) replicas: Option<i32>,
}

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WatchedStatus {
    pub(super) replicas: Option<i32>,
    pub(super) ready_replicas: Option<i32>,
}

impl<K> Resource for Watched<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(dt: &()) -> std::borrow::Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &()) -> std::borrow::Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &()) -> std::borrow::Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &()) -> std::borrow::Cow<'_, str> {
        K::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// The owned objects of kind `K` in `namespace`, or everywhere.
fn api<K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>>(
    client: &Client,
    namespace: Option<&str>,
) -> Api<K> {
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Whether a watch event is about an object that a `S` controls (events without an object
/// pass).
fn controlled_by<S: Served, K: Resource>(
    event: &Result<watcher::Event<K>, watcher::Error>,
) -> bool {
    match event {
        Ok(
            watcher::Event::Apply(object)
            | watcher::Event::InitApply(object)
            | watcher::Event::Delete(object),
        ) => object.owner_references().iter().any(|owner| {
            owner.controller == Some(true)
                && owner.kind == S::kind(&())
                && owner.api_version == S::api_version(&())
        }),
        _ => true,
    }
}

/// Drops an owned object's resource version once its watch has read it: the copy kept does
/// not need it.
fn slim_owned<K>(object: &mut Watched<K>) {
    object.metadata.resource_version = None;
}
