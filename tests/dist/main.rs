//! The release artefacts of `make dist` (in `target/dist`), installed the way users install
//! them, with the real CLIs and nothing of ours on `PATH`:
//!
//! - `plugin_install`: a CI-style Pulumi home downloads the plugin archive from a loopback
//!   server by itself (the SDK declares it), then `up` works;
//! - `terraform_mirror`: Terraform and OpenTofu install the provider from a filesystem mirror
//!   with `terraform init`, lock its hash, plan, apply and destroy;
//! - `image`: the operator's OCI image: its config, a push to and pull from a loopback
//!   registry, its binary running from the unpacked root filesystem;
//! - `helm`: the chart renders exactly the bundle and `helm install` brings the operator up;
//! - `sdk_packages`: the Python sdist, the npm tarball and the Go module install with their
//!   languages' own tools.
//!
//! One test binary, so they share one control plane.

#[path = "../common/mod.rs"]
mod common;
mod helm;
mod image;
mod plugin_install;
mod sdk_packages;
mod terraform_mirror;

use std::path::PathBuf;

/// `target/dist`, which `make dist` fills (`make test` runs it first).
pub fn dist_dir() -> PathBuf {
    let dir = common::repo("target/dist");
    assert!(
        dir.join("VERSION").is_file(),
        "{} has no release artefacts: run `make dist` first",
        dir.display()
    );
    dir
}

/// Held by a test while it installs cluster-wide objects that another test also installs
/// (the CRDs and cluster role of the operator's bundle, the seed's ModelServing CRD).
pub static CLUSTER_WIDE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh, empty scratch directory `aiservice-dist-<name>-<pid>` in the system's temporary
/// directory; the test removes it when done.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aiservice-dist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The version every artefact carries: the crate's.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
