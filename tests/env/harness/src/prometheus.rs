//! A real Prometheus (Debian's binary from the test environment) on a free loopback port,
//! scraping the targets a test gives it every second. Stopped and cleaned up on drop.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::process::{Component, free_port, tail};
use crate::tools::Tools;

pub struct Prometheus {
    pub url: String,
    dir: PathBuf,
    component: Component,
}

impl Prometheus {
    /// Starts Prometheus scraping `targets` (`host:port`, path `/metrics`) every second.
    pub fn start(targets: &[String]) -> Result<Prometheus> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "aiservice-prometheus-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)?;
        let config = serde_json::json!({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "test", "static_configs": [{"targets": targets}]}],
        });
        let config_file = dir.join("prometheus.yml");
        std::fs::write(&config_file, serde_json::to_vec(&config)?)?;
        let component = Component::spawn(
            "prometheus",
            &Tools::get()?.file("prometheus")?,
            &[
                format!("--config.file={}", config_file.display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--log.level=warn".into(),
            ],
            &dir,
            false,
        )?;
        let mut prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            component,
        };
        prometheus.wait_ready()?;
        Ok(prometheus)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(format!("{}/-/ready", self.url)).call().is_err() {
            self.component.check_running()?;
            if Instant::now() > deadline {
                bail!(
                    "prometheus not ready after 30s:\n{}",
                    tail(&self.component.log, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Runs an instant query through the HTTP API and returns `data.result`.
    pub fn query(&self, expr: &str) -> Result<Value> {
        let body: String = ureq::get(format!("{}/api/v1/query", self.url))
            .query("query", expr)
            .call()
            .with_context(|| format!("querying prometheus for {expr}"))?
            .body_mut()
            .read_to_string()?;
        let answer: Value = serde_json::from_str(&body)?;
        if answer["status"] != "success" {
            bail!("prometheus answered {answer}");
        }
        Ok(answer["data"]["result"].clone())
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.component.stop(Duration::from_secs(10));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
