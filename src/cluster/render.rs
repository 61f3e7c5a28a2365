//! Render mode: each object's manifest goes to a file instead of the cluster, for a GitOps
//! tool (Argo CD, Flux) or a reviewer to take from there. No cluster is contacted: an object's
//! type comes from the CRDs the program plans, the CRDs this provider defines, or what the core
//! group is known to hold.
//!
//! Files have stable names, one object each: `0-crd/<name>.yaml` for CRDs (applied first, so
//! their kinds exist before the objects of those kinds), `1-manifest/<apiVersion>_<kind>_
//! <namespace>_<name>.yaml` for everything else (`/` of the apiVersion as `_`, the namespace
//! left out for cluster-scoped objects, all lower case).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use kube::api::{ApiResource, GroupVersionKind};

use super::{KubeError, KubeLayer, ObjectRef, ObjectType, Target};

/// Built-in kinds (group, kind) that are not namespaced, as far as objects of them are
/// rendered; every other kind no CRD describes is taken as namespaced.
const CLUSTER_SCOPED_KINDS: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"),
];

impl KubeLayer {
    /// The directory manifests are rendered to, in render mode.
    pub fn render_dir(&self) -> Option<&Path> {
        match &self.target {
            Target::Render(dir) => Some(dir),
            _ => None,
        }
    }

    pub fn rendering(&self) -> bool {
        self.render_dir().is_some()
    }

    /// The type of `apiVersion`/`kind` as far as it is known without a cluster: from a CRD
    /// this deployment plans or this provider defines, else from the built-in kinds known
    /// to be cluster-scoped; any other is taken as namespaced.
    pub(super) fn planned_type(&self, api_version: &str, kind: &str) -> ObjectType {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        // Ours, made once per process rather than once per rendered object.
        static DEFINED: LazyLock<Vec<serde_json::Value>> = LazyLock::new(|| {
            crate::api::crds()
                .into_iter()
                .filter_map(|crd| serde_json::to_value(crd).ok())
                .collect()
        });
        let defined = || {
            DEFINED
                .iter()
                .find(|crd| crd["spec"]["group"] == group && crd["spec"]["names"]["kind"] == kind)
                .cloned()
        };
        let crd = self
            .crds
            .planned(group, kind)
            .map(|crd| (*crd).clone())
            .or_else(defined);
        let (plural, namespaced) = match &crd {
            Some(crd) => (
                crd["spec"]["names"]["plural"].as_str().map(str::to_string),
                crd["spec"]["scope"] != "Cluster",
            ),
            None => (None, !CLUSTER_SCOPED_KINDS.contains(&(group, kind))),
        };
        let resource = match plural {
            Some(plural) => ApiResource::from_gvk_with_plural(&gvk, &plural),
            None => ApiResource::from_gvk(&gvk),
        };
        ObjectType {
            resource,
            namespaced,
        }
    }
}

/// Writes `desired` to the object's file (unless `dry_run`); returns the object as written.
pub(super) fn write(
    dir: &Path,
    object: &ObjectRef,
    desired: &serde_json::Value,
    dry_run: bool,
) -> Result<serde_json::Value, KubeError> {
    if dry_run {
        return Ok(desired.clone());
    }
    let path = path(dir, object);
    let failed = |reason: String| KubeError::Render {
        what: object.describe(),
        reason: format!("cannot write {}: {reason}", path.display()),
    };
    let yaml = serde_yaml::to_string(desired).map_err(|e| failed(e.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| failed(e.to_string()))?;
    }
    std::fs::write(&path, yaml).map_err(|e| failed(e.to_string()))?;
    Ok(desired.clone())
}

/// The object as its file holds it; `None` when there is no file.
pub(super) fn read(dir: &Path, object: &ObjectRef) -> Result<Option<serde_json::Value>, KubeError> {
    let path = path(dir, object);
    let failed = |reason: String| KubeError::Render {
        what: object.describe(),
        reason: format!("cannot read {}: {reason}", path.display()),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_yaml::from_str(&text)
            .map(Some)
            .map_err(|e| failed(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(failed(e.to_string())),
    }
}

/// Removes the object's file; no file is success.
pub(super) fn remove(dir: &Path, object: &ObjectRef) -> Result<(), KubeError> {
    let path = path(dir, object);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(KubeError::Render {
            what: object.describe(),
            reason: format!("cannot remove {}: {e}", path.display()),
        }),
        _ => Ok(()),
    }
}

fn path(dir: &Path, object: &ObjectRef) -> PathBuf {
    let resource = &object.object_type.resource;
    if resource.group == "apiextensions.k8s.io" && resource.kind == "CustomResourceDefinition" {
        return dir.join("0-crd").join(format!("{}.yaml", object.name));
    }
    let mut parts = vec![
        resource.api_version.replace('/', "_"),
        resource.kind.clone(),
    ];
    parts.extend(object.namespace.clone());
    parts.push(object.name.clone());
    dir.join("1-manifest")
        .join(format!("{}.yaml", parts.join("_").to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        ObjectRef {
            object_type: ObjectType {
                resource: ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind)),
                namespaced: namespace.is_some(),
            },
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    #[test]
    fn types_come_from_planned_crds_then_known_kinds() {
        let layer = KubeLayer::new(
            Target::Render("/out".into()),
            &crate::provider_config::ProviderConfig::default(),
            "default".into(),
        );
        assert!(layer.rendering() && layer.skip_await);
        layer.crds.plan(&serde_json::json!({
            "spec": {"group": "example.com", "scope": "Cluster",
                     "names": {"kind": "Gadget", "plural": "gadgetries"}}
        }));
        let planned = layer.planned_type("example.com/v1", "Gadget");
        assert!(!planned.namespaced);
        assert_eq!(planned.resource.plural, "gadgetries");
        let ours = layer.planned_type("stable.example.com/v1", "AIService");
        assert!(ours.namespaced);
        assert_eq!(ours.resource.plural, "aiservices");
        assert!(!layer.planned_type("v1", "Namespace").namespaced);
        assert!(
            !layer
                .planned_type("rbac.authorization.k8s.io/v1", "ClusterRole")
                .namespaced
        );
        assert!(layer.planned_type("v1", "ConfigMap").namespaced);
        assert!(
            layer
                .planned_type("unknown.example.com/v1", "Thing")
                .namespaced
        );
    }

    #[test]
    fn file_names_are_stable_and_crds_come_first() {
        let dir = Path::new("/out");
        let crd = object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            "widgets.example.com",
        );
        assert_eq!(
            path(dir, &crd),
            Path::new("/out/0-crd/widgets.example.com.yaml")
        );
        let widget = object("example.com/v1", "Widget", Some("team-a"), "small");
        assert_eq!(
            path(dir, &widget),
            Path::new("/out/1-manifest/example.com_v1_widget_team-a_small.yaml")
        );
        let namespace = object("v1", "Namespace", None, "team-a");
        assert_eq!(
            path(dir, &namespace),
            Path::new("/out/1-manifest/v1_namespace_team-a.yaml")
        );
    }
}
