//! Runs the real `pulumi` CLI on a program with a local file backend: no cloud login, no
//! update check, no plugin downloads, and our own binaries first on `PATH` so the engine
//! finds `pulumi-resource-aiservice` there.
//!
//! Node.js programs (a `package.json` beside `Pulumi.yaml`) get their dependencies from the tool
//! cache: `tests/env/provision --node-modules` runs `npm ci` of the program's committed
//! `package-lock.json` once per lockfile, and the copy of the program gets a `node_modules`
//! symlink to that cache entry.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::test_env::TestEnv;
use crate::tools::Tools;

/// What one `pulumi` command printed.
#[derive(Debug)]
pub struct PulumiOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// A stack of a copy of a program directory, in a work directory removed on drop.
pub struct PulumiStack {
    work: PathBuf,
    program: PathBuf,
    envs: Vec<(&'static str, OsString)>,
}

impl PulumiStack {
    /// Copies `program` into a fresh work directory and creates the stack `test` on a file
    /// backend inside it. `our_bins` is put first on `PATH` (the directory of the freshly built
    /// `pulumi-resource-aiservice`).
    pub fn new(env: &TestEnv, program: &Path, our_bins: &Path) -> Result<PulumiStack> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let tools = Tools::get()?;
        let work = std::env::temp_dir().join(format!(
            "aiservice-pulumi-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&work);
        let copy = work.join("program");
        copy_dir(program, &copy).with_context(|| format!("copying {}", program.display()))?;
        if program.join("package.json").is_file() {
            let modules = node_modules(program)?;
            std::os::unix::fs::symlink(&modules, copy.join("node_modules"))
                .with_context(|| format!("linking {}", modules.display()))?;
        }
        std::fs::create_dir_all(work.join("backend"))?;
        let envs = vec![
            (
                "PULUMI_BACKEND_URL",
                format!("file://{}", work.join("backend").display()).into(),
            ),
            ("PULUMI_HOME", work.join("home").into_os_string()),
            (
                "PULUMI_CONFIG_PASSPHRASE",
                "aiservice-test-passphrase".into(),
            ),
            ("PULUMI_SKIP_UPDATE_CHECK", "true".into()),
            ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true".into()),
            ("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true".into()),
            ("PULUMI_SKIP_CONFIRMATIONS", "true".into()),
            ("KUBECONFIG", env.kubeconfig().as_os_str().to_owned()),
            ("PATH", tools.path_with(&[our_bins])),
        ];
        let stack = PulumiStack {
            work,
            program: copy,
            envs,
        };
        stack.run_ok(&["stack", "init", "test"])?;
        Ok(stack)
    }

    /// Runs `pulumi ARGS...` in the program directory; never fails on a non-zero exit (the
    /// caller asserts on `success` and the output).
    pub fn run(&self, args: &[&str]) -> Result<PulumiOutput> {
        let out = Command::new(Tools::get()?.file("pulumi")?)
            .args(args)
            .args(["--non-interactive", "--color=never"])
            .current_dir(&self.program)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .output()
            .context("running pulumi")?;
        Ok(PulumiOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs `pulumi ARGS...` and fails with its output unless it succeeded.
    pub fn run_ok(&self, args: &[&str]) -> Result<PulumiOutput> {
        let out = self.run(args)?;
        if !out.success {
            bail!(
                "pulumi {} failed\nstdout:\n{}\nstderr:\n{}",
                args.join(" "),
                out.stdout,
                out.stderr
            );
        }
        Ok(out)
    }

    /// `pulumi up --yes`.
    pub fn up(&self) -> Result<PulumiOutput> {
        self.run_ok(&["up", "--yes", "--skip-preview"])
    }

    /// The stack's outputs, secrets shown.
    pub fn outputs(&self) -> Result<Value> {
        let out = self.run_ok(&["stack", "output", "--json", "--show-secrets"])?;
        serde_json::from_str(&out.stdout).context("pulumi stack output --json printed no JSON")
    }
}

impl Drop for PulumiStack {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// The cached `node_modules` of the Node.js program `program`, provisioned if missing.
fn node_modules(program: &Path) -> Result<PathBuf> {
    let script = Tools::testenv_dir().join("provision");
    let out = Command::new(&script)
        .arg("--node-modules")
        .arg(program)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} --node-modules {} failed:\n{}",
            script.display(),
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = String::from_utf8(out.stdout).context("provision printed a non-UTF-8 path")?;
    Ok(PathBuf::from(path.trim()))
}

/// Copies a program directory, leaving out a `node_modules` someone installed in the source
/// (the copy links the cached one instead).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "node_modules" {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
