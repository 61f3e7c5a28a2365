//! One control plane per test process, one namespace per test.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result, anyhow};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::audit::AuditLog;
use crate::control_plane::{ControlPlane, Options};
use crate::tools::Tools;

/// The cluster every test of this process talks to.
struct Cluster {
    kubeconfig: PathBuf,
    /// None for an external cluster, whose audit log we cannot read.
    audit_log: Option<PathBuf>,
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
static SHARED_PLANE: Mutex<Option<ControlPlane>> = Mutex::new(None);

fn cluster() -> Result<&'static Cluster> {
    SHARED
        .get_or_init(|| start_cluster().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("the test control plane did not start: {e}"))
}

fn start_cluster() -> Result<Cluster> {
    if std::env::var("AISERVICE_TEST_CLUSTER").as_deref() == Ok("external") {
        let kubeconfig = std::env::var_os("KUBECONFIG")
            .context("AISERVICE_TEST_CLUSTER=external needs KUBECONFIG pointing at the cluster")?;
        return Ok(Cluster {
            kubeconfig: PathBuf::from(kubeconfig),
            audit_log: None,
        });
    }
    crate::process::remove_stale_dirs("aiservice-test-");
    let dir = std::env::temp_dir().join(format!("aiservice-test-{}", std::process::id()));
    // The processes die with the thread that spawns them, so spawn them from a thread that
    // never ends; the atexit hook stops them cleanly (and removes the directory) when the
    // test binary exits normally, and the parent-death signal covers a killed one.
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("aiservice-control-plane".into())
        .spawn(move || {
            let started = ControlPlane::start(
                &dir,
                Options {
                    workloads: true,
                    die_with_parent: true,
                },
            );
            let _ = sender.send(started);
            loop {
                std::thread::park();
            }
        })?;
    let plane = receiver.recv().context("control plane thread ended")??;
    let cluster = Cluster {
        kubeconfig: plane.kubeconfig().to_path_buf(),
        audit_log: Some(plane.audit_log().to_path_buf()),
    };
    *SHARED_PLANE.lock().unwrap_or_else(|e| e.into_inner()) = Some(plane);
    extern "C" fn stop_shared_plane() {
        if let Some(mut plane) = SHARED_PLANE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            plane.stop();
        }
    }
    // SAFETY: registering a plain extern "C" fn with no captured state.
    unsafe { libc::atexit(stop_shared_plane) };
    Ok(cluster)
}

/// A test's view of the cluster: a client, its own namespace (deleted on drop) and helpers.
pub struct TestEnv {
    pub client: kube::Client,
    pub namespace: String,
    kubeconfig: PathBuf,
    audit_log: Option<PathBuf>,
}

impl TestEnv {
    /// Starts (or reuses) the process's control plane and creates a namespace whose name
    /// begins with `prefix`.
    pub async fn new(prefix: &str) -> Result<TestEnv> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let cluster = tokio::task::spawn_blocking(cluster).await??;
        let namespace = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let kubeconfig = Kubeconfig::read_from(&cluster.kubeconfig)?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
        let client = kube::Client::try_from(config)?;
        let env = TestEnv {
            client,
            namespace,
            kubeconfig: cluster.kubeconfig.clone(),
            audit_log: cluster.audit_log.clone(),
        };
        env.kubectl(&["create", "namespace", &env.namespace])?;
        Ok(env)
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Runs the real `kubectl` with this cluster's kubeconfig and the test's namespace.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        let namespaced: Vec<&str> = ["--namespace", self.namespace.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        Tools::get()?.kubectl(&self.kubeconfig, &namespaced)
    }

    /// The apiserver's audit log (not available on an external cluster).
    pub fn audit_log(&self) -> Result<AuditLog> {
        let path = self
            .audit_log
            .as_ref()
            .context("the audit log is only available on the harness's own control plane")?;
        Ok(AuditLog::new(path))
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // Fire and forget: the namespace controller removes what the test left behind.
        let _ = self.kubectl(&["delete", "namespace", &self.namespace, "--wait=false"]);
    }
}
