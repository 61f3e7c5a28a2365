//! What the interceptor counts per AIService: requests received (a counter that only grows,
//! so a reader takes rates from two readings and sees a restart as a drop) and requests in
//! flight; plus how many wait for a ready endpoint. Served as JSON (`/v1/counts`, which the
//! operator reads every second) and in Prometheus' text format (`/metrics`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::backends::{Backends, ServiceKey};

#[derive(Default)]
struct Counter {
    requests: AtomicU64,
    in_flight: AtomicI64,
}

/// The counters of every service that got a request.
#[derive(Default)]
pub struct Counts {
    by_service: Mutex<BTreeMap<ServiceKey, Arc<Counter>>>,
}

/// A request being served: in flight until dropped.
pub struct InFlight(Arc<Counter>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One service's figures at one moment.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCounts {
    pub namespace: String,
    pub name: String,
    pub requests: u64,
    pub in_flight: i64,
    pub queued: usize,
}

impl Counts {
    /// Counts a request for `key`, in flight until the guard drops.
    pub fn start(&self, key: &ServiceKey) -> InFlight {
        let counter = self
            .by_service
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        counter.requests.fetch_add(1, Ordering::Relaxed);
        counter.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(counter)
    }

    /// Every service's figures, sorted by namespace and name.
    pub fn snapshot(&self, backends: &Backends) -> Vec<ServiceCounts> {
        let by_service = self.by_service.lock().unwrap_or_else(|e| e.into_inner());
        by_service
            .iter()
            .map(|(key, counter)| ServiceCounts {
                namespace: key.namespace.clone(),
                name: key.name.clone(),
                requests: counter.requests.load(Ordering::Relaxed),
                in_flight: counter.in_flight.load(Ordering::Relaxed),
                queued: backends.waiting(key),
            })
            .collect()
    }
}

/// A metric's name, type, help and how to read it from a service's figures.
type MetricFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ServiceCounts) -> String,
);

/// The figures in Prometheus' text exposition format.
pub fn metrics_text(counts: &[ServiceCounts]) -> String {
    let mut text = String::new();
    let families: [MetricFamily; 3] = [
        (
            "aiservice_interceptor_requests_total",
            "counter",
            "Requests received for the AIService.",
            |c| c.requests.to_string(),
        ),
        (
            "aiservice_interceptor_in_flight_requests",
            "gauge",
            "Requests being served or waiting.",
            |c| c.in_flight.to_string(),
        ),
        (
            "aiservice_interceptor_queued_requests",
            "gauge",
            "Requests waiting for a ready endpoint.",
            |c| c.queued.to_string(),
        ),
    ];
    for (name, kind, help, value) in families {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for c in counts {
            let _ = writeln!(
                text,
                "{name}{{namespace=\"{}\",name=\"{}\"}} {}",
                c.namespace,
                c.name,
                value(c)
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_up_and_in_flight_ones_down_when_done() {
        let counts = Counts::default();
        let key = ServiceKey {
            namespace: "team-a".into(),
            name: "llama".into(),
        };
        let first = counts.start(&key);
        let second = counts.start(&key);
        drop(first);
        let snapshot = counts.snapshot(&Backends::default());
        assert_eq!(
            snapshot,
            [ServiceCounts {
                namespace: "team-a".into(),
                name: "llama".into(),
                requests: 2,
                in_flight: 1,
                queued: 0,
            }]
        );
        drop(second);
        let text = metrics_text(&counts.snapshot(&Backends::default()));
        assert!(text.contains(
            "aiservice_interceptor_requests_total{namespace=\"team-a\",name=\"llama\"} 2\n"
        ));
        assert!(text.contains(
            "aiservice_interceptor_in_flight_requests{namespace=\"team-a\",name=\"llama\"} 0\n"
        ));
    }
}
