//! The replica count of one AIService, decided by a pure function: the controller gathers what
//! it observed (spec, the Deployment's replicas, requests per second, the time) into [`Inputs`],
//! calls [`decide`] and applies the [`Decision`], keeping its [`History`] for the next call.
//!
//! Auto mode follows the HPA v2 algorithm (Kubernetes' horizontal pod autoscaler controller):
//! a recommendation of ceil(requests per second / target) unless the load per ready replica is
//! within the tolerance of the target, stabilization windows over past recommendations, rate
//! policies over past changes, then the bounds. Added to it: waking up from and scaling to
//! zero (after a quiet period), and fallback replicas while the metric is unavailable.
//!
//! No I/O and no clock here: time comes in as [`Inputs::now`].

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use crate::api::{PolicyType, Scaling, ScalingMode, ScalingPolicy, ScalingRules, SelectPolicy};

/// What the controller observed, for one decision.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    /// `spec.scaling` with the CRD's defaults applied (`Scaling::default()` when absent).
    pub scaling: &'a Scaling,
    /// `spec.replicas`.
    pub spec_replicas: Option<i32>,
    /// The Deployment's current `spec.replicas` (what was last decided); `None` before the
    /// Deployment exists.
    pub current: Option<i32>,
    /// Ready pods of the Deployment.
    pub ready: i32,
    /// The service's total requests per second (all pods together), or why it is unavailable.
    pub requests_per_second: Result<f64, String>,
    /// What earlier decisions for this object left behind.
    pub history: &'a History,
    pub now: SystemTime,
}

/// The decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub desired: i32,
    pub reason: Reason,
    /// A sentence for humans saying why, with the numbers (e.g. "38.5 requests/s over 2 ready
    /// replicas is 19.3 per replica, target 10: 4 replicas").
    pub message: String,
    /// Set when a bound or a rate policy held the count back (condition ScalingLimited=True):
    /// what held it, and a sentence saying how.
    pub limited: Option<(Limit, String)>,
    /// The history to pass to the next decision (pruned: nothing older than the longest window
    /// or period that can still matter).
    pub history: History,
}

/// Why the count is what it is: the reason of the status condition and the Kubernetes Event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Manual mode: `spec.replicas`.
    Manual,
    /// The first decision for an object, before a metric was read.
    Initial,
    ScaleUp,
    ScaleDown,
    ScaleToZero,
    /// Requests arrived at 0 replicas.
    WakeUp,
    /// The load changed, but within the tolerance: no change.
    WithinTolerance,
    Steady,
    /// No metric, and no fallback: the count stays.
    MetricUnavailable,
    /// No metric: the configured fallback count.
    Fallback,
    /// Replicas run, none ready: the load per replica cannot be told.
    NoReadyPods,
}

impl Reason {
    /// As Kubernetes conditions spell reasons (CamelCase).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Manual => "Manual",
            Reason::Initial => "Initial",
            Reason::ScaleUp => "ScaleUp",
            Reason::ScaleDown => "ScaleDown",
            Reason::ScaleToZero => "ScaleToZero",
            Reason::WakeUp => "WakeUp",
            Reason::WithinTolerance => "WithinTolerance",
            Reason::Steady => "Steady",
            Reason::MetricUnavailable => "MetricUnavailable",
            Reason::Fallback => "Fallback",
            Reason::NoReadyPods => "NoReadyPods",
        }
    }
}

/// What held the count back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// `minReplicas`.
    TooFewReplicas,
    /// `maxReplicas`.
    TooManyReplicas,
    ScaleUpLimit,
    ScaleDownLimit,
    ScaleUpDisabled,
    ScaleDownDisabled,
}

impl Limit {
    /// As Kubernetes conditions spell reasons (CamelCase).
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::TooFewReplicas => "TooFewReplicas",
            Limit::TooManyReplicas => "TooManyReplicas",
            Limit::ScaleUpLimit => "ScaleUpLimit",
            Limit::ScaleDownLimit => "ScaleDownLimit",
            Limit::ScaleUpDisabled => "ScaleUpDisabled",
            Limit::ScaleDownDisabled => "ScaleDownDisabled",
        }
    }
}

/// Past recommendations and replica changes of one object, kept by the controller between
/// decisions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Recommendations before stabilization, oldest first: the stabilization windows.
    recommendations: Vec<Recommendation>,
    /// Changes of the replica count this function decided, oldest first: the rate policies.
    changes: Vec<ReplicaChange>,
    /// Since when no requests arrived: the last observation with requests, or the first
    /// observation if there never were any. Scale to zero waits for a quiet period.
    quiet_since: Option<SystemTime>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Recommendation {
    at: SystemTime,
    replicas: i32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct ReplicaChange {
    at: SystemTime,
    /// Replicas added (positive) or removed (negative).
    by: i32,
}

/// Decides the replica count for one observation.
pub fn decide(inputs: &Inputs) -> Decision {
    match inputs.scaling.mode {
        ScalingMode::Manual => manual(inputs.spec_replicas),
        ScalingMode::Auto => auto(inputs),
    }
}

/// What held the count back and how, for the ScalingLimited condition.
type Limited = (Limit, String);

/// A decision before its history is attached.
struct Outcome {
    desired: i32,
    reason: Reason,
    message: String,
    limited: Option<Limited>,
}

impl Outcome {
    fn into_decision(self, history: History) -> Decision {
        Decision {
            desired: self.desired,
            reason: self.reason,
            message: self.message,
            limited: self.limited,
            history,
        }
    }
}

/// Manual mode runs `spec.replicas` as is. It keeps no history, so Auto mode switched on later
/// starts afresh, as a newly created HPA would.
fn manual(spec_replicas: Option<i32>) -> Decision {
    let (desired, message) = match spec_replicas {
        Some(replicas) if replicas >= 0 => (replicas, format!("spec.replicas is {replicas}")),
        Some(replicas) => (0, format!("spec.replicas is {replicas}: running 0")),
        None => (1, "spec.replicas is unset: running 1".to_string()),
    };
    let outcome = Outcome {
        desired,
        reason: Reason::Manual,
        message: format!("Manual mode: {message}"),
        limited: None,
    };
    outcome.into_decision(History::default())
}

fn auto(inputs: &Inputs) -> Decision {
    let config = Config::of(inputs.scaling);
    let current = inputs.current.map(|replicas| replicas.max(0));
    let mut history = inputs.history.clone();
    let outcome = match measured_load(inputs) {
        Err(why) => without_load(&config, inputs.spec_replicas, current, &why),
        Ok(load) => {
            history.observe(load, inputs.now);
            with_load(inputs, &config, current, load, &mut history)
        }
    };
    if let Some(current) = current {
        history.record_change(current, outcome.desired, inputs.now);
    }
    history.prune(&config, inputs.now);
    outcome.into_decision(history)
}

/// The settings of Auto mode with every default and sanity rule applied.
struct Config {
    bounds: Bounds,
    tolerance: f64,
    up: Rules,
    down: Rules,
    /// `scaleToZeroAfterSeconds`, only where it applies: when `minReplicas` is 0.
    scale_to_zero_after: Option<Duration>,
    fallback: Option<i32>,
}

impl Config {
    fn of(scaling: &Scaling) -> Config {
        let bounds = Bounds::of(scaling);
        let behavior = scaling.behavior.as_ref();
        let scale_to_zero_after = scaling
            .scale_to_zero_after_seconds
            .filter(|_| bounds.min == 0)
            .map(seconds);
        Config {
            bounds,
            tolerance: scaling.tolerance,
            up: Rules::of(behavior.and_then(|b| b.scale_up.as_ref()), Direction::Up),
            down: Rules::of(
                behavior.and_then(|b| b.scale_down.as_ref()),
                Direction::Down,
            ),
            scale_to_zero_after,
            fallback: scaling.fallback_replicas,
        }
    }

    fn rules(&self, direction: Direction) -> &Rules {
        match direction {
            Direction::Up => &self.up,
            Direction::Down => &self.down,
        }
    }
}

/// `[minReplicas, maxReplicas]`, never empty and never negative.
#[derive(Clone, Copy)]
struct Bounds {
    min: i32,
    max: i32,
}

impl Bounds {
    fn of(scaling: &Scaling) -> Bounds {
        // maxReplicas is required in Auto mode; without it nothing bounds the count from above.
        let max = scaling.max_replicas.map_or(i32::MAX, |max| max.max(0));
        // A minReplicas above maxReplicas breaks a CEL rule; should one slip through,
        // maxReplicas wins so that the count never exceeds it.
        let min = scaling.min_replicas.clamp(0, max);
        Bounds { min, max }
    }

    /// `replicas` within the bounds, and what the bounds changed.
    fn clamp(self, replicas: i32) -> (i32, Option<Limited>) {
        if replicas < self.min {
            let message = format!(
                "{} would be fewer than minReplicas {}",
                count(replicas),
                self.min
            );
            (self.min, Some((Limit::TooFewReplicas, message)))
        } else if replicas > self.max {
            let message = format!(
                "{} would be more than maxReplicas {}",
                count(replicas),
                self.max
            );
            (self.max, Some((Limit::TooManyReplicas, message)))
        } else {
            (replicas, None)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Up => "scale-up",
            Direction::Down => "scale-down",
        }
    }

    /// The HPA v2 default window: react to more load at once, to less only after 5 minutes.
    fn default_window_seconds(self) -> i32 {
        match self {
            Direction::Up => 0,
            Direction::Down => 300,
        }
    }

    /// The HPA v2 default policies: up by 100% or 4 pods (whichever is more), down by 100%,
    /// per 15 seconds.
    fn default_policies(self) -> Vec<ScalingPolicy> {
        let percent = ScalingPolicy {
            type_: PolicyType::Percent,
            value: 100,
            period_seconds: 15,
        };
        match self {
            Direction::Up => vec![
                percent,
                ScalingPolicy {
                    type_: PolicyType::Pods,
                    value: 4,
                    period_seconds: 15,
                },
            ],
            Direction::Down => vec![percent],
        }
    }

    fn limit(self) -> Limit {
        match self {
            Direction::Up => Limit::ScaleUpLimit,
            Direction::Down => Limit::ScaleDownLimit,
        }
    }

    fn disabled(self) -> Limit {
        match self {
            Direction::Up => Limit::ScaleUpDisabled,
            Direction::Down => Limit::ScaleDownDisabled,
        }
    }

    /// The count one policy allows, starting from the count at the start of its period.
    fn allowed_by(self, policy: &ScalingPolicy, period_start: i64) -> i32 {
        let start = period_start as f64;
        let value = f64::from(policy.value);
        let allowed = match (self, policy.type_) {
            (Direction::Up, PolicyType::Pods) => start + value,
            // Rounded up: a small percentage of few replicas would otherwise never add one.
            (Direction::Up, PolicyType::Percent) => (start * (1.0 + value / 100.0)).ceil(),
            (Direction::Down, PolicyType::Pods) => start - value,
            (Direction::Down, PolicyType::Percent) => (start * (1.0 - value / 100.0)).floor(),
        };
        to_replicas(allowed)
    }
}

/// One direction's `behavior` with its defaults applied.
struct Rules {
    window: Duration,
    policies: Vec<ScalingPolicy>,
    select: SelectPolicy,
}

impl Rules {
    fn of(rules: Option<&ScalingRules>, direction: Direction) -> Rules {
        let window = rules
            .and_then(|rules| rules.stabilization_window_seconds)
            .unwrap_or(direction.default_window_seconds());
        Rules {
            window: seconds(window),
            policies: rules
                .and_then(|rules| rules.policies.clone())
                .unwrap_or_else(|| direction.default_policies()),
            select: rules
                .and_then(|rules| rules.select_policy)
                .unwrap_or_default(),
        }
    }

    /// The furthest the policies let the count move from `current` in `direction` now, or
    /// `None` when there are no policies (an empty list). Never past `current` the wrong way:
    /// a period used up by earlier changes allows no change, not a reversal.
    fn limit(
        &self,
        direction: Direction,
        current: i32,
        history: &History,
        now: SystemTime,
    ) -> Option<i32> {
        let allowed = self.policies.iter().map(|policy| {
            let period = seconds(policy.period_seconds);
            direction.allowed_by(
                policy,
                history.replicas_at_period_start(current, period, now),
            )
        });
        // Up, the most permissive policy allows the highest count; down, the lowest. (Disabled
        // never gets here: it allows no change at all.)
        let limit = match (self.select, direction) {
            (SelectPolicy::Max, Direction::Up) | (SelectPolicy::Min, Direction::Down) => {
                allowed.max()
            }
            _ => allowed.min(),
        }?;
        Some(match direction {
            Direction::Up => limit.max(current),
            Direction::Down => limit.min(current),
        })
    }
}

/// A valid requests-per-second figure and the target it is measured against.
#[derive(Clone, Copy)]
struct Load {
    requests_per_second: f64,
    target: f64,
}

impl Load {
    /// ceil(requests per second / target): the HPA's ceil(ratio × ready replicas), whose ready
    /// replicas cancel out because the metric is the total over all pods.
    fn replicas_needed(self) -> i32 {
        to_replicas((self.requests_per_second / self.target).ceil())
    }

    fn has_requests(self) -> bool {
        self.requests_per_second > 0.0
    }
}

/// The observed load, or why there is none to scale on. A missing or non-positive target
/// leaves nothing to scale on either, so it is handled like a missing metric.
fn measured_load(inputs: &Inputs) -> Result<Load, String> {
    let target = match inputs.scaling.target_requests_per_second {
        Some(target) if target.is_finite() && target > 0.0 => target,
        Some(target) => {
            return Err(format!(
                "targetRequestsPerSecond is {target}, not a positive number"
            ));
        }
        None => return Err("targetRequestsPerSecond is not set".to_string()),
    };
    match &inputs.requests_per_second {
        Ok(rps) if rps.is_finite() && *rps >= 0.0 => Ok(Load {
            requests_per_second: *rps,
            target,
        }),
        Ok(rps) => Err(format!("the metric reported {rps} requests/s")),
        Err(why) => Err(why.clone()),
    }
}

/// Without a load to scale on: the fallback count if set, else stay where we are.
fn without_load(
    config: &Config,
    spec_replicas: Option<i32>,
    current: Option<i32>,
    why: &str,
) -> Outcome {
    let unavailable = format!("requests per second unavailable ({why})");
    if let Some(fallback) = config.fallback {
        let (desired, limited) = config.bounds.clamp(fallback);
        return Outcome {
            desired,
            reason: Reason::Fallback,
            message: format!("{unavailable}: fallbackReplicas {fallback}"),
            limited,
        };
    }
    let (kept, limited) = match current {
        Some(current) => config.bounds.clamp(current),
        None => initial_without_load(config.bounds, spec_replicas),
    };
    Outcome {
        desired: kept,
        reason: Reason::MetricUnavailable,
        message: format!("{unavailable}: {}", count(kept)),
        limited,
    }
}

/// The first count when the load is unknown: `spec.replicas`, else `minReplicas` but at least
/// one replica (the service may well be in use).
fn initial_without_load(bounds: Bounds, spec_replicas: Option<i32>) -> (i32, Option<Limited>) {
    match spec_replicas {
        Some(replicas) => bounds.clamp(replicas),
        None => bounds.clamp(bounds.min.max(1)),
    }
}

fn with_load(
    inputs: &Inputs,
    config: &Config,
    current: Option<i32>,
    load: Load,
    history: &mut History,
) -> Outcome {
    match current {
        None => initial(config, inputs.spec_replicas, load, history, inputs.now),
        Some(0) => from_zero(config, load, history, inputs.now),
        Some(current) if inputs.ready <= 0 => no_ready_pods(config.bounds, current),
        Some(current) => from_load(config, current, inputs.ready, load, history, inputs.now),
    }
}

/// Before the Deployment exists: `spec.replicas` is the initial count in Auto mode; without
/// it, the count the load needs, as when waking up from zero.
fn initial(
    config: &Config,
    spec_replicas: Option<i32>,
    load: Load,
    history: &mut History,
    now: SystemTime,
) -> Outcome {
    let Some(replicas) = spec_replicas else {
        let woken = from_zero(config, load, history, now);
        return Outcome {
            reason: Reason::Initial,
            message: format!("no Deployment yet; {}", woken.message),
            ..woken
        };
    };
    let (desired, limited) = config.bounds.clamp(replicas);
    // Like the HPA's first recommendation, the initial count holds back a scale-down for the
    // scale-down window: the pods get a chance to take the load before it is judged.
    history.record_recommendation(desired, now);
    Outcome {
        desired,
        reason: Reason::Initial,
        message: format!(
            "no Deployment yet; spec.replicas is {replicas}: {}",
            count(desired)
        ),
        limited,
    }
}

/// At zero replicas no load per replica can be measured, and the rate policies (relative to
/// the current count) would keep zero at zero: requests wake the service straight up to the
/// replicas they need, without waiting for the scale-up window.
fn from_zero(config: &Config, load: Load, history: &mut History, now: SystemTime) -> Outcome {
    let needed = if load.has_requests() {
        load.replicas_needed().max(1)
    } else {
        0
    };
    history.record_recommendation(needed, now);
    let (desired, limited) = config.bounds.clamp(needed);
    let (reason, explanation) = if load.has_requests() {
        let explanation = format!(
            "{} requests/s at 0 replicas, target {} per replica: {}",
            number(load.requests_per_second),
            number(load.target),
            count(needed)
        );
        (Reason::WakeUp, explanation)
    } else {
        let reason = if desired > 0 {
            Reason::ScaleUp
        } else {
            Reason::Steady
        };
        (reason, "no requests at 0 replicas".to_string())
    };
    Outcome {
        desired,
        reason,
        message: with_notes(explanation, [limited_note(&limited)]),
        limited,
    }
}

/// Replicas that are not ready cannot show the load per replica; wait for them.
fn no_ready_pods(bounds: Bounds, current: i32) -> Outcome {
    let (desired, limited) = bounds.clamp(current);
    let explanation = format!(
        "none of the {} is ready to measure the load per replica on",
        count(current)
    );
    Outcome {
        desired,
        reason: Reason::NoReadyPods,
        message: with_notes(explanation, [limited_note(&limited)]),
        limited,
    }
}

/// The HPA v2 path: recommendation, stabilization, rate policies, bounds, then scale to zero.
fn from_load(
    config: &Config,
    current: i32,
    ready: i32,
    load: Load,
    history: &mut History,
    now: SystemTime,
) -> Outcome {
    let recommended = recommend(config, current, ready, load);
    history.seed_recommendations(current, now);
    let stabilized = history.stabilize(current, recommended.replicas, config, now);
    let stabilization = stabilization_note(config, recommended.replicas, stabilized);
    let (rated, rate_limited) = apply_rate_policies(config, current, stabilized, history, now);
    let (bounded, bound_limited) = config.bounds.clamp(rated);
    // The bounds act last, so when both held the count back the bounds say why.
    let limited = bound_limited.or(rate_limited);
    let zero = zero_rule(config, load, history, now, bounded);
    let (desired, limited) = match &zero {
        Some(ZeroRule::ScaleToZero(_)) => (0, None),
        Some(ZeroRule::KeepOne(_)) => (1.min(config.bounds.max), limited),
        None => (bounded, limited),
    };
    let notes = [
        stabilization,
        limited_note(&limited),
        zero.map(ZeroRule::note),
    ];
    Outcome {
        desired,
        reason: change_reason(current, desired, recommended.within_tolerance),
        message: with_notes(recommended.explanation, notes),
        limited,
    }
}

/// The HPA's recommendation for one observation, before stabilization.
struct Recommended {
    replicas: i32,
    within_tolerance: bool,
    /// The numbers behind it, for the message.
    explanation: String,
}

fn recommend(config: &Config, current: i32, ready: i32, load: Load) -> Recommended {
    let per_replica = load.requests_per_second / f64::from(ready);
    let within_tolerance = (per_replica / load.target - 1.0).abs() <= config.tolerance;
    let (replicas, compared) = if within_tolerance {
        let compared = format!(
            "within {}% of target {}",
            number(config.tolerance * 100.0),
            number(load.target)
        );
        (current, compared)
    } else {
        (
            load.replicas_needed(),
            format!("target {}", number(load.target)),
        )
    };
    let explanation = format!(
        "{} requests/s over {} is {} per replica, {compared}: {}",
        number(load.requests_per_second),
        counted(ready, "ready replica"),
        number(per_replica),
        count(replicas)
    );
    Recommended {
        replicas,
        within_tolerance,
        explanation,
    }
}

fn change_reason(current: i32, desired: i32, within_tolerance: bool) -> Reason {
    match desired.cmp(&current) {
        Ordering::Greater => Reason::ScaleUp,
        Ordering::Less if desired == 0 => Reason::ScaleToZero,
        Ordering::Less => Reason::ScaleDown,
        Ordering::Equal if within_tolerance => Reason::WithinTolerance,
        Ordering::Equal => Reason::Steady,
    }
}

fn stabilization_note(config: &Config, recommendation: i32, stabilized: i32) -> Option<String> {
    // Held above the recommendation by earlier, higher ones: the scale-down window; below
    // it by earlier, lower ones: the scale-up window.
    let direction = match stabilized.cmp(&recommendation) {
        Ordering::Greater => Direction::Down,
        Ordering::Less => Direction::Up,
        Ordering::Equal => return None,
    };
    Some(format!(
        "the {} stabilization window ({} s) holds {}",
        direction.name(),
        config.rules(direction).window.as_secs(),
        count(stabilized)
    ))
}

/// The stabilized count as far as the rate policies of its direction allow now.
fn apply_rate_policies(
    config: &Config,
    current: i32,
    stabilized: i32,
    history: &History,
    now: SystemTime,
) -> (i32, Option<Limited>) {
    let direction = match stabilized.cmp(&current) {
        Ordering::Greater => Direction::Up,
        Ordering::Less => Direction::Down,
        Ordering::Equal => return (stabilized, None),
    };
    let rules = config.rules(direction);
    if rules.select == SelectPolicy::Disabled {
        let message = format!(
            "{} is disabled (selectPolicy Disabled): staying at {} instead of {}",
            direction.name(),
            current,
            stabilized
        );
        return (current, Some((direction.disabled(), message)));
    }
    let Some(limit) = rules.limit(direction, current, history, now) else {
        return (stabilized, None);
    };
    let held_back = match direction {
        Direction::Up => stabilized > limit,
        Direction::Down => stabilized < limit,
    };
    if !held_back {
        return (stabilized, None);
    }
    let message = format!(
        "the {} policies allow {} now instead of {}",
        direction.name(),
        count(limit),
        stabilized
    );
    (limit, Some((direction.limit(), message)))
}

/// What `scaleToZeroAfterSeconds` does to a count on the way down.
enum ZeroRule {
    /// No requests for the whole quiet period: go to zero, whatever the window and policies.
    ScaleToZero(String),
    /// Not quiet for long enough yet: one replica stays.
    KeepOne(String),
}

impl ZeroRule {
    fn note(self) -> String {
        match self {
            ZeroRule::ScaleToZero(note) | ZeroRule::KeepOne(note) => note,
        }
    }
}

/// With `scaleToZeroAfterSeconds` (and `minReplicas` 0), the quiet period alone decides when
/// the last replica goes: it replaces the scale-down window and policies for that step, so
/// the service is at zero exactly when the user said (unless scale-down is disabled, which
/// means never). Without it, zero is reached like any other count, through the scale-down
/// path.
fn zero_rule(
    config: &Config,
    load: Load,
    history: &History,
    now: SystemTime,
    bounded: i32,
) -> Option<ZeroRule> {
    let after = config.scale_to_zero_after?;
    let quiet = history.quiet_for(now);
    let may_scale_down = config.down.select != SelectPolicy::Disabled;
    if may_scale_down && !load.has_requests() && quiet >= after {
        return Some(ZeroRule::ScaleToZero(format!(
            "no requests for {} s (scaleToZeroAfterSeconds {}): 0 replicas",
            quiet.as_secs(),
            after.as_secs()
        )));
    }
    (bounded == 0).then(|| {
        ZeroRule::KeepOne(format!(
            "1 replica stays until {} s pass without requests (scaleToZeroAfterSeconds; quiet for {} s)",
            after.as_secs(),
            quiet.as_secs()
        ))
    })
}

impl History {
    /// Notes when requests were seen, for the quiet period of scale to zero.
    fn observe(&mut self, load: Load, now: SystemTime) {
        if load.has_requests() || self.quiet_since.is_none() {
            self.quiet_since = Some(now);
        }
    }

    fn quiet_for(&self, now: SystemTime) -> Duration {
        self.quiet_since
            .map_or(Duration::ZERO, |since| age(since, now))
    }

    /// Without earlier recommendations (a new object, a restarted operator, a long metric
    /// outage) the current count counts as one, as in the HPA: a scale-down then waits for the
    /// scale-down window instead of acting on a single observation.
    fn seed_recommendations(&mut self, current: i32, now: SystemTime) {
        if self.recommendations.is_empty() {
            self.record_recommendation(current, now);
        }
    }

    fn record_recommendation(&mut self, replicas: i32, now: SystemTime) {
        self.recommendations
            .push(Recommendation { at: now, replicas });
    }

    /// The HPA's `stabilizeRecommendationWithBehaviors`: scale up no further than the lowest
    /// recommendation of the scale-up window, down no further than the highest of the
    /// scale-down window; then records `recommendation`.
    fn stabilize(
        &mut self,
        current: i32,
        recommendation: i32,
        config: &Config,
        now: SystemTime,
    ) -> i32 {
        let within = |window: Duration| {
            self.recommendations
                .iter()
                .filter(move |earlier| age(earlier.at, now) < window)
                .map(|earlier| earlier.replicas)
        };
        let up_to = within(config.up.window).fold(recommendation, i32::min);
        let down_to = within(config.down.window).fold(recommendation, i32::max);
        self.record_recommendation(recommendation, now);
        current.max(up_to).min(down_to)
    }

    /// The count at the start of a policy period ending now: the current count without the
    /// changes made within the period.
    fn replicas_at_period_start(&self, current: i32, period: Duration, now: SystemTime) -> i64 {
        let changed: i64 = self
            .changes
            .iter()
            .filter(|change| age(change.at, now) < period)
            .map(|change| i64::from(change.by))
            .sum();
        i64::from(current) - changed
    }

    fn record_change(&mut self, from: i32, to: i32, now: SystemTime) {
        if from != to {
            self.changes.push(ReplicaChange {
                at: now,
                by: to - from,
            });
        }
    }

    /// Drops what no window or period reaches any more.
    fn prune(&mut self, config: &Config, now: SystemTime) {
        let longest_window = config.up.window.max(config.down.window);
        let longest_period = [&config.up, &config.down]
            .iter()
            .flat_map(|rules| &rules.policies)
            .map(|policy| seconds(policy.period_seconds))
            .max()
            .unwrap_or(Duration::ZERO);
        self.recommendations
            .retain(|earlier| age(earlier.at, now) < longest_window);
        self.changes
            .retain(|change| age(change.at, now) < longest_period);
    }
}

/// How long ago `at` was; zero for a time in the future (a clock that went backwards).
fn age(at: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(at).unwrap_or(Duration::ZERO)
}

/// A non-negative number of seconds from the spec; negative ones (invalid) count as zero.
fn seconds(value: i32) -> Duration {
    Duration::from_secs(u64::try_from(value).unwrap_or(0))
}

/// A replica count from a computed float: NaN and negatives are 0, and too large a count is
/// `i32::MAX` (float-to-int `as` saturates).
fn to_replicas(value: f64) -> i32 {
    value.max(0.0) as i32
}

/// A figure for humans: at most one decimal, no trailing `.0`.
fn number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    // Adding zero turns -0 into 0.
    format!("{}", rounded + 0.0)
}

/// "1 replica", "3 replicas".
fn count(replicas: i32) -> String {
    counted(replicas, "replica")
}

fn counted(number: i32, noun: &str) -> String {
    if number == 1 {
        format!("1 {noun}")
    } else {
        format!("{number} {noun}s")
    }
}

fn limited_note(limited: &Option<Limited>) -> Option<String> {
    limited.as_ref().map(|(_, message)| message.clone())
}

/// `explanation`, then each note, separated by semicolons.
fn with_notes(explanation: String, notes: impl IntoIterator<Item = Option<String>>) -> String {
    notes
        .into_iter()
        .flatten()
        .fold(explanation, |message, note| format!("{message}; {note}"))
}

#[cfg(test)]
mod tests;
