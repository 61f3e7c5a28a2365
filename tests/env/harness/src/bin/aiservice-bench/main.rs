//! `make bench`'s driver: measures the provider's cold start and, against a control plane of
//! its own, `pulumi preview` and `pulumi up` of a program with many custom resources and the
//! provider's peak memory; then reads criterion's Check+Diff result and prints one summary
//! table. Every figure is shown next to a baseline measured in the same run, as a ratio.
//!
//! - Cold start: median time from spawn until the provider printed its port on stdout, over
//!   `--runs` starts (after 3 unmeasured ones); baseline: spawning `/bin/true` until it exited,
//!   interleaved with the provider's starts. `pulumi-resource-aiservice --version` (same
//!   binary, no async runtime, no listener) is shown too.
//! - Check+Diff: criterion's median time per Check+Diff (benches/check_diff.rs) as a rate;
//!   baseline: a JSON round trip of the same object, measured by the same criterion run.
//! - Pulumi: a generated YAML program (one CRD and `--resources` custom resources that depend
//!   on it) run with the real `pulumi` CLI and the YAML host: wall time of `pulumi preview`
//!   (on an empty cluster), `pulumi up --skip-preview` and a second `pulumi preview` (nothing
//!   to change). Baseline: the same program with 0 custom resources.
//! - Destroy: `pulumi destroy` of a CRD and 100 custom resources that `pulumi up` made;
//!   baseline: `kubectl delete --wait` of the same objects (made by `kubectl apply
//!   --server-side`), the instances and then the CRD; medians of 3 alternating rounds.
//! - Peak memory: VmHWM (the kernel's peak resident set) of every process running the
//!   provider binary among pulumi's descendants, read from `/proc` every 5 ms while pulumi runs;
//!   baseline: the `pulumi` CLI's own VmHWM in the same command. CPU time (utime + stime) of
//!   the provider, the CLI and the YAML host is sampled the same way and shown per command.
//!
//! The control plane (etcd and kube-apiserver, no workloads) lives in its own directory and
//! is stopped before the table is printed; a provider process left behind is killed and
//! fails the run.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod comparison;
mod operator_scale;
mod terraform_compare;

use aiservice_testenv::{ControlPlane, Options, Tools, remove_stale_dirs, tail};
use anyhow::{Context, Result, bail, ensure};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Benchmarks of the aiservice Pulumi provider (run by `make bench`)")]
struct Cli {
    /// The provider binary to measure (a release build).
    #[arg(long)]
    provider: PathBuf,
    /// Where `cargo bench --bench check_diff` wrote its results (its CRITERION_HOME).
    #[arg(long)]
    criterion: PathBuf,
    /// Cold starts to measure.
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Custom resources in the Pulumi program.
    #[arg(long, default_value_t = 500)]
    resources: usize,
    /// The operator binary to measure at scale (a release build); unset: skip that part.
    #[arg(long)]
    operator: Option<PathBuf>,
    /// Measure only the operator (skip the provider's figures).
    #[arg(long)]
    operator_only: bool,
    /// The numbers of AIServices the operator is measured with.
    #[arg(long, num_args = 1.., default_values_t = [1000, 10_000])]
    aiservices: Vec<usize>,
    /// Measure only the Terraform and OpenTofu comparison.
    #[arg(long)]
    terraform_only: bool,
    /// The Terraform provider binary to measure (a release build); unset: skip Terraform.
    #[arg(long)]
    terraform_provider: Option<PathBuf>,
    /// The null providers' directory (target/release of aiservice-null-providers).
    #[arg(long)]
    null_providers: Option<PathBuf>,
    /// The numbers of custom resources in the side-by-side comparisons.
    #[arg(long, num_args = 1.., default_values_t = [100, 500])]
    sizes: Vec<usize>,
    /// Rounds of each side-by-side comparison (medians are reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

const COLD_START_TARGET_MS: f64 = 20.0;
const CHECK_DIFF_TARGET_PER_SEC: f64 = 50_000.0;
const RSS_TARGET_MB: f64 = 40.0;
/// Custom resources in the destroy comparison.
const DESTROY_RESOURCES: usize = 100;

fn main() -> Result<()> {
    let cli = Cli::parse();
    let provider = std::fs::canonicalize(&cli.provider)
        .with_context(|| format!("the provider binary {}", cli.provider.display()))?;
    let load_before = load_average();
    let mut rows = Vec::new();
    let mut comparisons = Vec::new();

    if !cli.operator_only && !cli.terraform_only {
        eprintln!("== cold start: {} runs", cli.runs);
        rows.push(cold_start(&provider, cli.runs)?);

        eprintln!(
            "== check+diff: criterion results in {}",
            cli.criterion.display()
        );
        rows.extend(check_diff(&cli.criterion)?);

        eprintln!(
            "== pulumi: a CRD and {} custom resources against a fresh control plane",
            cli.resources
        );
        rows.extend(pulumi_runs(&provider, cli.resources)?);
    }

    if let Some(terraform_provider) = &cli.terraform_provider
        && !cli.operator_only
    {
        eprintln!("== terraform and opentofu: {:?} custom resources", cli.sizes);
        comparisons.extend(terraform_compare::terraform_runs(
            terraform_provider,
            cli.null_providers.as_deref(),
            &cli.sizes,
            cli.rounds,
        )?);
    }

    if let Some(operator) = &cli.operator
        && !cli.terraform_only
    {
        let operator = std::fs::canonicalize(operator)
            .with_context(|| format!("the operator binary {}", operator.display()))?;
        eprintln!("== operator: {:?} AIServices on kwok", cli.aiservices);
        let (compared, other) =
            operator_scale::operator_runs(&operator, &cli.criterion, &cli.aiservices)?;
        comparisons.extend(compared);
        rows.extend(other);
    }

    let load_after = load_average();
    println!();
    println!(
        "== side by side (release builds; {} cores; load average {load_before} at the start, {load_after} at the end)",
        cores()
    );
    comparison::print(&comparisons);
    print_table(&rows, &load_before, &load_after);
    Ok(())
}

/// The 1-, 5- and 15-minute load averages: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One line of the summary.
struct Row {
    figure: String,
    measured: String,
    target: String,
    /// `None` when the figure has no target.
    meets: Option<bool>,
    baseline: String,
    ratio: f64,
}

fn print_table(rows: &[Row], load_before: &str, load_after: &str) {
    let header = Row {
        figure: "figure".into(),
        measured: "measured".into(),
        target: "target".into(),
        meets: None,
        baseline: "baseline (same run)".into(),
        ratio: f64::NAN,
    };
    let widths = |f: fn(&Row) -> usize| rows.iter().chain([&header]).map(f).max().unwrap_or(0);
    let w = [
        widths(|r| r.figure.len()),
        widths(|r| r.measured.len()),
        widths(|r| r.target.len()),
        widths(|r| r.baseline.len()),
    ];
    println!();
    println!(
        "== benchmark summary (release build; {} cores; load average {load_before} at the start, {load_after} at the end)",
        cores()
    );
    let line = |r: &Row, ratio: &str, verdict: &str| {
        println!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {:<w3$}  {:>7}  {}",
            r.figure,
            r.measured,
            r.target,
            r.baseline,
            ratio,
            verdict,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
        )
    };
    line(&header, "ratio", "");
    for row in rows {
        let verdict = match row.meets {
            Some(true) => "meets target",
            Some(false) => "MISSES TARGET",
            None => "",
        };
        line(row, &format!("{:.2}x", row.ratio), verdict);
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

// ---------------------------------------------------------------------------------------
// Cold start

fn cold_start(provider: &Path, runs: usize) -> Result<Row> {
    let truth = Path::new("/bin/true");
    let (mut to_port, mut true_exit, mut version_exit) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs + 3 {
        let samples = (
            spawn_to_port(provider)?,
            spawn_to_exit(truth, &[])?,
            spawn_to_exit(provider, &["--version"])?,
        );
        if run >= 3 {
            to_port.push(samples.0);
            true_exit.push(samples.1);
            version_exit.push(samples.2);
        }
    }
    let port = Stats::of(&to_port);
    let truth = Stats::of(&true_exit);
    let version = Stats::of(&version_exit);
    eprintln!(
        "   spawn to port line:        median {:.2} ms (min {:.2}, p90 {:.2})",
        port.median, port.min, port.p90
    );
    eprintln!(
        "   /bin/true spawn to exit:   median {:.2} ms (min {:.2}, p90 {:.2})",
        truth.median, truth.min, truth.p90
    );
    eprintln!(
        "   --version spawn to exit:   median {:.2} ms (min {:.2}, p90 {:.2})",
        version.median, version.min, version.p90
    );
    Ok(Row {
        figure: format!("cold start to port line (median of {runs})"),
        measured: format!("{:.2} ms", port.median),
        target: format!("< {COLD_START_TARGET_MS} ms"),
        meets: Some(port.median < COLD_START_TARGET_MS),
        baseline: format!(
            "/bin/true {:.2} ms (--version {:.2} ms)",
            truth.median, version.median
        ),
        ratio: port.median / truth.median,
    })
}

/// Milliseconds.
struct Stats {
    median: f64,
    min: f64,
    p90: f64,
}

impl Stats {
    fn of(samples: &[Duration]) -> Stats {
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            min: at(0.0),
            p90: at(0.9),
        }
    }
}

/// A child that is killed (and reaped) if the measurement stops early.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn spawn_to_exit(program: &Path, args: &[&str]) -> Result<Duration> {
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("running {}", program.display()))?;
    let elapsed = start.elapsed();
    ensure!(status.success(), "{} {args:?}: {status}", program.display());
    Ok(elapsed)
}

/// From spawn until the provider printed its port (what the engine waits for).
fn spawn_to_port(provider: &Path) -> Result<Duration> {
    let start = Instant::now();
    let mut child = Reaped(
        Command::new(provider)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", provider.display()))?,
    );
    let stdout = child.0.stdout.take().context("the provider's stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let elapsed = start.elapsed();
    line.trim()
        .parse::<u16>()
        .with_context(|| format!("the provider printed {line:?}, not a port"))?;
    // SAFETY: signalling our own child, which has not been reaped yet.
    unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.0.wait()?;
    // A SIGTERM this early may arrive before the provider handles it: either way is fine.
    ensure!(
        status.success() || status.signal() == Some(libc::SIGTERM),
        "the provider exited with {status} on SIGTERM"
    );
    Ok(elapsed)
}

// ---------------------------------------------------------------------------------------
// Check+Diff (criterion)

/// Per second, from the median of a criterion benchmark `group/bench` in `criterion`.
fn criterion_per_sec(criterion: &Path, group: &str, bench: &str) -> Result<f64> {
    let file = criterion.join(group).join(bench).join("new/estimates.json");
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "reading {} (run `cargo bench --bench {group}` first)",
            file.display()
        )
    })?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    let ns = estimates["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("{} has no median", file.display()))?;
    Ok(1e9 / ns)
}

fn check_diff(criterion: &Path) -> Result<Vec<Row>> {
    let per_sec = |bench: &str| criterion_per_sec(criterion, "check_diff", bench);
    let baseline = per_sec("json_round_trip_baseline")?;
    // The target is for a typical CR; CEL evaluation (kube-cel) is measured for information.
    let row = |figure: &str, bench: &str, targeted: bool| -> Result<Row> {
        let measured = per_sec(bench)?;
        Ok(Row {
            figure: figure.into(),
            measured: format!("{}/s", thousands(measured)),
            target: if targeted {
                format!("> {}/s", thousands(CHECK_DIFF_TARGET_PER_SEC))
            } else {
                "-".into()
            },
            meets: targeted.then_some(measured > CHECK_DIFF_TARGET_PER_SEC),
            baseline: format!("JSON round trip of it {}/s", thousands(baseline)),
            ratio: measured / baseline,
        })
    };
    Ok(vec![
        row(
            "check+diff of a ModelServing CR, 1 thread",
            "custom_resource",
            true,
        )?,
        row(
            "check+diff, its CRD with 1 CEL rule",
            "custom_resource_cel_rule",
            false,
        )?,
    ])
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Pulumi preview and up against a real control plane

/// What one pulumi command cost.
struct Measured {
    wall: Duration,
    /// The largest VmHWM of any provider process, in KiB.
    provider_kib: u64,
    providers_seen: usize,
    pulumi_kib: u64,
    /// CPU time (user + system) of the provider processes, the CLI and the YAML host.
    provider_cpu: Duration,
    pulumi_cpu: Duration,
    yaml_host_cpu: Duration,
}

fn pulumi_runs(provider: &Path, resources: usize) -> Result<Vec<Row>> {
    remove_stale_dirs("aiservice-bench-");
    let dir = std::env::temp_dir().join(format!("aiservice-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    // Spawned from this (the main) thread: the components die with the process if it is
    // killed, and dropping the plane stops them and removes the directory.
    let plane = ControlPlane::start(
        &dir.join("cluster"),
        Options {
            workloads: false,
            die_with_parent: true,
        },
    )?;
    eprintln!(
        "   control plane ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let outcome = (|| -> Result<(Lifecycle, Lifecycle, Measured, Row)> {
        let baseline = Lifecycle::of(&Stack::new(&plane, provider, &dir, "bench0", 0, &[])?)?;
        let name = format!("bench{resources}");
        let many = Lifecycle::of(&Stack::new(&plane, provider, &dir, &name, resources, &[])?)?;
        // The same up without the engine's state checkpoint after every step, which the
        // file backend writes whole each time: what is left is provider and cluster time.
        let name = format!("nockpt{resources}");
        let skip = [("PULUMI_SKIP_CHECKPOINTS", "true")];
        let up_unsaved = Stack::new(&plane, provider, &dir, &name, resources, &skip)?.up()?;
        let destroy = destroy_runs(&plane, provider, &dir, DESTROY_RESOURCES)?;
        Ok((baseline, many, up_unsaved, destroy))
    })();
    drop(plane);
    let _ = std::fs::remove_dir_all(&dir);
    let (baseline, many, up_unsaved, destroy) = outcome?;

    let wall = |m: &Measured| m.wall.as_secs_f64();
    let row = |what: &str, m: &Measured, b: &Measured| Row {
        figure: format!("pulumi {what}, {resources} CRs"),
        measured: format!("{:.2} s", wall(m)),
        target: "-".into(),
        meets: None,
        baseline: format!("0 CRs {:.2} s", wall(b)),
        ratio: wall(m) / wall(b),
    };
    let per_cr = |m: &Measured, b: &Measured| (wall(m) - wall(b)) * 1e3 / resources.max(1) as f64;
    eprintln!(
        "   per custom resource beyond the 0-CR program: preview {:.1} ms, up {:.1} ms (without checkpoints {:.1} ms), preview (no changes) {:.1} ms",
        per_cr(&many.preview, &baseline.preview),
        per_cr(&many.up, &baseline.up),
        per_cr(&up_unsaved, &baseline.up),
        per_cr(&many.preview_again, &baseline.preview_again),
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let peak = [&many.preview, &many.up, &many.preview_again, &up_unsaved]
        .into_iter()
        .max_by_key(|m| m.provider_kib)
        .expect("four commands");
    let idle = baseline.up.provider_kib;
    Ok(vec![
        row("preview (empty cluster)", &many.preview, &baseline.preview),
        row("up --skip-preview", &many.up, &baseline.up),
        row(
            "up, PULUMI_SKIP_CHECKPOINTS=true",
            &up_unsaved,
            &baseline.up,
        ),
        row(
            "preview (no changes)",
            &many.preview_again,
            &baseline.preview_again,
        ),
        destroy,
        Row {
            figure: format!("provider peak RSS, {resources} CRs"),
            measured: format!("{:.1} MB", mib(peak.provider_kib)),
            target: format!("< {RSS_TARGET_MB} MB"),
            meets: Some(mib(peak.provider_kib) < RSS_TARGET_MB),
            baseline: format!(
                "pulumi CLI {:.1} MB (provider, 0 CRs {:.1} MB)",
                mib(peak.pulumi_kib),
                mib(idle)
            ),
            ratio: peak.provider_kib as f64 / peak.pulumi_kib as f64,
        },
    ])
}

/// A program's stack in a work directory of its own, with a local file backend.
struct Stack<'a> {
    plane: &'a ControlPlane,
    provider: &'a Path,
    resources: usize,
    group: String,
    work: PathBuf,
    program: PathBuf,
    envs: Vec<(&'static str, std::ffi::OsString)>,
    /// Shown next to each command's figures.
    extra_env: String,
}

impl<'a> Stack<'a> {
    /// The program `name` (also its API group's first label) with a CRD and `resources`
    /// custom resources; `env` is added to every pulumi command's environment.
    fn new(
        plane: &'a ControlPlane,
        provider: &'a Path,
        dir: &Path,
        name: &str,
        resources: usize,
        env: &[(&'static str, &str)],
    ) -> Result<Stack<'a>> {
        let work = dir.join(name);
        let program = work.join("program");
        let group = format!("{name}.example.com");
        std::fs::create_dir_all(&program)?;
        std::fs::create_dir_all(work.join("backend"))?;
        std::fs::write(
            program.join("Pulumi.yaml"),
            program_yaml(name, &group, resources),
        )?;
        let provider_dir = provider.parent().context("the provider's directory")?;
        let mut envs: Vec<(&'static str, std::ffi::OsString)> = vec![
            (
                "PULUMI_BACKEND_URL",
                format!("file://{}", work.join("backend").display()).into(),
            ),
            ("PULUMI_HOME", work.join("home").into_os_string()),
            ("PULUMI_CONFIG_PASSPHRASE", "aiservice-bench".into()),
            ("PULUMI_SKIP_UPDATE_CHECK", "true".into()),
            ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true".into()),
            ("PULUMI_SKIP_CONFIRMATIONS", "true".into()),
            ("KUBECONFIG", plane.kubeconfig().as_os_str().to_owned()),
            ("PATH", Tools::get()?.path_with(&[provider_dir])),
        ];
        envs.extend(env.iter().map(|(k, v)| (*k, v.into())));
        let extra_env = env
            .iter()
            .map(|(k, v)| format!(" | {k}={v}"))
            .collect::<String>();
        let stack = Stack {
            plane,
            provider,
            resources,
            group,
            work,
            program,
            envs,
            extra_env,
        };
        pulumi(
            &stack.program,
            &stack.envs,
            &["stack", "init", "bench"],
            &stack.work.join("init.log"),
            stack.provider,
        )?;
        Ok(stack)
    }

    /// Runs `pulumi ARGS...`, prints what it cost and returns it.
    fn run(&self, args: &[&str]) -> Result<Measured> {
        let log = self.work.join(format!("{}.log", args.join("_")));
        let measured = pulumi(&self.program, &self.envs, args, &log, self.provider)?;
        eprintln!(
            "   {:>4} CRs  pulumi {:<36} {:>6.2} s wall | peak RSS: provider {:>5.1} MB ({} proc.), pulumi {:>5.1} MB | CPU: provider {:>5.2} s, pulumi {:>5.2} s, YAML host {:>5.2} s{}",
            self.resources,
            args.join(" "),
            measured.wall.as_secs_f64(),
            measured.provider_kib as f64 / 1024.0,
            measured.providers_seen,
            measured.pulumi_kib as f64 / 1024.0,
            measured.provider_cpu.as_secs_f64(),
            measured.pulumi_cpu.as_secs_f64(),
            measured.yaml_host_cpu.as_secs_f64(),
            self.extra_env,
        );
        Ok(measured)
    }

    /// `pulumi up` and a check that every custom resource exists.
    fn up(&self) -> Result<Measured> {
        let measured = self.run(&["up", "--yes", "--skip-preview"])?;
        let created = self.plane.kubectl(&[
            "get",
            &format!("modelservings.{}", self.group),
            "--all-namespaces",
            "--no-headers",
        ])?;
        ensure!(
            created.lines().count() == self.resources,
            "expected {} custom resources after pulumi up, the cluster has {}",
            self.resources,
            created.lines().count()
        );
        Ok(measured)
    }
}

/// `pulumi preview` (empty cluster), `pulumi up` and `pulumi preview` (nothing to change).
struct Lifecycle {
    preview: Measured,
    up: Measured,
    preview_again: Measured,
}

impl Lifecycle {
    fn of(stack: &Stack) -> Result<Lifecycle> {
        Ok(Lifecycle {
            preview: stack.run(&["preview"])?,
            up: stack.up()?,
            preview_again: stack.run(&["preview", "--expect-no-changes"])?,
        })
    }
}

/// One CRD and `resources` instances of it, as Kubernetes objects: the generated programs'
/// resources, and what `kubectl` applies and deletes in the destroy comparison. Each program
/// has its own API group, so the programs do not share a CRD.
fn crd_and_instances(group: &str, resources: usize) -> (serde_json::Value, Vec<serde_json::Value>) {
    let crd = serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("modelservings.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "modelservings", "singular": "modelserving", "kind": "ModelServing"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {"type": "string"},
                        "replicas": {"type": "integer", "minimum": 0},
                        "model": {"type": "object", "properties": {
                            "name": {"type": "string"}, "revision": {"type": "string"},
                        }},
                    },
                }},
            }}}],
        },
    });
    let instances = (0..resources)
        .map(|i| {
            serde_json::json!({
                "apiVersion": format!("{group}/v1"),
                "kind": "ModelServing",
                "metadata": {"name": format!("model-{i}"), "labels": {"app": format!("model-{i}")}},
                "spec": {
                    "image": format!("registry.example.com/models/model-{i}:v1"),
                    "replicas": i % 4 + 1,
                    "model": {"name": format!("model-{i}"), "revision": "r1"},
                },
            })
        })
        .collect();
    (crd, instances)
}

/// The Pulumi YAML program of [`crd_and_instances`]: the objects are the resources' properties
/// (JSON is YAML), each instance depending on the CRD.
fn program_yaml(name: &str, group: &str, resources: usize) -> String {
    let (crd, instances) = crd_and_instances(group, resources);
    let mut crd_inputs = crd;
    if let Some(fields) = crd_inputs.as_object_mut() {
        fields.remove("apiVersion");
        fields.remove("kind");
    }
    let mut yaml = format!(
        "name: {name}\nruntime: yaml\ndescription: A CRD and {resources} custom resources (generated by aiservice-bench).\nresources:\n  crd:\n    type: aiservice:apiextensions/v1:CustomResourceDefinition\n    properties: {crd_inputs}\n"
    );
    for (i, instance) in instances.iter().enumerate() {
        yaml.push_str(&format!(
            "  ms-{i}:\n    type: aiservice:apiextensions:CustomResource\n    properties: {instance}\n    options:\n      dependsOn:\n        - ${{crd}}\n"
        ));
    }
    yaml
}

// ---------------------------------------------------------------------------------------
// Destroy against `kubectl delete` of the same objects

/// Rounds of the destroy comparison, alternating the two tools; medians are reported.
const DESTROY_ROUNDS: usize = 3;

/// `pulumi destroy` of a CRD and `resources` custom resources made by `pulumi up`, against
/// `kubectl delete --wait` of the same objects made by `kubectl apply --server-side`, in
/// alternating rounds on the same control plane.
fn destroy_runs(
    plane: &ControlPlane,
    provider: &Path,
    dir: &Path,
    resources: usize,
) -> Result<Row> {
    let mut ours = Vec::new();
    let mut kubectl = Vec::new();
    for round in 0..DESTROY_ROUNDS {
        let stack = Stack::new(
            plane,
            provider,
            dir,
            &format!("destroy{round}"),
            resources,
            &[],
        )?;
        stack.up()?;
        ours.push(stack.run(&["destroy", "--yes", "--skip-preview"])?.wall);

        let group = format!("kubectl{round}.example.com");
        let (crd, instances) = crd_and_instances(&group, resources);
        let crd_file = dir.join(format!("kubectl{round}-crd.json"));
        let instances_file = dir.join(format!("kubectl{round}-instances.json"));
        std::fs::write(&crd_file, crd.to_string())?;
        let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": instances});
        std::fs::write(&instances_file, list.to_string())?;
        let path = |p: &Path| p.display().to_string();
        plane.kubectl(&["apply", "--server-side", "-f", &path(&crd_file)])?;
        plane.kubectl(&[
            "wait",
            "--for=condition=Established",
            "-f",
            &path(&crd_file),
        ])?;
        plane.kubectl(&[
            "apply",
            "--server-side",
            "-n",
            "default",
            "-f",
            &path(&instances_file),
        ])?;
        let started = Instant::now();
        plane.kubectl(&[
            "delete",
            "--wait",
            "-n",
            "default",
            "-f",
            &path(&instances_file),
        ])?;
        let instances_took = started.elapsed();
        plane.kubectl(&["delete", "--wait", "-f", &path(&crd_file)])?;
        let took = started.elapsed();
        eprintln!(
            "   {resources:>4} CRs  kubectl delete --wait                {:>6.2} s wall (the instances {:.2} s, then the CRD {:.2} s)",
            took.as_secs_f64(),
            instances_took.as_secs_f64(),
            (took - instances_took).as_secs_f64()
        );
        kubectl.push(took);
    }
    let (ours, kubectl) = (
        Stats::of(&ours).median / 1e3,
        Stats::of(&kubectl).median / 1e3,
    );
    Ok(Row {
        figure: format!("pulumi destroy, {resources} CRs + CRD (median of {DESTROY_ROUNDS})"),
        measured: format!("{ours:.2} s"),
        target: "-".into(),
        meets: None,
        baseline: format!("kubectl delete --wait, same objects {kubectl:.2} s"),
        ratio: ours / kubectl,
    })
}

/// Runs `pulumi ARGS...` in `program`, sampling the memory of pulumi and of every process
/// running `provider` until it exits. Fails with the log's end unless pulumi succeeded, and
/// when a provider process outlives it.
fn pulumi(
    program: &Path,
    envs: &[(&str, std::ffi::OsString)],
    args: &[&str],
    log: &Path,
    provider: &Path,
) -> Result<Measured> {
    let out = std::fs::File::create(log)?;
    let mut command = Command::new(Tools::get()?.file("pulumi")?);
    command
        .args(args)
        .args(["--non-interactive", "--color=never"])
        .current_dir(program)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // SAFETY: only async-signal-safe calls between fork and exec. pulumi dies with this
    // process, and its plugins with it (the engine kills them when it closes them).
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let roles = [
        (Role::Provider, provider.to_path_buf()),
        (
            Role::Pulumi,
            std::fs::canonicalize(Tools::get()?.file("pulumi")?)?,
        ),
        (
            Role::YamlHost,
            std::fs::canonicalize(Tools::get()?.file("pulumi-language-yaml")?)?,
        ),
    ];
    let start = Instant::now();
    let mut child = Reaped(command.spawn().context("starting pulumi")?);
    let pulumi_pid = child.0.id() as libc::pid_t;
    let mut watched = vec![Watched::new(pulumi_pid, Role::Pulumi)];
    let (status, wall) = loop {
        if let Some(status) = child.0.try_wait()? {
            break (status, start.elapsed());
        }
        for (pid, role) in descendants_of(pulumi_pid, &roles) {
            if !watched.iter().any(|w| w.pid == pid) {
                watched.push(Watched::new(pid, role));
            }
        }
        for process in &mut watched {
            process.sample();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if !status.success() {
        bail!(
            "pulumi {} failed ({status}); the end of {}:\n{}",
            args.join(" "),
            log.display(),
            tail(log, 40)
        );
    }
    // The engine closes its plugins before it exits; give stragglers a moment.
    let still_running = |w: &&Watched| {
        w.role == Role::Provider
            && std::fs::read_link(format!("/proc/{}/exe", w.pid)).is_ok_and(|exe| exe == provider)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while watched.iter().filter(still_running).count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<libc::pid_t> = watched
        .iter()
        .filter(still_running)
        .map(|w| w.pid)
        .collect();
    if !left.is_empty() {
        for pid in &left {
            // SAFETY: a provider process this run's pulumi started.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        bail!(
            "pulumi {} left provider processes {left:?} running (killed)",
            args.join(" ")
        );
    }
    let of = |role: Role| watched.iter().filter(move |w| w.role == role);
    Ok(Measured {
        wall,
        provider_kib: of(Role::Provider).map(|w| w.hwm_kib).max().unwrap_or(0),
        providers_seen: of(Role::Provider).count(),
        pulumi_kib: of(Role::Pulumi).map(|w| w.hwm_kib).max().unwrap_or(0),
        provider_cpu: of(Role::Provider).map(|w| w.cpu).sum(),
        pulumi_cpu: of(Role::Pulumi).map(|w| w.cpu).sum(),
        yaml_host_cpu: of(Role::YamlHost).map(|w| w.cpu).sum(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Provider,
    Pulumi,
    YamlHost,
}

/// A process whose peak memory and CPU time are sampled while it lives.
struct Watched {
    pid: libc::pid_t,
    role: Role,
    hwm_kib: u64,
    cpu: Duration,
}

impl Watched {
    fn new(pid: libc::pid_t, role: Role) -> Self {
        let mut watched = Watched {
            pid,
            role,
            hwm_kib: 0,
            cpu: Duration::ZERO,
        };
        watched.sample();
        watched
    }

    /// Both only grow; a read that fails (the process is gone) keeps the last values.
    fn sample(&mut self) {
        if let Some(kib) = vm_hwm_kib(self.pid) {
            self.hwm_kib = self.hwm_kib.max(kib);
        }
        if let Some(cpu) = cpu_time(self.pid) {
            self.cpu = self.cpu.max(cpu);
        }
    }
}

/// The peak resident set of a live process, in KiB.
fn vm_hwm_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Fields of `/proc/<pid>/stat` after the command name (which may contain spaces).
fn stat_fields(pid: libc::pid_t) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    Some(after_name.split_whitespace().map(str::to_string).collect())
}

/// User plus system CPU time of a live process.
fn cpu_time(pid: libc::pid_t) -> Option<Duration> {
    let fields = stat_fields(pid)?;
    // utime and stime are fields 14 and 15 of stat; state (field 3) is the first here.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Duration::from_secs_f64(ticks as f64 / per_sec))
}

/// The descendants of `root` whose executable is one of `roles`, with their role.
fn descendants_of(root: libc::pid_t, roles: &[(Role, PathBuf)]) -> Vec<(libc::pid_t, Role)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    // (pid, ppid): ppid is field 4 of stat.
    let all: Vec<(libc::pid_t, libc::pid_t)> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        // Pids grow, so descendants have higher ones than `root` (unless the pid space wrapped
        // around meanwhile): this keeps the scan cheap enough to run every sample.
        .filter(|pid| *pid > root)
        .filter_map(|pid| Some((pid, stat_fields(pid)?.get(1)?.parse().ok()?)))
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            all.iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    tree.into_iter()
        .skip(1)
        .filter_map(|pid| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
            let (role, _) = roles.iter().find(|(_, path)| *path == exe)?;
            Some((pid, *role))
        })
        .collect()
}
