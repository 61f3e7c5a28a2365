//! A local Kubernetes control plane from the provisioned binaries: etcd on free loopback
//! ports, kube-apiserver with generated certificates, RBAC and a Metadata-level audit log, and
//! optionally kube-controller-manager, kube-scheduler and kwok with one fake node so that
//! Deployments get Ready pods. Dropping it stops every process and removes its directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::certs::Certs;
use crate::process::{Component, free_port, tail};
use crate::tools::Tools;

/// What to start besides etcd and kube-apiserver.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// kube-controller-manager, kube-scheduler and kwok with one fake node.
    pub workloads: bool,
    /// Kill the processes when the thread that started them ends (used by test processes,
    /// whose control plane is started from a thread that lives as long as the process).
    pub die_with_parent: bool,
}

/// The name of kwok's fake node; pods are scheduled onto it and kwok makes them Ready.
pub const FAKE_NODE: &str = "kwok-node-0";

pub struct ControlPlane {
    dir: PathBuf,
    kubeconfig: PathBuf,
    audit_log: PathBuf,
    server: String,
    components: Vec<Component>,
    /// How kube-apiserver was started, to start it again after a crash.
    apiserver: (Vec<String>, Options),
}

const AUDIT_POLICY: &str = r#"apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
"#;

impl ControlPlane {
    /// Starts a control plane in `dir` (created, and removed again on drop) and waits until
    /// the apiserver is ready (and, with workloads, the fake node is Ready).
    pub fn start(dir: &Path, options: Options) -> Result<ControlPlane> {
        let tools = Tools::get()?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut plane = ControlPlane {
            dir: dir.to_path_buf(),
            kubeconfig: dir.join("kubeconfig"),
            audit_log: dir.join("audit.log"),
            server: String::new(),
            components: Vec::new(),
            apiserver: (Vec::new(), options),
        };
        let certs = Certs::generate(dir)?;

        let etcd_client = free_port()?;
        let etcd_peer = free_port()?;
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        plane.spawn(
            "etcd",
            &tools.file("etcd")?,
            &[
                format!("--data-dir={}", dir.join("etcd").display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=default={peer_url}"),
                "--unsafe-no-fsync".into(),
                "--log-level=warn".into(),
            ],
            options,
        )?;

        let port = free_port()?;
        plane.server = format!("https://127.0.0.1:{port}");
        let policy = dir.join("audit-policy.yaml");
        fs::write(&policy, AUDIT_POLICY)?;
        let apiserver_args = vec![
            format!("--etcd-servers={etcd_url}"),
            format!("--secure-port={port}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--cert-dir={}", dir.join("apiserver-certs").display()),
            format!("--tls-cert-file={}", certs.serving_cert.display()),
            format!("--tls-private-key-file={}", certs.serving_key.display()),
            format!("--client-ca-file={}", certs.ca_cert.display()),
            format!(
                "--service-account-key-file={}",
                certs.service_account_pub.display()
            ),
            format!(
                "--service-account-signing-key-file={}",
                certs.service_account_key.display()
            ),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            "--authorization-mode=Node,RBAC".into(),
            // Room for a Service per object in the operator benchmark (thousands).
            "--service-cluster-ip-range=10.0.0.0/16".into(),
            "--endpoint-reconciler-type=none".into(),
            format!("--audit-policy-file={}", policy.display()),
            format!("--audit-log-path={}", plane.audit_log.display()),
            "--audit-log-format=json".into(),
            "--audit-log-mode=blocking".into(),
        ];
        plane.spawn(
            "kube-apiserver",
            &tools.file("kube-apiserver")?,
            &apiserver_args,
            options,
        )?;
        plane.apiserver = (apiserver_args, options);
        plane.write_kubeconfig(&certs)?;
        plane.wait_ready()?;

        if options.workloads {
            plane.start_workloads(tools, &certs, options)?;
        }
        Ok(plane)
    }

    fn spawn(
        &mut self,
        name: &'static str,
        program: &Path,
        args: &[String],
        options: Options,
    ) -> Result<()> {
        let component = Component::spawn(name, program, args, &self.dir, options.die_with_parent)?;
        self.components.push(component);
        Ok(())
    }

    fn write_kubeconfig(&self, certs: &Certs) -> Result<()> {
        // kubeconfig is YAML, and JSON is YAML: no YAML writer needed.
        let config = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "aiservice-test", "cluster": {
                "server": self.server,
                "certificate-authority": certs.ca_cert,
            }}],
            "users": [{"name": "admin", "user": {
                "client-certificate": certs.admin_cert,
                "client-key": certs.admin_key,
            }}],
            "contexts": [{"name": "aiservice-test", "context": {
                "cluster": "aiservice-test", "user": "admin", "namespace": "default",
            }}],
            "current-context": "aiservice-test",
        });
        fs::write(&self.kubeconfig, serde_json::to_vec_pretty(&config)?)?;
        Ok(())
    }

    /// Polls `kubectl get --raw /readyz` until the apiserver (with etcd) answers ok.
    fn wait_ready(&mut self) -> Result<()> {
        self.wait_until("kube-apiserver /readyz", Duration::from_secs(90), |plane| {
            Ok(plane.kubectl(&["get", "--raw", "/readyz"]).is_ok())
        })
    }

    /// Flags kube-controller-manager and kube-scheduler share: the admin kubeconfig for the
    /// API and for delegated authn/authz, a loopback-only serving port, no leader election.
    fn client_component_flags(&self) -> Result<Vec<String>> {
        let kubeconfig = self.kubeconfig.display();
        Ok(vec![
            format!("--kubeconfig={kubeconfig}"),
            format!("--authentication-kubeconfig={kubeconfig}"),
            format!("--authorization-kubeconfig={kubeconfig}"),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={}", free_port()?),
            "--leader-elect=false".into(),
        ])
    }

    fn start_workloads(&mut self, tools: &Tools, certs: &Certs, options: Options) -> Result<()> {
        let mut controller_manager = self.client_component_flags()?;
        controller_manager.extend([
            "--use-service-account-credentials=false".into(),
            format!(
                "--service-account-private-key-file={}",
                certs.service_account_key.display()
            ),
            format!("--root-ca-file={}", certs.ca_cert.display()),
            "--controllers=*,-nodeipam".into(),
        ]);
        self.spawn(
            "kube-controller-manager",
            &tools.file("kube-controller-manager")?,
            &controller_manager,
            options,
        )?;
        let scheduler = self.client_component_flags()?;
        self.spawn(
            "kube-scheduler",
            &tools.file("kube-scheduler")?,
            &scheduler,
            options,
        )?;
        self.spawn(
            "kwok",
            &tools.file("kwok")?,
            &[
                format!("--kubeconfig={}", self.kubeconfig.display()),
                format!("--config={}", tools.file("kwok-stages.yaml")?.display()),
                "--manage-all-nodes=false".into(),
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake".into(),
                format!("--server-address=127.0.0.1:{}", free_port()?),
                "--node-ip=10.0.1.1".into(),
                // The stages heartbeat the node's status every ~10 min and expect a Lease to
                // say it is alive in between; without one the node controller marks the node
                // NotReady after its grace period (~50 s) and pods stop being Ready.
                "--node-lease-duration-seconds=40".into(),
                "--cidr=10.1.0.0/16".into(),
            ],
            options,
        )?;
        let node = dir_file(&self.dir, "fake-node.json", &fake_node())?;
        self.kubectl(&["apply", "-f", &node])?;
        self.wait_until(
            "the kwok node to be Ready",
            Duration::from_secs(60),
            |plane| {
                let ready = plane.kubectl(&[
                    "get",
                    &format!("node/{FAKE_NODE}"),
                    "-o",
                    r#"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#,
                ])?;
                Ok(ready == "True")
            },
        )
    }

    /// Kills kube-apiserver outright (SIGKILL), as a crash would: requests in flight get no
    /// answer. etcd keeps what it committed.
    pub fn crash_apiserver(&mut self) {
        if let Some(apiserver) = self
            .components
            .iter_mut()
            .find(|c| c.name == "kube-apiserver")
        {
            apiserver.kill();
        }
        self.components.retain(|c| c.name != "kube-apiserver");
    }

    /// Starts kube-apiserver again with the same flags (same port and certificates) and
    /// waits until it is ready.
    pub fn restart_apiserver(&mut self) -> Result<()> {
        let (args, options) = self.apiserver.clone();
        let program = Tools::get()?.file("kube-apiserver")?;
        self.spawn("kube-apiserver", &program, &args, options)?;
        self.wait_ready()
    }

    /// Runs `kubectl` against this control plane and fails with its stderr.
    pub fn kubectl(&self, args: &[&str]) -> Result<String> {
        Tools::get()?.kubectl(&self.kubeconfig, args)
    }

    fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&ControlPlane) -> Result<bool>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            for component in &mut self.components {
                component.check_running()?;
            }
            if done(self)? {
                return Ok(());
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self
                    .components
                    .iter()
                    .map(|c| format!("--- {}:\n{}", c.name, tail(&c.log, 15)))
                    .collect();
                bail!(
                    "timed out after {timeout:?} waiting for {what}\n{}",
                    logs.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn audit_log(&self) -> &Path {
        &self.audit_log
    }

    /// Stops every component, newest first, and removes the directory.
    pub fn stop(&mut self) {
        while let Some(mut component) = self.components.pop() {
            component.stop(Duration::from_secs(10));
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

fn fake_node() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE,
            "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {"type": "kwok", "kubernetes.io/hostname": FAKE_NODE},
        },
        "status": {
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250", "nvidia.com/gpu": "8"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250", "nvidia.com/gpu": "8"},
        },
    })
}

fn dir_file(dir: &Path, name: &str, value: &serde_json::Value) -> Result<String> {
    let path = dir.join(name);
    fs::write(&path, serde_json::to_vec_pretty(value)?)?;
    Ok(path.display().to_string())
}
