//! The Operator resource through both protocols' real CLIs.
//!
//! - `aiservice:index:Operator` with `pulumi` and the YAML host: `up` installs the whole
//!   bundle and waits for the operator Deployment (its pod made Ready by kwok), a second
//!   preview has no changes, a replica change is a one-field update, and `destroy` removes
//!   every object of the bundle it created, leaving the namespace that existed before; a CRD
//!   of the bundle that another tool installed makes preview refuse the install.
//! - `aiservice_operator` with `terraform`: the plan shows the defaults of unset settings,
//!   apply installs and waits, a second plan is empty, a replica change is an in-place update,
//!   destroy removes everything, the namespace it created included.
//!
//! Its own test binary, one test at a time: the bundle's CRDs and cluster role are
//! cluster-wide.

mod common;

use std::path::Path;

use aiservice_testenv::{Cli, PulumiStack, TerraformConfig, TestEnv};
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

/// The tests install the same cluster-wide objects: one at a time.
static CLUSTER_WIDE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn deployment(env: &TestEnv, namespace: &str) -> Value {
    serde_json::from_str(
        &env.kubectl(&[
            "get",
            "deployment",
            "aiservice-operator",
            &format!("--namespace={namespace}"),
            "-o",
            "json",
        ])
        .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn operator_resource_installs_updates_and_removes_the_bundle() {
    let _one_at_a_time = CLUSTER_WIDE.lock().await;
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
    let live = deployment(&env, "aiservice-system");
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
    let live = deployment(&env, "aiservice-system");
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
    env.kubectl(&["delete", "crd", "aiservices.stable.example.com"])
        .unwrap();
}

#[tokio::test]
async fn terraform_installs_updates_and_removes_the_operator() {
    let _one_at_a_time = CLUSTER_WIDE.lock().await;
    let env = TestEnv::new("operator-terraform").await.unwrap();
    let provider = Path::new(env!("CARGO_BIN_EXE_terraform-provider-aiservice"));
    let config = TerraformConfig::new(
        &env,
        Cli::Terraform,
        &repo("sdk-examples/terraform/operator"),
        provider.parent().unwrap(),
    )
    .unwrap();
    let namespace = "aiservice-operator";

    // On an empty cluster: both creates, the unset settings at their defaults.
    let plan = config.plan(&[]).unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    let said = plan.text().split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "aiservice_operator.operator will be created",
        "aiservice_ai_service.llama will be created",
        "log_level = \"info\"",
        "image = \"ghcr.io/example/aiservice-operator:",
        "objects = (known after apply)",
    ] {
        assert!(said.contains(expected), "{expected:?} in:\n{}", plan.text());
    }

    config.run_ok(&["apply", "-auto-approve"]).unwrap();
    let installed = config.output("installed").unwrap();
    assert_eq!(installed.as_array().map(Vec::len), Some(9), "{installed}");
    assert_eq!(
        deployment(&env, namespace)["status"]["availableReplicas"],
        1
    );
    env.kubectl(&["get", "aisvc", "llama"]).unwrap();
    let plan = config.plan(&[]).unwrap();
    assert_eq!(
        plan.code,
        0,
        "a second plan has no changes:\n{}",
        plan.text()
    );

    let plan = config.plan(&["-var", "operator_replicas=2"]).unwrap();
    let said = plan.text().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("aiservice_operator.operator will be updated in-place")
            && said.contains("~ replicas = 1 -> 2")
            && said.contains("1 to change, 0 to destroy"),
        "{}",
        plan.text()
    );
    config
        .run_ok(&["apply", "-auto-approve", "-var", "operator_replicas=2"])
        .unwrap();
    let live = deployment(&env, namespace);
    assert_eq!(live["spec"]["replicas"], 2);
    assert_eq!(
        live["status"]["availableReplicas"], 2,
        "apply waited for both"
    );

    config
        .run_ok(&["destroy", "-auto-approve", "-var", "operator_replicas=2"])
        .unwrap();
    for object in CLUSTER_OBJECTS {
        assert_gone(&env, object);
    }
    assert_gone(&env, &format!("namespace/{namespace}"));
}
