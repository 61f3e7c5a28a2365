//! The Terraform adapter: `terraform-provider-aiservice` serves the plugin protocol version 6
//! to Terraform and OpenTofu on top of the same protocol-neutral resources as the Pulumi
//! adapter. `plugin` starts it the go-plugin way, `cty` converts values, `schema` says what
//! the CLI sees, `provider` answers the RPCs.

mod cty;
mod diagnostics;
mod layout;
mod plugin;
mod provider;
mod schema;

use std::io::Write;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

use crate::proto::goplugin::{self, grpc_controller_server::GrpcControllerServer};
use crate::proto::tfplugin6::provider_server::ProviderServer;

pub use plugin::PluginError;

/// The field manager of applies made through Terraform, unless configured otherwise.
pub const DEFAULT_FIELD_MANAGER: &str = "terraform-aiservice";

/// Serves the provider until the CLI shuts it down: checks the CLI's environment, listens on
/// a loopback port, prints the handshake line and logs to stderr (which the CLI shows with
/// `TF_LOG`).
pub async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    serve_provider(provider::Provider::new()).await
}

/// What the CLI gets from `GetProviderSchema`: the provider block, every resource type and
/// every data source. Public for the bench's null provider, which serves the same schema.
pub fn provider_schema() -> crate::proto::tfplugin6::get_provider_schema::Response {
    crate::proto::tfplugin6::get_provider_schema::Response {
        provider: Some(schema::provider_schema()),
        resource_schemas: schema::resource_types()
            .iter()
            .map(|t| (t.name.clone(), t.schema()))
            .collect(),
        data_source_schemas: schema::data_source_types()
            .map(|t| (t.name.clone(), t.schema()))
            .collect(),
        diagnostics: Vec::new(),
        provider_meta: None,
    }
}

/// [`serve`] with any implementation of the provider service: the go-plugin handshake,
/// mutual TLS and the controller's Shutdown are the same for each (the bench's null
/// provider serves through this too).
pub async fn serve_provider<P>(provider: P) -> Result<(), Box<dyn std::error::Error>>
where
    P: crate::proto::tfplugin6::provider_server::Provider,
{
    plugin::check_environment(|key| std::env::var(key).ok())?;
    let _timings = crate::rpc_timing::init_logging(
        &std::env::var("AISERVICE_LOG").unwrap_or_else(|_| "info".into()),
    );
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.is_empty() => Some(plugin::tls_config(&pem)?),
        _ => None,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(
            stdout,
            "{}",
            plugin::handshake_line(port, tls.as_ref().map(|(_, der)| der.as_slice()))
        )?;
        stdout.flush()?;
    }
    let stop = CancellationToken::new();
    let router = tonic::transport::Server::builder()
        .trace_fn(crate::rpc_timing::rpc_span)
        .add_service(
            ProviderServer::new(provider)
                .max_decoding_message_size(usize::MAX)
                .max_encoding_message_size(usize::MAX),
        )
        .add_service(GrpcControllerServer::new(Controller(stop.clone())));
    let shutdown = shutdown_signal(stop);
    let connections = TcpListenerStream::new(listener).map(|stream| {
        if let Ok(stream) = &stream {
            let _ = stream.set_nodelay(true);
        }
        stream
    });
    match tls {
        None => {
            router
                .serve_with_incoming_shutdown(connections, shutdown)
                .await?
        }
        Some((config, _)) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            // A failed TLS handshake drops that connection only.
            let secured = connections
                .filter_map(Result::ok)
                .then(move |tcp| {
                    let acceptor = acceptor.clone();
                    async move { acceptor.accept(tcp).await }
                })
                .filter(|accepted| {
                    if let Err(e) = accepted {
                        tracing::warn!("refused a connection: {e}");
                    }
                    accepted.is_ok()
                });
            router
                .serve_with_incoming_shutdown(secured, shutdown)
                .await?
        }
    }
    Ok(())
}

/// go-plugin's controller: the CLI calls Shutdown when it no longer needs the plugin.
struct Controller(CancellationToken);

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _: tonic::Request<goplugin::Empty>,
    ) -> Result<tonic::Response<goplugin::Empty>, tonic::Status> {
        self.0.cancel();
        Ok(tonic::Response::new(goplugin::Empty {}))
    }
}

async fn shutdown_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return stop.cancelled().await;
    };
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = term.recv() => {}
        // The CLI forwards Ctrl-C to its plugins; it then calls StopProvider and Shutdown.
        _ = tokio::signal::ctrl_c() => stop.cancelled().await,
    }
}
