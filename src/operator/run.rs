//! Running the operator: a client, the controllers of both served kinds, `/metrics` and
//! `/healthz`, and a graceful stop on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use kube::Client;
use tokio_util::sync::CancellationToken;

use crate::api::{AIService, ModelServing};

use super::controller::{self, Settings};
use super::leader::{self, Election};
use super::stats::Stats;

/// Where the operator connects and serves.
#[derive(Clone, Debug)]
pub struct Options {
    /// A kubeconfig file; `None`: `$KUBECONFIG`, `~/.kube/config`, or the in-cluster account.
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context; `None`: its current one.
    pub context: Option<String>,
    /// Where `/metrics` and `/healthz` are served.
    pub metrics_address: SocketAddr,
    pub settings: Settings,
    /// Act only while holding this Lease; `None`: act at once (one replica).
    pub election: Option<Election>,
}

/// How long a stop waits for the controllers to finish the reconciles under way.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs until SIGTERM or Ctrl-C, then lets running reconciles finish (for up to
/// [`STOP_GRACE`]).
pub async fn run(options: Options) -> Result<(), String> {
    let client = client(options.kubeconfig.as_deref(), options.context.as_deref()).await?;
    let stats = Arc::new(Stats::default());
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));

    let listener = tokio::net::TcpListener::bind(options.metrics_address)
        .await
        .map_err(|e| format!("listening on {}: {e}", options.metrics_address))?;
    let served = stats.clone();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(move || std::future::ready(served.render())));
    let server_stop = stop.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(server_stop.cancelled_owned())
            .await
    });
    tracing::info!(
        "aiservice-operator {} serving /metrics and /healthz on {}",
        crate::VERSION,
        options.metrics_address
    );

    // Controllers run while `act` holds: until the stop, or until leadership is lost.
    let act = stop.child_token();
    let keeper = match &options.election {
        Some(election) => {
            if !leader::acquire(&client, election, &stop).await {
                let _ = server.await;
                return Ok(());
            }
            Some(tokio::spawn(leader::keep(
                client.clone(),
                election.clone(),
                stop.clone(),
                act.clone(),
            )))
        }
        None => None,
    };
    let (a, b) = (act.clone(), act.clone());
    let controllers = async {
        tokio::join!(
            controller::run::<AIService>(
                client.clone(),
                options.settings.clone(),
                stats.clone(),
                async move { a.cancelled().await }
            ),
            controller::run::<ModelServing>(client, options.settings, stats, async move {
                b.cancelled().await
            }),
        )
    };
    // A controller whose watch keeps retrying (its CRD deleted, say) never finishes its
    // graceful stop; past the grace period the process stops anyway, well within the
    // kubelet's 30 s before it kills the pod.
    let overdue = async {
        act.cancelled().await;
        tokio::time::sleep(STOP_GRACE).await;
    };
    tokio::select! {
        _ = controllers => {}
        _ = overdue => tracing::warn!(
            "the controllers did not stop within {STOP_GRACE:?}; stopping without them"
        ),
    }
    let lost = act.is_cancelled() && !stop.is_cancelled();
    stop.cancel();
    if let Some(keeper) = keeper {
        // On a stop it gives the Lease up, so a standby takes over at once.
        let _ = keeper.await;
    }
    let _ = server.await;
    if lost {
        return Err("lost leadership; exiting so that this replica restarts as a standby".into());
    }
    Ok(())
}

/// Runs the request interceptor ([`crate::interceptor`]) until SIGTERM or Ctrl-C.
pub async fn run_interceptor(
    kubeconfig: Option<std::path::PathBuf>,
    context: Option<String>,
    settings: crate::interceptor::Settings,
) -> Result<(), String> {
    let client = client(kubeconfig.as_deref(), context.as_deref()).await?;
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));
    crate::interceptor::start(client, settings, stop.clone())
        .await
        .map_err(|e| format!("listening: {e}"))?;
    stop.cancelled().await;
    Ok(())
}

async fn client(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> Result<Client, String> {
    let kubeconfig = kubeconfig.map(|p| p.to_string_lossy());
    let config = crate::cluster::client_config(kubeconfig.as_deref(), context).await?;
    Client::try_from(config).map_err(|e| format!("a client for the cluster: {e}"))
}

async fn stop_on_signal(stop: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("stopping: finishing the reconciles under way");
    stop.cancel();
}
