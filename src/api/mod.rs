//! Rust types of our CRDs: AIService (`stable.example.com/v1`) and ModelServing
//! (`ai.example.com/v1`). They are the one source of the CRDs committed in `schema/crds/`
//! (`make crds` regenerates them; a test fails when they are stale), of the CEL rules the
//! apiserver and our own checks enforce, and of the operator's view of the objects; `bundle`
//! is everything that installs the operator, for the provider and the operator binary alike,
//! and `chart` is the same as a Helm chart.

mod ai_service;
pub mod bundle;
pub mod chart;
mod model_serving;
mod scaling;
mod status;

pub use ai_service::{AIService, AIServiceSpec, ModelResources};
pub use model_serving::{ModelServing, ModelServingSpec};
pub use scaling::{
    InterceptorMetric, Metric, PodScrapeMetric, PolicyType, PrometheusMetric, Scaling,
    ScalingBehavior, ScalingMode, ScalingPolicy, ScalingRules, SelectPolicy,
};
pub use status::ServingStatus;

use std::path::{Path, PathBuf};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::Value;

/// The operator's name: its field manager, the `app.kubernetes.io/managed-by` label of the
/// Deployments and Services it makes, and the name of the objects that install it (`bundle`).
pub const OPERATOR_NAME: &str = "aiservice-operator";

/// The directory of the committed CRDs, relative to the repository root.
pub const CRD_DIR: &str = "schema/crds";

/// Our CRDs, in a stable order, as published: descriptions reflowed (see [`reflow`]).
pub fn crds() -> Vec<CustomResourceDefinition> {
    [AIService::crd(), ModelServing::crd()]
        .into_iter()
        .map(reflow_descriptions)
        .collect()
}

/// Doc comments are wrapped at the source's line width, and schemars keeps those line breaks;
/// `kubectl explain` and the SDKs want one line per paragraph.
fn reflow_descriptions(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    match child {
                        Value::String(text) if key == "description" => *text = reflow(text),
                        _ => walk(child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&crd).expect("a CustomResourceDefinition serializes");
    walk(&mut value);
    serde_json::from_value(value).expect("reflowing descriptions keeps a valid CRD")
}

/// Joins the lines of each paragraph (paragraphs are separated by a blank line).
pub fn reflow(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The file a CRD is committed as: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// A CRD as the YAML committed in `schema/crds/`.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> String {
    let body = serde_yaml::to_string(crd).expect("a CustomResourceDefinition serializes to YAML");
    format!(
        "# Generated from src/api by `make crds` (aiservice-operator crds); do not edit.\n{body}"
    )
}

/// Writes every CRD into `dir` (created if missing) and returns the files written.
pub fn write_crds(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    crds()
        .iter()
        .map(|crd| {
            let path = dir.join(crd_file_name(crd));
            std::fs::write(&path, crd_yaml(crd))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests;
