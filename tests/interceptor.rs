//! The request interceptor (`aiservice::interceptor`, what `aiservice-operator interceptor`
//! runs) against the real apiserver, with real HTTP backends on loopback: it learns ready
//! endpoints from the Services' EndpointSlices as the EndpointSlice controller writes them
//! (here written by the test, as kwok pods have no addresses one can reach). A service with
//! no ready endpoint holds its requests and forwards every one of them once an endpoint is
//! ready; HTTP/2 goes through as HTTP/2; a full queue and a long wait are answered 503 with
//! `Retry-After`; the counts say what went through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aiservice::interceptor::proxy::Queue;
use aiservice::interceptor::{self, Running, Settings};
use aiservice_testenv::TestEnv;
use axum::http::{Request, StatusCode, Version};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// This machine's address on its default route: the apiserver refuses loopback addresses in
/// EndpointSlices, and a pod's address is never one. (Finding it sends nothing: connecting
/// a UDP socket only picks the route.)
fn host_address() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("203.0.113.1:9")
        .expect("a default route, to find this machine's address for the backends");
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "{ip} is a loopback address");
    ip
}

/// A model server stand-in on a free port of this machine's address: answers every request
/// with the HTTP version it came in, counting them.
async fn backend() -> (SocketAddr, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::Relaxed);
            format!("{:?}", request.version())
        }
    });
    let listener = tokio::net::TcpListener::bind((host_address(), 0))
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, served)
}

async fn start(env: &TestEnv, queue: Queue) -> (Running, CancellationToken) {
    let stop = CancellationToken::new();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin: "127.0.0.1:0".parse().unwrap(),
        queue,
        namespace: Some(env.namespace.clone()),
    };
    let running = interceptor::start(env.client.clone(), settings, stop.clone())
        .await
        .unwrap();
    (running, stop)
}

/// A Service without a selector, and its EndpointSlice with one endpoint at `backend`,
/// ready or not.
async fn service(env: &TestEnv, name: &str, backend: SocketAddr, ready: bool) {
    let services: Api<Service> = Api::namespaced(env.client.clone(), &env.namespace);
    let service = json!({
        "metadata": {"name": name},
        "spec": {"ports": [{"name": "http", "port": 8080}]},
    });
    services
        .create(
            &PostParams::default(),
            &serde_json::from_value(service).unwrap(),
        )
        .await
        .unwrap();
    let slices: Api<EndpointSlice> = Api::namespaced(env.client.clone(), &env.namespace);
    slices
        .create(&PostParams::default(), &slice(name, backend, ready))
        .await
        .unwrap();
}

fn slice(name: &str, backend: SocketAddr, ready: bool) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {
            "name": format!("{name}-1"),
            "labels": {"kubernetes.io/service-name": name},
        },
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": backend.port()}],
        "endpoints": [{"addresses": [backend.ip().to_string()], "conditions": {"ready": ready}}],
    }))
    .unwrap()
}

/// Sends a GET for `host` to the interceptor; the status, `Retry-After` and body.
async fn get(
    client: &Client<HttpConnector, Full<Bytes>>,
    interceptor: SocketAddr,
    host: &str,
) -> (StatusCode, Option<String>, String) {
    let request = Request::builder()
        .uri(format!("http://{interceptor}/v1/completions"))
        .header("host", host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let answer = client.request(request).await.unwrap();
    let status = answer.status();
    let retry = answer
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    (status, retry, String::from_utf8_lossy(&body).into_owned())
}

/// The interceptor's counts for `name`.
async fn counts(admin: SocketAddr, name: &str) -> Value {
    let text = tokio::task::spawn_blocking(move || {
        ureq::get(&format!("http://{admin}/v1/counts"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    })
    .await
    .unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all.as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn http1() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

#[tokio::test]
async fn requests_at_zero_wait_for_the_first_ready_endpoint_and_none_is_lost() {
    let env = TestEnv::new("interceptor").await.unwrap();
    let (backend, served) = backend().await;
    let queue = Queue {
        size: 100,
        timeout: Duration::from_secs(60),
    };
    // The Service exists before the interceptor starts, as the operator's do before
    // requests come: the interceptor's first listing has it.
    service(&env, "llama", backend, false).await;
    let (running, stop) = start(&env, queue).await;
    let host = format!("llama.{}:8080", env.namespace);

    let client = http1();
    let held: Vec<_> = (0..20)
        .map(|_| {
            let (client, host) = (client.clone(), host.clone());
            tokio::spawn(async move { get(&client, running.proxy, &host).await })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while counts(running.admin, "llama").await["queued"] != 20 {
        assert!(
            Instant::now() < deadline,
            "the 20 requests were never all held"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        served.load(Ordering::Relaxed),
        0,
        "nothing reached the pod yet"
    );

    let slices: Api<EndpointSlice> = Api::namespaced(env.client.clone(), &env.namespace);
    let ready = serde_json::to_value(slice("llama", backend, true)).unwrap();
    slices
        .patch("llama-1", &PatchParams::default(), &Patch::Merge(&ready))
        .await
        .unwrap();
    for request in held {
        assert_eq!(
            request.await.unwrap(),
            (StatusCode::OK, None, "HTTP/1.1".to_string())
        );
    }
    assert_eq!(
        served.load(Ordering::Relaxed),
        20,
        "every held request, once"
    );

    // gRPC clients speak HTTP/2 without TLS: forwarded as HTTP/2.
    let http2 = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let request = Request::builder()
        .version(Version::HTTP_2)
        .uri(format!("http://{}/v1/completions", running.proxy))
        .header("host", &host)
        .body(Full::new(Bytes::new()))
        .unwrap();
    let answer = http2.request(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = answer.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, "HTTP/2.0");

    let counted = counts(running.admin, "llama").await;
    assert_eq!(
        (
            &counted["requests"],
            &counted["inFlight"],
            &counted["queued"]
        ),
        (&json!(21), &json!(0), &json!(0)),
        "{counted}"
    );
    stop.cancel();
}

#[tokio::test]
async fn a_full_queue_or_a_long_wait_is_answered_503_with_retry_after() {
    let env = TestEnv::new("interceptor").await.unwrap();
    let (backend, served) = backend().await;
    let queue = Queue {
        size: 2,
        timeout: Duration::from_secs(2),
    };
    service(&env, "idle", backend, false).await;
    let (running, stop) = start(&env, queue).await;
    let host = format!("idle.{}", env.namespace);

    let client = http1();
    let started = Instant::now();
    let answers: Vec<_> = (0..5)
        .map(|_| {
            let (client, host) = (client.clone(), host.clone());
            tokio::spawn(async move {
                let answer = get(&client, running.proxy, &host).await;
                (answer, started.elapsed())
            })
        })
        .collect();
    let mut full = 0;
    let mut timed_out = 0;
    for answer in answers {
        let ((status, retry, body), after) = answer.await.unwrap();
        assert_eq!(
            (status, retry.as_deref()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("1"))
        );
        if body.contains("queue is full") {
            full += 1;
            assert!(
                after < Duration::from_secs(2),
                "a full queue answers at once"
            );
        } else {
            assert!(body.contains("no ready endpoint within 2 s"), "{body}");
            assert!(after >= Duration::from_secs(2), "held for the timeout");
            timed_out += 1;
        }
    }
    assert_eq!((full, timed_out), (3, 2));
    assert_eq!(served.load(Ordering::Relaxed), 0);

    let (status, _, body) = get(&client, running.proxy, "llama").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("<name>.<namespace>"), "{body}");
    // A service nobody serves is answered at once, not held.
    let absent = format!("absent.{}", env.namespace);
    let (status, _, body) = get(&client, running.proxy, &absent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("no Service"), "{body}");
    stop.cancel();
}
