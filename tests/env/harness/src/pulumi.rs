//! Runs the real `pulumi` CLI on a program with a local file backend: no cloud login, no
//! update check, no plugin downloads, and our own binaries first on `PATH` so the engine
//! finds `pulumi-resource-aiservice` there.
//!
//! Node.js programs (a `package.json` beside `Pulumi.yaml`) get their dependencies from the tool
//! cache: `tests/env/provision --node-modules` runs `npm ci` of the program's committed
//! `package-lock.json` once per lockfile, and the copy of the program gets a `node_modules`
//! symlink to that cache entry.
//!
//! [`PulumiStack::with_sdk`] also installs our generated SDKs ([`Sdks`], from `make sdk`) the
//! way a user does: `pip install` into the program's virtualenv, or the packed Node.js package
//! into its `node_modules`.

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

impl PulumiOutput {
    /// Both streams, for assertions and failure messages.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A stack of a copy of a program directory, in a work directory removed on drop.
pub struct PulumiStack {
    work: PathBuf,
    program: PathBuf,
    /// The `pulumi` CLI this stack runs.
    cli: PathBuf,
    envs: Vec<(&'static str, OsString)>,
}

/// Where the engine gets `pulumi-resource-aiservice` from.
enum Plugin<'a> {
    /// Our freshly built binary, first on `PATH`, no downloads (development).
    OnPath(&'a Path),
    /// As in a user's CI: a Pulumi installation with its language plugins bundled
    /// (`tests/env/pulumi-install`), plugins on `PATH` ignored, automatic plugin acquisition
    /// on, and the plugin's download URL (the SDK's, from the schema) redirected to `server`.
    Released { server: &'a str },
}

/// The release URL of the plugin archives (the schema's `pluginDownloadURL` before the CLI
/// fills in `${VERSION}`), which [`Plugin::Released`] redirects. A regular expression of the
/// CLI's too: its dots match themselves among others.
const RELEASE_URL: &str = "https://github.com/example/aiservice/releases/";

impl PulumiStack {
    /// Copies `program` into a fresh work directory and creates the stack `test` on a file
    /// backend inside it. `our_bins` is put first on `PATH` (the directory of the freshly built
    /// `pulumi-resource-aiservice`).
    pub fn new(env: &TestEnv, program: &Path, our_bins: &Path) -> Result<PulumiStack> {
        Self::create(env.kubeconfig(), program, Plugin::OnPath(our_bins), None)
    }

    /// Like [`PulumiStack::new`], on the cluster of `kubeconfig` (a control plane of the
    /// test's own, which the test may crash and restart).
    pub fn on_cluster(kubeconfig: &Path, program: &Path, our_bins: &Path) -> Result<PulumiStack> {
        Self::create(kubeconfig, program, Plugin::OnPath(our_bins), None)
    }

    /// Like [`PulumiStack::new`], with the generated SDK of the program's language installed
    /// into the copy's environment: a Python program's virtualenv (Pulumi.yaml
    /// `runtime.options.virtualenv`) gets `pip install` of the Python SDK, a Node.js program's
    /// `node_modules` gets the packed Node.js SDK as `@aiservice/pulumi`.
    pub fn with_sdk(
        env: &TestEnv,
        program: &Path,
        our_bins: &Path,
        sdks: &Sdks,
    ) -> Result<PulumiStack> {
        Self::create(
            env.kubeconfig(),
            program,
            Plugin::OnPath(our_bins),
            Some(sdks),
        )
    }

    /// A Python program with the released Python SDK `wheel` installed in its virtualenv, run
    /// the way a user's CI runs it: an empty `PULUMI_HOME`, no plugin of ours anywhere, so the
    /// CLI downloads the plugin the SDK declares, from `server` (where the release's plugin
    /// archives are served) instead of the release URL.
    pub fn with_released_plugin(
        env: &TestEnv,
        program: &Path,
        wheel: &Path,
        server: &str,
    ) -> Result<PulumiStack> {
        let stack = Self::create(env.kubeconfig(), program, Plugin::Released { server }, None)?;
        install_python_wheel(&stack.program, wheel, Tools::get()?)?;
        Ok(stack)
    }

    fn create(
        kubeconfig: &Path,
        program: &Path,
        plugin: Plugin,
        sdks: Option<&Sdks>,
    ) -> Result<PulumiStack> {
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
            match sdks {
                None => std::os::unix::fs::symlink(&modules, copy.join("node_modules"))
                    .with_context(|| format!("linking {}", modules.display()))?,
                Some(sdks) => sdks.install_nodejs(&modules, &copy.join("node_modules"))?,
            }
        } else if let Some(sdks) = sdks {
            sdks.install_python(&copy, tools)?;
        }
        std::fs::create_dir_all(work.join("backend"))?;
        let mut envs = vec![
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
            ("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", "true".into()),
            ("PULUMI_SKIP_CONFIRMATIONS", "true".into()),
            ("KUBECONFIG", kubeconfig.as_os_str().to_owned()),
        ];
        let cli = match plugin {
            Plugin::OnPath(our_bins) => {
                envs.push(("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true".into()));
                envs.push(("PATH", tools.path_with(&[our_bins])));
                tools.file("pulumi")?
            }
            Plugin::Released { server } => {
                let install = work.join("pulumi-cli");
                run_checked(
                    Command::new(Tools::testenv_dir().join("pulumi-install")).arg(&install),
                )?;
                envs.push(("PULUMI_IGNORE_AMBIENT_PLUGINS", "true".into()));
                envs.push((
                    "PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES",
                    format!("^{RELEASE_URL}={server}").into(),
                ));
                let inherited = std::env::var_os("PATH").unwrap_or_default();
                let path =
                    std::iter::once(install.clone()).chain(std::env::split_paths(&inherited));
                envs.push(("PATH", std::env::join_paths(path)?));
                install.join("pulumi")
            }
        };
        let stack = PulumiStack {
            work,
            program: copy,
            cli,
            envs,
        };
        stack.run_ok(&["stack", "init", "test"])?;
        Ok(stack)
    }

    /// Runs `pulumi ARGS...` in the program directory; never fails on a non-zero exit (the
    /// caller asserts on `success` and the output).
    pub fn run(&self, args: &[&str]) -> Result<PulumiOutput> {
        self.run_with(args, &self.envs)
    }

    fn run_with(&self, args: &[&str], envs: &[(&str, OsString)]) -> Result<PulumiOutput> {
        let out = Command::new(&self.cli)
            .args(args)
            .args(["--non-interactive", "--color=never"])
            .current_dir(&self.program)
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .output()
            .context("running pulumi")?;
        Ok(PulumiOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// `pulumi package add PROVIDER ARGS...` as a user runs it in the program: the provider
    /// generates a package's schema, Pulumi's code generator of the CLI's version writes its
    /// SDK into `sdks/`, and the program's files are linked to it. (The test environment's
    /// language hosts run programs only, so the codegen plugin answers for the program's
    /// language here, see tests/env/language-hosts/codegen.) The SDK is not installed yet:
    /// see [`PulumiStack::install_local_sdk`].
    pub fn package_add(&self, provider: &Path, args: &[&str]) -> Result<PulumiOutput> {
        let codegen = Tools::get()?.file("pulumi-language-codegen")?;
        let codegen_dir = codegen
            .parent()
            .context("the codegen plugin has a directory")?;
        let mut envs = self.envs.clone();
        if let Some((_, path)) = envs.iter_mut().find(|(key, _)| *key == "PATH") {
            let dirs: Vec<PathBuf> = std::iter::once(codegen_dir.to_path_buf())
                .chain(std::env::split_paths(path))
                .collect();
            *path = std::env::join_paths(dirs)?;
        }
        let provider = provider.to_str().context("a provider path in UTF-8")?;
        let all: Vec<&str> = ["package", "add", provider]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        self.run_with(&all, &envs)
    }

    /// Installs the local SDK `pulumi package add` wrote to `sdks/<name>`, offline, as the
    /// language's package manager would from the link it recorded: Python builds and installs
    /// it into the program's virtualenv (`pip install` of `requirements.txt`'s `sdks/<name>`),
    /// Node.js links it into `node_modules` as `npm_name` and runs its postinstall (npm's
    /// `file:` dependency), which compiles it.
    pub fn install_local_sdk(&self, name: &str, npm_name: &str) -> Result<()> {
        let tools = Tools::get()?;
        let sdk = self.program.join("sdks").join(name);
        let node_modules = self.program.join("node_modules");
        if !node_modules.exists() {
            let wheels = self.work.join("wheels");
            tools.build_wheel(&sdk, &wheels)?;
            let wheel = std::fs::read_dir(&wheels)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .find(|path| path.extension().is_some_and(|e| e == "whl"))
                .context("pip wheel built no wheel of the local SDK")?;
            return install_python_wheel(&self.program, &wheel, tools);
        }
        // The copy's node_modules links the cached one: make it a directory of links, so the
        // SDK can join them.
        let cached = std::fs::read_link(&node_modules)
            .context("the program's node_modules is not the cached one")?;
        std::fs::remove_file(&node_modules)?;
        for entry in std::fs::read_dir(&cached)? {
            let entry = entry?;
            let target = node_modules.join(entry.file_name());
            std::fs::create_dir_all(&node_modules)?;
            std::os::unix::fs::symlink(entry.path(), target)?;
        }
        let linked = node_modules.join(npm_name);
        std::fs::create_dir_all(linked.parent().unwrap_or(&node_modules))?;
        std::os::unix::fs::symlink(&sdk, &linked)?;
        // Node resolves the SDK's own imports (@pulumi/pulumi) from its real directory.
        std::os::unix::fs::symlink(&cached, sdk.join("node_modules"))?;
        // The SDK's postinstall, as npm runs it: `tsc` from the dependencies' .bin on PATH.
        let node = tools.file("node")?;
        let path = tools.path_with(&[&cached.join(".bin"), node.parent().unwrap_or(&sdk)]);
        run_checked(
            Command::new(&node)
                .arg("scripts/postinstall.js")
                .current_dir(&sdk)
                .env("PATH", path),
        )
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

    /// Edits the copy of the program as a user would: replaces the one occurrence of `from`
    /// in `file` with `to`, failing when `from` is not there exactly once.
    pub fn edit(&self, file: &str, from: &str, to: &str) -> Result<()> {
        let path = self.program.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let found = text.matches(from).count();
        if found != 1 {
            bail!("{file} has {found} occurrences of {from:?}, expected exactly one");
        }
        std::fs::write(&path, text.replacen(from, to, 1))
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The copy of the program, where commands run and write their files (`pulumi import
    /// --out`).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// Another program (a script that runs `pulumi`), run in the program's directory with the
    /// stack's environment: its backend, passphrase and `PATH`.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.program)
            .envs(self.envs.iter().map(|(k, v)| (k, v)));
        command
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

/// The SDKs `make sdk` (`tests/env/gen-sdk`) generated into `target/sdk`.
pub struct Sdks {
    dir: PathBuf,
}

impl Sdks {
    /// The SDKs under `repo`, provided they were generated from its current
    /// `schema/schema.json` (gen-sdk keeps a copy of the schema it used).
    pub fn generated(repo: &Path) -> Result<Sdks> {
        let dir = repo.join("target/sdk");
        let used = std::fs::read(dir.join("schema.json")).ok();
        let current = std::fs::read(repo.join("schema/schema.json"))
            .with_context(|| format!("reading {}/schema/schema.json", repo.display()))?;
        if used.as_deref() != Some(current.as_slice()) {
            bail!(
                "the SDKs in {} are missing or were generated from another schema/schema.json: \
                 run `make sdk`",
                dir.display()
            );
        }
        Ok(Sdks { dir })
    }

    /// The directory of one language's SDK (`python`, `nodejs`, `go`).
    pub fn dir(&self, language: &str) -> PathBuf {
        self.dir.join(language)
    }

    /// A `node_modules` with every package of the cached `modules` (linked) and our SDK
    /// unpacked as `@aiservice/pulumi`, as `npm install aiservice-pulumi.tgz` would add it. A
    /// copy, not a link: the SDK must find the program's own `@pulumi/pulumi`.
    fn install_nodejs(&self, modules: &Path, node_modules: &Path) -> Result<()> {
        std::fs::create_dir_all(node_modules.join("@aiservice"))?;
        for entry in std::fs::read_dir(modules)? {
            let entry = entry?;
            std::os::unix::fs::symlink(entry.path(), node_modules.join(entry.file_name()))?;
        }
        copy_dir(
            &self.dir("nodejs").join("bin"),
            &node_modules.join("@aiservice/pulumi"),
        )
        .context("copying the Node.js SDK")
    }

    /// Creates the virtualenv a Python program names and installs the Python SDK's wheel into
    /// it.
    fn install_python(&self, program: &Path, tools: &Tools) -> Result<()> {
        let wheel = std::fs::read_dir(self.dir("python").join("dist"))
            .context("listing the Python SDK's wheels")?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .find(|path| path.extension().is_some_and(|e| e == "whl"))
            .context("the Python SDK has no wheel: run `make sdk`")?;
        install_python_wheel(program, &wheel, tools)
    }
}

/// Creates the virtualenv a Python program names (Pulumi.yaml `runtime.options.virtualenv`)
/// and installs `wheel` into it (offline: its dependencies are the host's pulumi SDK and
/// parver).
fn install_python_wheel(program: &Path, wheel: &Path, tools: &Tools) -> Result<()> {
    let project: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(program.join("Pulumi.yaml")).context("reading Pulumi.yaml")?,
    )
    .context("parsing Pulumi.yaml")?;
    let Some(virtualenv) = project["runtime"]["options"]["virtualenv"].as_str() else {
        bail!("Pulumi.yaml names no runtime.options.virtualenv to install the SDK into");
    };
    let venv = program.join(virtualenv);
    let python = tools.file("python")?;
    run_checked(Command::new(&python).args(["-m", "venv"]).arg(&venv))?;
    run_checked(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-index", "--no-deps"])
            .arg(wheel),
    )
}

fn run_checked(command: &mut Command) -> Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Copies a program directory, leaving out a `node_modules` or `venv` someone installed in the
/// source (the copy gets its own).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == "node_modules" || entry.file_name() == "venv" {
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
