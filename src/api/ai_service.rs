//! AIService (`stable.example.com/v1`): an AI model served over HTTP, with its scaling
//! settings. The seed's fields (`modelUri` required, `replicas` an integer) are kept exactly;
//! everything else extends them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use super::scaling::{
    QUANTITY_MESSAGE, QUANTITY_RULE, REPLICAS_WITHIN_BOUNDS_MESSAGE, REPLICAS_WITHIN_BOUNDS_RULE,
    Scaling,
};
use super::status::ServingStatus;

/// The desired state of an AIService, owned by whoever applies it (an IaC program, kubectl).
// Several printer columns share a `type_`: not the mistake this lint looks for.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "stable.example.com",
    version = "v1",
    kind = "AIService",
    namespaced,
    shortname = "aisvc",
    category = "ai",
    status = "ServingStatus",
    derive = "PartialEq",
    cel,
    doc = "An AI model served over HTTP by a Deployment and a Service that the aiservice operator manages, scaled manually or on requests per second.",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(
        name = "Model",
        type_ = "string",
        json_path = ".spec.modelUri",
        description = "The model served"
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
pub struct AIServiceSpec {
    /// Where the model is loaded from, such as `s3://models/llama`; passed to the serving
    /// runtime.
    pub model_uri: String,

    /// Manual mode: the replica count. Auto mode: the initial count, within
    /// `[scaling.minReplicas, scaling.maxReplicas]`. `kubectl scale` sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<i32>,

    /// The serving runtime's container image, such as `ghcr.io/example/server:1`. Unset: the
    /// operator's default runtime image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,

    /// The port the serving runtime listens on and the Service exposes (default 8080).
    #[serde(default = "default_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// Compute for each replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ModelResources>,

    /// Environment variables for the serving container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,

    /// How many replicas run: fixed (Manual, the default) or on requests per second (Auto).
    /// Unset: Manual; the apiserver fills the block in with its defaults, so the object and
    /// `kubectl get`'s Mode column always show the mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = {}))]
    pub scaling: Option<Scaling>,
}

fn default_port() -> i32 {
    8080
}

/// CPU, memory and GPUs for each replica of the serving container.
#[derive(Serialize, Deserialize, KubeSchema, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModelResources {
    /// CPU for each replica, as a Kubernetes quantity such as `500m` or `2`; requested and
    /// limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message(QUANTITY_MESSAGE))]
    pub cpu: Option<Quantity>,

    /// Memory for each replica, as a Kubernetes quantity such as `512Mi` or `4Gi`; requested
    /// and limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message(QUANTITY_MESSAGE))]
    pub memory: Option<Quantity>,

    /// GPUs for each replica, set as the `nvidia.com/gpu` limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub gpu: Option<i32>,
}

impl AIServiceSpec {
    /// A spec serving `model_uri` with every other field at its default.
    pub fn new(model_uri: impl Into<String>) -> Self {
        AIServiceSpec {
            model_uri: model_uri.into(),
            replicas: None,
            image: None,
            port: default_port(),
            resources: None,
            env: None,
            scaling: None,
        }
    }
}
