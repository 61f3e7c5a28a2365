//! The Pulumi side of the side-by-side table: one Python program shape (a CRD and N custom
//! resources depending on it, plain `pulumi.CustomResource` registrations, so no SDK differs)
//! run by the real `pulumi` CLI with our provider, pulumi-kubernetes and the null provider,
//! and the same objects handled by `kubectl`, on one control plane. Each round runs every
//! tool through the whole lifecycle (preview on an empty cluster, up, a clean preview, an
//! update of every custom resource, refresh, destroy), the tools' order rotating from round
//! to round; the table shows medians.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aiservice_testenv::{ControlPlane, Options, Tools, remove_stale_dirs};
use anyhow::{Context, Result, ensure};

use crate::comparison::{Comparison, Target, Unit, median_secs};
use crate::{Measured, crd_and_instances, pulumi};

/// The steps of one lifecycle, in order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Preview,
    Up,
    PreviewAgain,
    Update,
    Refresh,
    Destroy,
    /// `up` again with the engine's state checkpoint after every step turned off (the file
    /// backend rewrites the whole state each time): what the engine costs, shown apart.
    UpWithoutCheckpoints,
}

const STEPS: [Step; 7] = [
    Step::Preview,
    Step::Up,
    Step::PreviewAgain,
    Step::Update,
    Step::Refresh,
    Step::Destroy,
    Step::UpWithoutCheckpoints,
];

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::Preview => "preview, empty cluster",
            Step::Up => "up",
            Step::PreviewAgain => "preview, no changes",
            Step::Update => "up, every CR changed",
            Step::Refresh => "refresh",
            Step::Destroy => "destroy",
            Step::UpWithoutCheckpoints => "up, PULUMI_SKIP_CHECKPOINTS=true",
        }
    }

    /// Our share above the null provider: under 10% for preview, up and refresh, under 20%
    /// for destroy; destroy also at least 3x faster than pulumi-kubernetes.
    fn targets(self) -> Vec<Target> {
        match self {
            Step::Preview | Step::Up | Step::Refresh => vec![Target::OverheadBelow(0.10)],
            Step::Destroy => vec![Target::OverheadBelow(0.20), Target::FasterThanAnchor(3.0)],
            Step::PreviewAgain | Step::Update | Step::UpWithoutCheckpoints => Vec::new(),
        }
    }
}

/// A provider the Pulumi program runs on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Provider {
    Ours,
    PulumiKubernetes,
    Null,
}

/// Where each provider's binary is; the null provider and ours are installed under the
/// plugin name `pulumi-resource-aiservice` in directories of their own.
pub struct Providers {
    pub ours: PathBuf,
    pub pulumi_kubernetes: PathBuf,
    pub null: PathBuf,
    /// A directory holding `pulumi-resource-aiservice` -> the null provider.
    null_plugin_dir: PathBuf,
}

impl Providers {
    pub fn new(
        ours: &Path,
        pulumi_kubernetes: &Path,
        null: &Path,
        dir: &Path,
    ) -> Result<Providers> {
        let null_plugin_dir = dir.join("null-provider");
        std::fs::create_dir_all(&null_plugin_dir)?;
        let link = null_plugin_dir.join("pulumi-resource-aiservice");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(null, &link)?;
        Ok(Providers {
            ours: ours.to_path_buf(),
            pulumi_kubernetes: pulumi_kubernetes.to_path_buf(),
            null: null.to_path_buf(),
            null_plugin_dir,
        })
    }

    fn binary(&self, provider: Provider) -> &Path {
        match provider {
            Provider::Ours => &self.ours,
            Provider::PulumiKubernetes => &self.pulumi_kubernetes,
            Provider::Null => &self.null,
        }
    }

    /// The directory the CLI finds the plugin in (first on PATH).
    fn plugin_dir(&self, provider: Provider) -> Result<&Path> {
        match provider {
            Provider::Null => Ok(&self.null_plugin_dir),
            _ => self
                .binary(provider)
                .parent()
                .context("the provider's directory"),
        }
    }
}

/// The tools of one comparison, in the order of the first round.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Pulumi(Provider),
    Kubectl,
}

const TOOLS: [Tool; 4] = [
    Tool::Pulumi(Provider::Ours),
    Tool::Pulumi(Provider::PulumiKubernetes),
    Tool::Pulumi(Provider::Null),
    Tool::Kubectl,
];

/// What one size measured: per tool and step, one wall time per round, and each provider's
/// largest peak RSS (KiB).
struct Samples {
    walls: Vec<(Tool, Step, Duration)>,
    peak_kib: Vec<(Provider, u64)>,
}

impl Samples {
    fn median(&self, tool: Tool, step: Step) -> Option<f64> {
        let walls: Vec<Duration> = self
            .walls
            .iter()
            .filter(|(t, s, _)| *t == tool && *s == step)
            .map(|(_, _, wall)| *wall)
            .collect();
        (!walls.is_empty()).then(|| median_secs(&walls))
    }

    fn peak_mb(&self, provider: Provider) -> Option<f64> {
        self.peak_kib
            .iter()
            .filter(|(p, _)| *p == provider)
            .map(|(_, kib)| *kib as f64 / 1024.0)
            .reduce(f64::max)
    }
}

/// Every size's lifecycle rows, then the providers' peak memory at the largest size.
pub fn pulumi_runs(
    providers: &Providers,
    dir: &Path,
    sizes: &[usize],
    rounds: usize,
) -> Result<Vec<Comparison>> {
    remove_stale_dirs("aiservice-bench-");
    let started = Instant::now();
    // Dropping the plane stops it and removes its directory. With kube-controller-manager,
    // as in every real cluster: its garbage collector finishes foreground deletions, which
    // pulumi-kubernetes asks for by default.
    let plane = ControlPlane::start(
        &dir.join("cluster"),
        Options {
            workloads: true,
            die_with_parent: true,
        },
    )?;
    eprintln!(
        "   control plane ready in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let mut rows = Vec::new();
    let mut largest = None;
    for &size in sizes {
        let samples = measure_size(&plane, providers, dir, size, rounds)?;
        for step in STEPS {
            let ours = samples
                .median(Tool::Pulumi(Provider::Ours), step)
                .context("no sample of ours")?;
            let mut row = Comparison::new(
                format!("pulumi {}, {size} CRs", step.describe()),
                Unit::Seconds,
                ours,
            )
            .anchor(samples.median(Tool::Pulumi(Provider::PulumiKubernetes), step))
            .null(samples.median(Tool::Pulumi(Provider::Null), step))
            .kubectl(samples.median(Tool::Kubectl, step));
            for target in step.targets() {
                row = row.target(target);
            }
            rows.push(row);
        }
        largest = Some((size, samples));
    }
    if let Some((size, samples)) = largest {
        let peak = |p| samples.peak_mb(p);
        rows.push(
            Comparison::new(
                format!("pulumi provider peak RSS, {size} CRs"),
                Unit::Megabytes,
                peak(Provider::Ours).context("no peak RSS of ours")?,
            )
            .anchor(peak(Provider::PulumiKubernetes))
            .null(peak(Provider::Null))
            .target(Target::AtMostOfAnchor(1.0 / 8.0)),
        );
    }
    Ok(rows)
}

fn measure_size(
    plane: &ControlPlane,
    providers: &Providers,
    dir: &Path,
    size: usize,
    rounds: usize,
) -> Result<Samples> {
    let mut samples = Samples {
        walls: Vec::new(),
        peak_kib: Vec::new(),
    };
    for round in 0..rounds {
        for i in 0..TOOLS.len() {
            let tool = TOOLS[(i + round) % TOOLS.len()];
            let name = format!("n{size}r{round}{}", short(tool));
            let walls = match tool {
                Tool::Pulumi(provider) => {
                    let stack = Stack::new(plane, providers, provider, dir, &name, size)?;
                    let mut walls = Vec::new();
                    for step in STEPS {
                        let measured = stack.step(step)?;
                        samples.peak_kib.push((provider, measured.provider_kib));
                        walls.push((step, measured.wall));
                    }
                    // Not measured: leaves the cluster as the round found it.
                    stack.step(Step::Destroy)?;
                    walls
                }
                Tool::Kubectl => kubectl_lifecycle(plane, dir, &name, size)?,
            };
            samples
                .walls
                .extend(walls.into_iter().map(|(step, wall)| (tool, step, wall)));
        }
    }
    Ok(samples)
}

fn short(tool: Tool) -> &'static str {
    match tool {
        Tool::Pulumi(Provider::Ours) => "ours",
        Tool::Pulumi(Provider::PulumiKubernetes) => "pk",
        Tool::Pulumi(Provider::Null) => "null",
        Tool::Kubectl => "kubectl",
    }
}

/// A program's stack in a work directory of its own, with a local file backend.
struct Stack<'a> {
    plane: &'a ControlPlane,
    provider: Provider,
    binary: &'a Path,
    resources: usize,
    group: String,
    work: PathBuf,
    program: PathBuf,
    envs: Vec<(&'static str, std::ffi::OsString)>,
}

impl<'a> Stack<'a> {
    fn new(
        plane: &'a ControlPlane,
        providers: &'a Providers,
        provider: Provider,
        dir: &Path,
        name: &str,
        resources: usize,
    ) -> Result<Stack<'a>> {
        let work = dir.join(name);
        let program = work.join("program");
        let group = format!("{name}.example.com");
        std::fs::create_dir_all(&program)?;
        std::fs::create_dir_all(work.join("backend"))?;
        write_program(&program, name, &group, resources, provider)?;
        let envs = vec![
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
            (
                "PATH",
                Tools::get()?.path_with(&[providers.plugin_dir(provider)?]),
            ),
        ];
        let stack = Stack {
            plane,
            provider,
            binary: providers.binary(provider),
            resources,
            group,
            work,
            program,
            envs,
        };
        stack.run(&["stack", "init", "bench"], &[])?;
        Ok(stack)
    }

    fn step(&self, step: Step) -> Result<Measured> {
        let timings = self.work.join(format!("{step:?}.rpc"));
        let _ = std::fs::remove_file(&timings);
        let timings_env = (
            "AISERVICE_RPC_TIMINGS",
            timings.to_str().context("temp path")?,
        );
        let revision = match step {
            Step::Preview | Step::Up | Step::PreviewAgain => ("BENCH_REVISION", "r1"),
            _ => ("BENCH_REVISION", "r2"),
        };
        let args: &[&str] = match step {
            Step::Preview => &["preview"],
            Step::PreviewAgain => &["preview", "--expect-no-changes"],
            Step::Up | Step::Update | Step::UpWithoutCheckpoints => {
                &["up", "--yes", "--skip-preview"]
            }
            Step::Refresh => &["refresh", "--yes", "--skip-preview"],
            Step::Destroy => &["destroy", "--yes", "--skip-preview"],
        };
        let mut env = vec![revision, timings_env];
        if step == Step::UpWithoutCheckpoints {
            env.push(("PULUMI_SKIP_CHECKPOINTS", "true"));
        }
        let measured = self.run(args, &env)?;
        // What a user would check: the objects are there, changed, or gone.
        if self.provider != Provider::Null {
            let expected = match step {
                Step::Up => Some(("r1", self.resources)),
                Step::Update | Step::UpWithoutCheckpoints => Some(("r2", self.resources)),
                Step::Destroy => Some(("r2", 0)),
                _ => None,
            };
            if let Some((revision, count)) = expected {
                self.expect_instances(revision, count)?;
            }
        }
        eprintln!(
            "   {:>4} CRs  {:<18} {:<24} {:>7.2} s wall | peak RSS: provider {:>6.1} MB ({} proc.), pulumi {:>5.1} MB | CPU: provider {:>5.2} s, pulumi {:>5.2} s, language host {:>5.2} s",
            self.resources,
            format!("{:?}", self.provider),
            step.describe(),
            measured.wall.as_secs_f64(),
            measured.provider_kib as f64 / 1024.0,
            measured.providers_seen,
            measured.pulumi_kib as f64 / 1024.0,
            measured.provider_cpu.as_secs_f64(),
            measured.pulumi_cpu.as_secs_f64(),
            measured.language_host_cpu.as_secs_f64(),
        );
        if let Some(summary) = rpc_summary(&timings) {
            eprintln!("        inside the provider: {summary}");
        }
        Ok(measured)
    }

    fn run(&self, args: &[&str], env: &[(&'static str, &str)]) -> Result<Measured> {
        let log = self.work.join(format!("{}.log", args.join("_")));
        let mut envs = self.envs.clone();
        envs.extend(env.iter().map(|(k, v)| (*k, v.into())));
        pulumi(&self.program, &envs, args, &log, self.binary)
    }

    /// Every custom resource of this program exists with `revision`, or none when `count`
    /// is 0 (and then the CRD is gone too).
    fn expect_instances(&self, revision: &str, count: usize) -> Result<()> {
        let crd = format!("modelservings.{}", self.group);
        if count == 0 {
            let left = self
                .plane
                .kubectl(&["get", "crd", &crd, "--ignore-not-found"])?;
            ensure!(
                left.trim().is_empty(),
                "the CRD {crd} is left after destroy"
            );
            return Ok(());
        }
        let listed = self.plane.kubectl(&[
            "get",
            &crd,
            "-n",
            "default",
            "-o",
            "jsonpath={range .items[*]}{.spec.model.revision}{\"\\n\"}{end}",
        ])?;
        let matching = listed.lines().filter(|r| *r == revision).count();
        ensure!(
            matching == count,
            "expected {count} custom resources of revision {revision}, the cluster has {matching} (of {})",
            listed.lines().count()
        );
        Ok(())
    }
}

/// The RPCs that took the provider longest, from its `AISERVICE_RPC_TIMINGS` file (lines of
/// `pid method calls total_ms median_ms max_ms`); pulumi-kubernetes writes none.
fn rpc_summary(file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut methods: Vec<(String, usize, f64, f64)> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [_, method, calls, total, median, _] = fields[..] else {
            continue;
        };
        let (Ok(calls), Ok(total), Ok(median)) = (calls.parse(), total.parse(), median.parse())
        else {
            continue;
        };
        match methods.iter_mut().find(|(m, ..)| m == method) {
            // Several provider processes: calls and totals add up; the median shown is the
            // busiest process's.
            Some(entry) => {
                entry.1 += calls;
                entry.2 += total;
            }
            None => methods.push((method.to_string(), calls, total, median)),
        }
    }
    methods.sort_by(|a, b| b.2.total_cmp(&a.2));
    let shown: Vec<String> = methods
        .iter()
        .take(4)
        .map(|(m, calls, total, median)| {
            format!("{m} {calls}x {:.2} s (median {median:.1} ms)", total / 1e3)
        })
        .collect();
    (!shown.is_empty()).then(|| shown.join(", "))
}

/// The same Python program for every provider; only the type tokens differ, and our CRD
/// resource takes the object without apiVersion and kind (its type says them).
fn write_program(
    program: &Path,
    name: &str,
    group: &str,
    resources: usize,
    provider: Provider,
) -> Result<()> {
    let (mut crd, instances) = crd_and_instances(group, resources);
    let (crd_type, instance_type) = match provider {
        Provider::Ours | Provider::Null => {
            if let Some(fields) = crd.as_object_mut() {
                fields.remove("apiVersion");
                fields.remove("kind");
            }
            (
                "aiservice:apiextensions/v1:CustomResourceDefinition".to_string(),
                "aiservice:apiextensions:CustomResource".to_string(),
            )
        }
        Provider::PulumiKubernetes => (
            "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition".to_string(),
            format!("kubernetes:{group}/v1:ModelServing"),
        ),
    };
    std::fs::write(
        program.join("Pulumi.yaml"),
        format!(
            "name: {name}\nruntime: python\ndescription: A CRD and {resources} custom resources (generated by aiservice-bench).\n"
        ),
    )?;
    let objects = serde_json::json!({"crd": crd, "instances": instances});
    std::fs::write(program.join("objects.json"), objects.to_string())?;
    std::fs::write(
        program.join("__main__.py"),
        format!(
            r#"import json
import os

import pulumi

with open("objects.json") as f:
    objects = json.load(f)
revision = os.environ.get("BENCH_REVISION", "r1")
crd = pulumi.CustomResource("{crd_type}", "crd", objects["crd"])
for i, instance in enumerate(objects["instances"]):
    instance["spec"]["model"]["revision"] = revision
    pulumi.CustomResource(
        "{instance_type}", f"ms-{{i}}", instance, opts=pulumi.ResourceOptions(depends_on=[crd])
    )
"#
        ),
    )?;
    Ok(())
}

/// The same objects with `kubectl`: server-side apply (the CRD, its Established condition,
/// the instances), a server-side diff for the clean preview, an apply of the changed
/// instances, a get of every instance for refresh, and `delete --wait` of the instances and
/// then the CRD. A preview of custom resources whose CRD does not exist yet is something
/// `kubectl` cannot do: no figure.
fn kubectl_lifecycle(
    plane: &ControlPlane,
    dir: &Path,
    name: &str,
    resources: usize,
) -> Result<Vec<(Step, Duration)>> {
    let group = format!("{name}.example.com");
    let (crd, instances) = crd_and_instances(&group, resources);
    let crd_file = dir.join(format!("{name}-crd.json"));
    let instances_file = dir.join(format!("{name}-instances.json"));
    let changed_file = dir.join(format!("{name}-instances-r2.json"));
    std::fs::write(&crd_file, crd.to_string())?;
    let list = |items: &[serde_json::Value]| {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
    };
    std::fs::write(&instances_file, list(&instances))?;
    let changed: Vec<serde_json::Value> = instances
        .iter()
        .cloned()
        .map(|mut o| {
            o["spec"]["model"]["revision"] = "r2".into();
            o
        })
        .collect();
    std::fs::write(&changed_file, list(&changed))?;
    let path = |p: &Path| p.display().to_string();
    let (crd_file, instances_file, changed_file) =
        (path(&crd_file), path(&instances_file), path(&changed_file));
    let timed = |commands: &[&[&str]]| -> Result<Duration> {
        let started = Instant::now();
        for args in commands {
            plane.kubectl(args)?;
        }
        Ok(started.elapsed())
    };
    let ns = ["-n", "default"];
    let up = timed(&[
        &["apply", "--server-side", "-f", &crd_file],
        &["wait", "--for=condition=Established", "-f", &crd_file],
        &[
            &["apply", "--server-side"][..],
            &ns,
            &["-f", &instances_file],
        ]
        .concat(),
    ])?;
    // `kubectl diff` exits 1 when it finds a difference, which `plane.kubectl` reports.
    let preview_again = timed(&[&[
        &["diff", "--server-side"][..],
        &ns,
        &["-f", &instances_file],
    ]
    .concat()])?;
    let update =
        timed(&[&[&["apply", "--server-side"][..], &ns, &["-f", &changed_file]].concat()])?;
    let refresh = timed(&[&[&["get", "-o", "json"][..], &ns, &["-f", &changed_file]].concat()])?;
    let destroy = timed(&[
        &[&["delete", "--wait"][..], &ns, &["-f", &changed_file]].concat(),
        &["delete", "--wait", "-f", &crd_file],
    ])?;
    let steps = [
        (Step::Up, up),
        (Step::PreviewAgain, preview_again),
        (Step::Update, update),
        (Step::Refresh, refresh),
        (Step::Destroy, destroy),
    ];
    for (step, wall) in steps {
        eprintln!(
            "   {resources:>4} CRs  {:<18} {:<24} {:>7.2} s wall",
            "kubectl",
            step.describe(),
            wall.as_secs_f64()
        );
    }
    Ok(steps.to_vec())
}
