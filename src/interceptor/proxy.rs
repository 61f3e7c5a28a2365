//! The request path: which AIService a request is for (its `Host`), a ready endpoint of it
//! (waiting in the bounded queue when there is none), and the request forwarded there in the
//! HTTP version it came in (HTTP/1.1, or HTTP/2 for gRPC clients), the answer streamed back.
//!
//! The request body is read whole before forwarding (inference requests are small; the
//! answer, which may be a long token stream, is not buffered): so a connection the endpoint
//! refuses in the moment between "ready" and listening is retried, briefly, instead of
//! answering the first request after a wake-up with a 502.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, Version, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::backends::{Backends, NoBackend, ServiceKey};
use super::counts::Counts;

/// The largest request body forwarded.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// How long to keep retrying a refused connection to a just-ready endpoint.
const CONNECT_RETRY: Duration = Duration::from_secs(2);

/// Headers of one connection, never forwarded (RFC 9110, 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// How long requests wait for a service at zero, and how many.
#[derive(Clone, Copy, Debug)]
pub struct Queue {
    /// Requests held per service; one more is answered 503.
    pub size: usize,
    /// How long a request is held; then it is answered 503.
    pub timeout: Duration,
}

pub struct Proxy {
    pub backends: Arc<Backends>,
    pub counts: Arc<Counts>,
    queue: Queue,
    http1: Client<HttpConnector, Full<Bytes>>,
    http2: Client<HttpConnector, Full<Bytes>>,
}

impl Proxy {
    pub fn new(backends: Arc<Backends>, counts: Arc<Counts>, queue: Queue) -> Self {
        let http1 = Client::builder(TokioExecutor::new()).build_http();
        let http2 = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http();
        Self {
            backends,
            counts,
            queue,
            http1,
            http2,
        }
    }
}

/// Every request, whatever its path, is forwarded.
pub fn router(proxy: Arc<Proxy>) -> axum::Router {
    axum::Router::new().fallback(forward).with_state(proxy)
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let Some(key) = service_of(&request) else {
        return (
            StatusCode::NOT_FOUND,
            "address the AIService as <name>.<namespace> (Host header), such as llama.team-a:8080\n",
        )
            .into_response();
    };
    if !proxy.backends.serves(&key) {
        return unknown(&key);
    }
    let _in_flight = proxy.counts.start(&key);
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("reading the request: {e}\n"),
            )
                .into_response();
        }
    };
    let endpoint = match proxy
        .backends
        .wait(&key, proxy.queue.size, proxy.queue.timeout)
        .await
    {
        Ok(endpoint) => endpoint,
        Err(why) => return unavailable(&key, why, proxy.queue.timeout),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let client = match parts.version {
        Version::HTTP_2 => &proxy.http2,
        _ => &proxy.http1,
    };
    let deadline = tokio::time::Instant::now() + CONNECT_RETRY;
    loop {
        let Ok(uri) = format!("http://{endpoint}{path}").parse::<Uri>() else {
            return (StatusCode::BAD_REQUEST, "an unusable request path\n").into_response();
        };
        let mut outgoing = axum::http::Request::new(Full::new(body.clone()));
        *outgoing.method_mut() = parts.method.clone();
        *outgoing.uri_mut() = uri;
        *outgoing.version_mut() = match parts.version {
            Version::HTTP_2 => Version::HTTP_2,
            _ => Version::HTTP_11,
        };
        *outgoing.headers_mut() = forwarded_headers(&parts.headers);
        match client.request(outgoing).await {
            Ok(answer) => {
                let (mut head, body) = answer.into_parts();
                head.headers = forwarded_headers(&head.headers);
                return Response::from_parts(head, Body::new(body));
            }
            Err(e) if e.is_connect() && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => {
                tracing::warn!(service = %key, %endpoint, error = %e, "forwarding failed");
                return (
                    StatusCode::BAD_GATEWAY,
                    format!("{key} at {endpoint}: {e}\n"),
                )
                    .into_response();
            }
        }
    }
}

/// 404: no Service by that name has an EndpointSlice.
fn unknown(key: &ServiceKey) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("no Service {key} with an EndpointSlice: is the AIService's name right?\n"),
    )
        .into_response()
}

/// 503 with `Retry-After`: the client is told when to try again, never left hanging.
fn unavailable(key: &ServiceKey, why: NoBackend, timeout: Duration) -> Response {
    let reason = match why {
        NoBackend::Unknown => return unknown(key),
        NoBackend::QueueFull => format!("{key} has no ready endpoint and its queue is full\n"),
        NoBackend::Timeout => format!(
            "{key} had no ready endpoint within {} s\n",
            timeout.as_secs_f64()
        ),
    };
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, reason).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// `headers` without the hop-by-hop ones (and those the `Connection` header names).
fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    let mut forwarded = headers.clone();
    for name in HOP_BY_HOP.iter().map(|n| n.to_string()).chain(named) {
        forwarded.remove(name.as_str());
    }
    forwarded
}

/// The AIService a request is for: its `Host` (HTTP/1.1) or `:authority` (HTTP/2),
/// `<name>.<namespace>`, optionally followed by `.svc`, the cluster domain and a port.
fn service_of(request: &Request) -> Option<ServiceKey> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    service_of_host(host)
}

fn service_of_host(host: &str) -> Option<ServiceKey> {
    let host = host.rsplit_once(':').map_or(host, |(h, _port)| h);
    let mut labels = host.split('.');
    let (name, namespace) = (labels.next()?, labels.next()?);
    let rest: Vec<&str> = labels.collect();
    let valid = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !(valid(name) && valid(namespace)) || !(rest.is_empty() || rest[0] == "svc") {
        return None;
    }
    Some(ServiceKey {
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_names_the_service() {
        let llama = Some(ServiceKey {
            namespace: "team-a".into(),
            name: "llama".into(),
        });
        for host in [
            "llama.team-a",
            "llama.team-a:8080",
            "llama.team-a.svc",
            "llama.team-a.svc.cluster.local:8080",
        ] {
            assert_eq!(service_of_host(host), llama, "{host}");
        }
        for host in ["llama", "llama:8080", "llama.team-a.example.com", ".x"] {
            assert_eq!(service_of_host(host), None, "{host}");
        }
    }

    #[test]
    fn hop_by_hop_headers_stay_behind() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-trace"),
        );
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert("x-trace", HeaderValue::from_static("1"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let forwarded = forwarded_headers(&headers);
        let names: Vec<&str> = forwarded.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-type"]);
    }
}
