//! Terraform 1.0.3 and OpenTofu install the released provider as users do: the configuration
//! names `source = "example/aiservice"` and a version, the CLI configuration has only a
//! `filesystem_mirror` at the release's `terraform/` directory (no `dev_overrides`), and
//! `init` installs the provider and locks the hash of its zip; plan, apply and destroy run
//! with it.

use std::path::Path;
use std::process::Command;

use aiservice_testenv::{Cli, TerraformConfig, TestEnv};
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;

use crate::common::{assert_gone, live, repo};
use crate::{CLUSTER_WIDE, dist_dir, scratch_dir, version};

/// The `h1:` hash Terraform locks for a provider package: base64 of the SHA-256 of one line
/// `<sha256 hex>  <name>` per file of the zip, sorted by name (Go's dirhash "Hash1").
fn h1_of_zip(zip: &Path) -> String {
    let unpacked = scratch_dir("h1");
    let out = Command::new("unzip")
        .args(["-q", "-o"])
        .arg(zip)
        .arg("-d")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(out.status.success(), "unzip: {out:?}");
    let mut names: Vec<String> = std::fs::read_dir(&unpacked)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let summary: String = names
        .iter()
        .map(|name| {
            let bytes = std::fs::read(unpacked.join(name)).unwrap();
            format!("{}  {name}\n", hex(digest(&SHA256, &bytes).as_ref()))
        })
        .collect();
    std::fs::remove_dir_all(&unpacked).unwrap();
    let hash = digest(&SHA256, summary.as_bytes());
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(hash.as_ref())
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn installs_from_the_mirror(cli: Cli, registry: &str) {
    let _cluster_wide = CLUSTER_WIDE.lock().await;
    let mirror = dist_dir().join("terraform");
    let package = mirror.join(format!(
        "{registry}/example/aiservice/terraform-provider-aiservice_{}_linux_amd64.zip",
        version()
    ));
    let env = TestEnv::new("dist-terraform").await.unwrap();
    let config = TerraformConfig::from_mirror(
        &env,
        cli,
        &repo("sdk-examples/terraform/model-serving"),
        &mirror,
    )
    .unwrap();
    config
        .edit(
            "main.tf",
            "source = \"example/aiservice\"",
            &format!(
                "source = \"example/aiservice\"\n      version = \"{}\"",
                version()
            ),
        )
        .unwrap();

    let init = config.run_ok(&["init"]).unwrap();
    assert!(
        init.stdout
            .contains(&format!("Installed example/aiservice v{}", version())),
        "{}",
        init.text()
    );
    let lock = std::fs::read_to_string(config.dir().join(".terraform.lock.hcl")).unwrap();
    assert!(
        lock.contains(&format!("provider \"{registry}/example/aiservice\"")),
        "{lock}"
    );
    assert!(
        lock.contains(&format!("version     = \"{}\"", version())),
        "{lock}"
    );
    assert!(lock.contains(&h1_of_zip(&package)), "{lock}");

    let plan = config.plan(&[]).unwrap();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        !plan.text().contains("Provider development overrides"),
        "{}",
        plan.text()
    );
    config.run_ok(&["apply", "-auto-approve"]).unwrap();
    let created = live(
        &env,
        "modelservings.ai.example.com",
        "example-model-serving",
    );
    assert_eq!(created["spec"]["replicas"], 3, "{created}");
    config.run_ok(&["destroy", "-auto-approve"]).unwrap();
    assert_gone(&env, "crd/modelservings.ai.example.com");
}

#[tokio::test]
async fn terraform_installs_the_released_provider_from_a_filesystem_mirror() {
    installs_from_the_mirror(Cli::Terraform, "registry.terraform.io").await;
}

#[tokio::test]
async fn opentofu_installs_the_released_provider_from_a_filesystem_mirror() {
    installs_from_the_mirror(Cli::OpenTofu, "registry.opentofu.org").await;
}
