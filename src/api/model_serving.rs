//! ModelServing (`ai.example.com/v1`): seed 002's resource, `image` and `replicas` kept exactly
//! (both optional, as the seed's CRD has them), plus the same optional `scaling` block and
//! status as AIService.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::scaling::{REPLICAS_WITHIN_BOUNDS_MESSAGE, REPLICAS_WITHIN_BOUNDS_RULE, Scaling};
use super::status::ServingStatus;

/// The desired state of a ModelServing, owned by whoever applies it (an IaC program, kubectl).
// Several printer columns share a `type_`: not the mistake this lint looks for.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "ai.example.com",
    version = "v1",
    kind = "ModelServing",
    namespaced,
    shortname = "ms",
    category = "ai",
    status = "ServingStatus",
    derive = "PartialEq",
    cel,
    doc = "A model-serving image run as a Deployment, scaled manually or on requests per second.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(
        name = "Image",
        type_ = "string",
        json_path = ".spec.image",
        description = "The serving image"
    ),
    printcolumn(
        name = "Mode",
        type_ = "string",
        json_path = ".spec.scaling.mode",
        description = "Manual or Auto scaling"
    ),
    printcolumn(
        name = "Desired",
        type_ = "integer",
        json_path = ".status.desiredReplicas",
        description = "The replica count the operator aims for"
    ),
    printcolumn(
        name = "Ready",
        type_ = "integer",
        json_path = ".status.readyReplicas",
        description = "Replicas ready to serve"
    ),
    printcolumn(
        name = "RPS",
        type_ = "number",
        json_path = ".status.requestsPerSecond",
        description = "Requests per second last observed"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(REPLICAS_WITHIN_BOUNDS_RULE)
    .message(REPLICAS_WITHIN_BOUNDS_MESSAGE)
    .field_path(".replicas"))]
pub struct ModelServingSpec {
    /// The model-serving container image, such as `example-model-image:v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,

    /// Manual mode: the replica count. Auto mode: the initial count, within
    /// `[scaling.minReplicas, scaling.maxReplicas]`. `kubectl scale` sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,

    /// How many replicas run: fixed (Manual, the default) or on requests per second (Auto).
    /// Unset: Manual; the apiserver fills the block in with its defaults, so the object and
    /// `kubectl get`'s Mode column always show the mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}))]
    pub scaling: Option<Scaling>,
}
