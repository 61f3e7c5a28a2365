//! Conformance of the provider over gRPC: `tests/conformance/provider_conformance.py` drives the
//! freshly built `pulumi-resource-aiservice` with the PyPI `pulumi` package's generated stubs
//! (the messages the engine sends) against the real apiserver, and prints one JSON line per
//! case. This test runs it in a fresh namespace with an API group of its own, and fails listing
//! every failed or missing case with what the user would have seen.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use aiservice_testenv::{AuditLog, TestEnv, Tools, object_ref};
use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/conformance/provider_conformance.py"
);

/// The whole script; each of its waits has a much shorter bound of its own.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(900);

/// Every case the script runs. One missing from its output (a crash, a renamed case) fails.
const CASES: &[&str] = &[
    "setup_fixture_crd",
    "plugin_info_reports_crate_version",
    "schema_lists_both_resource_tokens",
    "handshake_accepts_secrets",
    "crd_check_derives_name_from_plural_and_group",
    "crd_check_rejects_two_storage_versions",
    "crd_check_requires_a_schema",
    "crd_check_name_must_be_plural_dot_group",
    "crd_check_plural_must_be_lower_case",
    "crd_check_rejects_a_non_structural_schema",
    "crd_create_waits_established_read_same_id_delete_waits_gone",
    "cr_check_auto_names_from_the_random_seed",
    "cr_check_wrong_type_names_path_and_integer",
    "cr_check_missing_required_field",
    "cr_check_unknown_field_would_be_pruned",
    "cr_check_bad_metadata_name",
    "cr_check_api_version_not_in_crd",
    "cr_check_kind_not_in_the_groups_crds",
    "unknown_whole_spec",
    "unknown_one_spec_field",
    "unknown_metadata_name",
    "unknown_api_version",
    "unknown_list_element",
    "provider_answers_after_unknowns",
    "secret_in_spec_stays_secret_in_outputs",
    "diff_identical_inputs_is_none",
    "diff_replicas_is_an_in_place_update",
    "diff_kind_change_replaces_delete_first",
    "diff_ignores_server_defaults_and_status",
    "cr_create_then_update_in_place",
    "cr_read_after_kubectl_patch_reports_live_value",
    "cr_read_of_deleted_object_is_empty_and_delete_succeeds",
    "preview_create_is_a_server_dry_run_that_writes_nothing",
    "one_mib_spec_succeeds_or_fails_clearly",
    "unreachable_cluster_error_names_the_object",
    "invalid_credentials_error_mentions_credentials_and_object",
    "field_manager_conflict_names_manager_and_field_then_force",
    "not_ready_update_returns_init_failed_with_id_and_properties",
    "cancel_ends_a_waiting_update_promptly",
    "teardown_fixture_crd_delete_waits_gone",
    "secrets_never_reach_the_provider_log",
    "provider_never_panicked",
];

/// What the script printed for one case.
struct CaseResult {
    name: String,
    ok: bool,
    detail: Value,
}

fn parse_results(stdout: &str) -> Result<Vec<CaseResult>, String> {
    stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let parsed: Value = serde_json::from_str(line)
                .map_err(|e| format!("not a JSON result line ({e}): {line}"))?;
            Ok(CaseResult {
                name: parsed["case"]
                    .as_str()
                    .ok_or_else(|| format!("a result line without a case name: {line}"))?
                    .to_string(),
                ok: parsed["ok"]
                    .as_bool()
                    .ok_or_else(|| format!("a result line without ok: {line}"))?,
                detail: parsed["detail"].clone(),
            })
        })
        .collect()
}

/// The problems with a run: failed cases with their detail, missing and unexpected cases.
fn problems(results: &[CaseResult]) -> Vec<String> {
    let mut found: Vec<String> = results
        .iter()
        .filter(|r| !r.ok)
        .map(|r| format!("FAILED {}: {}", r.name, r.detail))
        .collect();
    for expected in CASES {
        if !results.iter().any(|r| r.name == *expected) {
            found.push(format!(
                "MISSING {expected}: the script printed no result for it"
            ));
        }
    }
    for r in results {
        if !CASES.contains(&r.name.as_str()) {
            found.push(format!(
                "UNEXPECTED {}: add it to CASES in tests/provider_conformance.rs",
                r.name
            ));
        }
    }
    if results.len() < CASES.len() {
        found.push(format!(
            "only {} of {} cases ran",
            results.len(),
            CASES.len()
        ));
    }
    found
}

/// The audit log's witness for the preview case: the apiserver saw the object only as a
/// dry-run.
fn preview_writes(audit: &AuditLog, start: usize, namespace: &str, name: &str) -> Vec<String> {
    audit
        .events()
        .unwrap_or_default()
        .into_iter()
        .skip(start)
        .filter(|e| object_ref(e, "namespace") == namespace && object_ref(e, "name") == name)
        .filter(|e| {
            matches!(
                e["verb"].as_str(),
                Some("create" | "update" | "patch" | "delete")
            )
        })
        .map(|e| format!("{} {}", e["verb"], e["requestURI"]))
        .collect()
}

/// CRDs are cluster-scoped, so the namespace's deletion does not take them: remove whatever
/// of this run's group a failed case left behind.
fn delete_leftover_crds(env: &TestEnv, group: &str) {
    let Ok(listed) = env.kubectl(&["get", "crd", "-o", "name"]) else {
        return;
    };
    for crd in listed.lines().filter(|l| l.ends_with(&format!(".{group}"))) {
        let _ = env.kubectl(&["delete", crd, "--wait=false"]);
    }
}

#[tokio::test]
async fn provider_conforms_over_grpc_with_the_pulumi_python_stubs() {
    let env = TestEnv::new("conformance").await.unwrap();
    let group = format!("{}.conformance.example.com", env.namespace);
    let tools = Tools::get().unwrap();
    let python = tools
        .file("python3")
        .expect("the pulumi venv's python3 is among the provisioned tools");
    let audit = env.audit_log().unwrap();
    let start = audit.events().unwrap().len();

    let provider = Path::new(env!("CARGO_BIN_EXE_pulumi-resource-aiservice"));
    let run = tokio::process::Command::new(&python)
        .arg(SCRIPT)
        .arg(provider)
        .arg(env.kubeconfig())
        .arg(&env.namespace)
        .arg(&group)
        .args(["--expect-version", aiservice::VERSION])
        .env("PATH", tools.path_with(&[]))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run).await;
    delete_leftover_crds(&env, &group);
    let output = output
        .unwrap_or_else(|_| panic!("{SCRIPT} did not finish in {SCRIPT_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{SCRIPT} exited with {}:\n{stderr}\n{stdout}",
        output.status
    );
    let results = parse_results(&stdout).unwrap_or_else(|e| panic!("{e}\n{stderr}"));

    let mut found = problems(&results);
    // Preview wrote nothing: every request about the previewed object was a dry-run.
    if let Some(preview) = results
        .iter()
        .find(|r| r.ok && r.name == "preview_create_is_a_server_dry_run_that_writes_nothing")
    {
        let name = preview.detail["name"].as_str().unwrap_or_default();
        let requests = preview_writes(&audit, start, &env.namespace, name);
        if requests.is_empty() || !requests.iter().all(|r| r.contains("dryRun=All")) {
            found.push(format!(
                "FAILED preview audit: the apiserver must have seen only dry-run requests for {name}, saw {requests:?}"
            ));
        }
    }
    assert!(
        found.is_empty(),
        "{} problem(s) of {} cases:\n{}\n\nscript log:\n{stderr}",
        found.len(),
        CASES.len(),
        found.join("\n")
    );
}

#[test]
fn a_crashed_or_short_run_is_reported_case_by_case() {
    let results = parse_results(concat!(
        r#"{"case": "setup_fixture_crd", "ok": true, "detail": {}}"#,
        "\n",
        r#"{"case": "handshake_accepts_secrets", "ok": false, "detail": {"expected": "accept_secrets"}}"#,
        "\n",
        r#"{"case": "renamed", "ok": true, "detail": null}"#,
    ))
    .unwrap();
    let found = problems(&results);
    assert!(
        found
            .contains(&r#"FAILED handshake_accepts_secrets: {"expected":"accept_secrets"}"#.into())
    );
    assert!(found.contains(
        &"MISSING plugin_info_reports_crate_version: the script printed no result for it".into()
    ));
    assert!(found.iter().any(|p| p.starts_with("UNEXPECTED renamed")));
    assert!(found.contains(&format!("only 3 of {} cases ran", CASES.len())));
    assert!(parse_results("not json").is_err());
}
