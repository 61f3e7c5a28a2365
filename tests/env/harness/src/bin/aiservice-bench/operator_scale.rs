//! The operator at scale: N AIServices (one replica each, pods made Ready by kwok) created in a
//! namespace before the operator starts; measured are the initial sync (until every object
//! has a status for its generation) and the operator's resident memory once it has settled.
//! Two sizes give the memory per object, from which the memory at 10,000 is extrapolated.
//! The scaling decision's own speed comes from criterion (`benches/scaling_decision.rs`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, remove_stale_dirs};
use anyhow::{Context, Result, bail};

use crate::comparison::Comparison;
use crate::{Row, criterion_per_sec, thousands};

const RSS_AT_10K_TARGET_MB: f64 = 100.0;
/// How long the operator runs after the sync before its memory is read.
const SETTLE: Duration = Duration::from_secs(10);

/// What one size measured.
struct Round {
    objects: usize,
    /// How long the apiserver took to create them (kubectl apply): the same-run baseline.
    created: Duration,
    sync: Duration,
    rss_kib: u64,
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
    let idle = round(&plane, operator, &dir, 0)?;
    let small = round(&plane, operator, &dir, sizes[0])?;
    let large = round(&plane, operator, &dir, sizes[1])?;
    drop(plane);
    let _ = std::fs::remove_dir_all(&dir);

    let mb = |kib: u64| kib as f64 / 1024.0;
    let per_object_kib =
        (large.rss_kib as f64 - small.rss_kib as f64) / (large.objects - small.objects) as f64;
    let at_10k = large.rss_kib as f64 + per_object_kib * (10_000 - large.objects) as f64;
    for r in [&small, &large] {
        rows.push(Row {
            figure: format!("operator initial sync, {} AIServices", r.objects),
            measured: format!("{:.1} s", r.sync.as_secs_f64()),
            target: "-".into(),
            meets: None,
            baseline: format!(
                "creating them (kubectl apply) {:.1} s",
                r.created.as_secs_f64()
            ),
            ratio: r.sync.as_secs_f64() / r.created.as_secs_f64().max(0.001),
        });
        rows.push(Row {
            figure: format!("operator RSS after sync, {} AIServices", r.objects),
            measured: format!("{:.1} MB", mb(r.rss_kib)),
            target: "-".into(),
            meets: None,
            baseline: format!("0 AIServices {:.1} MB", mb(idle.rss_kib)),
            ratio: r.rss_kib as f64 / idle.rss_kib.max(1) as f64,
        });
    }
    rows.push(Row {
        figure: "operator RSS at 10,000 (extrapolated)".into(),
        measured: format!("{:.1} MB", at_10k / 1024.0),
        target: format!("< {RSS_AT_10K_TARGET_MB:.0} MB"),
        meets: Some(at_10k / 1024.0 < RSS_AT_10K_TARGET_MB),
        baseline: format!("{:.1} KiB per AIService", per_object_kib),
        ratio: at_10k / idle.rss_kib.max(1) as f64,
    });
    Ok((Vec::new(), rows))
}

/// Creates `objects` AIServices in a fresh namespace, then starts the operator for it and
/// measures until every one has a status for its generation.
fn round(plane: &ControlPlane, operator: &Path, dir: &Path, objects: usize) -> Result<Round> {
    let namespace = format!("bench-{objects}");
    plane.kubectl(&["create", "namespace", &namespace])?;
    let mut created = Duration::ZERO;
    if objects > 0 {
        let file = dir.join(format!("{namespace}.yaml"));
        std::fs::write(&file, manifests(&namespace, objects))?;
        let started = Instant::now();
        plane.kubectl(&["apply", "--server-side", "-f", &file.display().to_string()])?;
        created = started.elapsed();
        eprintln!(
            "   {objects} AIServices created in {:.1}s",
            created.as_secs_f64()
        );
    }
    let mut child = Command::new(operator)
        .arg(format!("--kubeconfig={}", plane.kubeconfig().display()))
        .arg(format!("--namespace={namespace}"))
        .arg("--metrics-address=127.0.0.1:0")
        .arg("--log=warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(
            dir.join(format!("operator-{objects}.log")),
        )?)
        .spawn()
        .context("starting the operator")?;
    let outcome = measure(plane, &mut child, &namespace, objects);
    let _ = child.kill();
    let _ = child.wait();
    let round = Round {
        created,
        ..outcome?
    };
    eprintln!(
        "   {objects} AIServices: synced in {:.1}s, RSS {:.1} MB",
        round.sync.as_secs_f64(),
        round.rss_kib as f64 / 1024.0
    );
    Ok(round)
}

fn measure(
    plane: &ControlPlane,
    child: &mut Child,
    namespace: &str,
    objects: usize,
) -> Result<Round> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("the operator exited ({status})");
        }
        if synced(plane, namespace)? == objects {
            break;
        }
        if Instant::now() > deadline {
            bail!("{objects} AIServices not synced in 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(if objects == 0 { 50 } else { 2000 }));
    }
    let sync = started.elapsed();
    std::thread::sleep(SETTLE);
    let rss_kib = vm_rss_kib(child.id() as libc::pid_t).context("reading the operator's VmRSS")?;
    Ok(Round {
        objects,
        created: Duration::ZERO,
        sync,
        rss_kib,
    })
}

/// How many AIServices in `namespace` have a status for their current generation.
fn synced(plane: &ControlPlane, namespace: &str) -> Result<usize> {
    let listed = plane.kubectl(&["get", "aisvc", "-n", namespace, "-o", "json"])?;
    let list: serde_json::Value = serde_json::from_str(&listed)?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| {
            o["status"]["observedGeneration"].as_i64().is_some()
                && o["status"]["observedGeneration"] == o["metadata"]["generation"]
        })
        .count())
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

fn vm_rss_kib(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
