//! Messages to the user through the engine's log (`Engine.Log`), tagged with the resource's
//! URN so they show next to it.

use tonic::transport::Channel;

use crate::contract::Progress;
use crate::proto::pulumirpc::engine_client::EngineClient;
use crate::proto::pulumirpc::{LogRequest, LogSeverity};

/// A connection to the engine, made lazily from the address it passed on the command line.
#[derive(Clone)]
pub struct EngineLog {
    client: Option<EngineClient<Channel>>,
}

impl EngineLog {
    pub fn connect(address: Option<&str>) -> Self {
        let client = address
            .and_then(|a| Channel::from_shared(format!("http://{a}")).ok())
            .map(|endpoint| EngineClient::new(endpoint.connect_lazy()));
        Self { client }
    }

    /// A [`Progress`] for the resource `urn`.
    pub fn for_resource(&self, urn: &str) -> ResourceLog {
        ResourceLog {
            engine: self.clone(),
            urn: urn.to_string(),
        }
    }

    fn send(&self, severity: LogSeverity, urn: &str, message: &str) {
        tracing::info!(urn, "{message}");
        let Some(client) = self.client.clone() else {
            return;
        };
        let request = LogRequest {
            severity: severity as i32,
            message: message.to_string(),
            urn: urn.to_string(),
            stream_id: 0,
            // Progress is shown while it happens, not kept in the update's summary.
            ephemeral: severity == LogSeverity::Info,
        };
        tokio::spawn(async move {
            if let Err(e) = client.clone().log(request).await {
                tracing::debug!("engine log failed: {e}");
            }
        });
    }
}

pub struct ResourceLog {
    engine: EngineLog,
    urn: String,
}

impl Progress for ResourceLog {
    fn info(&self, message: &str) {
        self.engine.send(LogSeverity::Info, &self.urn, message);
    }

    fn warn(&self, message: &str) {
        self.engine.send(LogSeverity::Warning, &self.urn, message);
    }
}
