//! Whether an aiservice operator is running in the cluster: some replica holds its
//! leader-election Lease (`aiservice-operator`, in whatever namespace it runs) and renewed it
//! within the Lease's duration. Typed resources await the operator's `Ready` only then; with
//! no operator there is nobody to report it.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Api;
use kube::api::ListParams;

use super::{KubeError, KubeLayer};

/// The name of the operator's leader-election Lease.
pub const OPERATOR_LEASE: &str = "aiservice-operator";

impl KubeLayer {
    pub async fn operator_running(&self) -> Result<bool, KubeError> {
        let leases: Api<Lease> = Api::all(self.client()?.clone());
        let params = ListParams::default().fields(&format!("metadata.name={OPERATOR_LEASE}"));
        let found = leases
            .list(&params)
            .await
            .map_err(|e| KubeError::from_kube("the aiservice operator's Lease", e))?;
        let now = Timestamp::now();
        Ok(found.items.iter().any(|lease| {
            lease.spec.as_ref().is_some_and(|spec| {
                spec.holder_identity
                    .as_deref()
                    .is_some_and(|h| !h.is_empty())
                    && !lease_expired(spec, now)
            })
        }))
    }
}

/// Whether a Lease's holder has failed to renew it for a whole duration.
pub fn lease_expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renewed) = spec.renew_time.as_ref() else {
        return true;
    };
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
    renewed
        .0
        .checked_add(duration)
        .map_or(true, |until| until < now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn spec(renewed_secs_ago: i64, duration: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some("a".into()),
            renew_time: Some(MicroTime(
                Timestamp::now() - SignedDuration::from_secs(renewed_secs_ago),
            )),
            lease_duration_seconds: Some(duration),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_lease_expires_a_duration_after_its_last_renewal() {
        assert!(!lease_expired(&spec(5, 15), Timestamp::now()));
        assert!(lease_expired(&spec(16, 15), Timestamp::now()));
        assert!(lease_expired(&LeaseSpec::default(), Timestamp::now()));
    }
}
