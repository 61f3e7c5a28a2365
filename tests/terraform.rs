//! `terraform-provider-aiservice` through the real CLIs provisioned by `tests/env/`
//! (Terraform 1.0.3 and OpenTofu 1.12.6), with `dev_overrides` and no `init`, on a real
//! apiserver:
//!
//! - seed 002 (`sdk-examples/terraform/model-serving`) with each CLI: a plan on an empty
//!   cluster shows both creates and validates the ModelServing against the CRD planned beside
//!   it (a bad value fails the plan, and planning writes nothing), apply, a clean plan, an
//!   in-place update, drift made with kubectl corrected, import into a fresh state, destroy;
//! - the typed AIService (`sdk-examples/terraform/aiservice`): bad specs fail the plan naming
//!   the property, status written by "the operator" is readable and never a diff;
//! - values known only after apply plan as such inside a manifest, and a sensitive value
//!   never reaches the provider's log;
//! - bad input of every kind fails with a diagnostic and never crashes the provider.

mod common;

use std::path::Path;

use aiservice_testenv::{Cli, TerraformConfig, TerraformOutput, TestEnv, object_ref};
use common::{assert_gone, install_crds, live, repo};

fn provider_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-aiservice"))
        .parent()
        .expect("the provider binary sits in a directory")
}

/// Fails if the provider crashed or the CLI lost it, whatever the command's outcome.
fn assert_no_crash(out: &TerraformOutput) {
    let text = out.text();
    for sign in [
        "panicked",
        "plugin crashed",
        "Plugin did not respond",
        "unexpected EOF",
    ] {
        assert!(
            !text.contains(sign),
            "the provider crashed ({sign}):\n{text}"
        );
    }
}

/// What a command printed with each run of whitespace as one space: the CLIs align `=` in
/// diffs and wrap long details at 78 columns.
fn said(out: &TerraformOutput) -> String {
    out.text().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Fails unless the command failed with a diagnostic that says each of `words`.
fn assert_fails_saying(out: &TerraformOutput, words: &[&str]) {
    assert_no_crash(out);
    assert_eq!(out.code, 1, "expected a failure:\n{}", out.text());
    let said = said(out);
    for word in words {
        assert!(said.contains(word), "expected {word:?} in:\n{}", out.text());
    }
}

/// Seed 002 with its own API group per CLI: the tests of this binary share one cluster.
fn seed_002(env: &TestEnv, cli: Cli, group: &str) -> TerraformConfig {
    let config = TerraformConfig::new(
        env,
        cli,
        &repo("sdk-examples/terraform/model-serving"),
        provider_dir(),
    )
    .unwrap();
    config.edit("main.tf", "ai.example.com", group).unwrap();
    config
}

async fn seed_002_lifecycle(cli: Cli, group: &str) {
    let env = TestEnv::new("tf-seed").await.unwrap();
    let crd = format!("modelservings.{group}");
    let config = seed_002(&env, cli, group);
    let audit = env.audit_log().unwrap();
    let before_plans = audit.events().unwrap().len();

    let plan = config.plan(&[]).unwrap();
    assert_no_crash(&plan);
    assert_eq!(plan.code, 2, "{}", plan.text());
    for line in [
        "aiservice_custom_resource_definition.model_serving will be created",
        "aiservice_custom_resource.model_serving_instance will be created",
        "Plan: 2 to add, 0 to change, 0 to destroy.",
    ] {
        assert!(plan.stdout.contains(line), "{line:?} in:\n{}", plan.stdout);
    }
    // Known at plan time: the CRD's id is its name.
    assert!(
        said(&plan).contains(&format!("+ id = \"{crd}\"")),
        "{}",
        plan.stdout
    );
    // The CRD does not exist yet: the value is checked against the planned one.
    let bad = config.plan(&["-var", "replicas=2.5"]).unwrap();
    assert_fails_saying(
        &bad,
        &[
            "Invalid aiservice_custom_resource",
            "spec.replicas: expected integer",
        ],
    );
    // A kind or version the planned CRD does not define fails the plan, not the apply.
    let misspelled = [
        (
            "\n    kind       = \"ModelServing\"".to_string(),
            "\n    kind       = \"ModelServng\"".to_string(),
            format!(
                r#"kind: no CustomResourceDefinition of group {group} defines kind "ModelServng"; its CRDs define ModelServing; did you mean "ModelServing"?"#
            ),
        ),
        (
            format!("apiVersion = \"{group}/v1\""),
            format!("apiVersion = \"{group}/v2\""),
            format!(
                r#"apiVersion: the CRD for ModelServing defines versions v1, not "v2"; did you mean "{group}/v1"?"#
            ),
        ),
    ];
    for (valid, typo, says) in &misspelled {
        config.edit("main.tf", valid, typo).unwrap();
        let plan = config.plan(&[]).unwrap();
        assert_fails_saying(&plan, &["Invalid aiservice_custom_resource", says]);
        config.edit("main.tf", typo, valid).unwrap();
    }
    let ours = |event: &serde_json::Value| {
        object_ref(event, "apiGroup") == group || object_ref(event, "name") == crd
    };
    let writes: Vec<_> = audit
        .writes_since(before_plans)
        .unwrap()
        .into_iter()
        .filter(ours)
        .collect();
    assert!(writes.is_empty(), "plans wrote to the cluster: {writes:#?}");

    let apply = config.run_ok(&["apply", "-auto-approve"]).unwrap();
    assert!(
        apply.stdout.contains("Resources: 2 added"),
        "{}",
        apply.stdout
    );
    let created = live(&env, &crd, "example-model-serving");
    assert_eq!(created["spec"]["replicas"], 3);
    assert_eq!(
        config.output("model_serving_name").unwrap(),
        "example-model-serving"
    );
    let clean = config.plan(&[]).unwrap();
    assert_eq!(
        clean.code,
        0,
        "a second plan must say no changes:\n{}",
        clean.text()
    );

    // A second configuration of the same objects: its plan fails (the cluster can tell) and so
    // does its apply, so nothing is taken over; its destroy has nothing to delete.
    let second = seed_002(&env, cli, group);
    let taken = format!(
        "CustomResourceDefinition {crd} already exists and was not created by this resource (created by terraform:"
    );
    let refusal = [
        taken.as_str(),
        "`terraform import`",
        "aiservice.example.com/adopt: \"true\"",
    ];
    assert_fails_saying(&second.plan(&[]).unwrap(), &refusal);
    assert_fails_saying(&second.run(&["apply", "-auto-approve"]).unwrap(), &refusal);
    // Terraform 1.0 plans the configuration before a destroy (so it repeats the refusal);
    // OpenTofu only refreshes. Either way the destroy deletes nothing of the first.
    let destroyed = second.run(&["destroy", "-auto-approve"]).unwrap();
    match cli {
        Cli::Terraform => {
            assert_fails_saying(&destroyed, &refusal);
            // The README's way around it: no plan of the configuration first.
            second
                .run_ok(&["destroy", "-auto-approve", "-refresh=false"])
                .unwrap();
        }
        Cli::OpenTofu => assert_eq!(destroyed.code, 0, "{}", destroyed.text()),
    }
    assert_eq!(
        live(&env, &crd, "example-model-serving")["metadata"]["uid"],
        created["metadata"]["uid"]
    );
    // Taking them over is an explicit opt-in per resource: with the annotation, the plan
    // shows the creates (which would apply onto the existing objects).
    for (from, to) in [
        (
            format!("metadata = {{ name = \"{crd}\" }}"),
            format!("metadata = {{ name = \"{crd}\", annotations = {{ \"aiservice.example.com/adopt\" = \"true\" }} }}"),
        ),
        (
            "metadata   = { name = \"example-model-serving\" }".to_string(),
            "metadata   = { name = \"example-model-serving\", annotations = { \"aiservice.example.com/adopt\" = \"true\" } }".to_string(),
        ),
    ] {
        second.edit("main.tf", &from, &to).unwrap();
    }
    let adopting_plan = second.plan(&[]).unwrap();
    assert_no_crash(&adopting_plan);
    assert!(
        adopting_plan.code == 2
            && adopting_plan
                .stdout
                .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        adopting_plan.text()
    );
    drop(second);

    let update = config.plan(&["-var", "replicas=5"]).unwrap();
    assert_eq!(update.code, 2, "{}", update.text());
    for line in [
        "aiservice_custom_resource.model_serving_instance will be updated in-place",
        "replicas = 3 -> 5",
        "Plan: 0 to add, 1 to change, 0 to destroy.",
    ] {
        assert!(
            update.stdout.contains(line),
            "{line:?} in:\n{}",
            update.stdout
        );
    }
    config
        .run_ok(&["apply", "-auto-approve", "-var", "replicas=5"])
        .unwrap();
    let updated = live(&env, &crd, "example-model-serving");
    assert_eq!(updated["spec"]["replicas"], 5);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    // Someone takes a field over by hand: the plan (not the apply) fails, saying whose the
    // field is now and how to take it back; taken back, the plan shows the drift undone.
    env.kubectl(&[
        "patch",
        &crd,
        "example-model-serving",
        "--type=merge",
        "-p",
        r#"{"spec":{"replicas":7}}"#,
    ])
    .unwrap();
    let conflict = config.plan(&["-var", "replicas=5"]).unwrap();
    assert_fails_saying(
        &conflict,
        &[
            "conflict with \"kubectl-patch\"",
            "aiservice.example.com/patch-force",
        ],
    );
    // A Terraform user is never told to set a Pulumi annotation.
    assert!(
        !said(&conflict).contains("pulumi.com"),
        "{}",
        conflict.text()
    );
    config
        .edit(
            "main.tf",
            "metadata   = { name = \"example-model-serving\" }",
            "metadata   = { name = \"example-model-serving\", annotations = { \"aiservice.example.com/patch-force\" = \"true\" } }",
        )
        .unwrap();
    let take_back = config.plan(&["-var", "replicas=5"]).unwrap();
    assert_eq!(take_back.code, 2, "{}", take_back.text());
    assert!(
        take_back.stdout.contains("replicas = 7 -> 5"),
        "{}",
        take_back.stdout
    );
    config
        .run_ok(&["apply", "-auto-approve", "-var", "replicas=5"])
        .unwrap();
    assert_eq!(
        live(&env, &crd, "example-model-serving")["spec"]["replicas"],
        5
    );

    // A CRD tightened under the unchanged instance (at most 4 replicas under 5) plans the CRD
    // alone: validation ratchets, as the apiserver's does.
    config
        .edit(
            "main.tf",
            "replicas = { type = \"integer\" }",
            "replicas = { type = \"integer\", maximum = 4 }",
        )
        .unwrap();
    let tightened = config.plan(&["-var", "replicas=5"]).unwrap();
    assert!(
        tightened.code == 2
            && tightened
                .stdout
                .contains("Plan: 0 to add, 1 to change, 0 to destroy."),
        "{}",
        tightened.text()
    );

    // A fresh state adopts the existing objects by import, and plans no replacement.
    let adopting = seed_002(&env, cli, group);
    adopting
        .run_ok(&[
            "import",
            "aiservice_custom_resource_definition.model_serving",
            &crd,
        ])
        .unwrap();
    let id = format!(
        "apiVersion={group}/v1,kind=ModelServing,namespace={},name=example-model-serving",
        env.namespace
    );
    adopting
        .run_ok(&[
            "import",
            "aiservice_custom_resource.model_serving_instance",
            &id,
        ])
        .unwrap();
    let after_import = adopting.plan(&["-var", "replicas=5"]).unwrap();
    assert_no_crash(&after_import);
    assert_ne!(after_import.code, 1, "{}", after_import.text());
    assert!(
        !after_import.stdout.contains("must be replaced")
            && !after_import.stdout.contains("will be created"),
        "{}",
        after_import.stdout
    );

    let destroy = config
        .run_ok(&["destroy", "-auto-approve", "-var", "replicas=5"])
        .unwrap();
    assert!(
        destroy.stdout.contains("Resources: 2 destroyed"),
        "{}",
        destroy.stdout
    );
    // Destroy waited: both are gone when it returns (the custom resource went first, or the
    // CRD's deletion would still be waiting for it).
    let crd_gone = env.kubectl(&["get", "crd", &crd]).unwrap_err();
    assert!(crd_gone.to_string().contains("NotFound"), "{crd_gone:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_002_with_terraform() {
    seed_002_lifecycle(Cli::Terraform, "tf.example.com").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_002_with_opentofu() {
    seed_002_lifecycle(Cli::OpenTofu, "tofu.example.com").await;
}

/// A namespace on a cluster with the AIService CRD, and a copy of
/// `sdk-examples/terraform/aiservice` for Terraform.
async fn aiservice_example(prefix: &str) -> (TestEnv, TerraformConfig) {
    let env = TestEnv::new(prefix).await.unwrap();
    install_crds(&env, "schema/crds/aiservices.stable.example.com.yaml");
    let config = TerraformConfig::new(
        &env,
        Cli::Terraform,
        &repo("sdk-examples/terraform/aiservice"),
        provider_dir(),
    )
    .unwrap();
    (env, config)
}

/// Edits of `sdk-examples/terraform/aiservice` that break its spec, and what the failed plan
/// must say: the same checks, property paths and words as the Pulumi side.
const BAD_SPECS: [(&str, &str, &[&str]); 5] = [
    (
        "modelUri = \"s3://models/llama-3-8b\"",
        "",
        &["spec.modelUri", "required"],
    ),
    (
        "minReplicas = 1",
        "minReplicas = 6",
        &[
            "spec.scaling",
            "minReplicas must be less than or equal to maxReplicas",
        ],
    ),
    (
        "mode        = \"Auto\"",
        "mode        = \"Turbo\"",
        &["spec.scaling.mode", "Auto"],
    ),
    (
        "modelUri = ",
        "replicas = -1\n    modelUri = ",
        &["spec.replicas", "must be at least 0, got -1"],
    ),
    (
        "name   = \"llama\"",
        "generateName = \"llama-\"",
        &["metadata.name", "required"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn typed_aiservice_validates_at_plan_and_status_never_diffs() {
    let (env, config) = aiservice_example("tf-aisvc").await;
    for (valid, broken, words) in BAD_SPECS {
        config.edit("main.tf", valid, broken).unwrap();
        let plan = config.plan(&[]).unwrap();
        assert_fails_saying(&plan, words);
        assert!(
            plan.text().contains("Invalid aiservice_ai_service"),
            "{}",
            plan.text()
        );
        if broken.is_empty() {
            config
                .edit("main.tf", "    image ", &format!("    {valid}\n    image "))
                .unwrap();
        } else {
            config.edit("main.tf", broken, valid).unwrap();
        }
    }

    config.run_ok(&["apply", "-auto-approve"]).unwrap();
    let created = live(&env, "aiservice", "llama");
    assert_eq!(created["spec"]["scaling"]["maxReplicas"], 5);
    assert_eq!(created["metadata"]["labels"]["team"], "ml-platform");
    let clean = config.plan(&[]).unwrap();
    assert_eq!(clean.code, 0, "{}", clean.text());

    // The operator reports status: readable through the data source, never a change.
    env.kubectl(&[
        "patch",
        "aiservice",
        "llama",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":1,"readyReplicas":1,"url":"http://llama.example:8080"}}"#,
    ])
    .unwrap();
    let after_status = config.plan(&[]).unwrap();
    assert_no_crash(&after_status);
    assert!(
        !after_status
            .stdout
            .contains("aiservice_ai_service.llama will be")
            && !after_status.stdout.contains("must be replaced"),
        "status must not plan a change:\n{}",
        after_status.stdout
    );
    // Any object, read generically: the second data source.
    config
        .write(
            "lookup.tf",
            r#"
data "aiservice_custom_resource" "llama" {
  api_version = "stable.example.com/v1"
  kind        = "AIService"
  name        = "llama"
  namespace   = var.namespace
  depends_on  = [aiservice_ai_service.llama]
}
output "ready_replicas" { value = data.aiservice_custom_resource.llama.status.readyReplicas }
output "model_uri" { value = data.aiservice_custom_resource.llama.spec.modelUri }
"#,
        )
        .unwrap();
    config.run_ok(&["apply", "-auto-approve"]).unwrap();
    assert_eq!(config.output("url").unwrap(), "http://llama.example:8080");
    assert_eq!(config.output("ready_replicas").unwrap(), 1);
    assert_eq!(
        config.output("model_uri").unwrap(),
        "s3://models/llama-3-8b"
    );
    assert_eq!(config.plan(&[]).unwrap().code, 0);

    config
        .edit("main.tf", "default = 5", "default = 8")
        .unwrap();
    let update = config.plan(&[]).unwrap();
    assert_eq!(update.code, 2, "{}", update.text());
    assert!(
        update
            .stdout
            .contains("aiservice_ai_service.llama will be updated in-place")
            && said(&update).contains("maxReplicas = 5 -> 8"),
        "{}",
        update.stdout
    );
    config.run_ok(&["apply", "-auto-approve"]).unwrap();
    let updated = live(&env, "aiservice", "llama");
    assert_eq!(updated["spec"]["scaling"]["maxReplicas"], 8);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    config.run_ok(&["destroy", "-auto-approve"]).unwrap();
    assert_gone(&env, "aiservice/llama");
}

/// Configurations that are wrong in every way a user can get them wrong, and what the
/// failed plan must say.
const BAD_CONFIGS: [(&str, &[&str]); 6] = [
    (
        r#"resource "aiservice_custom_resource" "x" { manifest = "just a string" }"#,
        &["manifest", "expected an object"],
    ),
    (
        r#"resource "aiservice_custom_resource" "x" {
             manifest = { apiVersion = "stable.example.com/v1", kind = "AIService", metadata = {} }
           }"#,
        &["metadata.name", "required"],
    ),
    (
        r#"resource "aiservice_custom_resource" "x" {
             manifest = { apiVersion = "nogroup", kind = "Thing", metadata = { name = "x" } }
           }"#,
        &["apiVersion", "expected <group>/<version>"],
    ),
    (
        r#"resource "aiservice_custom_resource" "x" {
             manifest = { apiVersion = "stable.example.com/v1", metadata = { name = "x" } }
           }"#,
        &["kind", "required"],
    ),
    (
        r#"resource "aiservice_custom_resource" "x" {
             manifest = {
               apiVersion = "stable.example.com/v1", kind = "AIService", metadata = { name = "x" }
               spec = { modelUri = "s3://m", replicas = "many" }
             }
           }"#,
        &["spec.replicas", "expected integer"],
    ),
    (
        r#"resource "aiservice_ai_service" "x" {
             metadata = { name = "Not_A_Name" }
             spec = { modelUri = "s3://m" }
           }"#,
        &["metadata.name"],
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_fails_with_a_diagnostic_and_never_crashes() {
    // `_env` keeps the namespace until the test ends.
    let (_env, config) = aiservice_example("tf-bad").await;
    let provider = r#"
terraform {
  required_providers {
    aiservice = { source = "example/aiservice" }
  }
}
variable "namespace" { type = string }
provider "aiservice" { namespace = var.namespace }
"#;
    for (resource, words) in BAD_CONFIGS {
        config
            .write("main.tf", &format!("{provider}\n{resource}\n"))
            .unwrap();
        assert_fails_saying(&config.plan(&[]).unwrap(), words);
    }

    config
        .write(
            "main.tf",
            &format!(
                "{}\n{}\n",
                provider.replace("namespace = var.namespace", "namespace = \"Team_A\""),
                r#"resource "aiservice_ai_service" "x" {
                     metadata = { name = "x" }
                     spec = { modelUri = "s3://m" }
                   }"#
            ),
        )
        .unwrap();
    assert_fails_saying(
        &config.plan(&[]).unwrap(),
        &["Invalid provider configuration", "namespace"],
    );

    config
        .write(
            "main.tf",
            &format!("{provider}\n{}\n", r#"resource "aiservice_custom_resource" "x" { manifest = { metadata = { name = "x" } } }"#),
        )
        .unwrap();
    let import = config
        .run(&["import", "aiservice_custom_resource.x", "just-a-name"])
        .unwrap();
    assert_no_crash(&import);
    assert_eq!(import.code, 1, "{}", import.text());
    let missing = config
        .run(&[
            "import",
            "aiservice_custom_resource.x",
            "apiVersion=stable.example.com/v1,kind=AIService,name=absent",
        ])
        .unwrap();
    assert_fails_saying(&missing, &["no such object in the cluster"]);
}

/// A value known only after apply inside a manifest, and a sensitive one.
const UNKNOWNS_AND_SECRETS: &str = r#"
terraform {
  required_providers {
    aiservice = { source = "example/aiservice" }
  }
}
variable "namespace" { type = string }
variable "token" {
  type      = string
  sensitive = true
}
provider "aiservice" { namespace = var.namespace }

resource "aiservice_custom_resource_definition" "widgets" {
  manifest = {
    metadata = { name = "widgets.unknowns.example.com" }
    spec = {
      group = "unknowns.example.com"
      scope = "Namespaced"
      names = { plural = "widgets", singular = "widget", kind = "Widget" }
      versions = [{
        name    = "v1"
        served  = true
        storage = true
        schema = { openAPIV3Schema = { type = "object", properties = {
          spec = { type = "object", "x-kubernetes-preserve-unknown-fields" = true }
        } } }
      }]
    }
  }
}

resource "aiservice_custom_resource" "first" {
  manifest = {
    apiVersion = "unknowns.example.com/v1"
    kind       = "Widget"
    metadata   = { name = "first" }
    spec       = { token = var.token }
  }
  depends_on = [aiservice_custom_resource_definition.widgets]
}

resource "aiservice_custom_resource" "second" {
  manifest = {
    apiVersion = "unknowns.example.com/v1"
    kind       = "Widget"
    metadata   = { name = "second", labels = { "first-uid" = aiservice_custom_resource.first.uid } }
    spec       = {}
  }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_values_plan_and_sensitive_values_never_reach_the_log() {
    let env = TestEnv::new("tf-unknown").await.unwrap();
    let mut config = TerraformConfig::new(
        &env,
        Cli::Terraform,
        &repo("sdk-examples/terraform/model-serving"),
        provider_dir(),
    )
    .unwrap();
    config.write("main.tf", UNKNOWNS_AND_SECRETS).unwrap();
    let log = std::env::temp_dir().join(format!("aiservice-tf-log-{}", std::process::id()));
    config.log_to(&log, "debug");
    let secret = "s3cr3t-t0ken-value";
    let token = format!("token={secret}");

    let plan = config.plan(&["-var", &token]).unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    let planned = said(&plan);
    assert!(
        planned.contains("first-uid = (known after apply)")
            && planned.contains("token = (sensitive)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.text().contains(secret), "{}", plan.text());

    config
        .run_ok(&["apply", "-auto-approve", "-var", &token])
        .unwrap();
    let first = live(&env, "widgets.unknowns.example.com", "first");
    let second = live(&env, "widgets.unknowns.example.com", "second");
    assert_eq!(
        second["metadata"]["labels"]["first-uid"],
        first["metadata"]["uid"]
    );
    assert_eq!(first["spec"]["token"], secret);
    assert_eq!(config.plan(&["-var", &token]).unwrap().code, 0);
    config
        .run_ok(&["destroy", "-auto-approve", "-var", &token])
        .unwrap();

    // go-plugin prefixes each line the provider wrote to its stderr with the plugin's name.
    let written = std::fs::read_to_string(&log).unwrap();
    let provider_lines: Vec<&str> = written
        .lines()
        .filter(|l| l.contains("terraform-provider-aiservice"))
        .collect();
    assert!(
        !provider_lines.is_empty(),
        "the provider logged nothing:\n{written}"
    );
    let leaked: Vec<&&str> = provider_lines
        .iter()
        .filter(|l| l.contains(secret))
        .collect();
    assert!(
        leaked.is_empty(),
        "the provider logged the secret: {leaked:#?}"
    );
    let _ = std::fs::remove_file(&log);
}

#[test]
fn run_by_hand_it_says_what_starts_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-aiservice"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Terraform or OpenTofu starts it"), "{said}");
    assert!(
        out.stdout.is_empty(),
        "no handshake line without the cookie"
    );
}

/// A namespace made in the same configuration and an object in it, the second with the
/// propagation annotation: the same behaviour as the Pulumi side's.
const NAMESPACED: &str = r#"
terraform {
  required_providers {
    aiservice = { source = "example/aiservice" }
  }
}
variable "namespace" { type = string }
variable "team" { type = string }
provider "aiservice" { namespace = var.namespace }
resource "aiservice_custom_resource" "team" {
  manifest = { apiVersion = "v1", kind = "Namespace", metadata = { name = var.team } }
}
resource "aiservice_custom_resource" "account" {
  manifest = {
    apiVersion = "v1"
    kind       = "ServiceAccount"
    metadata = {
      name        = "model-server"
      namespace   = var.team
      annotations = { "aiservice.example.com/deletion-propagation" = "foreground" }
    }
  }
  depends_on = [aiservice_custom_resource.team]
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn namespaces_are_planned_with_their_objects_and_deletes_spare_what_they_did_not_create() {
    let (env, config) = aiservice_example("tf-ns").await;
    let team = format!("{}-team", env.namespace);
    let team_var = format!("team={team}");

    // Without the namespace's resource the plan already says the namespace is missing.
    let without_namespace = NAMESPACED
        .replace("  depends_on = [aiservice_custom_resource.team]\n", "")
        .replace(
            "resource \"aiservice_custom_resource\" \"team\" {\n  manifest = { apiVersion = \"v1\", kind = \"Namespace\", metadata = { name = var.team } }\n}\n",
            "",
        );
    config.write("main.tf", &without_namespace).unwrap();
    assert_fails_saying(
        &config.plan(&["-var", &team_var]).unwrap(),
        &[&format!(
            "metadata.namespace: namespace \"{team}\" does not exist in the cluster and this deployment does not create it"
        )],
    );

    // With it, the plan creates both; apply, and a clean second plan.
    config.write("main.tf", NAMESPACED).unwrap();
    let plan = config.plan(&["-var", &team_var]).unwrap();
    assert_no_crash(&plan);
    assert!(
        plan.code == 2
            && plan
                .stdout
                .contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.text()
    );
    config
        .run_ok(&["apply", "-auto-approve", "-var", &team_var])
        .unwrap();
    assert_eq!(config.plan(&["-var", &team_var]).unwrap().code, 0);

    // The account deleted and made again by hand: destroying its resource leaves that one
    // (another uid); then the namespace goes.
    env.kubectl(&["delete", "serviceaccount", "model-server", "-n", &team])
        .unwrap();
    env.kubectl(&["create", "serviceaccount", "model-server", "-n", &team])
        .unwrap();
    let by_hand = env
        .kubectl(&[
            "get",
            "serviceaccount",
            "model-server",
            "-n",
            &team,
            "-o",
            "jsonpath={.metadata.uid}",
        ])
        .unwrap();
    config
        .run_ok(&[
            "destroy",
            "-auto-approve",
            "-refresh=false",
            "-target=aiservice_custom_resource.account",
            "-var",
            &team_var,
        ])
        .unwrap();
    assert_eq!(
        env.kubectl(&[
            "get",
            "serviceaccount",
            "model-server",
            "-n",
            &team,
            "-o",
            "jsonpath={.metadata.uid}"
        ])
        .unwrap(),
        by_hand
    );
    // Terraform 1.0 plans the configuration before a destroy, which would refuse the
    // hand-made account as a create: skip that plan (see seed_002_lifecycle).
    config
        .run_ok(&[
            "destroy",
            "-auto-approve",
            "-refresh=false",
            "-var",
            &team_var,
        ])
        .unwrap();
    assert_gone(&env, &format!("namespace/{team}"));
}
