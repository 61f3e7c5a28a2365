//! Terraform and OpenTofu plan, apply and destroy of a CRD and N custom resources with our
//! provider, against the null provider and `kubectl` on the same control plane.
//!
//! For each size N and each round, five lifecycles run one after the other, their order
//! rotated round by round: Terraform with our provider, Terraform with the null provider,
//! OpenTofu with each, and `kubectl`. A CLI lifecycle is `plan` (empty cluster), `apply`,
//! `plan` again (must show no changes), `apply -refresh-only` and `destroy`, on a
//! configuration generated from [`crd_and_instances`] (one API group per lifecycle, so that
//! no lifecycle sees another's objects) with the provider installed through `dev_overrides`,
//! no `init`. kubectl's counterparts: `apply --server-side` (the CRD, a wait until it is
//! Established, the instances), `diff --server-side` (nothing to change), `get` of every
//! object, `delete --wait` (the instances, then the CRD); it has no plan on an empty cluster
//! (a dry run of the instances needs their CRD). Medians of the rounds are reported.
//!
//! Also measured for both providers: cold start (spawn, with the environment the CLI sets,
//! until the go-plugin handshake line is on stdout; median of [`COLD_STARTS`] after 3
//! unmeasured ones, alternating), and peak RSS (VmHWM of the provider processes among the
//! CLI's descendants, sampled every 5 ms) over every command at the largest size.
//!
//! Each command's line on stderr also shows where the CPU went: the provider processes, the
//! CLI itself (its reaped children's CPU time less the providers'), and kube-apiserver plus
//! etcd, which serve nothing else meanwhile. On a small machine the wall time follows the
//! sum: our provider's requests cost the apiserver CPU the CLI then waits for.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, Tools, remove_stale_dirs, tail};
use anyhow::{Context, Result, ensure};

use crate::comparison::{Comparison, Target, Unit, median_secs};
use crate::{
    Reaped, Role, Watched, cpu_time, crd_and_instances, descendants_of, no_provider_left,
    stat_fields,
};

/// Measured cold starts of each provider.
const COLD_STARTS: usize = 20;
/// go-plugin's magic cookie for Terraform providers (`TF_PLUGIN_MAGIC_COOKIE`).
const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The name every provider is installed under for `dev_overrides`.
const PROVIDER_FILE: &str = "terraform-provider-aiservice";
/// Where the custom resources go (the provider block's and kubectl's namespace).
const NAMESPACE: &str = "default";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Cli {
    Terraform,
    OpenTofu,
}

impl Cli {
    const ALL: [Cli; 2] = [Cli::Terraform, Cli::OpenTofu];

    fn binary(self) -> &'static str {
        match self {
            Cli::Terraform => "terraform",
            Cli::OpenTofu => "tofu",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Which {
    Ours,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Tool {
    Cli(Cli, Which),
    Kubectl,
}

impl Tool {
    /// Seven characters each, so every lifecycle's API group has the same length.
    fn tag(self) -> &'static str {
        match self {
            Tool::Cli(Cli::Terraform, Which::Ours) => "tf-ours",
            Tool::Cli(Cli::Terraform, Which::Null) => "tf-null",
            Tool::Cli(Cli::OpenTofu, Which::Ours) => "to-ours",
            Tool::Cli(Cli::OpenTofu, Which::Null) => "to-null",
            Tool::Kubectl => "kubectl",
        }
    }
}

/// The steps of a lifecycle, in order.
const STEPS: [&str; 5] = ["plan", "apply", "plan (no changes)", "refresh", "destroy"];

/// Each step's wall time; `None` where the tool has no such step.
type Lifecycle = [Option<Duration>; 5];

/// The two providers installed for `dev_overrides`, each in a directory of its own.
struct Providers {
    ours: Installed,
    null: Option<Installed>,
}

struct Installed {
    /// The directory `dev_overrides` points at.
    dir: PathBuf,
    /// The binary itself, as `/proc/<pid>/exe` names it.
    exe: PathBuf,
}

impl Installed {
    fn new(binary: &Path, dir: PathBuf) -> Result<Installed> {
        let exe = std::fs::canonicalize(binary)
            .with_context(|| format!("the provider binary {}", binary.display()))?;
        std::fs::create_dir_all(&dir)?;
        std::os::unix::fs::symlink(&exe, dir.join(PROVIDER_FILE))?;
        Ok(Installed { dir, exe })
    }
}

impl Providers {
    fn get(&self, which: Which) -> Option<&Installed> {
        match which {
            Which::Ours => Some(&self.ours),
            Which::Null => self.null.as_ref(),
        }
    }
}

pub fn terraform_runs(
    provider: &Path,
    null_providers: Option<&Path>,
    sizes: &[usize],
    rounds: usize,
) -> Result<Vec<Comparison>> {
    ensure!(rounds > 0, "--rounds must be at least 1");
    remove_stale_dirs("aiservice-bench-");
    let dir =
        std::env::temp_dir().join(format!("aiservice-bench-{}-terraform", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let providers = Providers {
        ours: Installed::new(provider, dir.join("ours"))?,
        null: null_providers
            .map(|d| Installed::new(&d.join("aiservice-null-terraform"), dir.join("null")))
            .transpose()?,
    };
    if providers.null.is_none() {
        eprintln!("   no --null-providers: the null provider's columns stay empty");
    }

    eprintln!("   cold start: {COLD_STARTS} runs of each provider, alternating");
    let cold = cold_starts(&providers, &dir)?;

    let started = Instant::now();
    // Spawned from this (the main) thread: the components die with the process if it is
    // killed, and dropping the plane stops them.
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
    let largest = sizes.iter().copied().max().unwrap_or(0);
    // The largest VmHWM of a provider process at the largest size, in KiB.
    let mut peaks: BTreeMap<(Cli, Which), u64> = BTreeMap::new();
    let outcome = (|| -> Result<BTreeMap<(usize, Tool), Vec<Lifecycle>>> {
        let mut tools = vec![
            Tool::Cli(Cli::Terraform, Which::Ours),
            Tool::Cli(Cli::Terraform, Which::Null),
            Tool::Cli(Cli::OpenTofu, Which::Ours),
            Tool::Cli(Cli::OpenTofu, Which::Null),
            Tool::Kubectl,
        ];
        tools.retain(|t| !matches!(t, Tool::Cli(_, which) if providers.get(*which).is_none()));
        let mut results: BTreeMap<(usize, Tool), Vec<Lifecycle>> = BTreeMap::new();
        for &n in sizes {
            for round in 0..rounds {
                let mut order = tools.clone();
                order.rotate_left(round % tools.len());
                for tool in order {
                    let group = format!("b{n}-r{round}-{}.example.com", tool.tag());
                    let work = dir.join(format!("{n}-r{round}-{}", tool.tag()));
                    std::fs::create_dir_all(&work)?;
                    let lifecycle = match tool {
                        Tool::Kubectl => kubectl_lifecycle(&plane, &work, &group, n)?,
                        Tool::Cli(cli, which) => {
                            let installed = providers.get(which).context("no such provider")?;
                            let (lifecycle, peak_kib) =
                                cli_lifecycle(&plane, cli, which, installed, &work, &group, n)?;
                            if n == largest {
                                let peak = peaks.entry((cli, which)).or_default();
                                *peak = (*peak).max(peak_kib);
                            }
                            lifecycle
                        }
                    };
                    results.entry((n, tool)).or_default().push(lifecycle);
                    // The state and logs of a finished lifecycle are no longer needed.
                    let _ = std::fs::remove_dir_all(&work);
                }
            }
        }
        Ok(results)
    })();
    drop(plane);
    let _ = std::fs::remove_dir_all(&dir);
    let results = outcome?;

    let median = |n: usize, tool: Tool, step: usize| -> Option<f64> {
        let samples: Vec<Duration> = results
            .get(&(n, tool))?
            .iter()
            .filter_map(|l| l[step])
            .collect();
        (!samples.is_empty()).then(|| median_secs(&samples))
    };
    let mut rows = Vec::new();
    for cli in Cli::ALL {
        for &n in sizes {
            for (step, name) in STEPS.iter().enumerate() {
                let Some(ours) = median(n, Tool::Cli(cli, Which::Ours), step) else {
                    continue;
                };
                let target = if *name == "destroy" { 0.20 } else { 0.10 };
                rows.push(
                    Comparison::new(
                        format!("{} {name}, {n} CRs", cli.binary()),
                        Unit::Seconds,
                        ours,
                    )
                    .null(median(n, Tool::Cli(cli, Which::Null), step))
                    .kubectl(median(n, Tool::Kubectl, step))
                    .target(Target::OverheadBelow(target)),
                );
            }
        }
    }
    rows.push(
        Comparison::new(
            format!("terraform provider cold start (median of {COLD_STARTS})"),
            Unit::Millis,
            cold.0,
        )
        .null(cold.1),
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    for cli in Cli::ALL {
        let peak = |which| peaks.get(&(cli, which)).copied().map(mib);
        if let Some(ours) = peak(Which::Ours) {
            rows.push(
                Comparison::new(
                    format!("{} provider peak RSS, {largest} CRs", cli.binary()),
                    Unit::Megabytes,
                    ours,
                )
                .null(peak(Which::Null)),
            );
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// Cold start

/// Median milliseconds from spawn to the handshake line: ours, and the null provider's.
fn cold_starts(providers: &Providers, dir: &Path) -> Result<(f64, Option<f64>)> {
    // The CLI's own certificate, which the provider pins (go-plugin's AutoMTLS).
    let key = rcgen::KeyPair::generate()?;
    let client_cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])?
        .self_signed(&key)?
        .pem();
    let (mut ours, mut null) = (Vec::new(), Vec::new());
    for run in 0..COLD_STARTS + 3 {
        let a = spawn_to_handshake(&providers.ours, &client_cert, dir)?;
        let b = match &providers.null {
            Some(null) => Some(spawn_to_handshake(null, &client_cert, dir)?),
            None => None,
        };
        if run >= 3 {
            ours.push(a);
            null.extend(b);
        }
    }
    let ms = |samples: &[Duration]| median_secs(samples) * 1e3;
    let (ours, null) = (ms(&ours), (!null.is_empty()).then(|| ms(&null)));
    eprintln!(
        "   spawn to handshake line: ours median {ours:.2} ms, null provider {}",
        null.map_or("-".into(), |n| format!("{n:.2} ms"))
    );
    Ok((ours, null))
}

/// From spawn until the provider printed the go-plugin handshake line, started the way
/// Terraform starts it (through the `dev_overrides` name, with the CLI's environment).
fn spawn_to_handshake(provider: &Installed, client_cert: &str, dir: &Path) -> Result<Duration> {
    let binary = provider.dir.join(PROVIDER_FILE);
    let start = Instant::now();
    let mut child = Reaped(
        Command::new(&binary)
            .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_CLIENT_CERT", client_cert)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?,
    );
    let stdout = child.0.stdout.take().context("the provider's stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let elapsed = start.elapsed();
    ensure!(
        line.starts_with("1|6|tcp|127.0.0.1:") && line.trim_end().len() > 40,
        "{} printed {line:?}, not a handshake line with a certificate",
        provider.exe.display()
    );
    // SAFETY: signalling our own child, which has not been reaped yet.
    unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.0.wait()?;
    ensure!(
        status.success() || status.signal() == Some(libc::SIGTERM),
        "{} exited with {status} on SIGTERM",
        provider.exe.display()
    );
    Ok(elapsed)
}

// ---------------------------------------------------------------------------------------
// A Terraform or OpenTofu lifecycle

/// plan, apply, plan (no changes), refresh and destroy of `n` custom resources and their
/// CRD in API group `group`. Returns each step's wall time and the provider's peak RSS (KiB).
fn cli_lifecycle(
    plane: &ControlPlane,
    cli: Cli,
    which: Which,
    provider: &Installed,
    work: &Path,
    group: &str,
    n: usize,
) -> Result<(Lifecycle, u64)> {
    std::fs::write(work.join("main.tf"), configuration(group, n))?;
    let cli_config = work.join("dev.tfrc");
    std::fs::write(
        &cli_config,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"example/aiservice\" = {:?}\n  }}\n  direct {{}}\n}}\n",
            provider.dir.display().to_string()
        ),
    )?;
    let envs: Vec<(&str, OsString)> = vec![
        ("TF_CLI_CONFIG_FILE", cli_config.into_os_string()),
        ("TF_IN_AUTOMATION", "1".into()),
        ("TF_INPUT", "0".into()),
        ("CHECKPOINT_DISABLE", "1".into()),
        ("KUBECONFIG", plane.kubeconfig().as_os_str().to_owned()),
        ("PATH", Tools::get()?.path_with(&[])),
    ];
    let steps: [(&[&str], i32); 5] = [
        // -detailed-exitcode: 0 no changes, 1 error, 2 changes.
        (&["plan", "-detailed-exitcode"], 2),
        (&["apply", "-auto-approve"], 0),
        (&["plan", "-detailed-exitcode"], 0),
        (&["apply", "-refresh-only", "-auto-approve"], 0),
        (&["destroy", "-auto-approve"], 0),
    ];
    let label = format!(
        "{} ({})",
        cli.binary(),
        match which {
            Which::Ours => "ours",
            Which::Null => "null",
        }
    );
    let mut lifecycle: Lifecycle = [None; 5];
    let mut peak_kib = 0;
    for (i, (args, expected)) in steps.into_iter().enumerate() {
        let log = work.join(format!("{i}-{}.log", args.join("_")));
        let ran = run_cli(cli, work, &envs, args, &log, &provider.exe)?;
        ensure!(
            ran.code == expected,
            "{} {} exited {} (expected {expected}); the end of {}:\n{}",
            cli.binary(),
            args.join(" "),
            ran.code,
            log.display(),
            tail(&log, 40)
        );
        eprintln!(
            "   {n:>4} CRs  {label:<18} {:<20} {:>7.2} s wall | provider: peak RSS {:>5.1} MB ({} proc.), CPU {:>5.2} s | CLI CPU {:>5.2} s | apiserver+etcd CPU {:>5.2} s",
            STEPS[i],
            ran.wall.as_secs_f64(),
            ran.provider_kib as f64 / 1024.0,
            ran.providers_seen,
            ran.provider_cpu.as_secs_f64(),
            ran.cli_cpu.as_secs_f64(),
            ran.cluster_cpu.as_secs_f64(),
        );
        if which == Which::Ours && STEPS[i] == "apply" {
            let created = count_instances(plane, group)?;
            ensure!(
                created == n,
                "expected {n} custom resources after {} apply, the cluster has {created}",
                cli.binary()
            );
        }
        lifecycle[i] = Some(ran.wall);
        peak_kib = peak_kib.max(ran.provider_kib);
    }
    if which == Which::Ours {
        ensure!(
            plane
                .kubectl(&["get", "crd", "--no-headers", "-o", "name"])?
                .lines()
                .all(|crd| !crd.ends_with(group)),
            "the CRD of {group} is still there after {} destroy",
            cli.binary()
        );
    }
    Ok((lifecycle, peak_kib))
}

fn count_instances(plane: &ControlPlane, group: &str) -> Result<usize> {
    Ok(plane
        .kubectl(&[
            "get",
            &format!("modelservings.{group}"),
            "--all-namespaces",
            "--no-headers",
        ])?
        .lines()
        .count())
}

/// What one CLI command cost.
struct Ran {
    code: i32,
    wall: Duration,
    /// The largest VmHWM of any provider process, in KiB.
    provider_kib: u64,
    providers_seen: usize,
    /// CPU time (user + system) of the provider processes, and of the CLI itself.
    provider_cpu: Duration,
    cli_cpu: Duration,
    /// CPU time of kube-apiserver and etcd meanwhile (they serve nothing else).
    cluster_cpu: Duration,
}

/// Runs `<cli> ARGS... -no-color` in `work`, sampling the provider processes (those running
/// `provider`) among its descendants until it exits. Fails when a provider outlives it.
fn run_cli(
    cli: Cli,
    work: &Path,
    envs: &[(&str, OsString)],
    args: &[&str],
    log: &Path,
    provider: &Path,
) -> Result<Ran> {
    let out = std::fs::File::create(log)?;
    let mut command = Command::new(Tools::get()?.file(cli.binary())?);
    command
        .args(args)
        .arg("-no-color")
        .current_dir(work)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    // SAFETY: only async-signal-safe calls between fork and exec. The CLI dies with this
    // process, and its plugins with it (go-plugin kills them when the CLI exits).
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let roles = [(Role::Provider, provider.to_path_buf())];
    let children_cpu_before = children_cpu();
    let cluster_cpu_before = cluster_cpu();
    let start = Instant::now();
    let mut child = Reaped(
        command
            .spawn()
            .with_context(|| format!("starting {}", cli.binary()))?,
    );
    let cli_pid = child.0.id() as libc::pid_t;
    let mut watched: Vec<Watched> = Vec::new();
    let (status, wall) = loop {
        if let Some(status) = child.0.try_wait()? {
            break (status, start.elapsed());
        }
        for (pid, role) in descendants_of(cli_pid, &roles) {
            if !watched.iter().any(|w| w.pid == pid) {
                watched.push(Watched::new(pid, role));
            }
        }
        for process in &mut watched {
            process.sample();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let cluster = cluster_cpu().saturating_sub(cluster_cpu_before);
    // The CLI has reaped its plugins: their CPU time is in the CLI's children's.
    let total_cpu = children_cpu().saturating_sub(children_cpu_before);
    no_provider_left(
        &watched,
        provider,
        &format!("{} {}", cli.binary(), args.join(" ")),
    )?;
    let provider_cpu: Duration = watched.iter().map(|w| w.cpu).sum();
    Ok(Ran {
        code: status.code().unwrap_or(-1),
        wall,
        provider_kib: watched.iter().map(|w| w.hwm_kib).max().unwrap_or(0),
        providers_seen: watched.len(),
        provider_cpu,
        cli_cpu: total_cpu.saturating_sub(provider_cpu),
        cluster_cpu: cluster,
    })
}

/// CPU time of this process's kube-apiserver and etcd (the control plane's components are
/// its children).
fn cluster_cpu() -> Duration {
    let me = std::process::id() as libc::pid_t;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            stat_fields(*pid).and_then(|f| f.get(1)?.parse::<libc::pid_t>().ok()) == Some(me)
        })
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| {
                exe.file_name()
                    .is_some_and(|name| name == "kube-apiserver" || name == "etcd")
            })
        })
        .filter_map(cpu_time)
        .sum()
}

/// User plus system CPU time of this process's children that have been waited for.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The configuration of [`crd_and_instances`]: the CRD and each instance as a `manifest`,
/// every instance depending on the CRD, in the provider's namespace.
fn configuration(group: &str, n: usize) -> String {
    let (crd, instances) = crd_and_instances(group, n);
    let mut tf = format!(
        "terraform {{\n  required_providers {{\n    aiservice = {{ source = \"example/aiservice\" }}\n  }}\n}}\n\nprovider \"aiservice\" {{\n  namespace = \"{NAMESPACE}\"\n}}\n\nresource \"aiservice_custom_resource_definition\" \"crd\" {{\n  manifest = {}\n}}\n",
        hcl(&crd)
    );
    for (i, instance) in instances.iter().enumerate() {
        tf.push_str(&format!(
            "\nresource \"aiservice_custom_resource\" \"ms_{i}\" {{\n  manifest   = {}\n  depends_on = [aiservice_custom_resource_definition.crd]\n}}\n",
            hcl(instance)
        ));
    }
    tf
}

/// A JSON value as an HCL expression: objects and tuples, quoted keys, and strings with
/// template sequences escaped.
fn hcl(value: &serde_json::Value) -> String {
    use serde_json::Value;
    let string = |s: &str| {
        serde_json::Value::String(s.to_string())
            .to_string()
            .replace("${", "$${")
            .replace("%{", "%%{")
    };
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(items) => {
            format!("[{}]", items.iter().map(hcl).collect::<Vec<_>>().join(", "))
        }
        Value::Object(fields) => format!(
            "{{ {} }}",
            fields
                .iter()
                .map(|(k, v)| format!("{} = {}", string(k), hcl(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------------------------------
// kubectl

/// kubectl's counterparts of a lifecycle's steps on the same objects: no plan, `apply
/// --server-side` (the CRD, a wait until Established, the instances), `diff --server-side`,
/// `get` of every object and `delete --wait` (the instances, then the CRD).
fn kubectl_lifecycle(
    plane: &ControlPlane,
    work: &Path,
    group: &str,
    n: usize,
) -> Result<Lifecycle> {
    let (crd, instances) = crd_and_instances(group, n);
    let crd_file = work.join("crd.json");
    let instances_file = work.join("instances.json");
    std::fs::write(&crd_file, crd.to_string())?;
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": instances});
    std::fs::write(&instances_file, list.to_string())?;
    let (crd_file, instances_file) = (
        crd_file.display().to_string(),
        instances_file.display().to_string(),
    );
    let timed = |what: &str, commands: &[&[&str]]| -> Result<Duration> {
        let (children_before, cluster_before) = (children_cpu(), cluster_cpu());
        let started = Instant::now();
        for args in commands {
            plane.kubectl(args)?;
        }
        let took = started.elapsed();
        eprintln!(
            "   {n:>4} CRs  {:<18} {what:<20} {:>7.2} s wall | kubectl CPU {:>5.2} s | apiserver+etcd CPU {:>5.2} s",
            "kubectl",
            took.as_secs_f64(),
            children_cpu().saturating_sub(children_before).as_secs_f64(),
            cluster_cpu().saturating_sub(cluster_before).as_secs_f64(),
        );
        Ok(took)
    };
    let apply = timed(
        "apply",
        &[
            &["apply", "--server-side", "-f", &crd_file],
            &["wait", "--for=condition=Established", "-f", &crd_file],
            &[
                "apply",
                "--server-side",
                "-n",
                NAMESPACE,
                "-f",
                &instances_file,
            ],
        ],
    )?;
    ensure!(
        count_instances(plane, group)? == n,
        "kubectl apply made fewer than {n} custom resources"
    );
    // kubectl diff exits 1 when something would change, which fails the step.
    let diff = timed(
        "plan (no changes)",
        &[
            &["diff", "--server-side", "-f", &crd_file],
            &[
                "diff",
                "--server-side",
                "-n",
                NAMESPACE,
                "-f",
                &instances_file,
            ],
        ],
    )?;
    let get = timed(
        "refresh",
        &[
            &["get", "-o", "json", "-f", &crd_file],
            &["get", "-o", "json", "-n", NAMESPACE, "-f", &instances_file],
        ],
    )?;
    let delete = timed(
        "destroy",
        &[
            &["delete", "--wait", "-n", NAMESPACE, "-f", &instances_file],
            &["delete", "--wait", "-f", &crd_file],
        ],
    )?;
    Ok([None, Some(apply), Some(diff), Some(get), Some(delete)])
}
