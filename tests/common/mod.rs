//! Paths every end-to-end test binary needs. Each binary compiles its own copy of this module
//! and uses a subset of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use aiservice_testenv::{PulumiOutput, PulumiStack, TestEnv};
use serde_json::Value;

/// The directory of the freshly built `pulumi-resource-aiservice`, put first on `PATH` so the
/// engine finds our provider there.
pub fn our_bins() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_pulumi-resource-aiservice"))
        .parent()
        .expect("the provider binary sits in a directory")
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The steps of `pulumi preview --json`.
pub fn steps(preview_json: &str) -> Vec<Value> {
    let parsed: Value = serde_json::from_str(preview_json)
        .unwrap_or_else(|e| panic!("pulumi preview --json printed no JSON ({e}):\n{preview_json}"));
    parsed["steps"].as_array().cloned().unwrap_or_default()
}

/// Each step on one of our resources (ours or a CRD package's, not the stack's or a
/// provider's) as `<op> <resource name>`, sorted.
pub fn step_ops(steps: &[Value]) -> Vec<String> {
    let mut ops: Vec<String> = steps
        .iter()
        // urn:pulumi:<stack>::<project>::<type>::<name>; the engine's types are pulumi:*.
        .filter(|s| {
            s["urn"]
                .as_str()
                .and_then(|u| u.split("::").nth(2))
                .is_some_and(|t| !t.starts_with("pulumi:"))
        })
        .map(|s| {
            let urn = s["urn"].as_str().unwrap_or_default();
            format!(
                "{} {}",
                s["op"].as_str().unwrap_or_default(),
                urn.rsplit("::").next().unwrap_or_default()
            )
        })
        .collect();
    ops.sort();
    ops
}

/// `kubectl get <kind> <name> -o json` in `env`'s namespace.
pub fn live(env: &TestEnv, kind: &str, name: &str) -> Value {
    serde_json::from_str(&env.kubectl(&["get", kind, name, "-o", "json"]).unwrap()).unwrap()
}

/// `kubectl apply --server-side -f <path>` (a CRD file or a directory of them, relative to
/// the repository), then waits until every CRD in it is Established.
pub fn install_crds(env: &TestEnv, path: &str) {
    let path = repo(path);
    let path = path.to_str().unwrap();
    env.kubectl(&["apply", "--server-side", "-f", path])
        .unwrap();
    env.kubectl(&[
        "wait",
        "--for=condition=Established",
        "-f",
        path,
        "--timeout=30s",
    ])
    .unwrap();
}

/// Fails unless `kubectl get <object>` (such as `aisvc/llama`) says it is not found.
pub fn assert_gone(env: &TestEnv, object: &str) {
    let gone = env.kubectl(&["get", object]).unwrap_err();
    assert!(gone.to_string().contains("NotFound"), "{object}: {gone:#}");
}

/// Previews `stack` and asserts the plan: one in-place update of `resource` that changes
/// exactly `fields`.
pub fn assert_planned_update(stack: &PulumiStack, resource: &str, fields: &[&str]) {
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    let planned = steps(&preview.stdout);
    assert_eq!(
        step_ops(&planned),
        [format!("update {resource}")],
        "{}",
        preview.stdout
    );
    let update = planned.iter().find(|s| s["op"] == "update").unwrap();
    let changed: Vec<&String> = update["detailedDiff"].as_object().unwrap().keys().collect();
    assert_eq!(changed, fields, "{update}");
}

/// A stack of the program `program` (relative to the repository) whose API group and
/// namespace are the test's own: its `group` config is `<namespace>.example.com` (the tests of
/// a binary share a cluster, so CRDs must not collide). Returns the stack and the group.
pub fn stack_in_own_group(env: &TestEnv, program: &str) -> (PulumiStack, String) {
    let group = format!("{}.example.com", env.namespace);
    let stack = PulumiStack::new(env, &repo(program), our_bins()).unwrap();
    stack.run_ok(&["config", "set", "group", &group]).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    (stack, group)
}

/// Fails unless the pulumi command failed and its output says each of `words`. The CLI wraps
/// long messages, so runs of whitespace compare as one space.
pub fn assert_pulumi_fails_saying(out: &PulumiOutput, words: &[&str]) {
    assert!(!out.success, "expected a failure:\n{}", out.text());
    let said = out.text().split_whitespace().collect::<Vec<_>>().join(" ");
    for word in words {
        assert!(said.contains(word), "expected {word:?} in:\n{}", out.text());
    }
}

/// Where the provider would find the cluster: nothing listens on port 1.
pub const UNREACHABLE: &str = "https://127.0.0.1:1";

/// A kubeconfig of a cluster that cannot be reached, in a directory of the test's own.
pub fn unreachable_kubeconfig(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aiservice-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: {UNREACHABLE}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: nobody\ncurrent-context: gone\nusers:\n- name: nobody\n  user:\n    token: not-a-secret\n"
        ),
    )
    .unwrap();
    path
}
