//! The Pulumi adapter: plugin boot (port on stdout), the `ResourceProvider` gRPC service and
//! logging to the engine.

mod component;
mod engine_log;
mod errors;
mod provider;
pub mod struct_codec;

use std::io::Write;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::proto::pulumirpc::resource_provider_server::{ResourceProvider, ResourceProviderServer};

/// The field manager of applies made through Pulumi unless configured otherwise, so the
/// provider's ownership of fields is stable across runs and machines.
pub const DEFAULT_FIELD_MANAGER: &str = "pulumi-aiservice";

/// What the engine passes on the command line: `[flags] <engine-address>`.
#[derive(Debug, Default, PartialEq)]
pub struct PluginArgs {
    pub engine_address: Option<String>,
    /// `-v=N`: 0 warnings only, higher is chattier. (`--logtostderr` needs no handling: the
    /// provider always logs to stderr, which the engine records.)
    pub verbosity: u8,
}

impl PluginArgs {
    /// Parses the engine's flags, ignoring ones this provider has no use for (`--tracing`, ...).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut parsed = Self::default();
        for arg in args {
            let flag = arg.trim_start_matches('-');
            if !arg.starts_with('-') {
                parsed.engine_address = Some(arg);
            } else if let Some(level) = flag.strip_prefix("v=") {
                parsed.verbosity = level.parse().unwrap_or(0);
            }
        }
        parsed
    }

    /// The log filter: `AISERVICE_LOG` when set (as for the Terraform provider), else the
    /// engine's verbosity, which reaches plugins only with `pulumi --logflow`. Other crates
    /// (tonic, hyper) stay at info: at trace they drown what the provider says.
    fn log_filter(&self, from_env: Option<String>) -> String {
        if let Some(filter) = from_env.filter(|f| !f.is_empty()) {
            return filter;
        }
        match self.verbosity {
            0 => "warn",
            1..=5 => "info",
            6..=8 => "info,aiservice=debug",
            _ => "info,aiservice=trace",
        }
        .to_string()
    }
}

/// Serves the provider until the engine closes it: listens on an OS-assigned loopback port,
/// prints only that port and a newline on stdout, and logs to stderr.
pub async fn serve(args: PluginArgs) -> std::io::Result<()> {
    let _timings =
        crate::rpc_timing::init_logging(&args.log_filter(std::env::var("AISERVICE_LOG").ok()));
    // Lazy: nothing is dialled before the first log message.
    let engine = engine_log::EngineLog::connect(args.engine_address.as_deref());
    serve_provider(provider::Provider::new(engine)).await
}

/// Serves any `ResourceProvider` the way the engine starts plugins (port line on stdout,
/// until SIGTERM or SIGINT), each call in an `rpc` span: this provider, and the null
/// provider that `make bench` measures the engine's floor with.
pub async fn serve_provider(provider: impl ResourceProvider) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
    }
    let service = ResourceProviderServer::new(provider)
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    tonic::transport::Server::builder()
        .trace_fn(crate::rpc_timing::rpc_span)
        .add_service(service)
        .serve_with_incoming_shutdown(no_delay(listener), shutdown_signal())
        .await
        .map_err(std::io::Error::other)
}

/// The engine's connections with Nagle off: every RPC is a small request awaiting a small
/// answer, and delayed ACKs would add ~40 ms to many of them (measured by `make bench`).
fn no_delay(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|stream| {
        if let Ok(stream) = &stream {
            let _ = stream.set_nodelay(true);
        }
        stream
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_flags_and_address() {
        let args = PluginArgs::parse(
            ["--logtostderr", "-v=9", "--tracing=x", "127.0.0.1:1234"].map(String::from),
        );
        assert_eq!(args.engine_address.as_deref(), Some("127.0.0.1:1234"));
        assert_eq!(args.verbosity, 9);
        assert_eq!(args.log_filter(None), "info,aiservice=trace");
        assert_eq!(args.log_filter(Some("debug".into())), "debug");
    }
}
