use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::ListParams;

use super::{KubeError, KubeLayer, lock};

type GroupKind = (String, String);

/// The CRDs custom resources are validated against: the ones checked earlier in this
/// deployment (planned, so a preview of CRD + CR works on an empty cluster), the live ones,
/// and last those of the CRD package the provider serves (typed SDKs made from CRD files),
/// so its kinds are validated even when the cluster lacks their CRDs or cannot be reached.
#[derive(Default)]
pub struct CrdCatalog {
    planned: Mutex<HashMap<GroupKind, Arc<serde_json::Value>>>,
    live: Mutex<Option<HashMap<GroupKind, Arc<serde_json::Value>>>>,
    packaged: Mutex<HashMap<GroupKind, Arc<serde_json::Value>>>,
}

/// Where a CRD definition came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrdSource {
    Planned,
    Live,
    Packaged,
}

/// What the catalog knows about a group and kind.
#[derive(Debug)]
pub enum CrdLookup {
    /// The CRD defining the kind.
    Found(Arc<serde_json::Value>, CrdSource),
    /// CRDs of the group are planned or live, but none defines the kind: the kinds they do
    /// define, sorted. A misspelled kind, not a CRD someone else installs later.
    OtherKinds(Vec<String>),
    /// No CRD of the group is known (perhaps another tool installs it).
    Unknown,
}

impl CrdCatalog {
    /// Records a CRD this deployment will apply (its inputs as JSON).
    pub fn plan(&self, crd: &serde_json::Value) {
        if let Some(key) = group_kind(crd) {
            lock(&self.planned).insert(key, Arc::new(crd.clone()));
        }
    }

    /// Records a CRD of the package the provider serves.
    pub fn package(&self, crd: &serde_json::Value) {
        if let Some(key) = group_kind(crd) {
            lock(&self.packaged).insert(key, Arc::new(crd.clone()));
        }
    }

    /// The CRD this deployment plans for `group`/`kind`.
    pub fn planned(&self, group: &str, kind: &str) -> Option<Arc<serde_json::Value>> {
        lock(&self.planned)
            .get(&(group.to_string(), kind.to_string()))
            .cloned()
    }

    /// What is known without the cluster: the planned or packaged CRD, or the other kinds of
    /// its group.
    fn planned_lookup(&self, group: &str, kind: &str) -> CrdLookup {
        if let Some(crd) = self.planned(group, kind) {
            return CrdLookup::Found(crd, CrdSource::Planned);
        }
        let key = (group.to_string(), kind.to_string());
        if let Some(crd) = lock(&self.packaged).get(&key) {
            return CrdLookup::Found(crd.clone(), CrdSource::Packaged);
        }
        let kinds = self.kinds_of(group);
        if kinds.is_empty() {
            CrdLookup::Unknown
        } else {
            CrdLookup::OtherKinds(kinds)
        }
    }

    /// The kinds the planned, live and packaged CRDs of `group` define, sorted.
    fn kinds_of(&self, group: &str) -> Vec<String> {
        let of_group = |keys: &HashMap<GroupKind, Arc<serde_json::Value>>| -> Vec<String> {
            keys.keys()
                .filter(|(g, _)| g == group)
                .map(|(_, kind)| kind.clone())
                .collect()
        };
        let mut kinds = of_group(&lock(&self.planned));
        kinds.extend(lock(&self.live).as_ref().map(of_group).unwrap_or_default());
        kinds.extend(of_group(&lock(&self.packaged)));
        kinds.sort();
        kinds.dedup();
        kinds
    }
}

impl KubeLayer {
    /// The CRD defining `group`/`kind`: planned in this deployment first, else live, else
    /// packaged; on a miss, the kinds the group's CRDs define. Without a cluster to ask
    /// (render mode, or one found out of reach), what the deployment plans or the package has.
    pub async fn find_crd(&self, group: &str, kind: &str) -> Result<CrdLookup, KubeError> {
        let key = (group.to_string(), kind.to_string());
        if let Some(crd) = lock(&self.crds.planned).get(&key) {
            return Ok(CrdLookup::Found(crd.clone(), CrdSource::Planned));
        }
        if self.rendering() || self.is_offline() {
            return Ok(self.crds.planned_lookup(group, kind));
        }
        if let Some(crd) = lock(&self.crds.live)
            .as_ref()
            .and_then(|live| live.get(&key))
        {
            return Ok(CrdLookup::Found(crd.clone(), CrdSource::Live));
        }
        // A miss may mean a CRD created since the last listing: list again (once per miss).
        let what = format!("CustomResourceDefinition for {kind}.{group}");
        let list = match self.list_crds(&what).await {
            Ok(list) => list,
            Err(e) if self.note_offline(&e) => return Ok(self.crds.planned_lookup(group, kind)),
            Err(e) => return Err(e),
        };
        let live: HashMap<GroupKind, Arc<serde_json::Value>> = list
            .into_iter()
            .filter_map(|crd| Some((group_kind(&crd)?, Arc::new(crd))))
            .collect();
        let found = live.get(&key).cloned();
        *lock(&self.crds.live) = Some(live);
        if let Some(crd) = found {
            return Ok(CrdLookup::Found(crd, CrdSource::Live));
        }
        Ok(self.crds.planned_lookup(group, kind))
    }
}

impl KubeLayer {
    /// The cluster's CRDs of `groups`, for a CRD package made from a live cluster.
    pub async fn crds_of_groups(
        &self,
        groups: &[String],
    ) -> Result<Vec<serde_json::Value>, KubeError> {
        let list = self.list_crds("CustomResourceDefinitions").await?;
        Ok(list
            .into_iter()
            .filter(|crd| groups.iter().any(|g| crd["spec"]["group"] == g.as_str()))
            .collect())
    }

    /// Every CRD the cluster has, as JSON; `what` names the request in an error.
    async fn list_crds(&self, what: &str) -> Result<Vec<serde_json::Value>, KubeError> {
        let list = Api::<CustomResourceDefinition>::all(self.client()?.clone())
            .list(&ListParams::default())
            .await
            .map_err(|e| KubeError::from_kube(what, e))?;
        Ok(list
            .items
            .iter()
            .filter_map(|crd| serde_json::to_value(crd).ok())
            .collect())
    }
}

fn group_kind(crd: &serde_json::Value) -> Option<GroupKind> {
    let spec = &crd["spec"];
    Some((
        spec["group"].as_str()?.to_string(),
        spec["names"]["kind"].as_str()?.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(group: &str, kind: &str) -> serde_json::Value {
        serde_json::json!({"spec": {"group": group, "names": {"kind": kind}}})
    }

    #[test]
    fn kinds_of_a_group_come_from_planned_and_live_crds() {
        let catalog = CrdCatalog::default();
        catalog.plan(&crd("ai.example.com", "ModelServing"));
        catalog.plan(&crd("other.example.com", "Widget"));
        *lock(&catalog.live) = Some(HashMap::from([
            (
                ("ai.example.com".to_string(), "AIService".to_string()),
                Arc::new(crd("ai.example.com", "AIService")),
            ),
            (
                ("ai.example.com".to_string(), "ModelServing".to_string()),
                Arc::new(crd("ai.example.com", "ModelServing")),
            ),
        ]));
        assert_eq!(
            catalog.kinds_of("ai.example.com"),
            ["AIService", "ModelServing"]
        );
        assert!(catalog.kinds_of("none.example.com").is_empty());
    }
}
