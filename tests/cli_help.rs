//! Both provider binaries explain themselves to a person who runs them with `--help`: what
//! they are, that a CLI starts them, their flags and settings; and exit 0.

use std::process::Command;

/// Runs `binary --help` with a clean environment (no plugin handshake variables), so the
/// help never depends on how the binary would otherwise start.
fn help_of(binary: &str) -> String {
    let output = Command::new(binary)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("{binary} does not run: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{binary} --help exits 0, got {}:\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn assert_mentions(help: &str, words: &[&str]) {
    for word in words {
        assert!(help.contains(word), "--help mentions {word:?}:\n{help}");
    }
}

#[test]
fn pulumi_provider_prints_usage() {
    let help = help_of(env!("CARGO_BIN_EXE_pulumi-resource-aiservice"));
    assert!(
        help.starts_with(&format!(
            "pulumi-resource-aiservice {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{help}"
    );
    assert_mentions(
        &help,
        &[
            "The pulumi CLI starts it",
            "<engine-address>",
            "-v=N",
            "--version",
            "--print-schema",
            "kubeconfig",
            "$KUBECONFIG",
            "skipAwait",
        ],
    );
}

#[test]
fn terraform_provider_prints_usage() {
    let help = help_of(env!("CARGO_BIN_EXE_terraform-provider-aiservice"));
    assert!(
        help.starts_with(&format!(
            "terraform-provider-aiservice {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{help}"
    );
    assert_mentions(
        &help,
        &[
            "Terraform or OpenTofu starts it",
            "dev_overrides",
            "--version",
            "AISERVICE_LOG",
            "TF_LOG",
            "KUBECONFIG",
            "field_manager",
        ],
    );
}
