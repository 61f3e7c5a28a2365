//! Runs a real Terraform-style CLI (Terraform or OpenTofu, provisioned by `tests/env/`) on a
//! copy of a configuration: our freshly built `terraform-provider-aiservice` through a CLI
//! configuration file's `dev_overrides` (so no `init`, no registry) or, as users install it,
//! from a filesystem mirror with `init`; no update checks, state in the work directory, and
//! `TF_VAR_namespace` set to the test's namespace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

use crate::test_env::TestEnv;
use crate::tools::Tools;

/// Which CLI runs the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cli {
    Terraform,
    OpenTofu,
}

impl Cli {
    pub fn binary(self) -> &'static str {
        match self {
            Cli::Terraform => "terraform",
            Cli::OpenTofu => "tofu",
        }
    }
}

/// What one command printed and its exit code.
#[derive(Debug)]
pub struct TerraformOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl TerraformOutput {
    /// Both streams, for assertions and failure messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Where the CLI gets `terraform-provider-aiservice`, as its CLI configuration says.
enum Installation<'a> {
    /// The binary in this directory, through `dev_overrides` (no `init`, no registry).
    DevOverride(&'a Path),
    /// `init` from a filesystem mirror and nowhere else.
    Mirror(&'a Path),
}

impl Installation<'_> {
    fn cli_config(&self) -> String {
        match self {
            // The key without a host matches each CLI's default registry
            // (registry.terraform.io, registry.opentofu.org).
            Installation::DevOverride(dir) => format!(
                "provider_installation {{\n  dev_overrides {{\n    \"example/aiservice\" = {:?}\n  }}\n  direct {{}}\n}}\n",
                dir.display().to_string()
            ),
            Installation::Mirror(dir) => format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
                dir.display().to_string()
            ),
        }
    }
}

/// A copy of a configuration directory in a work directory removed on drop.
pub struct TerraformConfig {
    cli: Cli,
    work: PathBuf,
    config: PathBuf,
    envs: Vec<(&'static str, std::ffi::OsString)>,
}

impl TerraformConfig {
    /// Copies the `.tf` files of `config` into a fresh work directory. `provider_dir` holds
    /// `terraform-provider-aiservice`.
    pub fn new(env: &TestEnv, cli: Cli, config: &Path, provider_dir: &Path) -> Result<Self> {
        let installation = Installation::DevOverride(provider_dir);
        Self::create(cli, config, installation, env.kubeconfig(), &env.namespace)
    }

    /// Like [`TerraformConfig::new`], with the provider installed as users install it:
    /// `terraform init` from the filesystem mirror `mirror` (a directory in Terraform's packed
    /// layout, `<hostname>/<namespace>/<type>/<zip>`), the only source of providers.
    pub fn from_mirror(env: &TestEnv, cli: Cli, config: &Path, mirror: &Path) -> Result<Self> {
        let installation = Installation::Mirror(mirror);
        Self::create(cli, config, installation, env.kubeconfig(), &env.namespace)
    }

    /// Like [`TerraformConfig::new`], with no control plane: `KUBECONFIG` is `kubeconfig`
    /// (a cluster that cannot be reached, or no file at all) and `TF_VAR_namespace` is unset.
    pub fn without_control_plane(
        cli: Cli,
        config: &Path,
        provider_dir: &Path,
        kubeconfig: &Path,
    ) -> Result<Self> {
        let installation = Installation::DevOverride(provider_dir);
        let mut config = Self::create(cli, config, installation, kubeconfig, "")?;
        config.envs.retain(|(key, _)| *key != "TF_VAR_namespace");
        Ok(config)
    }

    fn create(
        cli: Cli,
        config: &Path,
        installation: Installation,
        kubeconfig: &Path,
        namespace: &str,
    ) -> Result<Self> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let tools = Tools::get()?;
        let work = std::env::temp_dir().join(format!(
            "aiservice-{}-{}-{}",
            cli.binary(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&work);
        let copy = work.join("config");
        std::fs::create_dir_all(&copy)?;
        for entry in
            std::fs::read_dir(config).with_context(|| format!("reading {}", config.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, copy.join(path.file_name().unwrap_or_default()))?;
            }
        }
        let cli_config = work.join("cli.tfrc");
        std::fs::write(&cli_config, installation.cli_config())?;
        let envs = vec![
            ("TF_CLI_CONFIG_FILE", cli_config.into_os_string()),
            ("TF_IN_AUTOMATION", "1".into()),
            ("TF_INPUT", "0".into()),
            ("CHECKPOINT_DISABLE", "1".into()),
            ("TF_VAR_namespace", namespace.into()),
            ("KUBECONFIG", kubeconfig.as_os_str().to_owned()),
            ("PATH", tools.path_with(&[])),
        ];
        Ok(TerraformConfig {
            cli,
            work,
            config: copy,
            envs,
        })
    }

    /// Has the CLI write its debug log, and the provider's (its stderr, at `provider_level`),
    /// to `path`.
    pub fn log_to(&mut self, path: &Path, provider_level: &str) {
        self.envs.push(("TF_LOG", "DEBUG".into()));
        self.envs.push(("TF_LOG_PATH", path.as_os_str().to_owned()));
        self.envs.push(("AISERVICE_LOG", provider_level.into()));
    }

    /// Runs `<cli> SUBCOMMAND -no-color ARGS...` in the configuration's directory (flags must
    /// come before positional arguments); never fails on a non-zero exit (the caller asserts
    /// on the code and the output).
    pub fn run(&self, args: &[&str]) -> Result<TerraformOutput> {
        let (subcommand, rest) = args.split_first().context("no subcommand")?;
        let out = Command::new(Tools::get()?.file(self.cli.binary())?)
            .arg(subcommand)
            .arg("-no-color")
            .args(rest)
            .current_dir(&self.config)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .output()
            .with_context(|| format!("running {}", self.cli.binary()))?;
        Ok(TerraformOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs a command and fails with its output unless it exited 0.
    pub fn run_ok(&self, args: &[&str]) -> Result<TerraformOutput> {
        let out = self.run(args)?;
        if out.code != 0 {
            bail!(
                "{} {} exited {}:\n{}",
                self.cli.binary(),
                args.join(" "),
                out.code,
                out.text()
            );
        }
        Ok(out)
    }

    /// `plan -detailed-exitcode ARGS...`: 0 no changes, 1 error, 2 changes.
    pub fn plan(&self, args: &[&str]) -> Result<TerraformOutput> {
        let mut all = vec!["plan", "-detailed-exitcode"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// The copy of the configuration, where commands run.
    pub fn dir(&self) -> &Path {
        &self.config
    }

    /// Another program (a script that runs the CLI), with the configuration's environment.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.config)
            .envs(self.envs.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Replaces every occurrence of `from` in `file`, failing when there is none.
    pub fn edit(&self, file: &str, from: &str, to: &str) -> Result<()> {
        let path = self.config.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if !text.contains(from) {
            bail!("{file} has no {from:?}");
        }
        std::fs::write(&path, text.replace(from, to))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// Writes `file` with `text`, replacing the configuration's file of that name.
    pub fn write(&self, file: &str, text: &str) -> Result<()> {
        std::fs::write(self.config.join(file), text).with_context(|| format!("writing {file}"))
    }

    /// The value of output `name`, as `output -json` prints it.
    pub fn output(&self, name: &str) -> Result<serde_json::Value> {
        let out = self.run_ok(&["output", "-json", name])?;
        serde_json::from_str(&out.stdout).with_context(|| format!("output {name}: {}", out.stdout))
    }
}

impl Drop for TerraformConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}
