//! Going on without the cluster. CI machines often preview with no cluster credentials, or
//! with a cluster they cannot reach; such a preview should still validate what it can and say
//! once, clearly, what it could not ask. The first lookup that cannot reach the cluster records
//! why; later lookups of the same process answer from what the program plans (its CRDs) and do
//! not try again, so a preview of 500 objects does not wait 500 times. Writes always try the
//! cluster, so `up` fails with the same clear error as before.

use super::{KubeError, KubeLayer, Target, lock};

/// Why the cluster could not be asked, and whether the user was told.
pub(super) struct Offline {
    reason: String,
    told: bool,
}

impl KubeLayer {
    /// Records `error` when it says that no cluster can be asked (none configured, or none
    /// reachable), returning whether it did: the caller then goes on without the cluster.
    pub fn note_offline(&self, error: &KubeError) -> bool {
        let reason = match error {
            KubeError::Config(why) => format!("no cluster is configured ({why})"),
            KubeError::Unreachable { reason, .. } => {
                format!("cannot reach the cluster at {} ({reason})", self.cluster())
            }
            _ => return false,
        };
        lock(&self.offline).get_or_insert(Offline {
            reason,
            told: false,
        });
        true
    }

    /// Whether a lookup of this process found the cluster out of reach.
    pub fn is_offline(&self) -> bool {
        lock(&self.offline).is_some()
    }

    /// The one warning to show, the first time it is asked for after the cluster was found out
    /// of reach; `None` before and after.
    pub fn offline_notice(&self) -> Option<String> {
        let mut offline = lock(&self.offline);
        let offline = offline.as_mut().filter(|o| !o.told)?;
        offline.told = true;
        Some(format!(
            "{}: this preview goes on without it. Custom resources are checked against the CRDs \
this program creates (or that this provider or its CRD package defines), not against the \
cluster's, and what the cluster would fill in shows as unknown. An update (`pulumi up`, \
`terraform apply`) needs the cluster.",
            offline.reason
        ))
    }

    /// How messages name the cluster: its URL.
    fn cluster(&self) -> &str {
        match &self.target {
            Target::Cluster { url, .. } => url,
            Target::Missing(_) | Target::Render(_) => "(none)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider_config::ProviderConfig;

    #[test]
    fn the_first_failure_to_reach_the_cluster_is_told_once() {
        let layer = KubeLayer::new(
            Target::Missing("no kubeconfig".into()),
            &ProviderConfig::default(),
            "default".into(),
        );
        let refused = KubeError::Api {
            what: "Widget a".into(),
            code: 403,
            reason: "Forbidden".into(),
            message: "no".into(),
        };
        assert!(!layer.note_offline(&refused), "an answer is not an absence");
        assert!(!layer.is_offline());
        assert_eq!(layer.offline_notice(), None);

        assert!(layer.note_offline(&KubeError::Config("no kubeconfig".into())));
        assert!(layer.note_offline(&KubeError::Config("again".into())));
        assert!(layer.is_offline());
        let notice = layer.offline_notice().unwrap();
        assert!(
            notice.starts_with("no cluster is configured (no kubeconfig): this preview goes on"),
            "{notice}"
        );
        assert_eq!(layer.offline_notice(), None);
    }
}
