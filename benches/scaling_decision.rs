//! Scaling decisions per second: `operator::scaling::decide`, the pure function the operator
//! runs for every Auto-mode object each poll, for a service under load with a full
//! stabilization window of history (one recommendation per 15 s poll over the 300 s
//! scale-down window) and the default policies.
//!
//! Baseline, measured in the same run: a JSON round trip of the same scaling settings, the
//! least work any controller does with an object. `make bench` prints the figure and ratio.

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use aiservice::api::{Scaling, ScalingMode};
use aiservice::operator::scaling::{History, Inputs, decide};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn settings() -> Scaling {
    Scaling {
        mode: ScalingMode::Auto,
        min_replicas: 1,
        max_replicas: Some(20),
        target_requests_per_second: Some(10.0),
        ..Scaling::default()
    }
}

/// The history after 20 polls at a steady 50 requests/s on 5 replicas.
fn warm_history(scaling: &Scaling, start: SystemTime) -> (History, SystemTime) {
    let mut history = History::default();
    let mut now = start;
    for _ in 0..20 {
        history = decide(&Inputs {
            scaling,
            spec_replicas: None,
            current: Some(5),
            ready: 5,
            requests_per_second: Ok(50.0),
            history: &history,
            now,
        })
        .history;
        now += Duration::from_secs(15);
    }
    (history, now)
}

fn scaling_decision(c: &mut Criterion) {
    let scaling = settings();
    let (history, now) = warm_history(
        &scaling,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
    );
    // The measured case: load rose to 72 requests/s, so the decision is a scale-up.
    let inputs = Inputs {
        scaling: &scaling,
        spec_replicas: None,
        current: Some(5),
        ready: 5,
        requests_per_second: Ok(72.0),
        history: &history,
        now,
    };
    assert_eq!(decide(&inputs).desired, 8);

    let mut group = c.benchmark_group("scaling_decision");
    group.throughput(Throughput::Elements(1));
    group.bench_function("decide", |b| b.iter(|| decide(black_box(&inputs))));
    group.bench_function("json_round_trip_baseline", |b| {
        b.iter(|| {
            let text = serde_json::to_vec(black_box(&scaling)).unwrap();
            serde_json::from_slice::<Scaling>(&text).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, scaling_decision);
criterion_main!(benches);
