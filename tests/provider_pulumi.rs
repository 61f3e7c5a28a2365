//! The provider driven by the real `pulumi` CLI and the YAML language host against the real
//! apiserver: the seed 002 example's whole lifecycle (including drift and a field-manager
//! conflict), and previews that validate against a CRD planned in the same deployment without
//! writing anything.

mod common;

use aiservice_testenv::{AuditLog, PulumiOutput, PulumiStack, TestEnv, object_ref};
use common::{
    assert_gone, assert_planned_update, assert_pulumi_fails_saying, install_crds, live, our_bins,
    repo, stack_in_own_group, step_ops, steps,
};
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

/// The seed example's ModelServings, named with their group: other tests of this binary define
/// ModelServing in groups of their own, so `modelserving` alone may name one of theirs.
const MODEL_SERVINGS: &str = "modelservings.ai.example.com";

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
    let live: Value = common::live(&env, MODEL_SERVINGS, "example-model-serving");
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
    let live: Value = common::live(&env, MODEL_SERVINGS, "example-model-serving");
    assert_eq!(
        (live["spec"]["replicas"].as_i64(), &live["metadata"]["uid"]),
        (Some(4), &uid)
    );

    // Drift made by someone else shows in refresh, and the next preview puts it back.
    env.kubectl(&[
        "patch",
        MODEL_SERVINGS,
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
    assert!(
        preview.stdout.contains("aiservice.example.com/patch-force"),
        "and the way to take it over:\n{}",
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

/// Fails unless `preview` failed showing each of `problems` exactly as the CLI words a
/// failed Check of tests/programs/modelserving-invalid's instance.
fn assert_preview_shows(preview: &PulumiOutput, problems: &[String]) {
    assert!(!preview.success, "preview must fail:\n{}", preview.stdout);
    for problem in problems {
        let line = format!(
            "error: aiservice:apiextensions:CustomResource resource 'instance' has a problem: {problem}"
        );
        assert!(
            preview.stdout.lines().any(|l| l.trim() == line),
            "the CLI shows the line\n{line}\nin:\n{}{}",
            preview.stdout,
            preview.stderr
        );
    }
}

#[tokio::test]
async fn preview_shows_each_broken_constraint_of_the_planned_crd_and_writes_nothing() {
    let env = TestEnv::new("e2e-invalid").await.unwrap();
    let audit = env.audit_log().unwrap();
    let (stack, group) = stack_in_own_group(&env, "tests/programs/modelserving-invalid");

    let start = audit.events().unwrap().len();
    // Type, required, enum, bound and pattern in one preview: the path and the value written.
    let broken = stack.run(&["preview"]).unwrap();
    assert_preview_shows(
        &broken,
        &[
            r#"spec.replicas: expected integer, got string "three""#.into(),
            "spec.image: required by the schema, but not set".into(),
            r#"spec.mode: expected one of ["Manual", "Auto"], got "Turbo""#.into(),
            "spec.maxReplicas: must be at most 10, got 50".into(),
            r#"spec.modelUri: must match ^s3://, got "http://models/llama""#.into(),
        ],
    );
    // CEL rules run once the types hold: the rule's message, not its source.
    stack
        .edit(
            "Pulumi.yaml",
            r#"{modelUri: "http://models/llama", replicas: three, mode: Turbo, maxReplicas: 50}"#,
            r#"{image: "server:1", modelUri: "s3://models/llama", replicas: 1, mode: Auto, minReplicas: 5, maxReplicas: 2}"#,
        )
        .unwrap();
    let cel = stack.run(&["preview"]).unwrap();
    assert_preview_shows(
        &cel,
        &["spec: minReplicas must not exceed maxReplicas".into()],
    );
    assert!(!cel.stdout.contains("self.minReplicas"), "{}", cel.stdout);
    stack
        .edit("Pulumi.yaml", "minReplicas: 5", "minReplicas: 1")
        .unwrap();

    // A kind or version the planned CRD does not define fails preview, not `up`.
    stack
        .edit(
            "Pulumi.yaml",
            "\n      kind: ModelServing",
            "\n      kind: ModelServng",
        )
        .unwrap();
    assert_preview_shows(
        &stack.run(&["preview"]).unwrap(),
        &[format!(
            r#"kind: no CustomResourceDefinition of group {group} defines kind "ModelServng"; its CRDs define ModelServing; did you mean "ModelServing"?"#
        )],
    );
    stack
        .edit("Pulumi.yaml", "kind: ModelServng", "kind: ModelServing")
        .unwrap();
    stack
        .edit("Pulumi.yaml", "${group}/v1", "${group}/v2")
        .unwrap();
    assert_preview_shows(
        &stack.run(&["preview"]).unwrap(),
        &[format!(
            r#"apiVersion: the CRD for ModelServing defines versions v1, not "v2"; did you mean "{group}/v1"?"#
        )],
    );
    stack
        .edit("Pulumi.yaml", "${group}/v2", "${group}/v1")
        .unwrap();
    stack.run_ok(&["preview"]).unwrap();
    assert_eq!(
        writes_since(&audit, start, &group, &env.namespace),
        Vec::<String>::new()
    );
}

/// An object made with `kubectl`, adopted with `pulumi import` and the id that names its type:
/// the program the CLI generates manages it with no changes.
#[tokio::test]
async fn pulumi_import_of_a_kubectl_object_generates_a_program_that_previews_clean() {
    let env = TestEnv::new("e2e-import").await.unwrap();
    install_crds(&env, "schema/crds/aiservices.stable.example.com.yaml");
    let manifest = repo("tests/programs/import-yaml/kubectl/llama.yaml");
    env.kubectl(&["apply", "-f", manifest.to_str().unwrap()])
        .unwrap();
    let stack = PulumiStack::new(&env, &repo("tests/programs/import-yaml"), our_bins()).unwrap();

    let id = format!(
        "apiVersion=stable.example.com/v1,kind=AIService,name=llama,namespace={}",
        env.namespace
    );
    stack
        .run_ok(&[
            "import",
            "aiservice:apiextensions:CustomResource",
            "llama",
            &id,
            "--yes",
            "--out",
            "imported.yaml",
        ])
        .unwrap();
    let generated = std::fs::read_to_string(stack.program().join("imported.yaml")).unwrap();
    for written in [
        "apiVersion: stable.example.com/v1",
        "kind: AIService",
        "name: llama",
        &format!("namespace: {}", env.namespace),
        "team: models",
        "modelUri: s3://models/llama",
        "replicas: 2",
    ] {
        assert!(generated.contains(written), "{written:?} in:\n{generated}");
    }
    assert!(
        !generated.contains("last-applied-configuration") && !generated.contains("status"),
        "only what a user writes:\n{generated}"
    );

    let project = stack.program().join("Pulumi.yaml");
    let mut program = std::fs::read_to_string(&project).unwrap();
    program.push_str(&generated);
    std::fs::write(&project, program).unwrap();
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();
}

/// Tightening a CRD under an existing object, as Kubernetes ratchets validation: the unchanged
/// object blocks neither preview nor `up`, a change of another field still updates, and a
/// change of the tightened field is validated against the new schema.
#[tokio::test]
async fn a_tightened_crd_lets_unchanged_values_be_and_validates_changed_ones() {
    let env = TestEnv::new("e2e-ratchet").await.unwrap();
    let (stack, group) = stack_in_own_group(&env, "tests/programs/modelserving-ratchet");
    stack.up().unwrap();

    // At most 3 under 5 replicas: only the CRD changes.
    stack
        .run_ok(&["config", "set", "maxReplicas", "3"])
        .unwrap();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&preview.stdout)),
        ["update crd"],
        "{}",
        preview.stdout
    );
    stack.up().unwrap();
    let crd = live(&env, "crd", &format!("modelservings.{group}"));
    assert_eq!(
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["replicas"]["maximum"],
        3
    );

    // Another field changes: the apiserver, like Check, leaves the unchanged replicas be.
    stack
        .run_ok(&["config", "set", "image", "example-model-image:v2"])
        .unwrap();
    stack.up().unwrap();
    assert_eq!(
        live(&env, &format!("modelservings.{group}"), "small")["spec"],
        serde_json::json!({"image": "example-model-image:v2", "replicas": 5})
    );

    // The tightened field changes: validated against the new schema before anything is sent.
    stack.run_ok(&["config", "set", "replicas", "4"]).unwrap();
    let preview = stack.run(&["preview"]).unwrap();
    assert!(!preview.success, "preview must fail:\n{}", preview.stdout);
    assert!(
        preview
            .stdout
            .contains("spec.replicas: must be at most 3, got 4"),
        "the failure names the field and the new bound:\n{}{}",
        preview.stdout,
        preview.stderr
    );

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
}

#[tokio::test]
async fn a_namespace_is_made_with_the_provider_and_a_missing_one_fails_preview() {
    let env = TestEnv::new("e2e-namespaces").await.unwrap();
    let team = format!("{}-team", env.namespace);
    let stack = PulumiStack::new(&env, &repo("tests/programs/namespaced"), our_bins()).unwrap();
    stack.run_ok(&["config", "set", "team", &team]).unwrap();

    // Without the namespace's resource, the preview already says the namespace is missing.
    stack
        .edit(
            "Pulumi.yaml",
            "    options:\n      dependsOn:\n        - ${team-namespace}\n",
            "",
        )
        .unwrap();
    stack
        .edit(
            "Pulumi.yaml",
            "  team-namespace:\n    type: aiservice:apiextensions:CustomResource\n    properties:\n      apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: ${team}\n",
            "",
        )
        .unwrap();
    assert_pulumi_fails_saying(
        &stack.run(&["preview"]).unwrap(),
        &[&format!(
            "metadata.namespace: namespace \"{team}\" does not exist in the cluster and this deployment does not create it"
        )],
    );

    // Made in the same deployment: the preview passes, up makes both, destroy removes both.
    let stack = PulumiStack::new(&env, &repo("tests/programs/namespaced"), our_bins()).unwrap();
    stack.run_ok(&["config", "set", "team", &team]).unwrap();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&preview.stdout)),
        ["create model-server", "create team-namespace"],
        "{}",
        preview.stdout
    );
    stack.up().unwrap();
    let account: Value = serde_json::from_str(
        &env.kubectl(&[
            "get",
            "serviceaccount",
            "model-server",
            "-n",
            &team,
            "-o",
            "json",
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!(account["metadata"]["namespace"], team.as_str());
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    let gone = env.kubectl(&["get", "namespace", &team]).unwrap_err();
    assert!(gone.to_string().contains("NotFound"), "{gone:#}");
}

/// A bad provider setting fails the preview naming the key and what it expects, as the
/// Terraform provider block does (`tests/terraform.rs`), before anything reaches the cluster.
#[tokio::test]
async fn a_bad_provider_setting_fails_preview_naming_the_key() {
    let env = TestEnv::new("e2e-bad-config").await.unwrap();
    let stack =
        PulumiStack::new(&env, &repo("sdk-examples/yaml/modelserving"), our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", "Team_A"])
        .unwrap();
    assert_pulumi_fails_saying(
        &stack.run(&["preview"]).unwrap(),
        &[
            r#"pulumi:providers:aiservice resource 'default' has a problem: namespace: "Team_A" is not a valid namespace name"#,
        ],
    );

    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:skipAwait", "yes"])
        .unwrap();
    assert_pulumi_fails_saying(
        &stack.run(&["preview"]).unwrap(),
        &[
            r#"pulumi:providers:aiservice resource 'default' has a problem: skipAwait: expected true or false, got "yes""#,
        ],
    );
}

/// A ConfigGroup of secret YAML text: the objects it reads are secret too. The Secret is
/// created with the token, but the token is in no state file and no diff, before or after
/// it changes.
#[tokio::test]
async fn a_config_group_of_secret_yaml_keeps_its_objects_secret() {
    let env = TestEnv::new("e2e-group-secret").await.unwrap();
    let stack = PulumiStack::new(
        &env,
        &repo("tests/programs/config-group-secret"),
        our_bins(),
    )
    .unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack.up().unwrap();
    let created = live(&env, "secret", "model-registry");
    assert_eq!(
        created["data"]["token"], "cmVnaXN0cnktdG9rZW4tb25l",
        "{created}"
    );
    let state = stack.run_ok(&["stack", "export"]).unwrap();
    assert!(
        !state.stdout.contains("registry-token-one"),
        "{}",
        state.stdout
    );

    stack
        .run_ok(&["config", "set", "token", "registry-token-two"])
        .unwrap();
    let preview = stack.run_ok(&["preview", "--diff"]).unwrap();
    assert!(preview.stdout.contains("[secret]"), "{}", preview.text());
    assert!(
        !preview.text().contains("registry-token-"),
        "{}",
        preview.text()
    );
    stack.up().unwrap();
    let updated = live(&env, "secret", "model-registry");
    assert_eq!(
        updated["data"]["token"], "cmVnaXN0cnktdG9rZW4tdHdv",
        "{updated}"
    );
    let state = stack.run_ok(&["stack", "export"]).unwrap();
    assert!(
        !state.stdout.contains("registry-token-"),
        "{}",
        state.stdout
    );
    stack.run_ok(&["destroy", "--yes"]).unwrap();
    assert_gone(&env, "secret/model-registry");
}

/// `sdk-examples/yaml/manifests`: a ConfigGroup of two YAML files (a CRD; a namespace and two
/// custom resources of that CRD) previews each object as its own create on an empty cluster,
/// checks the custom resources against the CRD of the same files, creates the CRD and the
/// namespace first, updates one object in place, and destroys them all.
#[tokio::test]
async fn a_config_group_of_yaml_files_manages_each_object_as_its_own_resource() {
    let env = TestEnv::new("e2e-manifests").await.unwrap();
    let group = format!("{}.example.com", env.namespace);
    let namespace = format!("{}-routing", env.namespace);
    let stack = PulumiStack::new(&env, &repo("sdk-examples/yaml/manifests"), our_bins()).unwrap();
    // The test's own group and namespace: the tests of this binary share a cluster.
    let rewrite = |file: &str, from: &str, to: &str| {
        let path = stack.program().join("manifests").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    };
    rewrite("crds.yaml", "ai.example.com", &group);
    rewrite("routers.yaml", "ai.example.com", &group);
    rewrite("routers.yaml", "routing", &namespace);

    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&preview.stdout)),
        [
            "create models".to_string(),
            format!("create models:CustomResourceDefinition:modelrouters.{group}"),
            format!("create models:ModelRouter:{namespace}/chat"),
            format!("create models:ModelRouter:{namespace}/embeddings"),
            format!("create models:Namespace:{namespace}"),
        ],
        "{}",
        preview.stdout
    );

    stack.up().unwrap();
    let routers = env
        .kubectl(&[
            "get",
            &format!("modelrouters.{group}"),
            "-n",
            &namespace,
            "-o",
            "name",
        ])
        .unwrap();
    assert_eq!(routers.lines().count(), 2, "{routers}");
    let objects = stack.outputs().unwrap()["objects"].clone();
    assert_eq!(
        objects[0],
        format!("CustomResourceDefinition modelrouters.{group}"),
        "{objects}"
    );
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    rewrite("routers.yaml", "  route: /v1/embeddings\n", "");
    let bad = stack.run(&["preview"]).unwrap();
    assert_pulumi_fails_saying(&bad, &["spec.route", "required"]);
    rewrite(
        "routers.yaml",
        "spec:\n  backends: [bge]",
        "spec:\n  route: /v1/embeddings\n  backends: [bge]",
    );

    rewrite(
        "routers.yaml",
        "backends: [llama, mistral]",
        "backends: [llama]",
    );
    assert_planned_update(
        &stack,
        &format!("models:ModelRouter:{namespace}/chat"),
        &["spec.backends"],
    );
    stack.up().unwrap();
    let chat = env
        .kubectl(&[
            "get",
            &format!("modelrouters.{group}"),
            "chat",
            "-n",
            &namespace,
            "-o",
            "jsonpath={.spec.backends}",
        ])
        .unwrap();
    assert_eq!(chat, "[\"llama\"]");

    stack.run_ok(&["destroy", "--yes"]).unwrap();
    common::assert_gone(&env, &format!("crd/modelrouters.{group}"));
    common::assert_gone(&env, &format!("namespace/{namespace}"));
}
