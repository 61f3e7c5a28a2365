use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::{KubeError, KubeLayer, Target};
use crate::provider_config::ProviderConfig;

impl ProviderConfig {
    /// Builds a client for this configuration. Nothing is sent to the cluster yet, so an
    /// unreachable cluster is reported by the first operation, naming its resource. With no
    /// cluster configured anywhere (a CI machine without credentials) the layer has none: a
    /// preview goes on without it and a write fails saying so. A kubeconfig or context the
    /// configuration names must work. In render mode no cluster is looked for.
    pub async fn connect(&self) -> Result<KubeLayer, KubeError> {
        let namespace = |default: &str| self.namespace.clone().unwrap_or_else(|| default.into());
        if let Some(dir) = &self.render_yaml_to_directory {
            return Ok(KubeLayer::new(
                Target::Render(dir.into()),
                self,
                namespace("default"),
            ));
        }
        let named = self.kubeconfig.is_some() || self.context.is_some();
        let config = match client_config(self.kubeconfig.as_deref(), self.context.as_deref()).await
        {
            Ok(config) => config,
            Err(why) if !named => {
                return Ok(KubeLayer::new(
                    Target::Missing(why),
                    self,
                    namespace("default"),
                ));
            }
            Err(why) => return Err(KubeError::Config(why)),
        };
        let default_namespace = namespace(&config.default_namespace);
        let url = config.cluster_url.to_string();
        let client = Client::try_from(config).map_err(|e| KubeError::Config(e.to_string()))?;
        Ok(KubeLayer::new(
            Target::Cluster { client, url },
            self,
            default_namespace,
        ))
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
