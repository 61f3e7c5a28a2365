//! The typed AIService through the real `pulumi` CLI and YAML host: a bad spec fails preview
//! before and after the CRD is installed, and a good one goes through up, a clean preview, an
//! in-place update, a status change by "the operator" that is never drift, and destroy.

mod common;

use aiservice_testenv::{PulumiStack, TestEnv};
use common::{our_bins, repo};
use serde_json::Value;

fn assert_bad_spec_fails_preview(stack: &PulumiStack) {
    let preview = stack.run(&["preview"]).unwrap();
    assert!(!preview.success, "preview must fail:\n{}", preview.stdout);
    assert!(
        preview.stdout.contains("spec.scaling")
            && preview
                .stdout
                .contains("minReplicas must be less than or equal to maxReplicas"),
        "the failure names the property and the rule:\n{}",
        preview.stdout
    );
}

fn live(env: &TestEnv) -> Value {
    serde_json::from_str(
        &env.kubectl(&["get", "aisvc", "llama", "-o", "json"])
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn typed_aiservice_is_checked_without_the_crd_and_managed_with_it() {
    let env = TestEnv::new("e2e-aiservice").await.unwrap();

    let bad =
        PulumiStack::new(&env, &repo("tests/programs/aiservice-invalid"), our_bins()).unwrap();
    bad.run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    assert!(
        env.kubectl(&["get", "crd", "aiservices.stable.example.com"])
            .is_err(),
        "this test process's cluster starts without the CRD"
    );
    assert_bad_spec_fails_preview(&bad);

    let crds = repo("schema/crds");
    env.kubectl(&["apply", "-f", crds.to_str().unwrap()])
        .unwrap();
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/aiservices.stable.example.com",
        "--timeout=30s",
    ])
    .unwrap();
    assert_bad_spec_fails_preview(&bad);

    let stack =
        PulumiStack::new(&env, &repo("tests/programs/aiservice-typed"), our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack.up().unwrap();
    assert_eq!(stack.outputs().unwrap()["name"], "llama");
    let created = live(&env);
    assert_eq!(created["spec"]["replicas"], 2);
    assert_eq!(created["spec"]["port"], 8080, "the CRD's defaults apply");
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack.run_ok(&["config", "set", "replicas", "3"]).unwrap();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    let parsed: Value = serde_json::from_str(&preview.stdout).unwrap();
    let update = parsed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["op"] == "update")
        .expect("an update step");
    let changed: Vec<&String> = update["detailedDiff"].as_object().unwrap().keys().collect();
    assert_eq!(changed, ["spec.replicas"]);
    stack.up().unwrap();
    let updated = live(&env);
    assert_eq!(
        (&updated["spec"]["replicas"], &updated["metadata"]["uid"]),
        (&Value::from(3), &created["metadata"]["uid"])
    );

    // The operator owns status (and the Deployment's replicas): its writes are never drift.
    env.kubectl(&[
        "patch",
        "aisvc",
        "llama",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":7,"readyReplicas":7,"desiredReplicas":7}}"#,
    ])
    .unwrap();
    stack
        .run_ok(&["refresh", "--yes", "--skip-preview"])
        .unwrap();
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert!(
        env.kubectl(&["get", "aisvc", "llama"])
            .unwrap_err()
            .to_string()
            .contains("NotFound")
    );
}
