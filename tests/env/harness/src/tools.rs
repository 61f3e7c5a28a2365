//! Where the provisioned tools are. `tests/env/provision --print-path` makes sure every tool is
//! in the cache (building what is missing) and prints their directories, so this crate never
//! re-derives cache paths or versions.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};

/// The directories of the provisioned tools, in the order `provision` printed them.
#[derive(Debug, Clone)]
pub struct Tools {
    dirs: Vec<PathBuf>,
}

impl Tools {
    /// The tools of this process, provisioned once.
    pub fn get() -> Result<&'static Tools> {
        static TOOLS: OnceLock<Tools> = OnceLock::new();
        if let Some(tools) = TOOLS.get() {
            return Ok(tools);
        }
        let tools = Self::provision()?;
        Ok(TOOLS.get_or_init(|| tools))
    }

    /// Every tool, or only those `AISERVICE_TESTENV_TOOLS` names (space-separated, as
    /// `tests/env/provision` names them: `make demo` needs no Terraform, OpenTofu or Node.js).
    fn provision() -> Result<Tools> {
        let script = Self::testenv_dir().join("provision");
        let only = std::env::var("AISERVICE_TESTENV_TOOLS").unwrap_or_default();
        let output = Command::new(&script)
            .args(only.split_whitespace())
            .arg("--print-path")
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        if !output.status.success() {
            bail!(
                "{} --print-path failed:\n{}",
                script.display(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let path =
            String::from_utf8(output.stdout).context("provision printed a non-UTF-8 path")?;
        Ok(Tools {
            dirs: std::env::split_paths(path.trim()).collect(),
        })
    }

    /// `tests/env/` of this repository.
    pub fn testenv_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the harness crate lives in tests/env/harness")
            .to_path_buf()
    }

    /// The full path of a provisioned file, such as `kube-apiserver`, `pulumi` or
    /// `kwok-stages.yaml`.
    pub fn file(&self, name: &str) -> Result<PathBuf> {
        self.dirs
            .iter()
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
            .with_context(|| {
                format!(
                    "{name} is not among the provisioned tools ({:?})",
                    self.dirs
                )
            })
    }

    /// Runs the provisioned `kubectl` with `kubeconfig`; fails with its stderr.
    pub fn kubectl(&self, kubeconfig: &Path, args: &[&str]) -> Result<String> {
        let out = Command::new(self.file("kubectl")?)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .output()
            .context("running kubectl")?;
        if !out.status.success() {
            bail!(
                "kubectl {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Builds the wheel of the Python project or sdist `source` into `wheel_dir`, offline: the
    /// provisioned Python has setuptools, the build backend of our SDKs, so nothing is fetched.
    pub fn build_wheel(&self, source: &Path, wheel_dir: &Path) -> Result<()> {
        let out = Command::new(self.file("python")?)
            .args([
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args([
                "--no-index",
                "--no-deps",
                "--no-build-isolation",
                "--wheel-dir",
            ])
            .arg(wheel_dir)
            .arg(source)
            .output()
            .context("running pip wheel")?;
        if !out.status.success() {
            bail!(
                "pip wheel {} failed: {}",
                source.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// A `PATH` value with `first` (for example our own binaries), then the provisioned
    /// tools, then the caller's `PATH`.
    pub fn path_with(&self, first: &[&Path]) -> OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let dirs = first
            .iter()
            .map(|p| p.to_path_buf())
            .chain(self.dirs.iter().cloned())
            .chain(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).expect("tool directories contain no ':'")
    }
}
