//! What works with no cluster at all, with the real `pulumi` and `terraform` CLIs and no
//! control plane: the programs `sdk-examples/yaml/gitops` and `sdk-examples/terraform/gitops`
//! (a Namespace, a ModelServing CRD and one instance, an AIService).
//!
//! - Preview and plan where the kubeconfig's cluster cannot be reached, or none is configured:
//!   they validate against the CRD planned beside the custom resource (a bad value still fails,
//!   naming the property), show every create, warn once naming the cluster; `up` and `apply`
//!   fail saying they cannot reach it.
//! - Render mode: `up`/`apply` write one manifest per object under stable file names (CRDs in
//!   `0-crd/`), the CI preview script (`sdk-examples/ci/preview.sh`) passes when nothing
//!   changed and shows the change otherwise, an update rewrites the file, destroy removes the
//!   files. The kubeconfig names an unreachable cluster throughout, so any attempt to contact
//!   one would fail the test.

mod common;

use std::path::{Path, PathBuf};

use aiservice_testenv::{Cli, PulumiOutput, PulumiStack, TerraformConfig, TerraformOutput};
use common::{
    UNREACHABLE, assert_pulumi_fails_saying, our_bins, repo, step_ops, steps,
    unreachable_kubeconfig,
};

/// What the command printed, each run of whitespace as one space (the CLIs wrap long lines).
fn said(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The manifests a render wrote, as `<dir>/<file>` paths under `rendered`, sorted.
fn rendered_files(rendered: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["0-crd", "1-manifest"] {
        let Ok(entries) = std::fs::read_dir(rendered.join(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            files.push(format!("{dir}/{name}"));
        }
    }
    files.sort();
    files
}

fn manifest(path: PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_yaml::from_str(&text).unwrap()
}

const FILES: [&str; 4] = [
    "0-crd/modelservings.ai.example.com.yaml",
    "1-manifest/ai.example.com_v1_modelserving_models_example-model-serving.yaml",
    "1-manifest/stable.example.com_v1_aiservice_models_llama.yaml",
    "1-manifest/v1_namespace_models.yaml",
];

/// Runs the CI preview script on the stack or configuration `command` is set up for.
fn ci_preview(mut command: std::process::Command, tool: &str) -> (i32, String) {
    let out = command
        .arg(tool)
        .arg(".")
        .output()
        .expect("sdk-examples/ci/preview.sh runs");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The provider warned once, naming the cluster. The pulumi CLI shows a warning twice: live,
/// under its resource, and again in the summary of diagnostics, which is what is counted.
fn assert_warned_once(text: &str, cluster: &str) {
    let text = said(text);
    assert!(text.contains(cluster), "expected {cluster:?} in:\n{text}");
    let summary = text
        .rsplit_once("Diagnostics:")
        .map_or(&*text, |(_, after)| after);
    assert_eq!(
        summary.matches("this preview goes on without it").count(),
        1,
        "expected one warning:\n{text}"
    );
}

#[test]
fn pulumi_previews_without_a_cluster_and_up_says_it_needs_one() {
    let kubeconfig = unreachable_kubeconfig("pulumi-offline");
    let stack = PulumiStack::on_cluster(&kubeconfig, &repo("sdk-examples/yaml/gitops"), our_bins())
        .unwrap();

    let preview = stack.run_ok(&["preview"]).unwrap();
    assert_warned_once(
        &preview.text(),
        &format!("cannot reach the cluster at {UNREACHABLE}/"),
    );
    let planned = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&planned.stdout)),
        [
            "create llama",
            "create model-serving",
            "create model-serving-crd",
            "create models-namespace"
        ]
    );

    // Still validated against the CRD planned beside it.
    stack
        .edit("Pulumi.yaml", "image: example-model-image:v1", "image: 7")
        .unwrap();
    let bad = stack.run(&["preview"]).unwrap();
    assert_pulumi_fails_saying(&bad, &["spec.image", "expected string"]);
    stack
        .edit("Pulumi.yaml", "image: 7", "image: example-model-image:v1")
        .unwrap();

    let up: PulumiOutput = stack.run(&["up", "--yes", "--skip-preview"]).unwrap();
    assert_pulumi_fails_saying(&up, &["cannot reach the cluster"]);

    // No cluster configured at all, as on a CI runner without credentials.
    let nowhere = kubeconfig.with_file_name("absent");
    let stack =
        PulumiStack::on_cluster(&nowhere, &repo("sdk-examples/yaml/gitops"), our_bins()).unwrap();
    let preview = stack.run_ok(&["preview"]).unwrap();
    assert_warned_once(&preview.text(), "no cluster is configured");
    let up = stack.run(&["up", "--yes", "--skip-preview"]).unwrap();
    assert_pulumi_fails_saying(&up, &["kubeconfig:", "finding a cluster"]);
}

#[test]
fn pulumi_renders_manifests_and_destroy_removes_them() {
    let kubeconfig = unreachable_kubeconfig("pulumi-render");
    let stack = PulumiStack::on_cluster(&kubeconfig, &repo("sdk-examples/yaml/gitops"), our_bins())
        .unwrap();
    stack
        .run_ok(&["config", "set", "renderTo", "rendered"])
        .unwrap();
    let up = stack.up().unwrap();
    assert!(!said(&up.text()).contains("cannot reach"), "{}", up.text());

    let rendered = stack.program().join("rendered");
    assert_eq!(rendered_files(&rendered), FILES);
    let serving = manifest(rendered.join(FILES[1]));
    assert_eq!(serving["kind"], "ModelServing");
    assert_eq!(serving["metadata"]["namespace"], "models");
    assert_eq!(serving["spec"]["replicas"], 2);
    // Applied by a GitOps tool, so not marked as this stack's.
    assert!(serving["metadata"]["annotations"].is_null(), "{serving}");
    let crd = manifest(rendered.join(FILES[0]));
    assert_eq!(crd["spec"]["names"]["kind"], "ModelServing");
    assert!(crd["metadata"]["namespace"].is_null(), "{crd}");

    let script = repo("sdk-examples/ci/preview.sh");
    let (code, text) = ci_preview(stack.command(&script), "pulumi");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("preview: no changes"), "{text}");

    stack.run_ok(&["config", "set", "replicas", "3"]).unwrap();
    let (code, text) = ci_preview(stack.command(&script), "pulumi");
    assert_eq!(code, 2, "{text}");
    assert!(said(&text).contains("replicas: 2 => 3"), "{text}");
    assert!(
        text.contains("preview: the changes above would be made"),
        "{text}"
    );

    stack.up().unwrap();
    assert_eq!(manifest(rendered.join(FILES[1]))["spec"]["replicas"], 3);
    assert_eq!(manifest(rendered.join(FILES[2]))["spec"]["replicas"], 3);

    stack.run_ok(&["destroy", "--yes"]).unwrap();
    assert!(rendered_files(&rendered).is_empty());
}

fn provider_dir() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-aiservice"))
        .parent()
        .expect("the provider binary sits in a directory")
}

fn assert_exit(out: &TerraformOutput, code: i32) {
    assert_eq!(out.code, code, "{}", out.text());
    assert!(!out.text().contains("panicked"), "{}", out.text());
}

#[test]
fn terraform_plans_without_a_cluster_and_renders_manifests() {
    let kubeconfig = unreachable_kubeconfig("tf-offline");
    let config = TerraformConfig::without_control_plane(
        Cli::Terraform,
        &repo("sdk-examples/terraform/gitops"),
        provider_dir(),
        &kubeconfig,
    )
    .unwrap();

    let plan = config.plan(&[]).unwrap();
    assert_exit(&plan, 2);
    assert!(
        said(&plan.text()).contains("Plan: 4 to add"),
        "{}",
        plan.text()
    );
    assert_warned_once(
        &plan.text(),
        &format!("cannot reach the cluster at {UNREACHABLE}/"),
    );

    config
        .edit("main.tf", "\"example-model-image:v1\"", "7")
        .unwrap();
    let bad = config.plan(&[]).unwrap();
    assert_exit(&bad, 1);
    assert!(
        said(&bad.text()).contains("spec.image: expected string"),
        "{}",
        bad.text()
    );
    config
        .edit(
            "main.tf",
            "image    = 7",
            "image    = \"example-model-image:v1\"",
        )
        .unwrap();

    let apply = config.run(&["apply", "-auto-approve"]).unwrap();
    assert_exit(&apply, 1);
    assert!(
        said(&apply.text()).contains("cannot reach the cluster"),
        "{}",
        apply.text()
    );

    // Render mode: the same configuration, written to files.
    config
        .run_ok(&["apply", "-auto-approve", "-var", "render_to=rendered"])
        .unwrap();
    let rendered = config.dir().join("rendered");
    assert_eq!(rendered_files(&rendered), FILES);
    assert_eq!(
        manifest(rendered.join(FILES[2]))["spec"]["modelUri"],
        "s3://models/llama-3-8b"
    );

    let script = repo("sdk-examples/ci/preview.sh");
    let mut command = config.command(&script);
    command.env("TF_VAR_render_to", "rendered");
    let (code, text) = ci_preview(command, "terraform");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("preview: no changes"), "{text}");
    let mut command = config.command(&script);
    command
        .env("TF_VAR_render_to", "rendered")
        .env("TF_VAR_replicas", "3");
    let (code, text) = ci_preview(command, "terraform");
    assert_eq!(code, 2, "{text}");
    assert!(said(&text).contains("replicas = 2 -> 3"), "{text}");

    config
        .run_ok(&["destroy", "-auto-approve", "-var", "render_to=rendered"])
        .unwrap();
    assert!(rendered_files(&rendered).is_empty());
}

/// `sdk-examples/terraform/manifests`: a file of many objects, CRD and custom resources mixed,
/// each its own resource, the custom resources validated against the CRD of the same file.
#[test]
fn terraform_applies_a_file_of_many_manifests_object_by_object() {
    let kubeconfig = unreachable_kubeconfig("tf-manifests");
    let config = TerraformConfig::without_control_plane(
        Cli::OpenTofu,
        &repo("sdk-examples/terraform/manifests"),
        provider_dir(),
        &kubeconfig,
    )
    .unwrap();
    std::fs::copy(
        repo("sdk-examples/terraform/manifests/models.yaml"),
        config.dir().join("models.yaml"),
    )
    .unwrap();
    let render = ["-var", "render_to=rendered"];

    let plan = config.plan(&render).unwrap();
    assert_exit(&plan, 2);
    let text = said(&plan.text());
    for address in [
        "aiservice_custom_resource_definition.crd[\"modelrouters.ai.example.com\"] will be created",
        "aiservice_custom_resource.namespace[\"routing\"] will be created",
        "aiservice_custom_resource.object[\"ai.example.com/v1/ModelRouter/routing/chat\"] will be created",
        "aiservice_custom_resource.object[\"ai.example.com/v1/ModelRouter/routing/embeddings\"] will be created",
        "Plan: 4 to add",
    ] {
        assert!(text.contains(address), "expected {address:?} in:\n{text}");
    }

    config
        .edit("models.yaml", "  route: /v1/embeddings\n", "")
        .unwrap();
    let bad = config.plan(&render).unwrap();
    assert_exit(&bad, 1);
    assert!(
        said(&bad.text()).contains("spec.route: required"),
        "{}",
        bad.text()
    );
    config
        .edit(
            "models.yaml",
            "  name: embeddings\n  namespace: routing\nspec:\n",
            "  name: embeddings\n  namespace: routing\nspec:\n  route: /v1/embeddings\n",
        )
        .unwrap();

    config
        .run_ok(&["apply", "-auto-approve", render[0], render[1]])
        .unwrap();
    assert_eq!(
        rendered_files(&config.dir().join("rendered")),
        [
            "0-crd/modelrouters.ai.example.com.yaml",
            "1-manifest/ai.example.com_v1_modelrouter_routing_chat.yaml",
            "1-manifest/ai.example.com_v1_modelrouter_routing_embeddings.yaml",
            "1-manifest/v1_namespace_routing.yaml",
        ]
    );
    let plan = config.plan(&render).unwrap();
    assert_exit(&plan, 0);
}
