//! The request interceptor (`aiservice-operator interceptor`): an HTTP/1.1 and HTTP/2 reverse
//! proxy in front of AIServices. It routes each request by its `Host`
//! (`<name>.<namespace>`) to a ready endpoint of that AIService's Service, learned from its
//! EndpointSlices ([`backends`]); holds requests while the service has none, in a bounded
//! queue per service, answering 503 with `Retry-After` when the queue is full or the wait
//! times out ([`proxy`]); and counts requests and requests in flight per service for the
//! operator to read every second ([`counts`]).
//!
//! It keeps no state the operator needs: its counters only grow, so a restarted interceptor
//! reads as a counter reset, and everything else comes back from the watch.

pub mod backends;
pub mod counts;
pub mod proxy;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tokio_util::sync::CancellationToken;

use backends::Backends;
use counts::Counts;
use proxy::{Proxy, Queue};

/// The label the EndpointSlice controller puts on every slice of a Service.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// How the interceptor runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where requests are taken.
    pub listen: SocketAddr,
    /// Where `/v1/counts`, `/metrics` and `/healthz` are served.
    pub admin: SocketAddr,
    pub queue: Queue,
    /// Serve only this namespace's services. Unset: every namespace.
    pub namespace: Option<String>,
}

/// A started interceptor: where it listens.
#[derive(Clone, Copy, Debug)]
pub struct Running {
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
}

/// Binds both ports and starts serving; everything stops when `stop` is cancelled.
pub async fn start(
    client: kube::Client,
    settings: Settings,
    stop: CancellationToken,
) -> std::io::Result<Running> {
    let backends = Arc::new(Backends::default());
    let counts = Arc::new(Counts::default());
    let proxy_listener = TcpListener::bind(settings.listen).await?;
    let admin_listener = TcpListener::bind(settings.admin).await?;
    let running = Running {
        proxy: proxy_listener.local_addr()?,
        admin: admin_listener.local_addr()?,
    };
    tokio::spawn(watch_endpoint_slices(
        client,
        settings.namespace.clone(),
        backends.clone(),
        stop.clone(),
    ));
    let proxy = Arc::new(Proxy::new(backends, counts, settings.queue));
    let admin = axum::Router::new()
        .route("/v1/counts", axum::routing::get(counts_json))
        .route("/metrics", axum::routing::get(metrics))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .with_state(proxy.clone());
    let admin =
        axum::serve(admin_listener, admin).with_graceful_shutdown(stop.clone().cancelled_owned());
    tokio::spawn(async move { admin.await });
    let proxy = axum::serve(proxy_listener, proxy::router(proxy))
        .with_graceful_shutdown(stop.cancelled_owned());
    tokio::spawn(async move { proxy.await });
    tracing::info!(proxy = %running.proxy, admin = %running.admin, "interceptor serving");
    Ok(running)
}

async fn counts_json(
    State(proxy): State<Arc<Proxy>>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    let counts = proxy.counts.snapshot(&proxy.backends);
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&counts).unwrap_or_default(),
    )
}

async fn metrics(State(proxy): State<Arc<Proxy>>) -> String {
    counts::metrics_text(&proxy.counts.snapshot(&proxy.backends))
}

/// Keeps `backends` in step with the cluster's EndpointSlices of Services; a watch that
/// fails is retried with backoff (requests for services wait meanwhile, bounded as always).
async fn watch_endpoint_slices(
    client: kube::Client,
    namespace: Option<String>,
    backends: Arc<Backends>,
    stop: CancellationToken,
) {
    let api: Api<EndpointSlice> = match &namespace {
        Some(namespace) => Api::namespaced(client, namespace),
        None => Api::all(client),
    };
    let config = watcher::Config::default().labels(SERVICE_NAME_LABEL);
    let events = watcher(api, config).default_backoff();
    let mut events = std::pin::pin!(events);
    let mut listed = Vec::new();
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = stop.cancelled() => return,
        };
        match event {
            Some(Ok(watcher::Event::Init)) => listed.clear(),
            Some(Ok(watcher::Event::InitApply(slice))) => listed.push(slice),
            Some(Ok(watcher::Event::InitDone)) => backends.reset(&std::mem::take(&mut listed)),
            Some(Ok(watcher::Event::Apply(slice))) => backends.apply(&slice),
            Some(Ok(watcher::Event::Delete(slice))) => backends.delete(&slice),
            Some(Err(e)) => tracing::warn!(error = %e, "watching EndpointSlices"),
            None => return,
        }
    }
}

/// How long requests may wait for a ready endpoint by default: a model server's cold start
/// (image pulled, weights loaded) is tens of seconds.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many requests one service may hold by default.
pub const DEFAULT_QUEUE_SIZE: usize = 1000;
