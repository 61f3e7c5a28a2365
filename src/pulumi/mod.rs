//! The Pulumi adapter: plugin boot (port on stdout), the `ResourceProvider` gRPC service and
//! logging to the engine.

mod engine_log;
mod errors;
mod provider;

use std::io::Write;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::proto::pulumirpc::resource_provider_server::ResourceProviderServer;

/// What the engine passes on the command line: `[flags] <engine-address>`.
#[derive(Debug, Default, PartialEq)]
pub struct PluginArgs {
    pub engine_address: Option<String>,
    /// `-v=N`: 0 warnings only, higher is chattier.
    pub verbosity: u8,
    pub log_to_stderr: bool,
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
            } else if flag == "logtostderr" || flag == "logtostderr=true" {
                parsed.log_to_stderr = true;
            }
        }
        parsed
    }

    fn log_filter(&self) -> &'static str {
        match (self.log_to_stderr, self.verbosity) {
            (_, 0) => "warn",
            (_, 1..=5) => "info",
            (_, 6..=8) => "debug",
            _ => "trace",
        }
    }
}

/// Serves the provider until the engine closes it: listens on an OS-assigned loopback port,
/// prints only that port and a newline on stdout, and logs to stderr.
pub async fn serve(args: PluginArgs) -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(args.log_filter()))
        .try_init()
        .ok();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{port}")?;
        stdout.flush()?;
    }
    let engine = engine_log::EngineLog::connect(args.engine_address.as_deref());
    let service = ResourceProviderServer::new(provider::Provider::new(engine))
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    tonic::transport::Server::builder()
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
        assert_eq!((args.verbosity, args.log_to_stderr), (9, true));
        assert_eq!(args.log_filter(), "trace");
    }
}
