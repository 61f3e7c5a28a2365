use std::time::Duration;

use kube::api::{DeleteParams, Preconditions, PropagationPolicy};
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

use super::{KubeError, KubeLayer, ObjectRef};

/// What happens to an object's dependents (objects whose ownerReferences name it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    /// The object goes at once; the garbage collector removes dependents afterwards
    /// (`kubectl delete`'s default). Needs nobody else to finish the delete.
    #[default]
    Background,
    /// Dependents first: the garbage collector (kube-controller-manager) removes them, then
    /// the object.
    Foreground,
    /// Dependents stay, without the owner reference; the garbage collector removes it.
    Orphan,
}

impl Propagation {
    /// The spellings users write, as in pulumi-kubernetes' `deletionPropagationPolicy`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "background" => Some(Self::Background),
            "foreground" => Some(Self::Foreground),
            "orphan" => Some(Self::Orphan),
            _ => None,
        }
    }

    fn policy(self) -> PropagationPolicy {
        match self {
            Self::Background => PropagationPolicy::Background,
            Self::Foreground => PropagationPolicy::Foreground,
            Self::Orphan => PropagationPolicy::Orphan,
        }
    }
}

/// How one delete is sent.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub propagation: Propagation,
    /// Delete only the object with this uid (the one that was created), never another object
    /// that took its name since.
    pub uid: Option<String>,
}

/// How a delete ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    /// The object is gone (or already was).
    Gone,
    /// The name holds another object than the one recorded (another uid): it was left alone.
    Replaced,
}

impl KubeLayer {
    /// Deletes the object and waits (watching it) until it is gone, calling `on_wait` first
    /// when it is not gone at once (finalizers, foreground propagation). An object that is
    /// already gone is success. On timeout the error names what still holds the object.
    pub async fn delete_and_wait(
        &self,
        object: &ObjectRef,
        options: &DeleteOptions,
        timeout: Duration,
        cancel: &CancellationToken,
        on_wait: impl FnOnce(),
    ) -> Result<Deleted, KubeError> {
        if let Some(dir) = self.render_dir() {
            return super::render::remove(dir, object).map(|()| Deleted::Gone);
        }
        let params = DeleteParams {
            propagation_policy: Some(options.propagation.policy()),
            preconditions: options.uid.clone().map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        let api = self.api(object)?;
        match api.delete(&object.name, &params).await {
            // The apiserver answers with a status when the object is gone at once.
            Ok(answer) if answer.is_right() => return Ok(Deleted::Gone),
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(Deleted::Gone),
            // Only a precondition can conflict with a delete: the uid is another object's.
            Err(kube::Error::Api(status)) if status.code == 409 && options.uid.is_some() => {
                return Ok(Deleted::Replaced);
            }
            Err(e) => return Err(KubeError::from_kube(&object.describe(), e)),
        }
        // Finalizers (or foreground propagation) hold it: watch until it is gone.
        on_wait();
        let mut states = std::pin::pin!(Self::states(api, object));
        let mut deadline = std::pin::pin!(tokio::time::sleep(timeout));
        let mut waiting = "the deletion to finish".to_string();
        loop {
            let state = tokio::select! {
                state = states.next() => state,
                _ = &mut deadline => return Err(KubeError::Timeout {
                    what: object.describe(),
                    waiting_for: waiting,
                    timeout,
                }),
                _ = cancel.cancelled() => return Err(KubeError::Timeout {
                    what: object.describe(),
                    waiting_for: "the deletion (cancelled)".to_string(),
                    timeout,
                }),
            };
            match state {
                Some(Ok(None)) | None => return Ok(Deleted::Gone),
                // Deleted, and another object took the name since.
                Some(Ok(Some(live)))
                    if options
                        .uid
                        .as_deref()
                        .is_some_and(|uid| live["metadata"]["uid"] != uid) =>
                {
                    return Ok(Deleted::Gone);
                }
                Some(Ok(Some(live))) => waiting = waiting_for(&live),
                Some(Err(e)) => return Err(e),
            }
        }
    }
}

/// What holds an object that is being deleted, for the user.
fn waiting_for(live: &serde_json::Value) -> String {
    let finalizers: Vec<&str> = live["metadata"]["finalizers"]
        .as_array()
        .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    if finalizers.is_empty() {
        return "the deletion to finish".to_string();
    }
    let mut text = format!("finalizers {} to be removed", finalizers.join(", "));
    if finalizers
        .iter()
        .any(|f| matches!(*f, "foregroundDeletion" | "orphan"))
    {
        text.push_str(
            " (the garbage collector of kube-controller-manager removes them: is it running?)",
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_is_spelled_as_users_know_it() {
        assert_eq!(
            Propagation::parse("Foreground"),
            Some(Propagation::Foreground)
        );
        assert_eq!(Propagation::parse("orphan"), Some(Propagation::Orphan));
        assert_eq!(Propagation::parse("later"), None);
    }

    #[test]
    fn a_delete_waiting_for_the_garbage_collector_says_so() {
        let live = serde_json::json!({"metadata": {"finalizers": ["foregroundDeletion"]}});
        assert!(waiting_for(&live).contains("kube-controller-manager"));
        let live = serde_json::json!({"metadata": {"finalizers": ["example.com/cleanup"]}});
        assert_eq!(
            waiting_for(&live),
            "finalizers example.com/cleanup to be removed"
        );
    }
}
