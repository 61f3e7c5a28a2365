use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{KubeError, KubeLayer, ObjectRef};

const POLL: Duration = Duration::from_millis(200);

/// What a resource's readiness rule says about a live object.
#[derive(Debug, PartialEq)]
pub enum Readiness {
    Ready,
    /// Still progressing: what it waits for, shown to the user.
    Waiting(String),
    /// Will not become ready without a change to the inputs.
    Failed(String),
}

/// How waiting ended when the object did not become ready.
#[derive(Debug)]
pub enum NotReady {
    /// The object reported it cannot become ready.
    Failed(String),
    TimedOut(String),
    Cancelled,
    Gone,
    Kube(KubeError),
}

impl NotReady {
    /// Why waiting ended, for the user, given the timeout that applied.
    pub fn explain(self, timeout: Duration) -> String {
        match self {
            NotReady::Failed(reason) => reason,
            NotReady::TimedOut(waiting_for) => format!(
                "timed out after {}s waiting for {waiting_for}",
                timeout.as_secs()
            ),
            NotReady::Cancelled => "the engine cancelled the wait".to_string(),
            NotReady::Gone => "the object was deleted while waiting for it".to_string(),
            NotReady::Kube(e) => e.to_string(),
        }
    }
}

impl KubeLayer {
    /// Polls the object until `rule` says it is ready, it failed, `timeout` passed, or the
    /// engine cancelled. Returns the last live object either way.
    pub async fn wait_until(
        &self,
        object: &ObjectRef,
        rule: impl Fn(&serde_json::Value) -> Readiness,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<serde_json::Value, (NotReady, Option<serde_json::Value>)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last = None;
        loop {
            let live = match self.get(object).await {
                Ok(Some(live)) => live,
                Ok(None) => return Err((NotReady::Gone, last)),
                Err(e) => return Err((NotReady::Kube(e), last)),
            };
            let waiting_for = match rule(&live) {
                Readiness::Ready => return Ok(live),
                Readiness::Failed(reason) => return Err((NotReady::Failed(reason), Some(live))),
                Readiness::Waiting(what) => what,
            };
            last = Some(live);
            if tokio::time::Instant::now() >= deadline {
                return Err((NotReady::TimedOut(waiting_for), last));
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = cancel.cancelled() => return Err((NotReady::Cancelled, last)),
            }
        }
    }
}

/// The status of condition `kind` (`"True"`, `"False"`, ...) and its reason and message.
pub fn condition<'a>(live: &'a serde_json::Value, kind: &str) -> Option<(&'a str, String)> {
    let found = live["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)?;
    let reason = found["reason"].as_str().unwrap_or_default();
    let message = found["message"].as_str().unwrap_or_default();
    Some((
        found["status"].as_str().unwrap_or("Unknown"),
        format!("{reason}: {message}"),
    ))
}
