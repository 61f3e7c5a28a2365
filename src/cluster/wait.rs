use std::time::Duration;

use kube::Api;
use kube::api::DynamicObject;
use kube::runtime::watcher::{self, Event, watcher};
use tokio_stream::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{KubeError, KubeLayer, ObjectRef, to_json};

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
    /// Watches the object until `rule` says it is ready, it failed, `timeout` passed, or the
    /// engine cancelled: it returns as soon as the apiserver reports the change, with no
    /// polling interval added. Returns the last live object either way.
    pub async fn wait_until(
        &self,
        object: &ObjectRef,
        rule: impl Fn(&serde_json::Value) -> Readiness,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<serde_json::Value, (NotReady, Option<serde_json::Value>)> {
        let deadline = tokio::time::sleep(timeout);
        let api = self.api(object).map_err(|e| (NotReady::Kube(e), None))?;
        let mut states = std::pin::pin!(Self::states(api, object));
        let mut deadline = std::pin::pin!(deadline);
        let mut last = None;
        let mut waiting_for = "the object to be read".to_string();
        loop {
            let state = tokio::select! {
                state = states.next() => state,
                _ = &mut deadline => return Err((NotReady::TimedOut(waiting_for), last)),
                _ = cancel.cancelled() => return Err((NotReady::Cancelled, last)),
            };
            let live = match state {
                Some(Ok(Some(live))) => live,
                Some(Ok(None)) => return Err((NotReady::Gone, last)),
                Some(Err(e)) => return Err((NotReady::Kube(e), last)),
                None => return Err((NotReady::Gone, last)),
            };
            match rule(&live) {
                Readiness::Ready => return Ok(live),
                Readiness::Failed(reason) => return Err((NotReady::Failed(reason), Some(live))),
                Readiness::Waiting(what) => waiting_for = what,
            }
            last = Some(live);
        }
    }

    /// The states of one object as the apiserver reports them: first as it is now, then after
    /// each change; `None` while it does not exist (at the start, or once deleted). A watch
    /// of that one name (a field selector), so nothing is polled.
    pub(super) fn states(
        api: Api<DynamicObject>,
        object: &ObjectRef,
    ) -> impl Stream<Item = Result<Option<serde_json::Value>, KubeError>> + use<> {
        let config = watcher::Config::default().fields(&format!("metadata.name={}", object.name));
        let what = object.describe();
        let target = object.clone();
        let mut listed = false;
        watcher(api, config).filter_map(move |event| match event {
            Ok(Event::Init) => {
                listed = false;
                None
            }
            Ok(Event::InitApply(live)) => {
                listed = true;
                Some(to_json(&live, &target).map(Some))
            }
            // The list found no object of that name.
            Ok(Event::InitDone) => (!listed).then_some(Ok(None)),
            Ok(Event::Apply(live)) => Some(to_json(&live, &target).map(Some)),
            Ok(Event::Delete(_)) => Some(Ok(None)),
            Err(e) => Some(Err(KubeError::from_kube(&what, watch_error(e)))),
        })
    }
}

/// A watch failure as the request error it carries.
pub(super) fn watch_error(e: watcher::Error) -> kube::Error {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => e,
        watcher::Error::WatchError(status) => kube::Error::Api(status),
        watcher::Error::NoResourceVersion => {
            kube::Error::Service(watcher::Error::NoResourceVersion.to_string().into())
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
