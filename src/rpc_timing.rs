//! Logging for both provider binaries, and where a provider's time goes: with
//! `AISERVICE_RPC_TIMINGS=<file>`, every RPC (a `tracing` span named `rpc`, opened by the gRPC
//! server around each call) is timed, and at exit one summary per RPC method (calls, total,
//! median, slowest) is appended to that file. Off by default: the spans are then disabled
//! by the log filter and cost nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id};
use tracing::{Span, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The environment variable naming the file the summary is appended to.
pub const ENV: &str = "AISERVICE_RPC_TIMINGS";

/// The span the gRPC server opens around each call (tonic's `trace_fn`).
pub fn rpc_span(request: &tonic::codegen::http::Request<()>) -> Span {
    // The method is the last part of the path: /pulumirpc.ResourceProvider/Create.
    let path = request.uri().path();
    let method = path.rsplit('/').next().unwrap_or(path);
    tracing::info_span!(target: "aiservice::rpc", "rpc", method)
}

/// Starts logging to stderr with `filter` (no colours: the engines record stderr in their
/// own logs) and, when [`ENV`] names a file, RPC timing. Keep the returned guard for the
/// provider's lifetime: dropping it writes the summary.
pub fn init_logging(filter: &str) -> Option<TimingsGuard> {
    let file = std::env::var_os(ENV)
        .filter(|f| !f.is_empty())
        .map(PathBuf::from);
    let timings = file.as_ref().map(|_| Timings::default());
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_filter(EnvFilter::new(filter));
    tracing_subscriber::registry()
        .with(log)
        .with(timings.clone())
        .try_init()
        .ok()?;
    Some(TimingsGuard {
        file: file?,
        timings: timings?,
    })
}

/// Per method: how long each call took.
#[derive(Clone, Default)]
struct Timings(Arc<Mutex<BTreeMap<String, Vec<Duration>>>>);

/// Writes the summary when dropped.
pub struct TimingsGuard {
    file: PathBuf,
    timings: Timings,
}

impl Drop for TimingsGuard {
    fn drop(&mut self) {
        let summary = self.timings.summary(std::process::id());
        // One write on an append-mode file: providers of one engine run share the file.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.file)
            .and_then(|mut f| f.write_all(summary.as_bytes()));
        if let Err(e) = written {
            eprintln!(
                "cannot write the RPC timings to {}: {e}",
                self.file.display()
            );
        }
    }
}

impl Timings {
    /// One line per method: `pid method calls total_ms median_ms max_ms`.
    fn summary(&self, pid: u32) -> String {
        let timings = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        timings
            .iter()
            .map(|(method, calls)| {
                let mut sorted = calls.clone();
                sorted.sort();
                format!(
                    "{pid} {method} {} {:.3} {:.3} {:.3}\n",
                    calls.len(),
                    ms(calls.iter().sum()),
                    ms(sorted[(sorted.len() - 1) / 2]),
                    ms(sorted[sorted.len() - 1]),
                )
            })
            .collect()
    }
}

/// Kept in a span's extensions from its creation to its close.
struct Started {
    method: String,
    at: Instant,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Timings {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "rpc" {
            return;
        }
        let mut method = String::new();
        attrs.record(
            &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                if field.name() == "method" {
                    method = format!("{value:?}").trim_matches('"').to_string();
                }
            },
        );
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started {
                method,
                at: Instant::now(),
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(started) = span.extensions_mut().remove::<Started>() else {
            return;
        };
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(started.method)
            .or_default()
            .push(started.at.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rpc_span_is_timed_and_summarised_per_method() {
        let timings = Timings::default();
        let subscriber = tracing_subscriber::registry().with(timings.clone());
        tracing::subscriber::with_default(subscriber, || {
            for path in [
                "/pulumirpc.ResourceProvider/Create",
                "/x.Y/Create",
                "/x.Y/Read",
            ] {
                let request = tonic::codegen::http::Request::builder()
                    .uri(path)
                    .body(())
                    .unwrap();
                let _entered = rpc_span(&request).entered();
                std::thread::sleep(Duration::from_millis(2));
            }
            // Not an RPC: not counted.
            let _other = tracing::info_span!("reconcile").entered();
        });
        let summary = timings.summary(7);
        let lines: Vec<Vec<&str>> = summary.lines().map(|l| l.split(' ').collect()).collect();
        assert_eq!(lines.len(), 2, "{summary}");
        assert_eq!(lines[0][..3], ["7", "Create", "2"], "{summary}");
        assert_eq!(lines[1][..3], ["7", "Read", "1"], "{summary}");
        let total_ms: f64 = lines[0][3].parse().unwrap();
        assert!(total_ms >= 4.0, "two calls of at least 2 ms: {summary}");
    }
}
