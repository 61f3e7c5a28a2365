//! `aiservice:index:Operator` through the real `pulumi` CLI and YAML host: `up` installs the
//! whole bundle and waits for the operator Deployment (its pod made Ready by kwok), a second
//! preview has no changes, a replica change is a one-field update, and `destroy` removes every
//! object of the bundle it created, leaving the namespace that existed before; a CRD of the
//! bundle that another tool installed makes preview refuse the install. Its own test binary:
//! the bundle's CRDs and cluster role are cluster-wide.

mod common;

use aiservice_testenv::{PulumiStack, TestEnv};
use common::{
    assert_gone, assert_planned_update, assert_pulumi_fails_saying, install_crds, our_bins, repo,
};
use serde_json::Value;

/// Cluster-scoped objects of the bundle, as `kubectl get` names them.
const CLUSTER_OBJECTS: [&str; 4] = [
    "crd/aiservices.stable.example.com",
    "crd/modelservings.ai.example.com",
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
    // The operator goes into a namespace that exists already: used, never owned.
    env.kubectl(&["create", "namespace", "aiservice-system"])
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
    env.kubectl(&["get", "namespace", "aiservice-system"])
        .unwrap();

    // One of the bundle's CRDs installed by another tool: the install is refused in preview,
    // naming it, rather than taken over (and deleted by a later destroy).
    install_crds(&env, "schema/crds/aiservices.stable.example.com.yaml");
    assert_pulumi_fails_saying(
        &stack.run(&["preview"]).unwrap(),
        &[
            "CustomResourceDefinition aiservices.stable.example.com already exists and was not created by this resource (no creator recorded; field managers: kubectl (Apply)",
        ],
    );
}
