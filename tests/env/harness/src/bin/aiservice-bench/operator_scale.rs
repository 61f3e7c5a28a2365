//! The operator at scale, measured at every size given (no extrapolation), against the floor
//! of the same writes made by `kubectl` on the same control plane in the same run.
//!
//! One control plane with workloads (kube-controller-manager, kube-scheduler, kwok with one
//! fake node of 250 pods, so most pods stay Pending: the sync does not wait for pods). First
//! the idle operator (no AIServices) gives the memory baseline. Then, for each size N:
//!
//! - Floor, in namespace `floor-N`: N AIServices are created (not timed), then timed until
//!   `kubectl` returns: `kubectl apply --server-side` of the N Deployments and N Services the
//!   operator would make for them (the same fields as `src/operator/workload.rs` builds,
//!   owner references and the applied-hash annotation included) and `kubectl apply
//!   --server-side --subresource=status` of the N statuses it would write. These are the
//!   operator's three writes per AIService; its reads (and anything it does beyond) are what
//!   the comparison charges to it.
//! - Sync, in namespace `bench-N`: N AIServices are created with `kubectl apply`, then the
//!   operator is started for that namespace; sync is the time from its start until every
//!   AIService has `status.observedGeneration == metadata.generation`: until the last first
//!   status write of an AIService by the operator, read from the apiserver's audit log as it
//!   grows, and confirmed by one list of the AIServices. Listing all N objects every few
//!   seconds (as this bench did) loads the apiserver and this machine more than the operator
//!   does at 10,000, and `kubectl get --watch` missed the status events of the first seconds
//!   after its list (193 of 1,000 AIServices, counted only at their next change, minutes on).
//! - Writes per AIService: the operator's writes (create, update, patch, delete) in `bench-N`
//!   until the sync, by resource, from the same audit log (the operator's client sends no user
//!   agent; every other writer there does), divided by N; also its writes in the settling time
//!   after the sync (there should be few). The log is followed across its rotations (at 100 MB).
//! - Reconciles per AIService, from the operator's `/metrics`, and its CPU time, at the sync.
//! - RSS: the operator's resident memory after it ran [`SETTLE`] past the sync.
//!
//! The floor runs before the operator at each size: the Deployments it creates keep
//! kube-controller-manager busy (it writes at 20 requests/s) while the operator syncs, so the
//! operator is measured on the busier cluster.
//!
//! The scaling decision's own speed comes from criterion (`benches/scaling_decision.rs`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, remove_stale_dirs};
use anyhow::{Context, Result, bail};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use crate::comparison::{Comparison, Target, Unit};
use crate::{Row, criterion_per_sec, thousands};

/// The sync may take at most this multiple of the floor.
const WITHIN_OF_FLOOR: f64 = 2.0;
/// The operator's memory at 10,000 AIServices must stay under this.
const RSS_AT_10K_TARGET_MB: f64 = 100.0;
/// How long a sync may take at least before the run gives up.
const MIN_PATIENCE: Duration = Duration::from_secs(600);
/// How long the operator runs after the sync before its memory is read.
const SETTLE: Duration = Duration::from_secs(10);
/// What the operator names as the image of an AIService that names none (its default).
const DEFAULT_IMAGE: &str = "ghcr.io/example/model-server:1";
/// The operator's field manager and `managed-by` label value.
const MANAGER: &str = "aiservice-operator";
/// Writers in the audit log that are not the operator (by the start of their user agent).
const OTHER_WRITERS: [&str; 5] = [
    "kubectl",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "kube-apiserver",
];

/// What the operator did at one size.
struct Round {
    objects: usize,
    sync: Duration,
    rss_kib: u64,
    /// The operator's writes from its start until the sync, by resource.
    writes: BTreeMap<String, usize>,
    /// The operator's writes in the settling time after the sync.
    writes_after: usize,
    /// Reconciles started until the sync, from `/metrics`.
    reconciles: u64,
    /// The operator's CPU time (user and system) until the sync.
    cpu: Duration,
}

/// The same writes made by kubectl.
struct Floor {
    /// `kubectl apply --server-side` of the Deployments and Services.
    workloads: Duration,
    /// `kubectl apply --server-side --subresource=status` of the statuses.
    statuses: Duration,
}

impl Floor {
    fn total(&self) -> Duration {
        self.workloads + self.statuses
    }
}

pub fn operator_runs(
    operator: &Path,
    criterion: &Path,
    sizes: &[usize],
) -> Result<(Vec<Comparison>, Vec<Row>)> {
    let decide = criterion_per_sec(criterion, "scaling_decision", "decide")?;
    let baseline = criterion_per_sec(criterion, "scaling_decision", "json_round_trip_baseline")?;
    let mut rows = vec![Row {
        figure: "scaling decisions (pure function), 1 thread".into(),
        measured: format!("{}/s", thousands(decide)),
        target: "-".into(),
        meets: None,
        baseline: format!("JSON round trip of the settings {}/s", thousands(baseline)),
        ratio: decide / baseline,
    }];

    remove_stale_dirs("aiservice-bench-");
    let dir = std::env::temp_dir().join(format!("aiservice-bench-{}-operator", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plane = ControlPlane::start(
        &dir.join("cluster"),
        Options {
            workloads: true,
            die_with_parent: true,
        },
    )?;
    let crds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../schema/crds");
    plane.kubectl(&["apply", "--server-side", "-f", &crds.display().to_string()])?;
    plane.kubectl(&[
        "wait",
        "--for=condition=Established",
        "-f",
        &crds.display().to_string(),
        "--timeout=60s",
    ])?;
    let idle = round(&plane, operator, &dir, 0, MIN_PATIENCE)?;
    let mut measured = Vec::new();
    for &objects in sizes.iter().filter(|n| **n > 0) {
        let floor = floor(&plane, &dir, objects)?;
        // Longer than the target allows, so a run that meets it is never cut off.
        let patience = MIN_PATIENCE.max(floor.total().mul_f64(WITHIN_OF_FLOOR + 1.0));
        let round = round(&plane, operator, &dir, objects, patience)?;
        measured.push((floor, round));
    }
    drop(plane);
    let _ = std::fs::remove_dir_all(&dir);

    let mb = |kib: u64| kib as f64 / 1024.0;
    let mut comparisons = Vec::new();
    for (floor, r) in &measured {
        let n = r.objects;
        comparisons.push(
            Comparison::new(
                format!("operator initial sync, {} AIServices", thousands(n as f64)),
                Unit::Seconds,
                r.sync.as_secs_f64(),
            )
            .kubectl(Some(floor.total().as_secs_f64()))
            .target(Target::WithinOfKubectl(WITHIN_OF_FLOOR)),
        );
        rows.push(Row {
            figure: format!(
                "operator RSS after sync, {} AIServices",
                thousands(n as f64)
            ),
            measured: format!("{:.1} MB", mb(r.rss_kib)),
            target: if n == 10_000 {
                format!("< {RSS_AT_10K_TARGET_MB:.0} MB")
            } else {
                "-".into()
            },
            meets: (n == 10_000).then_some(mb(r.rss_kib) < RSS_AT_10K_TARGET_MB),
            baseline: format!(
                "0 AIServices {:.1} MB; {:.2} KiB per AIService",
                mb(idle.rss_kib),
                r.rss_kib.saturating_sub(idle.rss_kib) as f64 / n as f64
            ),
            ratio: r.rss_kib as f64 / idle.rss_kib.max(1) as f64,
        });
        let total: usize = r.writes.values().sum();
        let by_resource: Vec<String> = r
            .writes
            .iter()
            .map(|(resource, count)| {
                let short = match resource.as_str() {
                    "deployments" => "deploy",
                    "services" => "svc",
                    "aiservices/status" => "status",
                    other => other,
                };
                format!("{short} {:.2}", *count as f64 / n as f64)
            })
            .collect();
        rows.push(Row {
            figure: format!(
                "operator writes per AIService until synced, {}",
                thousands(n as f64)
            ),
            measured: format!("{:.2}", total as f64 / n as f64),
            target: "-".into(),
            meets: None,
            baseline: format!(
                "kubectl 3; {}; +{:.2} in {}s after",
                by_resource.join(", "),
                r.writes_after as f64 / n as f64,
                SETTLE.as_secs()
            ),
            ratio: total as f64 / (3 * n) as f64,
        });
        rows.push(Row {
            figure: format!(
                "operator reconciles per AIService until synced, {}",
                thousands(n as f64)
            ),
            measured: format!("{:.2}", r.reconciles as f64 / n as f64),
            target: "-".into(),
            meets: None,
            baseline: format!(
                "operator CPU {:.1} s of the {:.1} s ({:.2} ms per AIService)",
                r.cpu.as_secs_f64(),
                r.sync.as_secs_f64(),
                r.cpu.as_secs_f64() * 1e3 / n as f64
            ),
            ratio: r.reconciles as f64 / n as f64,
        });
    }
    // Linear means the time per AIService does not grow with the number of AIServices.
    if let (Some((small_floor, small)), Some((large_floor, large))) =
        (measured.first(), measured.last())
        && large.objects > small.objects
    {
        let per = |d: Duration, n: usize| d.as_secs_f64() * 1e3 / n as f64;
        let ours = per(large.sync, large.objects) / per(small.sync, small.objects);
        let floors =
            per(large_floor.total(), large.objects) / per(small_floor.total(), small.objects);
        rows.push(Row {
            figure: format!(
                "operator sync per AIService, {} -> {}",
                thousands(small.objects as f64),
                thousands(large.objects as f64)
            ),
            measured: format!(
                "{:.2} -> {:.2} ms",
                per(small.sync, small.objects),
                per(large.sync, large.objects)
            ),
            target: "linear (<= 1.3x)".into(),
            meets: Some(ours <= 1.3),
            baseline: format!(
                "kubectl floor {:.2} -> {:.2} ms ({floors:.2}x)",
                per(small_floor.total(), small.objects),
                per(large_floor.total(), large.objects)
            ),
            ratio: ours,
        });
    }
    Ok((comparisons, rows))
}

/// The floor of `objects` AIServices: what the operator writes for them, written by kubectl.
fn floor(plane: &ControlPlane, dir: &Path, objects: usize) -> Result<Floor> {
    let namespace = format!("floor-{objects}");
    plane.kubectl(&["create", "namespace", &namespace])?;
    let file = dir.join(format!("{namespace}-aiservices.yaml"));
    std::fs::write(&file, manifests(&namespace, objects))?;
    plane.kubectl(&["apply", "--server-side", "-f", &file.display().to_string()])?;
    let uids: HashMap<String, String> = plane
        .kubectl(&[
            "get",
            "aisvc",
            "-n",
            &namespace,
            "-o",
            r#"jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.uid}{"\n"}{end}"#,
        ])?
        .lines()
        .filter_map(|line| {
            let (name, uid) = line.split_once(' ')?;
            Some((name.to_string(), uid.to_string()))
        })
        .collect();
    let mut workloads = Vec::with_capacity(2 * objects);
    let mut statuses = Vec::with_capacity(objects);
    for i in 0..objects {
        let name = format!("model-{i}");
        let uid = uids
            .get(&name)
            .with_context(|| format!("AIService {namespace}/{name} has no uid"))?;
        workloads.push(deployment(&namespace, &name, uid));
        workloads.push(service(&namespace, &name, uid));
        statuses.push(status(&namespace, &name));
    }
    let write = |what: &str, items: Vec<Value>| -> Result<String> {
        let path = dir.join(format!("{namespace}-{what}.json"));
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        std::fs::write(&path, list.to_string())?;
        Ok(path.display().to_string())
    };
    let workloads_file = write("workloads", workloads)?;
    let statuses_file = write("statuses", statuses)?;
    let apply = |file: &str, extra: &[&str]| -> Result<Duration> {
        let mut args = vec![
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager",
            MANAGER,
            // Neither a client-side schema check nor strict field validation: the operator
            // asks for neither.
            "--validate=false",
        ];
        args.extend(extra);
        args.extend(["-f", file]);
        let started = Instant::now();
        plane.kubectl(&args)?;
        Ok(started.elapsed())
    };
    let floor = Floor {
        workloads: apply(&workloads_file, &[])?,
        statuses: apply(&statuses_file, &["--subresource=status"])?,
    };
    eprintln!(
        "   floor, {objects} AIServices: kubectl applied the Deployments and Services in {:.1}s, the statuses in {:.1}s ({:.1}s)",
        floor.workloads.as_secs_f64(),
        floor.statuses.as_secs_f64(),
        floor.total().as_secs_f64()
    );
    Ok(floor)
}

/// Creates `objects` AIServices in a fresh namespace, then starts the operator for it and
/// measures until every one has a status for its generation.
fn round(
    plane: &ControlPlane,
    operator: &Path,
    dir: &Path,
    objects: usize,
    patience: Duration,
) -> Result<Round> {
    let namespace = format!("bench-{objects}");
    plane.kubectl(&["create", "namespace", &namespace])?;
    if objects > 0 {
        let file = dir.join(format!("{namespace}.yaml"));
        std::fs::write(&file, manifests(&namespace, objects))?;
        let started = Instant::now();
        plane.kubectl(&["apply", "--server-side", "-f", &file.display().to_string()])?;
        eprintln!(
            "   {objects} AIServices created (kubectl apply) in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut writes = OperatorWrites::new(AuditTail::from_end(plane.audit_log())?, &namespace);
    let spawned = Timestamp::now();
    let mut child = Command::new(operator)
        .arg(format!("--kubeconfig={}", plane.kubeconfig().display()))
        .arg(format!("--namespace={namespace}"))
        .arg(format!("--metrics-address=127.0.0.1:{port}"))
        .arg("--log=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(
            dir.join(format!("operator-{objects}.log")),
        )?)
        .spawn()
        .context("starting the operator")?;
    let outcome = measure(
        plane,
        &mut child,
        spawned,
        &mut writes,
        port,
        objects,
        patience,
    );
    let _ = child.kill();
    let _ = child.wait();
    let (synced_at, reconciles, cpu, rss_kib) = outcome?;
    // Until the last first status write, by the apiserver's clock: the polls above see it late
    // by up to their period and the confirming list.
    let sync = Duration::try_from(synced_at.duration_since(spawned)).unwrap_or_default();
    let mut until_sync = BTreeMap::new();
    let mut writes_after = 0;
    for (resource, at) in &writes.writes {
        if *at <= synced_at {
            *until_sync.entry(resource.clone()).or_insert(0) += 1;
        } else {
            writes_after += 1;
        }
    }
    let round = Round {
        objects,
        sync,
        rss_kib,
        writes: until_sync,
        writes_after,
        reconciles,
        cpu,
    };
    eprintln!(
        "   {objects} AIServices: synced in {:.1}s (operator CPU {:.1}s), RSS {:.1} MB, {} reconciles, writes {:?} (+{} after)",
        round.sync.as_secs_f64(),
        round.cpu.as_secs_f64(),
        round.rss_kib as f64 / 1024.0,
        round.reconciles,
        round.writes,
        round.writes_after
    );
    Ok(round)
}

/// Until every AIService of `writes` is synced, then [`SETTLE`] more: (when the last one was
/// synced, reconciles and the operator's CPU time at that point, its RSS after settling).
/// `writes` has read the audit log up to the end of the settling time.
fn measure(
    plane: &ControlPlane,
    child: &mut Child,
    spawned: Timestamp,
    writes: &mut OperatorWrites,
    port: u16,
    objects: usize,
    patience: Duration,
) -> Result<(Timestamp, u64, Duration, u64)> {
    let started = Instant::now();
    let deadline = started + patience;
    let synced_at = loop {
        if let Some(status) = child.try_wait()? {
            bail!("the operator exited ({status})");
        }
        if writes.poll()? >= objects {
            // Confirmed by the objects themselves, with one list.
            let synced = synced(plane, &writes.namespace)?;
            if synced >= objects {
                break writes.latest_first.unwrap_or(spawned);
            }
            eprintln!("   every AIService had a status written, but {synced} show it");
        }
        if Instant::now() > deadline {
            bail!(
                "{objects} AIServices not synced in {:.0}s ({} had a status written)",
                (deadline - started).as_secs_f64(),
                writes.first.len()
            );
        }
        std::thread::sleep(Duration::from_millis(if writes.first.len() >= objects {
            2000
        } else {
            200
        }));
    };
    let cpu = cpu_time(child.id() as libc::pid_t).unwrap_or_default();
    let reconciles = metric(port, "aiservice_operator_reconciles_total").unwrap_or_else(|e| {
        eprintln!("   (reading the operator's /metrics: {e})");
        0
    });
    std::thread::sleep(SETTLE);
    if let Some(status) = child.try_wait()? {
        bail!("the operator exited ({status})");
    }
    let rss_kib = vm_rss_kib(child.id() as libc::pid_t).context("reading the operator's VmRSS")?;
    writes.poll()?;
    Ok((synced_at, reconciles, cpu, rss_kib))
}

/// One counter of the operator's `/metrics`.
fn metric(port: u16, name: &str) -> Result<u64> {
    let text = ureq::get(format!("http://127.0.0.1:{port}/metrics"))
        .call()?
        .body_mut()
        .read_to_string()?;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .with_context(|| format!("/metrics has no {name}"))
}

/// How many AIServices in `namespace` have a status for their current generation (one list).
fn synced(plane: &ControlPlane, namespace: &str) -> Result<usize> {
    let listed = plane.kubectl(&[
        "get",
        "aisvc",
        "-n",
        namespace,
        "-o",
        r#"jsonpath={range .items[*]}{.metadata.generation}{" "}{.status.observedGeneration}{"\n"}{end}"#,
    ])?;
    Ok(listed
        .lines()
        .filter(|line| {
            line.split_once(' ').is_some_and(|(generation, observed)| {
                !generation.is_empty() && generation == observed
            })
        })
        .count())
}

/// The operator's writes in one namespace, read from the audit log as it grows: every write
/// by resource with its time, and the first status write of each AIService. Every status the
/// operator writes carries the generation it observed, and nothing changes an AIService's
/// spec here, so an AIService's first status write is its sync. Reading the log costs the
/// apiserver nothing, where watching or listing the AIServices competes with the operator.
struct OperatorWrites {
    tail: AuditTail,
    namespace: String,
    needle: String,
    /// Resource (`aiservices/status` for a subresource) and time of each write.
    writes: Vec<(String, Timestamp)>,
    /// The first status write of each AIService.
    first: HashMap<String, Timestamp>,
    /// The latest of `first`.
    latest_first: Option<Timestamp>,
}

impl OperatorWrites {
    fn new(tail: AuditTail, namespace: &str) -> OperatorWrites {
        OperatorWrites {
            tail,
            namespace: namespace.to_string(),
            needle: format!("\"namespace\":\"{namespace}\""),
            writes: Vec::new(),
            first: HashMap::new(),
            latest_first: None,
        }
    }

    /// Takes in what the log gained; returns how many AIServices have had a status written.
    fn poll(&mut self) -> Result<usize> {
        while let Some(line) = self.tail.next_line()? {
            if line.contains(&self.needle) {
                self.take(&line)?;
            }
        }
        Ok(self.first.len())
    }

    fn take(&mut self, line: &str) -> Result<()> {
        let event: Value = serde_json::from_str(line).context("an audit line is not JSON")?;
        let object = &event["objectRef"];
        let agent = event["userAgent"].as_str().unwrap_or_default();
        let write = matches!(
            event["verb"].as_str(),
            Some("create" | "update" | "patch" | "delete")
        ) && !event["requestURI"]
            .as_str()
            .unwrap_or_default()
            .contains("dryRun=All");
        let done = matches!(event["responseStatus"]["code"].as_i64(), Some(200..=299));
        let at = event["stageTimestamp"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok());
        let (true, true, Some(at)) = (write, done, at) else {
            return Ok(());
        };
        if object["namespace"] != self.namespace.as_str()
            || OTHER_WRITERS.iter().any(|other| agent.starts_with(other))
        {
            return Ok(());
        }
        let resource = object["resource"].as_str().unwrap_or("?");
        let key = match object["subresource"].as_str() {
            Some(sub) if !sub.is_empty() => format!("{resource}/{sub}"),
            _ => resource.to_string(),
        };
        if key == "aiservices/status"
            && let Some(name) = object["name"].as_str()
            && !self.first.contains_key(name)
        {
            self.first.insert(name.to_string(), at);
            self.latest_first = Some(self.latest_first.map_or(at, |l| l.max(at)));
        }
        self.writes.push((key, at));
        Ok(())
    }
}

/// The apiserver's audit log (one JSON event a line), followed as it grows and across its
/// rotations: kube-apiserver renames it at 100 MB and starts a new file, which a 10,000-object
/// round does several times.
struct AuditTail {
    path: std::path::PathBuf,
    reader: BufReader<std::fs::File>,
    inode: u64,
    /// The start of a line not yet whole.
    partial: String,
    /// Whether `partial` is the rest of a line from before the start: dropped when whole.
    skip_partial: bool,
    /// The file was rotated: read it to its end, then go on with the new one.
    draining: bool,
}

impl AuditTail {
    /// From the log's end now.
    fn from_end(path: &Path) -> Result<AuditTail> {
        use std::os::unix::fs::MetadataExt;
        let mut file = std::fs::File::open(path)?;
        let inode = file.metadata()?.ino();
        let end = file.seek(SeekFrom::End(0))?;
        let mut skip_partial = false;
        if end > 0 {
            file.seek(SeekFrom::Start(end - 1))?;
            let mut last = [0u8];
            file.read_exact(&mut last)?;
            skip_partial = last[0] != b'\n';
        }
        Ok(AuditTail {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            inode,
            partial: String::new(),
            skip_partial,
            draining: false,
        })
    }

    /// The next whole line, if the log has one now.
    fn next_line(&mut self) -> Result<Option<String>> {
        use std::os::unix::fs::MetadataExt;
        loop {
            self.reader.read_line(&mut self.partial)?;
            if self.partial.ends_with('\n') {
                let line = std::mem::take(&mut self.partial);
                if std::mem::take(&mut self.skip_partial) {
                    continue;
                }
                return Ok(Some(line));
            }
            // At the end of the file (maybe in a line still being written).
            if self.draining {
                let file = std::fs::File::open(&self.path)?;
                self.inode = file.metadata()?.ino();
                self.reader = BufReader::new(file);
                self.partial.clear();
                self.draining = false;
                continue;
            }
            match std::fs::metadata(&self.path) {
                Ok(now) if now.ino() != self.inode => self.draining = true,
                _ => return Ok(None),
            }
        }
    }
}

fn manifests(namespace: &str, objects: usize) -> String {
    (0..objects)
        .map(|i| {
            format!(
                "---\napiVersion: stable.example.com/v1\nkind: AIService\nmetadata:\n  name: model-{i}\n  namespace: {namespace}\nspec:\n  modelUri: s3://models/model-{i}\n  replicas: 1\n"
            )
        })
        .collect()
}

// What the operator writes for the AIService `name` of `manifests` (its defaults: port 8080,
// Manual mode, the default image), field for field as `src/operator/workload.rs` and the
// status of `src/operator/controller.rs` build them.

fn labels(name: &str) -> Value {
    json!({
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": MANAGER,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": "model-server",
    })
}

fn selector(name: &str) -> Value {
    json!({"app.kubernetes.io/instance": name, "app.kubernetes.io/managed-by": MANAGER})
}

fn owned_metadata(namespace: &str, name: &str, uid: &str) -> Value {
    json!({
        "name": name,
        "namespace": namespace,
        "labels": labels(name),
        // The operator's hash of the content it applied (16 hex digits).
        "annotations": {"aiservice.example.com/applied-hash": "0123456789abcdef"},
        "ownerReferences": [{
            "apiVersion": "stable.example.com/v1",
            "kind": "AIService",
            "name": name,
            "uid": uid,
            "controller": true,
            "blockOwnerDeletion": true,
        }],
    })
}

fn deployment(namespace: &str, name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": owned_metadata(namespace, name, uid),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector(name)},
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {"containers": [{
                    "name": "model",
                    "image": DEFAULT_IMAGE,
                    "env": [{"name": "MODEL_URI", "value": format!("s3://models/{name}")}],
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 5},
                }]},
            },
        },
    })
}

fn service(namespace: &str, name: &str, uid: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": owned_metadata(namespace, name, uid),
        "spec": {
            "selector": selector(name),
            "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}],
        },
    })
}

/// The status of a new AIService whose Deployment has no pods yet.
fn status(namespace: &str, name: &str) -> Value {
    let selector =
        format!("app.kubernetes.io/instance={name},app.kubernetes.io/managed-by={MANAGER}");
    json!({
        "apiVersion": "stable.example.com/v1",
        "kind": "AIService",
        "metadata": {"name": name, "namespace": namespace},
        "status": {
            "observedGeneration": 1,
            "replicas": 0,
            "readyReplicas": 0,
            "desiredReplicas": 1,
            "selector": selector,
            "url": format!("http://{name}.{namespace}.svc:8080"),
            "conditions": [{
                "type": "Ready",
                "status": "False",
                "reason": "Progressing",
                "message": "0 of 1 replicas ready",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }],
        },
    })
}

/// User plus system CPU time of a live process.
fn cpu_time(pid: libc::pid_t) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // utime and stime are fields 14 and 15, counted after the command name (which may hold
    // spaces) as 12 and 13, starting from the state.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Duration::from_secs_f64(ticks as f64 / per_sec))
}

fn vm_rss_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
