//! Everything that talks to the apiserver: connecting, discovering types, server-side apply
//! (and its dry-run), waiting for conditions and deleting-and-waiting. Resources describe
//! what they want; this layer knows how Kubernetes does it.

mod apply;
mod connect;
mod crd_catalog;
mod create;
mod delete;
mod error;
mod offline;
mod operator_presence;
mod render;
mod served;
mod wait;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::Scope;
use kube::{Api, Client};

pub use apply::ApplyOptions;
pub use connect::client_config;
pub use crd_catalog::{CrdCatalog, CrdLookup};
pub use create::Created;
pub use delete::{DeleteOptions, Deleted, Propagation};
pub use error::KubeError;
pub use operator_presence::{OPERATOR_LEASE, lease_expired};
pub use wait::{NotReady, Readiness, condition};

/// Where `kubectl apply` (client-side) records what it applied: a copy of the object that
/// neither programs nor the operator want.
pub const KUBECTL_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `"true"` on an object: its applies take over fields another field manager owns (a
/// conflict names it as the way out).
pub const PATCH_FORCE_ANNOTATION: &str = "aiservice.example.com/patch-force";

/// Where objects go, plus the provider-wide defaults resources apply with.
pub struct KubeLayer {
    target: Target,
    pub default_namespace: String,
    pub field_manager: String,
    pub skip_await: bool,
    /// CRDs known to this provider process: checked in this deployment or seen live.
    pub crds: CrdCatalog,
    /// Types the cluster serves, by apiVersion and kind.
    discovered: Mutex<HashMap<(String, String), ObjectType>>,
    /// Types the cluster did not serve when asked: a preview of many objects of a type its
    /// CRD will add asks once, not once per object. Writes always ask again.
    absent: Mutex<HashSet<(String, String)>>,
    /// Namespaces checked in this deployment: objects in them preview before they exist.
    planned_namespaces: Mutex<HashSet<String>>,
    /// Why the cluster could not be reached, once a lookup found out (see `offline`).
    offline: Mutex<Option<offline::Offline>>,
}

/// Where a [`KubeLayer`]'s objects go.
pub enum Target {
    /// A cluster at `url`, through `client` (which may still turn out unreachable).
    Cluster { client: Client, url: String },
    /// No cluster is configured, for this reason: a preview goes on without one, writes fail.
    Missing(String),
    /// Each object's manifest is written to a file under this directory (render mode);
    /// no cluster is contacted.
    Render(PathBuf),
}

/// A Kubernetes type as the apiserver serves it.
#[derive(Clone, Debug)]
pub struct ObjectType {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// One object: its type, namespace (for namespaced types) and name.
#[derive(Clone, Debug)]
pub struct ObjectRef {
    pub object_type: ObjectType,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The id the engine records: `namespace/name`, or `name` for cluster-scoped objects.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// How messages name the object: `ModelServing ns/name`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.object_type.resource.kind, self.id())
    }
}

impl KubeLayer {
    pub fn new(
        target: Target,
        settings: &crate::provider_config::ProviderConfig,
        default_namespace: String,
    ) -> Self {
        Self {
            // A rendered manifest is never ready: nothing runs it.
            skip_await: settings.skip_await || matches!(target, Target::Render(_)),
            target,
            default_namespace,
            field_manager: settings.field_manager.clone(),
            crds: CrdCatalog::default(),
            discovered: Mutex::default(),
            absent: Mutex::default(),
            planned_namespaces: Mutex::default(),
            offline: Mutex::default(),
        }
    }

    /// The cluster's client; an error when there is none to talk to.
    pub fn client(&self) -> Result<&Client, KubeError> {
        match &self.target {
            Target::Cluster { client, .. } => Ok(client),
            Target::Missing(why) => Err(KubeError::Config(why.clone())),
            Target::Render(dir) => Err(KubeError::NoCluster(format!(
                "render mode (renderYamlToDirectory {}) writes manifests and contacts no cluster",
                dir.display()
            ))),
        }
    }

    fn api(&self, object: &ObjectRef) -> Result<Api<DynamicObject>, KubeError> {
        let resource = &object.object_type.resource;
        let client = self.client()?.clone();
        Ok(match &object.namespace {
            Some(ns) => Api::namespaced_with(client, ns, resource),
            None => Api::all_with(client, resource),
        })
    }

    /// The type the cluster serves for `apiVersion`/`kind`, or `None` when it serves no such
    /// type (yet: a CRD planned in the same deployment may add it).
    pub async fn discover(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ObjectType>, KubeError> {
        if self.rendering() {
            return Ok(Some(self.planned_type(api_version, kind)));
        }
        let key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self
            .discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Some(found.clone()));
        }
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let found = match kube::discovery::pinned_kind(self.client()?, &gvk).await {
            Ok((resource, caps)) => ObjectType {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
            },
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(self.absent(key)),
            Err(kube::Error::Discovery(_)) => return Ok(self.absent(key)),
            Err(e) => return Err(KubeError::from_kube(&format!("{kind} ({api_version})"), e)),
        };
        self.remember(key, &found);
        Ok(Some(found))
    }

    /// Records the type the cluster serves for `(apiVersion, kind)`.
    fn remember(&self, key: (String, String), found: &ObjectType) {
        self.absent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        self.discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
    }

    /// Records that the cluster serves no such type; `None`, to return.
    fn absent(&self, key: (String, String)) -> Option<ObjectType> {
        self.absent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        None
    }

    /// Whether discovery found no such type when last asked (and nothing since said
    /// otherwise): a preview need not ask again.
    pub fn known_absent(&self, api_version: &str, kind: &str) -> bool {
        self.absent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(api_version.to_string(), kind.to_string()))
    }

    /// Forgets what discovery found or missed, after a CRD changed which types the cluster
    /// serves.
    pub fn forget_discovery(&self) {
        self.discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.absent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Records a namespace this deployment creates.
    pub fn plan_namespace(&self, name: &str) {
        self.planned_namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string());
    }

    /// Whether this deployment creates the namespace.
    pub fn namespace_planned(&self, name: &str) -> bool {
        self.planned_namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(name)
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get(&self, object: &ObjectRef) -> Result<Option<serde_json::Value>, KubeError> {
        if let Some(dir) = self.render_dir() {
            return render::read(dir, object);
        }
        match self.api(object)?.get_opt(&object.name).await {
            Ok(found) => found.map(|o| to_json(&o, object)).transpose(),
            Err(e) => Err(KubeError::from_kube(&object.describe(), e)),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// An object as JSON, without the bookkeeping that would only cause noise in outputs.
fn to_json(live: &DynamicObject, object: &ObjectRef) -> Result<serde_json::Value, KubeError> {
    to_json_whole(live, object).map(without_managed_fields)
}

/// An object as JSON, `managedFields` included (who manages what). A failure would be a bug
/// in the object model, reported as such rather than as an empty object.
fn to_json_whole(live: &DynamicObject, object: &ObjectRef) -> Result<serde_json::Value, KubeError> {
    serde_json::to_value(live)
        .map_err(|e| KubeError::from_kube(&object.describe(), kube::Error::SerdeError(e)))
}

fn without_managed_fields(mut json: serde_json::Value) -> serde_json::Value {
    if let Some(metadata) = json.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        metadata.remove("managedFields");
    }
    json
}
