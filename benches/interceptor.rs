//! The interceptor's cost, in process on loopback: the latency a request adds going through
//! it, against the same requests sent straight to the backend in the same run (the baseline),
//! at a steady 1,000 requests per second over kept-alive HTTP/1.1 connections; and the memory
//! 1,000 services' routing state takes. Target (issue 18): under 1 ms added at p99.
//!
//! The interceptor is `aiservice::interceptor::proxy` exactly as `aiservice-operator
//! interceptor` serves it; its endpoints are set directly, as the EndpointSlice watch sets
//! them (the watch itself is exercised by tests/interceptor.rs).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiservice::interceptor::backends::Backends;
use aiservice::interceptor::counts::Counts;
use aiservice::interceptor::proxy::{self, Proxy, Queue};
use axum::http::Request;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::json;

const RATE: u32 = 1_000;
const SECONDS: u32 = 5;

fn slice(service: &str, backend: SocketAddr) -> EndpointSlice {
    serde_json::from_value(json!({
        "metadata": {
            "name": format!("{service}-1"),
            "namespace": "bench",
            "labels": {"kubernetes.io/service-name": service},
        },
        "addressType": "IPv4",
        "ports": [{"port": backend.port()}],
        "endpoints": [{"addresses": [backend.ip().to_string()]}],
    }))
    .unwrap()
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// Latencies of `RATE` requests a second for `SECONDS` to `target` with Host `host`, sorted.
async fn paced(target: SocketAddr, host: &str) -> Vec<Duration> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / RATE);
    let mut latencies = Vec::new();
    for _ in 0..RATE * SECONDS {
        ticks.tick().await;
        let request = Request::builder()
            .uri(format!("http://{target}/v1/completions"))
            .header("host", host)
            .body(Full::new(Bytes::from_static(b"{\"prompt\":\"hi\"}")))
            .unwrap();
        let started = Instant::now();
        let answer = client.request(request).await.unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
        answer.into_body().collect().await.unwrap();
        latencies.push(started.elapsed());
    }
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let backend = serve(axum::Router::new().fallback(|| async { "{\"text\":\"hello\"}" })).await;
        let backends = Arc::new(Backends::default());
        backends.apply(&slice("llama", backend));
        let queue = Queue {
            size: 100,
            timeout: Duration::from_secs(5),
        };
        let proxy = Arc::new(Proxy::new(backends.clone(), Arc::new(Counts::default()), queue));
        let interceptor = serve(proxy::router(proxy)).await;

        // Warm both paths (connections, allocator), then measure them in turn.
        paced(backend, "llama.bench").await;
        let direct = paced(backend, "llama.bench").await;
        let through = paced(interceptor, "llama.bench").await;
        println!(
            "interceptor latency at {RATE} req/s on loopback, {} requests each (HTTP/1.1, kept alive):",
            RATE * SECONDS
        );
        println!("| figure | direct (baseline) | through the interceptor | added |");
        println!("|---|---|---|---|");
        for (name, p) in [("p50", 0.50), ("p99", 0.99), ("p99.9", 0.999)] {
            let (d, t) = (percentile(&direct, p), percentile(&through, p));
            println!(
                "| {name} | {:.3} ms | {:.3} ms | {:.3} ms |",
                d.as_secs_f64() * 1e3,
                t.as_secs_f64() * 1e3,
                t.saturating_sub(d).as_secs_f64() * 1e3
            );
        }

        let before = resident_kib();
        for i in 0..1_000 {
            backends.apply(&slice(&format!("model-{i}"), backend));
        }
        let after = resident_kib();
        println!(
            "routing state of 1,000 services: {} KiB resident (process {} KiB before, {} KiB after)",
            after.saturating_sub(before),
            before,
            after
        );
    });
}
