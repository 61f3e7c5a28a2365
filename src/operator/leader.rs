//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several operator replicas
//! exactly one acts. The leader renews the Lease well within its duration; a standby takes it
//! over once it has not been renewed for a whole duration (the leader died), or at once when
//! the leader gave it up on a graceful stop. Every write carries the `resourceVersion` it read,
//! so two candidates can never both win the same Lease.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Client;

use crate::cluster::lease_expired;
use kube::api::{Api, PostParams};
use tokio_util::sync::CancellationToken;

/// Which Lease, and who is asking.
#[derive(Clone, Debug)]
pub struct Election {
    pub namespace: String,
    pub name: String,
    /// This replica's name in `holderIdentity` (its pod name, or host and process id).
    pub identity: String,
    /// How long a Lease holds without renewal.
    pub duration: Duration,
}

impl Election {
    /// How often the leader renews, and a standby retries: a third of the duration, so a
    /// renewal can fail twice before the Lease lapses.
    fn period(&self) -> Duration {
        self.duration / 3
    }
}

/// What one attempt found.
#[derive(Debug, PartialEq)]
enum Attempt {
    Leading,
    /// Someone else holds the Lease.
    Held(String),
}

/// Waits until this replica holds the Lease (or `stop` fires: `false`).
pub async fn acquire(client: &Client, election: &Election, stop: &CancellationToken) -> bool {
    let api = Api::<Lease>::namespaced(client.clone(), &election.namespace);
    let mut last_holder = None;
    loop {
        match attempt(&api, election).await {
            Ok(Attempt::Leading) => {
                tracing::info!(
                    "leading: holding Lease {}/{} as {}",
                    election.namespace,
                    election.name,
                    election.identity
                );
                return true;
            }
            Ok(Attempt::Held(holder)) => {
                if last_holder.as_ref() != Some(&holder) {
                    tracing::info!("standing by: {holder} leads");
                    last_holder = Some(holder);
                }
            }
            Err(e) => tracing::warn!("leader election: {e}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return false,
            _ = tokio::time::sleep(election.period()) => {}
        }
    }
}

/// Renews the Lease until `stop` fires (then gives it up, so a standby takes over at once) or
/// until leadership is lost (`lost` fires: the caller must stop acting).
pub async fn keep(
    client: Client,
    election: Election,
    stop: CancellationToken,
    lost: CancellationToken,
) {
    let api = Api::<Lease>::namespaced(client, &election.namespace);
    let mut last_renewal = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                release(&api, &election).await;
                return;
            }
            _ = tokio::time::sleep(election.period()) => {}
        }
        match attempt(&api, &election).await {
            Ok(Attempt::Leading) => last_renewal = tokio::time::Instant::now(),
            Ok(Attempt::Held(holder)) => {
                tracing::error!("lost the Lease to {holder}; stopping");
                lost.cancel();
                return;
            }
            Err(e) if last_renewal.elapsed() >= election.duration => {
                tracing::error!(
                    "could not renew the Lease for {:?} ({e}); stopping",
                    election.duration
                );
                lost.cancel();
                return;
            }
            Err(e) => tracing::warn!("renewing the Lease: {e}"),
        }
    }
}

/// One read-then-write: create the Lease, renew it, or take over an expired or released one.
async fn attempt(api: &Api<Lease>, election: &Election) -> Result<Attempt, kube::Error> {
    let now = Timestamp::now();
    let Some(mut lease) = api.get_opt(&election.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(election.name.clone()),
                namespace: Some(election.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(spec_for(election, now, now, 0)),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(Attempt::Leading),
            // Another candidate created it first.
            Err(kube::Error::Api(e)) if e.code == 409 => {
                Ok(Attempt::Held("another candidate".into()))
            }
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
    let ours = holder.as_deref() == Some(election.identity.as_str());
    if !ours
        && let Some(holder) = holder.clone()
        && !lease_expired(&spec, now)
    {
        return Ok(Attempt::Held(holder));
    }
    let acquired = if ours {
        spec.acquire_time.map_or(now, |t| t.0)
    } else {
        now
    };
    let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!ours);
    lease.spec = Some(spec_for(election, acquired, now, transitions));
    // The resourceVersion read above makes this write fail if anyone wrote in between.
    match api
        .replace(&election.name, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => Ok(Attempt::Leading),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(Attempt::Held(
            holder.unwrap_or_else(|| "another candidate".into()),
        )),
        Err(e) => Err(e),
    }
}

fn spec_for(
    election: &Election,
    acquired: Timestamp,
    renewed: Timestamp,
    transitions: i32,
) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(election.identity.clone()),
        lease_duration_seconds: Some(
            i32::try_from(election.duration.as_secs())
                .unwrap_or(i32::MAX)
                .max(1),
        ),
        acquire_time: Some(MicroTime(acquired)),
        renew_time: Some(MicroTime(renewed)),
        lease_transitions: Some(transitions),
        ..LeaseSpec::default()
    }
}

/// Gives the Lease up on a graceful stop: an empty holder lets a standby take it at once.
async fn release(api: &Api<Lease>, election: &Election) {
    let Ok(Some(mut lease)) = api.get_opt(&election.name).await else {
        return;
    };
    let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
    if spec.holder_identity.as_deref() != Some(election.identity.as_str()) {
        return;
    }
    spec.holder_identity = None;
    match api
        .replace(&election.name, &PostParams::default(), &lease)
        .await
    {
        Ok(_) => tracing::info!("gave up the Lease"),
        Err(e) => tracing::warn!("giving up the Lease: {e}"),
    }
}
