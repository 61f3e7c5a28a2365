//! The operator's own figures, served on `/metrics` in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A count that goes up and down.
#[derive(Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Everything `/metrics` reports.
#[derive(Default)]
pub struct Stats {
    /// Reconciles started.
    pub reconciles: Counter,
    /// Reconciles that failed (and were retried with backoff).
    pub errors: Counter,
    /// Scaling decisions made.
    pub decisions: Counter,
    /// Writes to the apiserver (applies and status patches).
    pub writes: Counter,
    /// Reconciles running now: the work kube-runtime's queue has handed out (the queue itself
    /// does not report its length).
    pub in_flight: Gauge,
}

impl Stats {
    /// The Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, counter) in [
            (
                "aiservice_operator_reconciles_total",
                "Reconciles started.",
                &self.reconciles,
            ),
            (
                "aiservice_operator_reconcile_errors_total",
                "Reconciles that failed and were retried.",
                &self.errors,
            ),
            (
                "aiservice_operator_scaling_decisions_total",
                "Scaling decisions made.",
                &self.decisions,
            ),
            (
                "aiservice_operator_writes_total",
                "Writes to the apiserver (applies and status patches).",
                &self.writes,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.get()
            );
        }
        let name = "aiservice_operator_reconciles_in_flight";
        let _ = writeln!(
            out,
            "# HELP {name} Reconciles running now.\n# TYPE {name} gauge\n{name} {}",
            self.in_flight.get()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_the_text_format() {
        let stats = Stats::default();
        stats.reconciles.inc();
        stats.reconciles.inc();
        let text = stats.render();
        assert!(text.contains("# TYPE aiservice_operator_reconciles_total counter\naiservice_operator_reconciles_total 2\n"));
        assert!(text.contains("aiservice_operator_writes_total 0\n"));
    }
}
