//! The `scaling` block shared by AIService and ModelServing: how many replicas run and, in
//! `Auto` mode, how the operator derives them from requests per second (HPA v2's algorithm
//! with our own metric sources).

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CEL: the bounds are ordered. Absent bounds (Manual mode may leave `maxReplicas` unset)
/// satisfy it. Reported at `minReplicas`.
pub const MIN_LE_MAX_RULE: &str =
    "!has(self.maxReplicas) || !has(self.minReplicas) || self.minReplicas <= self.maxReplicas";
pub const MIN_LE_MAX_MESSAGE: &str = "minReplicas must be less than or equal to maxReplicas";

/// CEL: Auto mode can only work with something to aim at, somewhere to read requests/s from
/// and an upper bound. `mode` defaults to `Manual`, so an absent mode is Manual.
pub const AUTO_NEEDS_TARGET_RULE: &str = "!has(self.mode) || self.mode != 'Auto' || (has(self.targetRequestsPerSecond) && has(self.metric) && has(self.maxReplicas))";
pub const AUTO_NEEDS_TARGET_MESSAGE: &str =
    "Auto mode needs targetRequestsPerSecond, metric and maxReplicas";

/// CEL on a spec with `replicas` and `scaling`: in Auto mode `spec.replicas` is the initial
/// count, and it must lie within `[minReplicas, maxReplicas]`.
///
/// Why the rule is right, and why only in Auto mode:
/// - In Auto mode the autoscaler never leaves the bounds, so an initial count outside them
///   would be corrected at once: the spec would say one thing and the cluster do another. A
///   `kubectl scale` (which writes `spec.replicas` through the scale subresource) outside the
///   bounds is refused with this message instead of being silently overridden.
/// - In Manual mode `spec.replicas` *is* the count and the bounds are dormant settings (kept
///   so that switching to Auto is a one-field change), so they do not constrain it; an HPA
///   or KEDA driving a Manual-mode object through the scale subresource is not blocked.
/// - An absent `replicas` is fine: the operator starts at `minReplicas`.
///
/// Reported at `replicas` (the rule sits on the spec, which sees both fields).
///
/// `minReplicas` defaults to 1; the rule spells that default out so that it holds the same
/// whether or not defaults were applied before it runs.
pub const REPLICAS_WITHIN_BOUNDS_RULE: &str = "!has(self.scaling) || !has(self.scaling.mode) || self.scaling.mode != 'Auto' || !has(self.replicas) || (self.replicas >= (has(self.scaling.minReplicas) ? self.scaling.minReplicas : 1) && (!has(self.scaling.maxReplicas) || self.replicas <= self.scaling.maxReplicas))";
pub const REPLICAS_WITHIN_BOUNDS_MESSAGE: &str = "in Auto mode replicas (the initial count) must be within [scaling.minReplicas, scaling.maxReplicas]";

/// CEL: one metric source, not zero and not two.
pub const ONE_METRIC_SOURCE_RULE: &str = "(has(self.prometheus) ? 1 : 0) + (has(self.podScrape) ? 1 : 0) + (has(self.interceptor) ? 1 : 0) == 1";
pub const ONE_METRIC_SOURCE_MESSAGE: &str =
    "metric needs exactly one of prometheus, podScrape or interceptor";

/// CEL on an int-or-string quantity: a non-negative Kubernetes quantity. `string(self)` turns
/// an integer into its quantity form (`type(self)` would be clearer, but kube-cel cannot
/// evaluate it client-side).
pub const QUANTITY_RULE: &str =
    "isQuantity(string(self)) && !quantity(string(self)).isLessThan(quantity('0'))";
pub const QUANTITY_MESSAGE: &str =
    "must be a non-negative Kubernetes quantity such as 500m, 2, 512Mi or 4Gi";

/// Who decides the replica count.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScalingMode {
    /// `spec.replicas` is the replica count (and `kubectl scale`, an HPA or KEDA may set it
    /// through the scale subresource).
    #[default]
    Manual,
    /// The operator scales between `minReplicas` and `maxReplicas` to keep requests per second
    /// per ready replica near `targetRequestsPerSecond`.
    Auto,
}

/// How replicas are chosen. Manual (the default) runs `spec.replicas`; Auto scales on requests
/// per second with the HPA v2 algorithm: desired = ceil(requests per second / target), left
/// alone within `tolerance`, smoothed by `behavior`, bounded by `minReplicas` and `maxReplicas`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(MIN_LE_MAX_RULE).message(MIN_LE_MAX_MESSAGE).field_path(".minReplicas"),
    validation = Rule::new(AUTO_NEEDS_TARGET_RULE).message(AUTO_NEEDS_TARGET_MESSAGE)
)]
pub struct Scaling {
    /// `Manual` (default): `spec.replicas` is the replica count. `Auto`: the operator scales on
    /// requests per second; `spec.replicas` is only the initial count.
    #[serde(default)]
    pub mode: ScalingMode,

    /// The fewest replicas Auto mode runs (default 1). 0 allows scaling to zero when no
    /// requests arrive.
    #[serde(default = "default_min_replicas")]
    #[schemars(range(min = 0))]
    pub min_replicas: i32,

    /// The most replicas Auto mode runs. Required in Auto mode; at least `minReplicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_replicas: Option<i32>,

    /// The requests per second one ready replica should serve. Required in Auto mode; greater
    /// than 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("minimum" = 0, "exclusiveMinimum" = true))]
    pub target_requests_per_second: Option<f64>,

    /// Where the requests-per-second figure comes from. Required in Auto mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,

    /// The relative deviation from the target that causes no scaling (default 0.1: within
    /// ±10% of the target nothing changes), as in the HPA.
    #[serde(default = "default_tolerance")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub tolerance: f64,

    /// How fast Auto mode may scale up and down (stabilization windows and rate policies in
    /// the HPA v2 shape). Unset: the HPA v2 defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<ScalingBehavior>,

    /// With `minReplicas` 0: how many seconds without requests pass before Auto mode scales to
    /// zero. Unset: scaling to zero follows the `scaleDown` behavior like any other
    /// scale-down. Dormant while `minReplicas` is above 0 (like the bounds in Manual mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub scale_to_zero_after_seconds: Option<i32>,

    /// The replica count Auto mode runs while the metric is unavailable. Unset: keep the
    /// current count until the metric returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub fallback_replicas: Option<i32>,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            mode: ScalingMode::Manual,
            min_replicas: default_min_replicas(),
            max_replicas: None,
            target_requests_per_second: None,
            metric: None,
            tolerance: default_tolerance(),
            behavior: None,
            scale_to_zero_after_seconds: None,
            fallback_replicas: None,
        }
    }
}

fn default_min_replicas() -> i32 {
    1
}

fn default_tolerance() -> f64 {
    0.1
}

/// The source of the requests-per-second figure: exactly one of `prometheus`, `podScrape` or
/// `interceptor`.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(ONE_METRIC_SOURCE_RULE).message(ONE_METRIC_SOURCE_MESSAGE))]
pub struct Metric {
    /// Ask a Prometheus server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusMetric>,

    /// Scrape a request counter from every ready pod and derive its rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_scrape: Option<PodScrapeMetric>,

    /// Count the requests the request interceptor forwards to the service (read every
    /// second), which also holds requests while it has no ready pod and wakes it from zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interceptor: Option<InterceptorMetric>,
}

/// Requests per second as the request interceptor counts them
/// (`aiservice-operator interceptor`; clients address the service through it as
/// `<name>.<namespace>`). No settings: the operator knows where the interceptor runs.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
pub struct InterceptorMetric {}

/// Requests per second from a Prometheus query.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusMetric {
    /// The Prometheus server's base URL, such as `http://prometheus.monitoring:9090`.
    pub address: String,

    /// A PromQL instant query returning the service's total requests per second as one
    /// sample, such as `sum(rate(http_requests_total{service="$NAME"}[30s]))`. `$NAME` and
    /// `$NAMESPACE` are replaced by the object's name and namespace.
    pub query: String,
}

/// Requests per second from a counter each pod exposes in the Prometheus text format.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PodScrapeMetric {
    /// The container port serving the metrics.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// The HTTP path of the metrics (default `/metrics`).
    #[serde(default = "default_metrics_path")]
    pub path: String,

    /// The name of a counter of served requests, such as `http_requests_total`; its rate,
    /// summed over the ready pods, is the requests per second.
    pub counter: String,
}

fn default_metrics_path() -> String {
    "/metrics".into()
}

/// Scale-up and scale-down behavior (the HPA v2 `behavior` shape).
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingBehavior {
    /// Rules for adding replicas. Unset: no stabilization window; add at most 100% or 4 pods
    /// (whichever is more) per 15 seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,

    /// Rules for removing replicas. Unset: a 300-second stabilization window; remove down to
    /// the recommendation at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

/// Rules for one direction of scaling.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingRules {
    /// Seconds of past recommendations considered before scaling in this direction (0 to
    /// 3600): scale-ups use the lowest, scale-downs the highest recommendation of the window.
    /// Unset: 0 for scaleUp, 300 for scaleDown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub stabilization_window_seconds: Option<i32>,

    /// Limits on the change per period; `selectPolicy` says which of them applies (by default
    /// the one allowing the largest change). Unset: the direction's default (see `scaleUp` and
    /// `scaleDown`). An empty list sets no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ScalingPolicy>>,

    /// Which of the `policies` applies (default `Max`). The published schemas describe this
    /// field with [`SelectPolicy`]'s doc comment: kube's `OptionalEnum` transform replaces the
    /// description of an optional enum field with the enum's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
}

/// Which of the `policies` applies (the HPA v2 `selectPolicy`): `Max` (the default) the one
/// allowing the largest change, `Min` the one allowing the smallest, `Disabled` none: no
/// scaling in this direction at all.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The policy allowing the largest change applies (the default).
    #[default]
    Max,
    /// The policy allowing the smallest change applies.
    Min,
    /// No scaling in this direction at all.
    Disabled,
}

/// One limit on how much the replica count may change within a period.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicy {
    /// `Pods`: `value` is a number of pods. `Percent`: `value` is a percentage of the current
    /// replicas.
    #[serde(rename = "type")]
    pub type_: PolicyType,

    /// How many pods, or what percentage of the current replicas, may be added or removed per
    /// period. Greater than 0.
    #[schemars(range(min = 1))]
    pub value: i32,

    /// The length of the period in seconds (1 to 1800).
    #[schemars(range(min = 1, max = 1800))]
    pub period_seconds: i32,
}

/// The unit of a scaling policy's `value`.
#[derive(Serialize, Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyType {
    /// A number of pods.
    Pods,
    /// A percentage of the current replica count.
    Percent,
}
