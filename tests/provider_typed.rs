//! The typed AIService through the real `pulumi` CLI and YAML host: bad specs (missing
//! modelUri, minReplicas > maxReplicas, unknown mode, negative replicas) fail preview naming
//! the property before and after the CRD is installed, and a good one goes through up, a clean preview, an
//! in-place update, a status change by "the operator" that is never drift, and destroy.

mod common;

use aiservice_testenv::{PulumiStack, TestEnv};
use common::{assert_pulumi_fails_saying, install_crds, our_bins, repo};
use serde_json::Value;

/// The ways tests/programs/aiservice-invalid is broken, one at a time: the edit of its valid
/// spec, and the property and words the failed preview must show.
const BAD_SPECS: [(&str, &str, &str, &str); 4] = [
    // The YAML host checks required properties and enums against the package schema itself;
    // the provider's Check reports the rest (and all of it for programs the host does not
    // type-check: see the unit tests of src/resources/typed.rs and the conformance tests).
    (
        "        modelUri: s3://models/llama\n",
        "",
        "modelUri",
        "Missing required property 'modelUri'",
    ),
    (
        "minReplicas: 1",
        "minReplicas: 5",
        "spec.scaling",
        "minReplicas must be less than or equal to maxReplicas",
    ),
    (
        "mode: Manual",
        "mode: Turbo",
        "mode: Cannot assign type 'string' to type 'aiservice:index:ScalingMode'",
        r#"Allowed values are "Manual", "Auto""#,
    ),
    (
        "replicas: 2",
        "replicas: -1",
        "spec.replicas",
        "must be at least 0, got -1",
    ),
];

/// Each bad spec fails preview naming the property; the program is left valid again.
fn assert_bad_specs_fail_preview(stack: &PulumiStack) {
    for (valid, broken, property, reason) in BAD_SPECS {
        stack.edit("Pulumi.yaml", valid, broken).unwrap();
        let preview = stack.run(&["preview"]).unwrap();
        assert!(
            !preview.success,
            "preview of {broken:?} must fail:\n{}",
            preview.stdout
        );
        assert!(
            preview.stdout.contains(property) && preview.stdout.contains(reason),
            "the failure names {property} and says {reason:?}:\n{}",
            preview.stdout
        );
        // Restoring needs a unique anchor when the break removed text.
        if broken.is_empty() {
            stack
                .edit(
                    "Pulumi.yaml",
                    "      spec:\n",
                    &format!("      spec:\n{valid}"),
                )
                .unwrap();
        } else {
            stack.edit("Pulumi.yaml", broken, valid).unwrap();
        }
    }
    stack.run_ok(&["preview"]).unwrap();
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
    assert_bad_specs_fail_preview(&bad);

    install_crds(&env, "schema/crds");
    assert_bad_specs_fail_preview(&bad);

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

    // Another stack reads it without managing it: the functions Terraform has as data sources.
    let reader = PulumiStack::new(&env, &repo("tests/programs/lookup"), our_bins()).unwrap();
    reader
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    reader.up().unwrap();
    let read = reader.outputs().unwrap();
    assert_eq!(read["readyReplicas"], 7, "{read}");
    assert_eq!(read["id"], format!("{}/llama", env.namespace));
    let crd_uid = env
        .kubectl(&[
            "get",
            "crd",
            "aiservices.stable.example.com",
            "-o",
            "jsonpath={.metadata.uid}",
        ])
        .unwrap();
    assert_eq!(read["crdUid"], crd_uid.trim());
    reader
        .run_ok(&["config", "set", "service", "nope"])
        .unwrap();
    let missing = reader.run(&["preview"]).unwrap();
    assert_pulumi_fails_saying(
        &missing,
        &["AIService \"nope\" not found: no such object in the cluster"],
    );

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
