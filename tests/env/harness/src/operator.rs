//! Our operator binary run against a test's cluster, watching only the test's namespace, with
//! `/metrics` and `/healthz` on a free loopback port. Stopped with SIGTERM when dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::process::{Component, free_port, tail};
use crate::test_env::TestEnv;

pub struct OperatorProcess {
    /// `http://127.0.0.1:<port>`, serving `/metrics` and `/healthz`.
    pub url: String,
    dir: PathBuf,
    component: Component,
}

impl OperatorProcess {
    /// Starts `binary` (the freshly built `aiservice-operator`) for `env`'s namespace, with
    /// `extra` flags, and waits until `/healthz` answers.
    pub fn start(env: &TestEnv, binary: &Path, extra: &[&str]) -> Result<OperatorProcess> {
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("aiservice-operator-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut args = vec![
            format!("--kubeconfig={}", env.kubeconfig().display()),
            format!("--namespace={}", env.namespace),
            format!("--metrics-address=127.0.0.1:{port}"),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let component = Component::spawn("aiservice-operator", binary, &args, &dir, true)?;
        let mut operator = OperatorProcess {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            component,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(format!("{}/healthz", operator.url))
            .call()
            .is_err()
        {
            operator.component.check_running()?;
            if Instant::now() > deadline {
                bail!(
                    "the operator did not serve /healthz in 30s:\n{}",
                    operator.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(operator)
    }

    /// The end of the operator's log, for failure messages.
    pub fn log(&self) -> String {
        tail(&self.component.log, 40)
    }

    /// Kills the operator outright (SIGKILL), as a crash or a lost node would.
    pub fn kill(&mut self) {
        self.component.kill();
    }

    /// One counter of `/metrics`.
    pub fn counter(&self, name: &str) -> Result<u64> {
        let text = self.metrics()?;
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("/metrics has no {name}:\n{text}"))
    }

    /// `/metrics` as text.
    pub fn metrics(&self) -> Result<String> {
        Ok(ureq::get(format!("{}/metrics", self.url))
            .call()?
            .body_mut()
            .read_to_string()?)
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.component.stop(Duration::from_secs(10));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
