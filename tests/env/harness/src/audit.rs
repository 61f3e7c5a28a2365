//! The apiserver's audit log (JSON lines, Metadata level): the witness for claims such as
//! "preview wrote nothing".

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: &Path) -> AuditLog {
        AuditLog {
            path: path.to_path_buf(),
        }
    }

    /// Every event logged so far.
    pub fn events(&self) -> Result<Vec<Value>> {
        let text = std::fs::read_to_string(&self.path)
            .with_context(|| format!("reading {}", self.path.display()))?;
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).context("audit log line is not JSON"))
            .collect()
    }

    /// The writes (create, update, patch, delete; not dry runs) logged after the first
    /// `start` events.
    pub fn writes_since(&self, start: usize) -> Result<Vec<Value>> {
        Ok(self
            .events()?
            .into_iter()
            .skip(start)
            .filter(|e| {
                matches!(
                    e["verb"].as_str(),
                    Some("create" | "update" | "patch" | "delete")
                )
            })
            .filter(|e| {
                !e["requestURI"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("dryRun=All")
            })
            .collect())
    }

    /// Waits up to `timeout` for an event that satisfies `matches` (the apiserver writes the
    /// final stage of an event just after it answers).
    pub fn wait_for(&self, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(event) = self.events()?.into_iter().find(|e| matches(e)) {
                return Ok(event);
            }
            if Instant::now() > deadline {
                bail!(
                    "no matching audit event in {} after {timeout:?}",
                    self.path.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `objectRef.<field>` of an audit event, or "" when absent.
pub fn object_ref<'a>(event: &'a Value, field: &str) -> &'a str {
    event["objectRef"][field].as_str().unwrap_or_default()
}
