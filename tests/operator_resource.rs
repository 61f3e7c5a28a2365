//! `aiservice:index:Operator` through the real `pulumi` CLI and YAML host: `up` installs the
//! whole bundle and waits for the operator Deployment (its pod made Ready by kwok), a second
//! preview has no changes, a replica change is a one-field update, and `destroy` removes every
//! object of the bundle. Its own test binary: the bundle's CRDs and cluster role are
//! cluster-wide.

mod common;

use aiservice_testenv::{PulumiStack, TestEnv};
use common::{assert_gone, assert_planned_update, our_bins, repo};
use serde_json::Value;

/// Cluster-scoped objects of the bundle (and its namespace), as `kubectl get` names them.
const CLUSTER_OBJECTS: [&str; 5] = [
    "crd/aiservices.stable.example.com",
    "crd/modelservings.ai.example.com",
    "namespace/aiservice-system",
    "clusterrole/aiservice-operator",
    "clusterrolebinding/aiservice-operator",
];

fn deployment(env: &TestEnv) -> Value {
    serde_json::from_str(
        &env.kubectl(&[
            "get",
            "deployment",
            "aiservice-operator",
            "--namespace=aiservice-system",
            "-o",
            "json",
        ])
        .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn operator_resource_installs_updates_and_removes_the_bundle() {
    let env = TestEnv::new("operator-resource").await.unwrap();
    let stack = PulumiStack::new(&env, &repo("sdk-examples/yaml/operator"), our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();

    stack.up().unwrap();
    let installed = stack.outputs().unwrap()["installed"].clone();
    assert_eq!(installed.as_array().map(Vec::len), Some(9), "{installed}");
    let live = deployment(&env);
    assert_eq!(live["status"]["availableReplicas"], 1, "{live}");
    for object in CLUSTER_OBJECTS {
        env.kubectl(&["get", object]).unwrap();
    }
    // The AIService that depends on it was created once its CRD existed.
    env.kubectl(&["get", "aisvc", "llama"]).unwrap();

    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .run_ok(&["config", "set", "operatorReplicas", "2"])
        .unwrap();
    assert_planned_update(&stack, "operator", &["replicas"]);
    stack.up().unwrap();
    let live = deployment(&env);
    assert_eq!(live["spec"]["replicas"], 2);
    assert_eq!(live["status"]["availableReplicas"], 2, "up waited for both");

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    for object in CLUSTER_OBJECTS {
        assert_gone(&env, object);
    }
}
