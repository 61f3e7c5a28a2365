//! The provider driven by the real `pulumi` CLI and the YAML language host against the real
//! apiserver: the seed 002 example's whole lifecycle (including drift and a field-manager
//! conflict), and previews that validate against a CRD planned in the same deployment without
//! writing anything.

mod common;

use aiservice_testenv::{AuditLog, PulumiStack, TestEnv, object_ref};
use common::{assert_planned_update, our_bins, repo, step_ops, steps};
use serde_json::Value;

/// Writes (not dry-runs) the apiserver audited after event `start` that touch `group`'s CRDs
/// or objects, or the namespace `namespace`.
fn writes_since(audit: &AuditLog, start: usize, group: &str, namespace: &str) -> Vec<String> {
    audit
        .writes_since(start)
        .unwrap()
        .into_iter()
        .filter(|e| {
            object_ref(e, "apiGroup") == group
                || object_ref(e, "name").ends_with(&format!(".{group}"))
                || object_ref(e, "namespace") == namespace
        })
        .map(|e| format!("{} {}", e["verb"], e["requestURI"]))
        .collect()
}

#[tokio::test]
async fn seed_example_creates_previews_clean_updates_in_place_refreshes_drift_and_destroys_waiting()
{
    let env = TestEnv::new("e2e-modelserving").await.unwrap();
    let audit = env.audit_log().unwrap();
    let stack =
        PulumiStack::new(&env, &repo("sdk-examples/yaml/modelserving"), our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();

    // First preview on a cluster without the CRD: both creates, nothing written.
    let start = audit.events().unwrap().len();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&preview.stdout)),
        ["create model-serving-crd", "create model-serving-instance"],
        "{}",
        preview.stdout
    );
    assert_eq!(
        writes_since(&audit, start, "ai.example.com", &env.namespace),
        Vec::<String>::new()
    );

    stack.up().unwrap();
    assert_eq!(
        stack.outputs().unwrap()["model_serving_name"],
        "example-model-serving"
    );
    let live: Value = serde_json::from_str(
        &env.kubectl(&["get", "modelserving", "example-model-serving", "-o", "json"])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        live["spec"],
        serde_json::json!({"image": "example-model-image:v1", "replicas": 3})
    );
    let uid = live["metadata"]["uid"].clone();

    // No perpetual diff: server-set fields never show up.
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // A one-field change is a one-field, in-place update.
    stack.run_ok(&["config", "set", "replicas", "4"]).unwrap();
    assert_planned_update(&stack, "model-serving-instance", &["spec.replicas"]);
    stack.up().unwrap();
    let live: Value = serde_json::from_str(
        &env.kubectl(&["get", "modelserving", "example-model-serving", "-o", "json"])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (live["spec"]["replicas"].as_i64(), &live["metadata"]["uid"]),
        (Some(4), &uid)
    );

    // Drift made by someone else shows in refresh, and the next preview puts it back.
    env.kubectl(&[
        "patch",
        "modelserving",
        "example-model-serving",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":7}}"#,
    ])
    .unwrap();
    let refresh = stack
        .run_ok(&["refresh", "--yes", "--skip-preview", "--diff"])
        .unwrap();
    assert!(
        refresh.stdout.contains("model-serving-instance") && refresh.stdout.contains("replicas"),
        "refresh reports the drift:\n{}",
        refresh.stdout
    );
    // kubectl now owns spec.replicas: putting it back is a conflict the user must resolve,
    // never a silent fight between two managers.
    let preview = stack.run(&["preview"]).unwrap();
    assert!(!preview.success);
    assert!(
        preview
            .stdout
            .contains(r#"conflict with \"kubectl-patch\""#)
            || preview.stdout.contains(r#"conflict with "kubectl-patch""#),
        "the conflict names the other manager:\n{}",
        preview.stdout
    );
    assert!(
        preview.stdout.contains(".spec.replicas"),
        "and the field:\n{}",
        preview.stdout
    );

    // Destroy removes both and waits until they are gone.
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    let gone = env
        .kubectl(&["get", "crd", "modelservings.ai.example.com"])
        .unwrap_err()
        .to_string();
    assert!(gone.contains("NotFound"), "{gone}");
}

#[tokio::test]
async fn preview_rejects_a_spec_that_breaks_the_planned_crd_and_writes_nothing() {
    let env = TestEnv::new("e2e-invalid").await.unwrap();
    let audit = env.audit_log().unwrap();
    let group = format!("{}.example.com", env.namespace);
    let stack = PulumiStack::new(
        &env,
        &repo("tests/programs/modelserving-invalid"),
        our_bins(),
    )
    .unwrap();
    stack.run_ok(&["config", "set", "group", &group]).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();

    let start = audit.events().unwrap().len();
    let preview = stack.run(&["preview"]).unwrap();
    assert!(!preview.success, "preview must fail:\n{}", preview.stdout);
    let shown = format!("{}{}", preview.stdout, preview.stderr);
    assert!(
        shown.contains("spec.replicas") && shown.contains("expected integer, got string \"three\""),
        "the failure names the field and what was expected:\n{shown}"
    );
    assert_eq!(
        writes_since(&audit, start, &group, &env.namespace),
        Vec::<String>::new()
    );
}
