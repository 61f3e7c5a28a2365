//! Everything that installs the operator in a cluster, as one ordered list of objects: our
//! CRDs, a namespace, a ServiceAccount, least-privilege RBAC and the operator Deployment.
//! The provider's `aiservice:index:Operator` applies it; `schema/operator.yaml` is the same
//! list as YAML for kubectl users (`make crds` writes it; a test keeps it current).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::OPERATOR_NAME;
use crate::api;

/// What a user chooses about the installation: the inputs of `aiservice:index:Operator` (each
/// field's doc comment is its description in both schemas).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct BundleSettings {
    /// The operator's container image. Default `ghcr.io/example/aiservice-operator:<the
    /// provider's version>`.
    pub image: String,
    /// How many operator pods run (1 to 10); one acts, the others stand by (leader
    /// election). Default 1.
    pub replicas: i32,
    /// The namespace the operator runs in, created with it unless it exists. Changing it
    /// reinstalls the operator. Default `aiservice-system`.
    pub namespace: String,
    /// The operator's log filter, such as `info` or `aiservice=debug`. Default `info`.
    pub log_level: String,
}

/// What an installation reports: its settings, defaults filled in, and what it installed.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    #[serde(flatten)]
    pub settings: BundleSettings,
    /// The objects installed, as `Kind name` or `Kind namespace/name`, in the order they are
    /// applied.
    pub objects: Vec<String>,
}

/// The namespace the operator runs in unless told otherwise.
pub const DEFAULT_NAMESPACE: &str = "aiservice-system";

impl Default for BundleSettings {
    fn default() -> Self {
        BundleSettings {
            image: format!("ghcr.io/example/aiservice-operator:{}", crate::VERSION),
            replicas: 1,
            namespace: DEFAULT_NAMESPACE.into(),
            log_level: "info".into(),
        }
    }
}

/// The objects in the order they must be applied (deleted in the reverse order).
pub fn objects(settings: &BundleSettings) -> Vec<Value> {
    let mut objects: Vec<Value> = api::crds()
        .iter()
        .filter_map(|crd| {
            let mut crd = serde_json::to_value(crd).ok()?;
            crd["apiVersion"] = json!("apiextensions.k8s.io/v1");
            crd["kind"] = json!("CustomResourceDefinition");
            Some(crd)
        })
        .collect();
    let ns = settings.namespace.as_str();
    let labels = json!({
        "app.kubernetes.io/name": OPERATOR_NAME,
        "app.kubernetes.io/component": "operator",
    });
    objects.extend([
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}),
        json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": OPERATOR_NAME, "namespace": ns, "labels": labels},
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": OPERATOR_NAME, "labels": labels},
            "rules": cluster_rules(),
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": OPERATOR_NAME, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": OPERATOR_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": OPERATOR_NAME, "namespace": ns}],
        }),
        // The Lease of leader election lives in the operator's namespace only.
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": OPERATOR_NAME, "namespace": ns, "labels": labels},
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                       "verbs": ["get", "create", "update"]}],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": OPERATOR_NAME, "namespace": ns, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": OPERATOR_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": OPERATOR_NAME, "namespace": ns}],
        }),
        deployment(settings, &labels),
    ]);
    objects
}

/// What the operator does cluster-wide, and nothing more: read its kinds and write their
/// status (never their spec), manage Deployments and Services (server-side apply is a patch;
/// deletion is the garbage collector's), read pods to scrape them, and record Events.
fn cluster_rules() -> Value {
    json!([
        {"apiGroups": ["stable.example.com"], "resources": ["aiservices"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["stable.example.com"], "resources": ["aiservices/status"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": ["ai.example.com"], "resources": ["modelservings"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["ai.example.com"], "resources": ["modelservings/status"], "verbs": ["get", "patch", "update"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "patch"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch", "create", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    ])
}

fn deployment(settings: &BundleSettings, labels: &Value) -> Value {
    let field = |path: &str| json!({"valueFrom": {"fieldRef": {"fieldPath": path}}});
    let mut pod_name = field("metadata.name");
    pod_name["name"] = json!("POD_NAME");
    let mut pod_namespace = field("metadata.namespace");
    pod_namespace["name"] = json!("POD_NAMESPACE");
    let probe = json!({"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10});
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": OPERATOR_NAME, "namespace": settings.namespace, "labels": labels},
        "spec": {
            "replicas": settings.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": OPERATOR_NAME,
                    "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "operator",
                        "image": settings.image,
                        // Leader election makes extra replicas standbys, and keeps a rolling
                        // update from running two acting operators at once.
                        "args": ["--leader-elect", format!("--log={}", settings.log_level)],
                        "env": [pod_name, pod_namespace],
                        "ports": [{"name": "metrics", "containerPort": 8080, "protocol": "TCP"}],
                        "readinessProbe": probe,
                        "livenessProbe": probe,
                        "resources": {
                            "requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"memory": "256Mi"},
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }],
                },
            },
        },
    })
}

/// The bundle as multi-document YAML.
pub fn yaml(settings: &BundleSettings) -> String {
    let mut out = String::from(
        "# The aiservice operator: CRDs, namespace, RBAC and Deployment. Generated by\n\
         # `make crds` (aiservice-operator bundle); apply with `kubectl apply --server-side -f`.\n",
    );
    for object in objects(settings) {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&object).unwrap_or_default());
    }
    out
}

/// `kind name` (or `kind namespace/name`) of each object, in apply order.
pub fn describe(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            let kind = o["kind"].as_str().unwrap_or_default();
            let name = o["metadata"]["name"].as_str().unwrap_or_default();
            match o["metadata"]["namespace"].as_str() {
                Some(ns) => format!("{kind} {ns}/{name}"),
                None => format!("{kind} {name}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_come_first_and_the_deployment_last() {
        let kinds: Vec<String> = describe(&objects(&BundleSettings::default()));
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition aiservices.stable.example.com",
                "CustomResourceDefinition modelservings.ai.example.com",
                "Namespace aiservice-system",
                "ServiceAccount aiservice-system/aiservice-operator",
                "ClusterRole aiservice-operator",
                "ClusterRoleBinding aiservice-operator",
                "Role aiservice-system/aiservice-operator",
                "RoleBinding aiservice-system/aiservice-operator",
                "Deployment aiservice-system/aiservice-operator",
            ]
        );
    }

    #[test]
    fn the_operator_never_gets_to_write_a_spec() {
        let rules = cluster_rules();
        for rule in rules.as_array().unwrap() {
            let resources: Vec<&str> = rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let verbs: Vec<&str> = rule["verbs"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if resources.contains(&"aiservices") || resources.contains(&"modelservings") {
                assert_eq!(verbs, ["get", "list", "watch"]);
            }
            assert!(
                !verbs.contains(&"*") && !verbs.contains(&"delete"),
                "{rule}"
            );
        }
    }

    #[test]
    fn settings_reach_the_deployment() {
        let settings = BundleSettings {
            image: "registry.example.com/op:2".into(),
            replicas: 2,
            namespace: "ops".into(),
            log_level: "debug".into(),
        };
        let objects = objects(&settings);
        let deployment = objects.last().unwrap();
        assert_eq!(deployment["metadata"]["namespace"], "ops");
        assert_eq!(deployment["spec"]["replicas"], 2);
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], "registry.example.com/op:2");
        assert_eq!(container["args"], json!(["--leader-elect", "--log=debug"]));
    }

    #[test]
    fn committed_operator_yaml_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/operator.yaml");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == yaml(&BundleSettings::default()),
            "{} is stale: run `make crds`",
            path.display()
        );
    }
}
