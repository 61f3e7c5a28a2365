//! `make bench`'s driver. It prints two tables:
//!
//! - side by side (`comparison.rs`): each figure with our provider, the anchor a user would
//!   pick instead (pulumi-kubernetes), the null provider (the engine's floor: it answers every
//!   call at once with its inputs) and `kubectl`, all in the same run, medians of alternating
//!   rounds: the Pulumi lifecycle of a CRD and N custom resources (`pulumi_compare.rs`), the
//!   same with Terraform and OpenTofu (`terraform_compare.rs`), each provider's cold start
//!   and peak memory, and the operator's initial sync against creating what it creates with
//!   `kubectl` (`operator_scale.rs`);
//! - other figures, each with a baseline from the same run and the ratio: Check+Diff and
//!   scaling decisions per second (criterion), the operator's memory.
//!
//! Peak memory is VmHWM (the kernel's peak resident set) of every process running a
//! provider binary among the CLI's descendants, read from `/proc` every 5 ms while the CLI
//! runs; CPU time (utime + stime) of the provider, the CLI and the language host is sampled
//! the same way and shown per command. Each control plane lives in a directory of its own
//! and is stopped before the tables are printed; a provider process left behind is killed
//! and fails the run.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod comparison;
mod operator_scale;
mod pulumi_compare;
mod terraform_compare;

use aiservice_testenv::{Tools, remove_stale_dirs, tail};
use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use comparison::{Comparison, Target, Unit};

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
    /// pulumi-kubernetes' provider binary, the anchor of the Pulumi comparison (needed
    /// unless `--operator-only` or `--terraform-only`).
    #[arg(long)]
    pulumi_kubernetes: Option<PathBuf>,
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

const CHECK_DIFF_TARGET_PER_SEC: f64 = 50_000.0;

fn main() -> Result<()> {
    let cli = Cli::parse();
    let provider = std::fs::canonicalize(&cli.provider)
        .with_context(|| format!("the provider binary {}", cli.provider.display()))?;
    let load_before = load_average();
    let mut rows = Vec::new();
    let mut comparisons = Vec::new();

    if !cli.operator_only && !cli.terraform_only {
        remove_stale_dirs("aiservice-bench-");
        let dir = std::env::temp_dir().join(format!("aiservice-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let null = cli
            .null_providers
            .as_ref()
            .context("--null-providers is needed for the Pulumi comparison")?
            .join("aiservice-null-pulumi");
        let providers = pulumi_compare::Providers::new(
            &provider,
            &cli.pulumi_kubernetes
                .as_ref()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .context("--pulumi-kubernetes names no pulumi-kubernetes provider binary")?,
            &std::fs::canonicalize(&null).with_context(|| format!("{}", null.display()))?,
            &dir,
        )?;
        eprintln!("== cold start: {} runs of each provider", cli.runs);
        comparisons.push(cold_start(&providers, cli.runs)?);

        eprintln!(
            "== check+diff: criterion results in {}",
            cli.criterion.display()
        );
        rows.extend(check_diff(&cli.criterion)?);

        eprintln!(
            "== pulumi: a CRD and {:?} custom resources, {} rounds",
            cli.sizes, cli.rounds
        );
        let compared = pulumi_compare::pulumi_runs(&providers, &dir, &cli.sizes, cli.rounds);
        let _ = std::fs::remove_dir_all(&dir);
        comparisons.extend(compared?);
    }

    if let Some(terraform_provider) = &cli.terraform_provider
        && !cli.operator_only
    {
        eprintln!(
            "== terraform and opentofu: {:?} custom resources",
            cli.sizes
        );
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

/// Median spawn-to-port time of each Pulumi provider, interleaved run by run, after 3
/// unmeasured starts each. Every provider gets the same unreachable engine address: what
/// the engine passes, which pulumi-kubernetes requires before it listens.
fn cold_start(providers: &pulumi_compare::Providers, runs: usize) -> Result<Comparison> {
    let binaries = [
        &providers.ours,
        &providers.pulumi_kubernetes,
        &providers.null,
    ];
    let mut samples = [Vec::new(), Vec::new(), Vec::new()];
    for run in 0..runs + 3 {
        for (binary, samples) in binaries.iter().zip(&mut samples) {
            let took = spawn_to_port(binary)?;
            if run >= 3 {
                samples.push(took);
            }
        }
    }
    let [ours, anchor, null] = samples.map(|s| Stats::of(&s));
    for (name, stats) in [
        ("ours", &ours),
        ("pulumi-kubernetes", &anchor),
        ("null", &null),
    ] {
        eprintln!(
            "   {name:<18} spawn to port line: median {:.2} ms (min {:.2}, p90 {:.2})",
            stats.median, stats.min, stats.p90
        );
    }
    Ok(Comparison::new(
        format!("pulumi provider cold start to port line (median of {runs})"),
        Unit::Millis,
        ours.median,
    )
    .anchor(Some(anchor.median))
    .null(Some(null.median))
    .target(Target::FasterThanAnchor(20.0)))
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

/// From spawn until the provider printed its port (what the engine waits for).
fn spawn_to_port(provider: &Path) -> Result<Duration> {
    let start = Instant::now();
    let mut child = Reaped(
        Command::new(provider)
            .arg(UNREACHABLE_ENGINE)
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

/// An engine address nothing listens on (port 1 needs root to bind).
const UNREACHABLE_ENGINE: &str = "127.0.0.1:1";

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
// One pulumi command, measured

/// What one pulumi command cost.
pub(crate) struct Measured {
    pub(crate) wall: Duration,
    /// The largest VmHWM of any provider process, in KiB.
    pub(crate) provider_kib: u64,
    pub(crate) providers_seen: usize,
    pub(crate) pulumi_kib: u64,
    /// CPU time (user + system) of the provider processes, the CLI and the language host.
    pub(crate) provider_cpu: Duration,
    pub(crate) pulumi_cpu: Duration,
    pub(crate) language_host_cpu: Duration,
}

/// One CRD and `resources` instances of it, as Kubernetes objects: the generated programs'
/// resources, and what `kubectl` applies and deletes in the destroy comparison. Each program
/// has its own API group, so the programs do not share a CRD.
pub(crate) fn crd_and_instances(
    group: &str,
    resources: usize,
) -> (serde_json::Value, Vec<serde_json::Value>) {
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

/// Runs `pulumi ARGS...` in `program`, sampling the memory of pulumi and of every process
/// running `provider` until it exits. Fails with the log's end unless pulumi succeeded, and
/// when a provider process outlives it.
pub(crate) fn pulumi(
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
            Role::LanguageHost,
            // The test environment's Python host runs in the provisioned virtualenv.
            std::fs::canonicalize(Tools::get()?.file("python")?)?,
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
    no_provider_left(&watched, provider, &format!("pulumi {}", args.join(" ")))?;
    let of = |role: Role| watched.iter().filter(move |w| w.role == role);
    Ok(Measured {
        wall,
        provider_kib: of(Role::Provider).map(|w| w.hwm_kib).max().unwrap_or(0),
        providers_seen: of(Role::Provider).count(),
        pulumi_kib: of(Role::Pulumi).map(|w| w.hwm_kib).max().unwrap_or(0),
        provider_cpu: of(Role::Provider).map(|w| w.cpu).sum(),
        pulumi_cpu: of(Role::Pulumi).map(|w| w.cpu).sum(),
        language_host_cpu: of(Role::LanguageHost).map(|w| w.cpu).sum(),
    })
}

/// Waits up to 5 s for the processes among `watched` that run `provider` to exit (a CLI
/// closes its plugins before it exits); fails, after killing them, when any is left.
fn no_provider_left(watched: &[Watched], provider: &Path, command: &str) -> Result<()> {
    let still_running = |w: &&Watched| {
        std::fs::read_link(format!("/proc/{}/exe", w.pid)).is_ok_and(|exe| exe == provider)
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
    for pid in &left {
        // SAFETY: a provider process this run's CLI started.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    ensure!(
        left.is_empty(),
        "{command} left provider processes {left:?} running (killed)"
    );
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Provider,
    Pulumi,
    LanguageHost,
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
