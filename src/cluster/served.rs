//! Waiting for the type a new CRD adds. The apiserver serves a CRD's resources once the CRD is
//! Established, but its discovery documents follow a moment later, so asking discovery again
//! and again would poll that lag. Instead the CRDs are watched, and the type is read from the
//! Established CRD itself (its plural and scope).

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

use super::wait::watch_error;
use super::{KubeError, KubeLayer, ObjectType};

impl KubeLayer {
    /// The type `apiVersion`/`kind` as soon as an Established CRD serves it; `None` when none
    /// does within `timeout`, or when `cancel` fires first.
    pub async fn await_served(
        &self,
        api_version: &str,
        kind: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<Option<ObjectType>, KubeError> {
        let api: Api<CustomResourceDefinition> = Api::all(self.client()?.clone());
        let crds = watcher(api, watcher::Config::default()).applied_objects();
        let mut crds = std::pin::pin!(crds);
        let mut deadline = std::pin::pin!(tokio::time::sleep(timeout));
        loop {
            let crd = tokio::select! {
                crd = crds.next() => crd,
                _ = &mut deadline => return Ok(None),
                _ = cancel.cancelled() => return Ok(None),
            };
            match crd {
                Some(Ok(crd)) => {
                    if let Some(found) = serving(&crd, api_version, kind) {
                        self.remember((api_version.to_string(), kind.to_string()), &found);
                        return Ok(Some(found));
                    }
                }
                // Not allowed to watch CRDs (namespaced credentials): discovery alone tells.
                Some(Err(e)) => {
                    tracing::debug!(error = %watch_error(e), "watching CRDs for {kind} ({api_version})");
                    return self.discover(api_version, kind).await;
                }
                None => return Ok(None),
            }
        }
    }
}

/// The type `crd` serves as `apiVersion`/`kind`, if it is Established and serves that version.
fn serving(crd: &CustomResourceDefinition, api_version: &str, kind: &str) -> Option<ObjectType> {
    let (group, version) = api_version.split_once('/')?;
    let spec = &crd.spec;
    let established = crd
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True");
    let serves_version = spec.versions.iter().any(|v| v.name == version && v.served);
    if !(established && serves_version && spec.group == group && spec.names.kind == kind) {
        return None;
    }
    Some(ObjectType {
        resource: ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
            plural: spec.names.plural.clone(),
        },
        namespaced: spec.scope == "Namespaced",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(established: &str) -> CustomResourceDefinition {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": true, "storage": true}],
            },
            "status": {"conditions": [{"type": "Established", "status": established}]},
        }))
        .unwrap()
    }

    #[test]
    fn an_established_crd_serves_its_kind_in_its_versions() {
        let found = serving(&crd("True"), "example.com/v1", "Widget").unwrap();
        assert_eq!(found.resource.plural, "widgets");
        assert!(found.namespaced);
        assert!(serving(&crd("False"), "example.com/v1", "Widget").is_none());
        assert!(serving(&crd("True"), "example.com/v2", "Widget").is_none());
        assert!(serving(&crd("True"), "example.com/v1", "Gadget").is_none());
    }
}
