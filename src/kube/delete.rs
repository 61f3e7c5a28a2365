use std::time::Duration;

use kube::api::{DeleteParams, PropagationPolicy};
use tokio_util::sync::CancellationToken;

use super::{KubeError, KubeLayer, ObjectRef};

const POLL: Duration = Duration::from_millis(250);

impl KubeLayer {
    /// Deletes in the foreground (dependents first) and waits until the object is gone.
    /// An object that is already gone is success. On timeout the error names the finalizers
    /// still holding the object.
    pub async fn delete_and_wait(
        &self,
        object: &ObjectRef,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(), KubeError> {
        let params = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        };
        match self.api(object).delete(&object.name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
            Err(e) => return Err(KubeError::from_kube(&object.describe(), e)),
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some(live) = self.get(object).await? else {
                return Ok(());
            };
            if tokio::time::Instant::now() >= deadline {
                let finalizers: Vec<&str> = live["metadata"]["finalizers"]
                    .as_array()
                    .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let waiting_for = if finalizers.is_empty() {
                    "the deletion to finish".to_string()
                } else {
                    format!("finalizers {} to be removed", finalizers.join(", "))
                };
                return Err(KubeError::Timeout {
                    what: object.describe(),
                    waiting_for,
                    timeout,
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = cancel.cancelled() => return Err(KubeError::Timeout {
                    what: object.describe(),
                    waiting_for: "the deletion (cancelled)".to_string(),
                    timeout,
                }),
            }
        }
    }
}
