//! The scaling decision's tables and properties.

use super::*;
use crate::api::ScalingBehavior;
use proptest::prelude::*;

/// "Now" in the tables; history entries are placed relative to it.
const NOW: u64 = 1_000_000;

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
}

fn ago(seconds: u64) -> SystemTime {
    now() - Duration::from_secs(seconds)
}

fn auto(min: i32, max: i32, target: f64) -> Scaling {
    Scaling {
        mode: ScalingMode::Auto,
        min_replicas: min,
        max_replicas: Some(max),
        target_requests_per_second: Some(target),
        ..Scaling::default()
    }
}

fn manual(min: i32, max: i32) -> Scaling {
    Scaling {
        min_replicas: min,
        max_replicas: Some(max),
        ..Scaling::default()
    }
}

fn pods(value: i32, period_seconds: i32) -> ScalingPolicy {
    ScalingPolicy {
        type_: PolicyType::Pods,
        value,
        period_seconds,
    }
}

fn percent(value: i32, period_seconds: i32) -> ScalingPolicy {
    ScalingPolicy {
        type_: PolicyType::Percent,
        value,
        period_seconds,
    }
}

fn rules(
    window: Option<i32>,
    policies: Option<Vec<ScalingPolicy>>,
    select: Option<SelectPolicy>,
) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: window,
        policies,
        select_policy: select,
    }
}

/// The default policies without a stabilization window.
fn no_window() -> ScalingRules {
    rules(Some(0), None, None)
}

/// Test-only settings a table sets in one call.
trait With: Sized {
    fn up(self, rules: ScalingRules) -> Self;
    fn down(self, rules: ScalingRules) -> Self;
    fn zero_after(self, seconds: i32) -> Self;
    fn fallback(self, replicas: i32) -> Self;
    fn tolerance(self, tolerance: f64) -> Self;
    fn target(self, target: Option<f64>) -> Self;
    fn max(self, max: Option<i32>) -> Self;
}

impl With for Scaling {
    fn up(mut self, rules: ScalingRules) -> Self {
        self.behavior
            .get_or_insert_with(ScalingBehavior::default)
            .scale_up = Some(rules);
        self
    }
    fn down(mut self, rules: ScalingRules) -> Self {
        self.behavior
            .get_or_insert_with(ScalingBehavior::default)
            .scale_down = Some(rules);
        self
    }
    fn zero_after(mut self, seconds: i32) -> Self {
        self.scale_to_zero_after_seconds = Some(seconds);
        self
    }
    fn fallback(mut self, replicas: i32) -> Self {
        self.fallback_replicas = Some(replicas);
        self
    }
    fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }
    fn target(mut self, target: Option<f64>) -> Self {
        self.target_requests_per_second = target;
        self
    }
    fn max(mut self, max: Option<i32>) -> Self {
        self.max_replicas = max;
        self
    }
}

impl History {
    fn recommended(mut self, seconds_ago: u64, replicas: i32) -> Self {
        self.recommendations.push(Recommendation {
            at: ago(seconds_ago),
            replicas,
        });
        self
    }
    fn changed(mut self, seconds_ago: u64, by: i32) -> Self {
        self.changes.push(ReplicaChange {
            at: ago(seconds_ago),
            by,
        });
        self
    }
    fn quiet_for_seconds(mut self, seconds: u64) -> Self {
        self.quiet_since = Some(ago(seconds));
        self
    }
}

/// One row of a table: the observation and the expected decision.
struct Case {
    name: &'static str,
    scaling: Scaling,
    spec_replicas: Option<i32>,
    current: Option<i32>,
    ready: i32,
    rps: Result<f64, String>,
    history: History,
    expected: (i32, &'static str, Option<&'static str>),
}

fn case(name: &'static str, scaling: Scaling) -> Case {
    Case {
        name,
        scaling,
        spec_replicas: None,
        current: Some(1),
        ready: 1,
        rps: Ok(0.0),
        history: History::default(),
        expected: (0, "", None),
    }
}

impl Case {
    fn running(mut self, current: i32, ready: i32) -> Self {
        self.current = Some(current);
        self.ready = ready;
        self
    }
    fn no_deployment(mut self) -> Self {
        self.current = None;
        self.ready = 0;
        self
    }
    fn spec(mut self, replicas: i32) -> Self {
        self.spec_replicas = Some(replicas);
        self
    }
    fn rps(mut self, rps: f64) -> Self {
        self.rps = Ok(rps);
        self
    }
    fn unavailable(mut self, why: &str) -> Self {
        self.rps = Err(why.to_string());
        self
    }
    fn history(mut self, history: History) -> Self {
        self.history = history;
        self
    }
    fn expect(mut self, desired: i32, reason: &'static str, limited: Option<&'static str>) -> Self {
        self.expected = (desired, reason, limited);
        self
    }

    fn decide(&self) -> Decision {
        decide(&Inputs {
            scaling: &self.scaling,
            spec_replicas: self.spec_replicas,
            current: self.current,
            ready: self.ready,
            requests_per_second: self.rps.clone(),
            history: &self.history,
            now: now(),
        })
    }
}

fn check(cases: Vec<Case>) {
    for case in cases {
        let decision = case.decide();
        let actual = (
            decision.desired,
            decision.reason.as_str(),
            decision.limited.as_ref().map(|(limit, _)| limit.as_str()),
        );
        assert_eq!(
            actual, case.expected,
            "{}: (desired, reason, limited) differ; message: {:?}, limited: {:?}",
            case.name, decision.message, decision.limited
        );
        assert!(!decision.message.is_empty(), "{}: no message", case.name);
    }
}

/// Decisions in sequence, each applied at once (all replicas ready), as the controller
/// would run them.
struct Run {
    scaling: Scaling,
    spec_replicas: Option<i32>,
    current: Option<i32>,
    history: History,
}

impl Run {
    fn new(scaling: Scaling, current: Option<i32>) -> Run {
        Run {
            scaling,
            spec_replicas: None,
            current,
            history: History::default(),
        }
    }

    fn at(&mut self, seconds: u64, rps: Result<f64, String>) -> Decision {
        let ready = self.current.unwrap_or(0);
        self.at_with_ready(seconds, rps, ready)
    }

    fn at_with_ready(&mut self, seconds: u64, rps: Result<f64, String>, ready: i32) -> Decision {
        let decision = decide(&Inputs {
            scaling: &self.scaling,
            spec_replicas: self.spec_replicas,
            current: self.current,
            ready,
            requests_per_second: rps,
            history: &self.history,
            now: now() + Duration::from_secs(seconds),
        });
        self.current = Some(decision.desired);
        self.history = decision.history.clone();
        decision
    }
}

#[test]
fn manual_mode_runs_spec_replicas_as_is() {
    check(vec![
        case("spec.replicas", manual(1, 10))
            .spec(3)
            .running(7, 7)
            .expect(3, "Manual", None),
        case("unset spec.replicas runs one", Scaling::default())
            .running(4, 4)
            .expect(1, "Manual", None),
        case("the bounds do not apply", manual(2, 4))
            .spec(10)
            .expect(10, "Manual", None),
        case("zero", manual(1, 4)).spec(0).expect(0, "Manual", None),
        case("negative spec.replicas runs none", manual(1, 4))
            .spec(-1)
            .expect(0, "Manual", None),
        case("the load does not matter", manual(1, 4))
            .spec(2)
            .rps(1000.0)
            .expect(2, "Manual", None),
        case(
            "an unavailable metric does not matter",
            manual(1, 4).fallback(3),
        )
        .spec(2)
        .unavailable("no Prometheus")
        .expect(2, "Manual", None),
    ]);
}

#[test]
fn within_tolerance_keeps_the_count() {
    check(vec![
        case("10.5 per replica is within 10% of 10", auto(1, 10, 10.0))
            .rps(10.5)
            .expect(1, "WithinTolerance", None),
        case("9.1 per replica is within 10% of 10", auto(1, 10, 10.0))
            .running(2, 2)
            .rps(18.2)
            .expect(2, "WithinTolerance", None),
        case("11.5 per replica is not", auto(1, 10, 10.0))
            .rps(11.5)
            .expect(2, "ScaleUp", None),
        case(
            "tolerance 0 reacts to any deviation",
            auto(1, 10, 10.0).tolerance(0.0),
        )
        .running(2, 2)
        .rps(20.2)
        .expect(3, "ScaleUp", None),
        case("the load is per ready replica", auto(1, 10, 10.0))
            .running(4, 2)
            .rps(20.0)
            .expect(4, "WithinTolerance", None),
    ]);
}

#[test]
fn more_load_scales_up() {
    let up_window = auto(1, 10, 10.0).up(rules(Some(60), None, None));
    check(vec![
        case("twice the target doubles", auto(1, 10, 10.0))
            .running(2, 2)
            .rps(40.0)
            .expect(4, "ScaleUp", None),
        case("the recommendation rounds up", auto(1, 10, 10.0))
            .running(2, 2)
            .rps(38.5)
            .expect(4, "ScaleUp", None),
        case(
            "the total load counts, not only the ready replicas'",
            auto(1, 10, 10.0),
        )
        .running(4, 2)
        .rps(60.0)
        .expect(6, "ScaleUp", None),
        case(
            "the scale-up window holds the lowest recommendation",
            up_window.clone(),
        )
        .running(2, 2)
        .rps(50.0)
        .history(History::default().recommended(30, 3))
        .expect(3, "ScaleUp", None),
        case("past the scale-up window", up_window)
            .running(2, 2)
            .rps(50.0)
            .history(History::default().recommended(60, 3))
            .expect(5, "ScaleUp", None),
    ]);
}

#[test]
fn less_load_scales_down_after_the_window_and_not_before() {
    let scaling = auto(1, 10, 10.0);
    check(vec![
        case("held by the default 300 s window", scaling.clone())
            .running(4, 4)
            .rps(10.0)
            .history(History::default().recommended(299, 4).recommended(100, 1))
            .expect(4, "Steady", None),
        case("once the window has passed", scaling.clone())
            .running(4, 4)
            .rps(10.0)
            .history(History::default().recommended(300, 4).recommended(100, 1))
            .expect(1, "ScaleDown", None),
        case("the highest recommendation of the window", scaling.clone())
            .running(4, 4)
            .rps(10.0)
            .history(
                History::default()
                    .recommended(400, 4)
                    .recommended(200, 3)
                    .recommended(100, 2),
            )
            .expect(3, "ScaleDown", None),
        case(
            "no history (a restarted operator) holds the current count",
            scaling.clone(),
        )
        .running(4, 4)
        .rps(10.0)
        .expect(4, "Steady", None),
        case("window 0 scales down at once", scaling.down(no_window()))
            .running(4, 4)
            .rps(10.0)
            .expect(1, "ScaleDown", None),
    ]);
}

#[test]
fn a_load_drop_scales_down_once_the_window_has_passed() {
    let mut run = Run::new(auto(1, 10, 10.0), Some(4));
    assert_eq!(run.at(0, Ok(40.0)).desired, 4);
    for second in [15, 150, 299] {
        let decision = run.at(second, Ok(10.0));
        assert_eq!(
            (decision.desired, decision.reason.as_str()),
            (4, "Steady"),
            "at {second} s"
        );
    }
    let decision = run.at(300, Ok(10.0));
    assert_eq!(
        (decision.desired, decision.reason.as_str()),
        (1, "ScaleDown")
    );
}

#[test]
fn rate_policies_limit_each_period() {
    let up = |policies| auto(1, 100, 10.0).up(rules(None, Some(policies), None));
    let down = |policies| auto(1, 100, 10.0).down(rules(Some(0), Some(policies), None));
    check(vec![
        case("Pods 2 per 60 s limits a scale-up", up(vec![pods(2, 60)]))
            .running(2, 2)
            .rps(100.0)
            .expect(4, "ScaleUp", Some("ScaleUpLimit")),
        case(
            "Pods counts the replicas added within the period",
            up(vec![pods(2, 60)]),
        )
        .running(4, 4)
        .rps(100.0)
        .history(History::default().changed(30, 2))
        .expect(4, "Steady", Some("ScaleUpLimit")),
        case(
            "changes older than the period do not count",
            up(vec![pods(2, 60)]),
        )
        .running(4, 4)
        .rps(100.0)
        .history(History::default().changed(60, 2))
        .expect(6, "ScaleUp", Some("ScaleUpLimit")),
        case("Percent 50 up rounds up", up(vec![percent(50, 60)]))
            .running(3, 3)
            .rps(100.0)
            .expect(5, "ScaleUp", Some("ScaleUpLimit")),
        case("default: 4 pods beat 100% of 1", auto(1, 100, 10.0))
            .rps(100.0)
            .expect(5, "ScaleUp", Some("ScaleUpLimit")),
        case("default: 100% of 10 beats 4 pods", auto(1, 100, 10.0))
            .running(10, 10)
            .rps(1000.0)
            .expect(20, "ScaleUp", Some("ScaleUpLimit")),
        case(
            "Pods 1 per 60 s limits a scale-down",
            down(vec![pods(1, 60)]),
        )
        .running(5, 5)
        .rps(10.0)
        .expect(4, "ScaleDown", Some("ScaleDownLimit")),
        case("Percent 50 down rounds down", down(vec![percent(50, 60)]))
            .running(5, 5)
            .rps(10.0)
            .expect(2, "ScaleDown", Some("ScaleDownLimit")),
        case(
            "Pods counts the replicas removed within the period",
            down(vec![pods(1, 60)]),
        )
        .running(4, 4)
        .rps(10.0)
        .history(History::default().changed(30, -1))
        .expect(4, "Steady", Some("ScaleDownLimit")),
        case("an empty policy list sets no limit", up(vec![]))
            .rps(1000.0)
            .expect(100, "ScaleUp", None),
    ]);
}

#[test]
fn select_policy_picks_the_largest_or_smallest_change_or_none() {
    let up = |select| {
        let policies = vec![pods(4, 60), percent(100, 60)];
        auto(1, 100, 10.0).up(rules(None, Some(policies), select))
    };
    let down = |select| {
        let policies = vec![pods(1, 60), percent(50, 60)];
        auto(1, 100, 10.0).down(rules(Some(0), Some(policies), select))
    };
    check(vec![
        case("up, Max by default: 2 + 4 pods over 200%", up(None))
            .running(2, 2)
            .rps(1000.0)
            .expect(6, "ScaleUp", Some("ScaleUpLimit")),
        case(
            "up, Min: 200% of 2 under 2 + 4 pods",
            up(Some(SelectPolicy::Min)),
        )
        .running(2, 2)
        .rps(1000.0)
        .expect(4, "ScaleUp", Some("ScaleUpLimit")),
        case("up, Disabled", up(Some(SelectPolicy::Disabled)))
            .running(2, 2)
            .rps(1000.0)
            .expect(2, "Steady", Some("ScaleUpDisabled")),
        case(
            "up Disabled still scales down",
            up(Some(SelectPolicy::Disabled)).down(no_window()),
        )
        .running(4, 4)
        .rps(10.0)
        .expect(1, "ScaleDown", None),
        case(
            "up Disabled without a wish to scale up",
            up(Some(SelectPolicy::Disabled)),
        )
        .running(2, 2)
        .rps(20.0)
        .expect(2, "WithinTolerance", None),
        case("down, Max by default: 50% of 10 over 1 pod", down(None))
            .running(10, 10)
            .rps(10.0)
            .expect(5, "ScaleDown", Some("ScaleDownLimit")),
        case(
            "down, Min: 1 pod under 50% of 10",
            down(Some(SelectPolicy::Min)),
        )
        .running(10, 10)
        .rps(10.0)
        .expect(9, "ScaleDown", Some("ScaleDownLimit")),
        case("down, Disabled", down(Some(SelectPolicy::Disabled)))
            .running(10, 10)
            .rps(10.0)
            .expect(10, "Steady", Some("ScaleDownDisabled")),
    ]);
}

#[test]
fn bounds_clamp_and_say_so() {
    check(vec![
        case(
            "maxReplicas caps, and says so over the policy",
            auto(1, 5, 10.0),
        )
        .running(4, 4)
        .rps(100.0)
        .expect(5, "ScaleUp", Some("TooManyReplicas")),
        case("minReplicas floors", auto(2, 10, 10.0).down(no_window()))
            .running(3, 3)
            .rps(5.0)
            .expect(2, "ScaleDown", Some("TooFewReplicas")),
        case(
            "at minReplicas with less load",
            auto(2, 10, 10.0).down(no_window()),
        )
        .running(2, 2)
        .rps(5.0)
        .expect(2, "Steady", Some("TooFewReplicas")),
        case(
            "above a lowered maxReplicas: down at once",
            auto(1, 3, 10.0),
        )
        .running(6, 6)
        .rps(60.0)
        .expect(3, "ScaleDown", Some("TooManyReplicas")),
        case("below a raised minReplicas: up at once", auto(5, 10, 10.0))
            .running(2, 2)
            .rps(20.0)
            .expect(5, "ScaleUp", Some("TooFewReplicas")),
        case(
            "no maxReplicas: only the policies limit",
            auto(1, 1, 10.0).max(None),
        )
        .running(10, 10)
        .rps(1000.0)
        .expect(20, "ScaleUp", Some("ScaleUpLimit")),
        case(
            "minReplicas above maxReplicas: maxReplicas wins",
            auto(5, 3, 10.0),
        )
        .running(3, 3)
        .rps(100.0)
        .expect(3, "Steady", Some("TooManyReplicas")),
    ]);
}

#[test]
fn scale_to_zero_after_the_quiet_period_and_not_before() {
    let scaling = auto(0, 10, 10.0).zero_after(300);
    let quiet = |seconds| History::default().quiet_for_seconds(seconds);
    check(vec![
        case(
            "quiet for 299 s: one replica stays",
            scaling.clone().down(no_window()),
        )
        .history(quiet(299))
        .expect(1, "Steady", None),
        case("quiet for 300 s: zero", scaling.clone())
            .history(quiet(300))
            .expect(0, "ScaleToZero", None),
        case(
            "from several replicas, past the window and policies",
            scaling.clone(),
        )
        .running(4, 4)
        .history(quiet(300).recommended(10, 4))
        .expect(0, "ScaleToZero", None),
        case("requests restart the quiet period", scaling.clone())
            .rps(0.5)
            .history(quiet(1000))
            .expect(1, "Steady", None),
        case(
            "never any requests: quiet since the first observation",
            scaling.clone(),
        )
        .expect(1, "Steady", None),
        case(
            "dormant while minReplicas is above 0",
            auto(1, 10, 10.0).zero_after(300).down(no_window()),
        )
        .history(quiet(1000))
        .expect(1, "Steady", Some("TooFewReplicas")),
        case(
            "scale-down Disabled keeps the last replica",
            scaling.down(rules(Some(0), None, Some(SelectPolicy::Disabled))),
        )
        .history(quiet(1000))
        .expect(1, "Steady", Some("ScaleDownDisabled")),
    ]);
}

#[test]
fn a_quiet_service_sleeps_and_wakes_up() {
    let mut run = Run::new(auto(0, 10, 10.0).zero_after(300), Some(2));
    assert_eq!(run.at(0, Ok(0.0)).desired, 2, "the scale-down window holds");
    for second in [60, 299] {
        let decision = run.at(second, Ok(0.0));
        assert_eq!(decision.desired, 2, "at {second} s: {}", decision.message);
    }
    let decision = run.at(300, Ok(0.0));
    assert_eq!(
        (decision.desired, decision.reason.as_str()),
        (0, "ScaleToZero")
    );
    let decision = run.at(400, Ok(0.0));
    assert_eq!((decision.desired, decision.reason.as_str()), (0, "Steady"));
    let decision = run.at(410, Ok(25.0));
    assert_eq!((decision.desired, decision.reason.as_str()), (3, "WakeUp"));
    let decision = run.at(420, Ok(25.0));
    assert_eq!((decision.desired, decision.reason.as_str()), (3, "Steady"));
}

#[test]
fn without_the_setting_zero_follows_the_scale_down_path() {
    let scaling = auto(0, 10, 10.0);
    check(vec![
        case("after the scale-down window", scaling.clone())
            .history(History::default().recommended(300, 1))
            .expect(0, "ScaleToZero", None),
        case("not before", scaling.clone())
            .history(History::default().recommended(299, 1))
            .expect(1, "Steady", None),
        case(
            "through the policies",
            scaling
                .clone()
                .down(rules(Some(0), Some(vec![pods(1, 60)]), None)),
        )
        .running(3, 3)
        .expect(2, "ScaleDown", Some("ScaleDownLimit")),
        case(
            "all at once with the default policies",
            scaling.down(no_window()),
        )
        .running(3, 3)
        .expect(0, "ScaleToZero", None),
    ]);
}

#[test]
fn requests_wake_up_a_service_at_zero() {
    let scaling = auto(0, 10, 10.0);
    let slow_up = scaling
        .clone()
        .up(rules(Some(600), Some(vec![pods(1, 60)]), None));
    check(vec![
        case("to what the requests need", scaling.clone())
            .running(0, 0)
            .rps(35.0)
            .expect(4, "WakeUp", None),
        case("at least one replica for a trickle", scaling.clone())
            .running(0, 0)
            .rps(0.01)
            .expect(1, "WakeUp", None),
        case("past the scale-up window and policies", slow_up)
            .running(0, 0)
            .rps(35.0)
            .history(History::default().recommended(10, 0))
            .expect(4, "WakeUp", None),
        case("within maxReplicas", scaling.clone())
            .running(0, 0)
            .rps(1000.0)
            .expect(10, "WakeUp", Some("TooManyReplicas")),
        case("no requests stay at zero", scaling)
            .running(0, 0)
            .expect(0, "Steady", None),
        case("below a raised minReplicas", auto(2, 10, 10.0))
            .running(0, 0)
            .expect(2, "ScaleUp", Some("TooFewReplicas")),
    ]);
}

#[test]
fn fallback_replicas_run_while_the_metric_is_unavailable() {
    let scaling = auto(1, 10, 10.0).fallback(3);
    check(vec![
        case("fallbackReplicas", scaling.clone())
            .running(5, 5)
            .unavailable("Prometheus timed out")
            .expect(3, "Fallback", None),
        case("within maxReplicas", auto(1, 10, 10.0).fallback(20))
            .running(5, 5)
            .unavailable("Prometheus timed out")
            .expect(10, "Fallback", Some("TooManyReplicas")),
        case("before the Deployment exists", scaling.clone())
            .no_deployment()
            .spec(5)
            .unavailable("Prometheus timed out")
            .expect(3, "Fallback", None),
        case("NaN requests/s", scaling.clone())
            .rps(f64::NAN)
            .expect(3, "Fallback", None),
        case("infinite requests/s", scaling.clone())
            .rps(f64::INFINITY)
            .expect(3, "Fallback", None),
        case("negative requests/s", scaling.clone())
            .rps(-1.0)
            .expect(3, "Fallback", None),
        case("no target", scaling.clone().target(None))
            .rps(10.0)
            .expect(3, "Fallback", None),
        case("target 0", scaling.target(Some(0.0)))
            .rps(10.0)
            .expect(3, "Fallback", None),
    ]);
}

#[test]
fn an_unavailable_metric_without_fallback_keeps_the_count() {
    let scaling = auto(1, 10, 10.0);
    check(vec![
        case("the current count", scaling.clone())
            .running(5, 5)
            .unavailable("no samples")
            .expect(5, "MetricUnavailable", None),
        case("within the bounds", auto(1, 3, 10.0))
            .running(5, 5)
            .unavailable("no samples")
            .expect(3, "MetricUnavailable", Some("TooManyReplicas")),
        case("before the Deployment: spec.replicas", scaling.clone())
            .no_deployment()
            .spec(4)
            .unavailable("no samples")
            .expect(4, "MetricUnavailable", None),
        case(
            "before the Deployment, no spec.replicas: one",
            auto(0, 10, 10.0),
        )
        .no_deployment()
        .unavailable("no samples")
        .expect(1, "MetricUnavailable", None),
        case(
            "before the Deployment, no spec.replicas: minReplicas",
            auto(3, 10, 10.0),
        )
        .no_deployment()
        .unavailable("no samples")
        .expect(3, "MetricUnavailable", None),
        case("no target", scaling.target(None))
            .running(5, 5)
            .rps(10.0)
            .expect(5, "MetricUnavailable", None),
    ]);
}

#[test]
fn an_unavailable_metric_is_named_and_leaves_the_recommendations_alone() {
    let history = History::default().recommended(10, 7);
    let decision = case("", auto(1, 10, 10.0).fallback(2))
        .running(5, 5)
        .unavailable("Prometheus timed out")
        .history(history.clone())
        .decide();
    assert!(
        decision.message.contains("Prometheus timed out"),
        "{}",
        decision.message
    );
    assert_eq!(decision.history.recommendations, history.recommendations);
    assert_eq!(
        decision.history.changes.len(),
        1,
        "the change to 2 is recorded"
    );
}

#[test]
fn no_ready_pods_keep_the_count() {
    check(vec![
        case("the current count", auto(1, 10, 10.0))
            .running(3, 0)
            .rps(100.0)
            .expect(3, "NoReadyPods", None),
        case("within the bounds", auto(1, 2, 10.0))
            .running(3, 0)
            .rps(100.0)
            .expect(2, "NoReadyPods", Some("TooManyReplicas")),
    ]);
}

#[test]
fn spec_replicas_is_the_initial_count() {
    check(vec![
        case("spec.replicas", auto(1, 10, 10.0))
            .no_deployment()
            .spec(4)
            .rps(100.0)
            .expect(4, "Initial", None),
        case("within the bounds", auto(1, 10, 10.0))
            .no_deployment()
            .spec(20)
            .expect(10, "Initial", Some("TooManyReplicas")),
        case("no spec.replicas: what the load needs", auto(1, 10, 10.0))
            .no_deployment()
            .rps(35.0)
            .expect(4, "Initial", None),
        case(
            "no spec.replicas, no requests: minReplicas",
            auto(2, 10, 10.0),
        )
        .no_deployment()
        .expect(2, "Initial", Some("TooFewReplicas")),
        case(
            "no spec.replicas, no requests, minReplicas 0: none",
            auto(0, 10, 10.0),
        )
        .no_deployment()
        .expect(0, "Initial", None),
    ]);
}

#[test]
fn the_initial_count_holds_for_the_scale_down_window() {
    let mut run = Run::new(auto(1, 10, 10.0), None);
    run.spec_replicas = Some(4);
    assert_eq!(run.at(0, Ok(10.0)).desired, 4);
    assert_eq!(run.at(15, Ok(10.0)).desired, 4);
    assert_eq!(run.at(300, Ok(10.0)).desired, 1);
}

#[test]
fn odd_inputs_give_a_count_and_no_panic() {
    check(vec![
        case("negative current counts as zero", auto(0, 10, 10.0))
            .running(-3, 0)
            .rps(35.0)
            .expect(4, "WakeUp", None),
        case("negative ready", auto(1, 10, 10.0))
            .running(3, -1)
            .rps(35.0)
            .expect(3, "NoReadyPods", None),
        case("a huge load", auto(1, 10, 1e-300)).rps(1e300).expect(
            5,
            "ScaleUp",
            Some("ScaleUpLimit"),
        ),
        case(
            "negative policy values",
            auto(1, 10, 10.0).up(rules(None, Some(vec![pods(-3, -5)]), None)),
        )
        .rps(35.0)
        .expect(1, "Steady", Some("ScaleUpLimit")),
        case("NaN tolerance", auto(1, 10, 10.0).tolerance(f64::NAN))
            .running(2, 2)
            .rps(20.0)
            .expect(2, "Steady", None),
        case("maxReplicas 0", auto(-1, 0, 10.0)).rps(10.0).expect(
            0,
            "ScaleToZero",
            Some("TooManyReplicas"),
        ),
        case("a recommendation from the future", auto(1, 10, 10.0))
            .running(4, 4)
            .rps(10.0)
            .history(History {
                recommendations: vec![Recommendation {
                    at: now() + Duration::from_secs(1000),
                    replicas: 4,
                }],
                ..History::default()
            })
            .expect(4, "Steady", None),
    ]);
}

#[test]
fn messages_give_the_numbers() {
    let decision = case("", auto(1, 10, 10.0)).running(2, 2).rps(38.5).decide();
    assert_eq!(
        decision.message,
        "38.5 requests/s over 2 ready replicas is 19.3 per replica, target 10: 4 replicas"
    );
    let decision = case("", auto(1, 10, 10.0)).running(4, 4).rps(10.0).decide();
    assert_eq!(
        decision.message,
        "10 requests/s over 4 ready replicas is 2.5 per replica, target 10: 1 replica; \
         the scale-down stabilization window (300 s) holds 4 replicas"
    );
}

#[test]
fn history_keeps_only_what_can_still_matter() {
    let history = History::default()
        .recommended(301, 9)
        .recommended(299, 2)
        .changed(16, 1)
        .changed(14, 1);
    let decision = case("", auto(1, 10, 10.0))
        .running(2, 2)
        .rps(20.0)
        .history(history)
        .decide();
    let kept: Vec<i32> = decision
        .history
        .recommendations
        .iter()
        .map(|r| r.replicas)
        .collect();
    assert_eq!(
        kept,
        vec![2, 2],
        "the 300 s window keeps the 299 s old one and the new one"
    );
    assert_eq!(
        decision.history.changes.len(),
        1,
        "the 15 s periods keep the 14 s old change"
    );
}

#[test]
fn manual_mode_keeps_no_history() {
    let history = History::default().recommended(10, 3).changed(10, 1);
    let decision = case("", manual(1, 4)).spec(2).history(history).decide();
    assert_eq!(decision.history, History::default());
}

fn policy() -> impl Strategy<Value = ScalingPolicy> {
    let type_ = prop_oneof![Just(PolicyType::Pods), Just(PolicyType::Percent)];
    (type_, 1..=200i32, 1..=30i32).prop_map(|(type_, value, period_seconds)| ScalingPolicy {
        type_,
        value,
        period_seconds,
    })
}

fn select() -> impl Strategy<Value = SelectPolicy> {
    prop_oneof![
        Just(SelectPolicy::Max),
        Just(SelectPolicy::Min),
        Just(SelectPolicy::Disabled)
    ]
}

fn direction_rules() -> impl Strategy<Value = Option<ScalingRules>> {
    let policies = proptest::collection::vec(policy(), 0..=3);
    let rules = (
        proptest::option::of(0..=300i32),
        proptest::option::of(policies),
        proptest::option::of(select()),
    );
    proptest::option::of(rules.prop_map(|(window, policies, select)| ScalingRules {
        stabilization_window_seconds: window,
        policies,
        select_policy: select,
    }))
}

/// Auto-mode settings the CRD accepts: 0 <= min <= max, 1 <= max <= 100.
fn valid_auto_scaling() -> impl Strategy<Value = Scaling> {
    (1..=100i32)
        .prop_flat_map(|max| {
            (
                0..=max,
                Just(max),
                0.1f64..100.0,
                0.0f64..0.5,
                direction_rules(),
                direction_rules(),
                proptest::option::of(1..=300i32),
            )
        })
        .prop_map(
            |(min, max, target, tolerance, up, down, zero_after)| Scaling {
                mode: ScalingMode::Auto,
                min_replicas: min,
                max_replicas: Some(max),
                target_requests_per_second: Some(target),
                tolerance,
                behavior: Some(ScalingBehavior {
                    scale_up: up,
                    scale_down: down,
                }),
                scale_to_zero_after_seconds: zero_after,
                ..Scaling::default()
            },
        )
}

fn requests_per_second() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.0f64..2000.0]
}

/// Long enough for any count of `valid_auto_scaling` to settle: the windows and the
/// quiet period (300 s each), then at most 100 one-replica steps, each waiting for a
/// policy period (at most 30 s) plus a time step (at most 30 s).
const SETTLED_AFTER: u64 = 3 * 300 + 100 * 60 + 600;
/// Long enough for a change still under way to show: past every window and period.
const TAIL: u64 = 1200;

proptest! {
    #[test]
    fn auto_mode_stays_within_the_bounds(
        scaling in valid_auto_scaling(),
        current in 0..=120i32,
        observations in proptest::collection::vec(
            (1..=120u64, requests_per_second(), 0.0f64..=1.0), 1..40),
    ) {
        let (min, max) = (scaling.min_replicas, scaling.max_replicas.unwrap_or(i32::MAX));
        let mut run = Run::new(scaling, Some(current));
        let mut second = 0;
        for (step, rps, ready_share) in observations {
            second += step;
            let ready = (f64::from(run.current.unwrap_or(0)) * ready_share).floor() as i32;
            let decision = run.at_with_ready(second, Ok(rps), ready);
            prop_assert!(
                (min..=max).contains(&decision.desired),
                "{} outside [{min}, {max}] at {second} s: {} ({})",
                decision.desired, decision.reason.as_str(), decision.message
            );
        }
    }

    #[test]
    fn constant_load_settles_without_oscillating(
        scaling in valid_auto_scaling(),
        current in 0..=120i32,
        first_ready_share in 0.0f64..=1.0,
        rps in requests_per_second(),
        steps in proptest::collection::vec(5..=30u64, 1..20),
    ) {
        let mut run = Run::new(scaling, Some(current));
        // A share of the replicas is ready at first; after each decision all of them are.
        let mut ready = (f64::from(current) * first_ready_share).floor() as i32;
        let mut count = current;
        // (second, new count) of every change, to spot reversals and late changes.
        let mut changes = vec![(0, count)];
        let mut second = 0;
        for step in steps.iter().cycle() {
            let decision = run.at_with_ready(second, Ok(rps), ready);
            if decision.desired != count {
                count = decision.desired;
                changes.push((second, count));
                prop_assert!(
                    second <= SETTLED_AFTER,
                    "still changing at {} s: {} ({}); changes {:?}",
                    second, decision.reason.as_str(), decision.message, changes
                );
            }
            ready = count;
            second += step;
            if second > SETTLED_AFTER + TAIL {
                break;
            }
        }
        let directions: Vec<Ordering> =
            changes.windows(2).map(|pair| pair[1].1.cmp(&pair[0].1)).collect();
        prop_assert!(
            directions.windows(2).all(|pair| pair[0] == pair[1]),
            "the count reversed: (second, count) changes {:?}", changes
        );
    }

    #[test]
    fn any_input_gives_a_count_of_zero_or_more(
        auto_mode in any::<bool>(),
        min in any::<i32>(),
        max in any::<Option<i32>>(),
        target in any::<Option<f64>>(),
        tolerance in any::<f64>(),
        zero_after in any::<Option<i32>>(),
        fallback in any::<Option<i32>>(),
        (window, value, period) in any::<(Option<i32>, i32, i32)>(),
        spec_replicas in any::<Option<i32>>(),
        current in any::<Option<i32>>(),
        ready in any::<i32>(),
        rps in any::<Result<f64, String>>(),
        recommended_ago in 0..NOW,
    ) {
        let policies = Some(vec![pods(value, period), percent(value, period)]);
        let scaling = Scaling {
            mode: if auto_mode { ScalingMode::Auto } else { ScalingMode::Manual },
            min_replicas: min,
            max_replicas: max,
            target_requests_per_second: target,
            tolerance,
            behavior: Some(ScalingBehavior {
                scale_up: Some(rules(window, policies.clone(), None)),
                scale_down: Some(rules(window, policies, Some(SelectPolicy::Min))),
            }),
            scale_to_zero_after_seconds: zero_after,
            fallback_replicas: fallback,
            ..Scaling::default()
        };
        let history = History::default()
            .recommended(recommended_ago, min)
            .changed(recommended_ago, value);
        let decision = decide(&Inputs {
            scaling: &scaling,
            spec_replicas,
            current,
            ready,
            requests_per_second: rps,
            history: &history,
            now: now(),
        });
        prop_assert!(decision.desired >= 0, "{decision:?}");
    }
}
