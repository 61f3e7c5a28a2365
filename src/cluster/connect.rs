use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{KubeError, KubeLayer};
use crate::provider_config::ProviderConfig;

impl ProviderConfig {
    /// Builds a client for this configuration. Nothing is sent to the cluster yet, so an
    /// unreachable cluster is reported by the first operation, naming its resource.
    pub async fn connect(&self) -> Result<KubeLayer, KubeError> {
        let options = KubeConfigOptions {
            context: self.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = match self.kubeconfig.as_deref() {
            Some(text) if looks_like_contents(text) => {
                let kubeconfig = Kubeconfig::from_yaml(text).map_err(|e| {
                    KubeError::Config(format!("the kubeconfig contents do not parse: {e}"))
                })?;
                Config::from_custom_kubeconfig(kubeconfig, &options).await
            }
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path)
                    .map_err(|e| KubeError::Config(format!("cannot read {path}: {e}")))?;
                Config::from_custom_kubeconfig(kubeconfig, &options).await
            }
            None => Config::from_kubeconfig(&options).await,
        }
        .map_err(|e| KubeError::Config(e.to_string()))?;
        let default_namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| KubeError::Config(e.to_string()))?;
        Ok(KubeLayer::new(client, self, default_namespace))
    }
}

/// A kubeconfig given inline is YAML or JSON text; a path is one line.
fn looks_like_contents(text: &str) -> bool {
    text.contains('\n') || text.trim_start().starts_with('{') || text.contains("apiVersion:")
}
