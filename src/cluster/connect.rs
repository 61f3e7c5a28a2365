use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{KubeError, KubeLayer};
use crate::provider_config::ProviderConfig;

impl ProviderConfig {
    /// Builds a client for this configuration. Nothing is sent to the cluster yet, so an
    /// unreachable cluster is reported by the first operation, naming its resource.
    pub async fn connect(&self) -> Result<KubeLayer, KubeError> {
        let config = client_config(self.kubeconfig.as_deref(), self.context.as_deref())
            .await
            .map_err(KubeError::Config)?;
        let default_namespace = self
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let client = Client::try_from(config).map_err(|e| KubeError::Config(e.to_string()))?;
        Ok(KubeLayer::new(client, self, default_namespace))
    }
}

/// The client configuration of the provider and the operator alike: from `kubeconfig` (a
/// file's path or its contents) and `context` (unset: its current one); with neither, from
/// $KUBECONFIG or ~/.kube/config, else the in-cluster service account (the operator in its
/// pod). A failure says which source failed and why.
pub async fn client_config(
    kubeconfig: Option<&str>,
    context: Option<&str>,
) -> Result<Config, String> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    match kubeconfig {
        Some(text) if looks_like_contents(text) => {
            let kubeconfig = Kubeconfig::from_yaml(text)
                .map_err(|e| format!("the kubeconfig contents do not parse: {e}"))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("the kubeconfig contents: {e}"))
        }
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read the kubeconfig {path}: {e}"))?;
            Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| format!("the kubeconfig {path}: {e}"))
        }
        None if context.is_some() => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| format!("the kubeconfig: {e}")),
        None => Config::infer().await.map_err(|e| {
            format!("finding a cluster ($KUBECONFIG, ~/.kube/config, in-cluster): {e}")
        }),
    }
}

/// A kubeconfig given inline is YAML or JSON text; a path is one line.
fn looks_like_contents(text: &str) -> bool {
    text.contains('\n') || text.trim_start().starts_with('{') || text.contains("apiVersion:")
}
