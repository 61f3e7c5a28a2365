use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::ListParams;

use super::{KubeError, KubeLayer};

type GroupKind = (String, String);

/// The CRDs custom resources are validated against: the ones checked earlier in this
/// deployment (planned, so a preview of CRD + CR works on an empty cluster) and the live ones.
#[derive(Default)]
pub struct CrdCatalog {
    planned: Mutex<HashMap<GroupKind, Arc<serde_json::Value>>>,
    live: Mutex<Option<HashMap<GroupKind, Arc<serde_json::Value>>>>,
}

/// Where a CRD definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrdSource {
    Planned,
    Live,
}

impl CrdCatalog {
    /// Records a CRD this deployment will apply (its inputs as JSON).
    pub fn plan(&self, crd: &serde_json::Value) {
        if let Some(key) = group_kind(crd) {
            lock(&self.planned).insert(key, Arc::new(crd.clone()));
        }
    }
}

impl KubeLayer {
    /// The CRD defining `group`/`kind`: planned in this deployment first, else live.
    pub async fn find_crd(
        &self,
        group: &str,
        kind: &str,
    ) -> Result<Option<(Arc<serde_json::Value>, CrdSource)>, KubeError> {
        let key = (group.to_string(), kind.to_string());
        if let Some(crd) = lock(&self.crds.planned).get(&key) {
            return Ok(Some((crd.clone(), CrdSource::Planned)));
        }
        if let Some(crd) = lock(&self.crds.live)
            .as_ref()
            .and_then(|live| live.get(&key))
        {
            return Ok(Some((crd.clone(), CrdSource::Live)));
        }
        // A miss may mean a CRD created since the last listing: list again (once per miss).
        let api: Api<CustomResourceDefinition> = Api::all(self.client().clone());
        let list = api.list(&ListParams::default()).await.map_err(|e| {
            KubeError::from_kube(&format!("CustomResourceDefinition for {kind}.{group}"), e)
        })?;
        let live: HashMap<GroupKind, Arc<serde_json::Value>> = list
            .items
            .iter()
            .filter_map(|crd| serde_json::to_value(crd).ok())
            .filter_map(|crd| Some((group_kind(&crd)?, Arc::new(crd))))
            .collect();
        let found = live.get(&key).cloned();
        *lock(&self.crds.live) = Some(live);
        Ok(found.map(|crd| (crd, CrdSource::Live)))
    }
}

fn group_kind(crd: &serde_json::Value) -> Option<GroupKind> {
    let spec = &crd["spec"];
    Some((
        spec["group"].as_str()?.to_string(),
        spec["names"]["kind"].as_str()?.to_string(),
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
