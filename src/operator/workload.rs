//! What the operator runs for a served object: its Deployment and Service, built from the
//! object alone (pure functions; the controller applies them).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvVar, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    Service, ServicePort, ServiceSpec, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::{Resource, ResourceExt};

use crate::api::{AIService, ModelResources, ModelServing, OPERATOR_NAME, Scaling, ServingStatus};

/// The GPU resource name the `gpu` setting is a limit of.
const GPU_RESOURCE: &str = "nvidia.com/gpu";
/// The port name of the serving container and the Service.
const PORT_NAME: &str = "http";

/// The kinds the operator serves, seen the same way.
pub trait Served:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + std::fmt::Debug
    + serde::de::DeserializeOwned
    + serde::Serialize
    + Send
    + Sync
    + 'static
{
    fn workload(&self) -> Workload;
    fn serving_status(&self) -> Option<&ServingStatus>;
}

/// The settings of a served object that shape its pods.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workload {
    /// Unset: the operator's default runtime image.
    pub image: Option<String>,
    /// Passed to the container as `MODEL_URI`.
    pub model_uri: Option<String>,
    pub port: i32,
    pub resources: Option<ModelResources>,
    pub env: BTreeMap<String, String>,
    /// `spec.replicas`.
    pub replicas: Option<i32>,
    /// `spec.scaling` with its defaults.
    pub scaling: Scaling,
}

/// The port a serving runtime listens on when the kind does not say.
const DEFAULT_PORT: i32 = 8080;

impl Served for AIService {
    fn workload(&self) -> Workload {
        let spec = &self.spec;
        Workload {
            image: spec.image.clone(),
            model_uri: Some(spec.model_uri.clone()),
            port: spec.port,
            resources: spec.resources.clone(),
            env: spec.env.clone().unwrap_or_default(),
            replicas: spec.replicas,
            scaling: spec.scaling.clone().unwrap_or_default(),
        }
    }

    fn serving_status(&self) -> Option<&ServingStatus> {
        self.status.as_ref()
    }
}

impl Served for ModelServing {
    fn workload(&self) -> Workload {
        let spec = &self.spec;
        Workload {
            image: spec.image.clone(),
            model_uri: None,
            port: DEFAULT_PORT,
            resources: None,
            env: BTreeMap::new(),
            replicas: spec.replicas,
            scaling: spec.scaling.clone().unwrap_or_default(),
        }
    }

    fn serving_status(&self) -> Option<&ServingStatus> {
        self.status.as_ref()
    }
}

/// The labels of everything made for `name`; the first two select its pods.
pub fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/instance".into(), name.into()),
        ("app.kubernetes.io/managed-by".into(), OPERATOR_NAME.into()),
        ("app.kubernetes.io/name".into(), name.into()),
        ("app.kubernetes.io/component".into(), "model-server".into()),
    ])
}

/// The pod selector of `name`'s Deployment and Service.
pub fn selector(name: &str) -> BTreeMap<String, String> {
    labels(name)
        .into_iter()
        .filter(|(k, _)| k == "app.kubernetes.io/instance" || k == "app.kubernetes.io/managed-by")
        .collect()
}

/// The selector in string form, as the scale subresource reports it.
pub fn selector_string(name: &str) -> String {
    selector(name)
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Metadata of an object the served object owns: same name and namespace, our labels, and a
/// controller owner reference so deleting the served object deletes it.
fn owned_metadata<S: Served>(owner: &S) -> ObjectMeta {
    ObjectMeta {
        name: Some(owner.name_any()),
        namespace: owner.namespace(),
        labels: Some(labels(&owner.name_any())),
        owner_references: owner.controller_owner_ref(&()).map(|r| vec![r]),
        ..ObjectMeta::default()
    }
}

/// The Deployment running `replicas` pods of `owner`'s model server.
pub fn deployment<S: Served>(owner: &S, replicas: i32, default_image: &str) -> Deployment {
    let name = owner.name_any();
    let workload = owner.workload();
    let mut env: Vec<EnvVar> = workload
        .model_uri
        .iter()
        .map(|uri| env_var("MODEL_URI", uri))
        .collect();
    env.extend(workload.env.iter().map(|(k, v)| env_var(k, v)));
    let container = Container {
        name: "model".into(),
        image: Some(
            workload
                .image
                .clone()
                .unwrap_or_else(|| default_image.into()),
        ),
        env: Some(env),
        ports: Some(vec![ContainerPort {
            name: Some(PORT_NAME.into()),
            container_port: workload.port,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        resources: workload.resources.as_ref().map(resources),
        readiness_probe: Some(Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::String(PORT_NAME.into()),
                ..TCPSocketAction::default()
            }),
            period_seconds: Some(5),
            ..Probe::default()
        }),
        ..Container::default()
    };
    Deployment {
        metadata: owned_metadata(owner),
        spec: DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(selector(&name)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(&name)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        },
        status: None,
    }
}

/// The Service in front of `owner`'s pods, on the serving port.
pub fn service<S: Served>(owner: &S) -> Service {
    let workload = owner.workload();
    Service {
        metadata: owned_metadata(owner),
        spec: Some(ServiceSpec {
            selector: Some(selector(&owner.name_any())),
            ports: Some(vec![ServicePort {
                name: Some(PORT_NAME.into()),
                port: workload.port,
                target_port: Some(IntOrString::String(PORT_NAME.into())),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The in-cluster URL of `owner`'s Service.
pub fn url<S: Served>(owner: &S) -> String {
    format!(
        "http://{}.{}.svc:{}",
        owner.name_any(),
        owner.namespace().unwrap_or_default(),
        owner.workload().port
    )
}

fn env_var(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..EnvVar::default()
    }
}

/// CPU and memory requested and limited alike (a model server should not be throttled below
/// what it asked for); GPUs are a limit, as Kubernetes requires for extended resources.
fn resources(wanted: &ModelResources) -> ResourceRequirements {
    let mut both = BTreeMap::new();
    if let Some(cpu) = &wanted.cpu {
        both.insert("cpu".to_string(), cpu.clone());
    }
    if let Some(memory) = &wanted.memory {
        both.insert("memory".to_string(), memory.clone());
    }
    let mut limits = both.clone();
    if let Some(gpu) = wanted.gpu.filter(|g| *g > 0) {
        limits.insert(GPU_RESOURCE.to_string(), Quantity(gpu.to_string()));
    }
    ResourceRequirements {
        requests: (!both.is_empty()).then_some(both),
        limits: (!limits.is_empty()).then_some(limits),
        ..ResourceRequirements::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AIServiceSpec;

    fn llama() -> AIService {
        let mut spec = AIServiceSpec::new("s3://models/llama");
        spec.image = Some("ghcr.io/example/server:1".into());
        spec.env = Some(BTreeMap::from([("BATCH".into(), "16".into())]));
        spec.resources = Some(ModelResources {
            cpu: Some(Quantity("2".into())),
            memory: Some(Quantity("8Gi".into())),
            gpu: Some(1),
        });
        let mut object = AIService::new("llama", spec);
        object.metadata.namespace = Some("models".into());
        object.metadata.uid = Some("5b7f3c0e".into());
        object
    }

    #[test]
    fn the_deployment_runs_the_model_with_its_settings() {
        let deployment = deployment(&llama(), 3, "default/image:1");
        let spec = deployment.spec;
        assert_eq!(spec.replicas, Some(3));
        let pod = spec.template.spec.unwrap();
        let container = &pod.containers[0];
        assert_eq!(container.image.as_deref(), Some("ghcr.io/example/server:1"));
        let env: Vec<(String, Option<String>)> = container
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        assert_eq!(
            env,
            [
                (
                    "MODEL_URI".to_string(),
                    Some("s3://models/llama".to_string())
                ),
                ("BATCH".to_string(), Some("16".to_string()))
            ]
        );
        let resources = container.resources.as_ref().unwrap();
        let limits = resources.limits.as_ref().unwrap();
        assert_eq!(limits[GPU_RESOURCE], Quantity("1".into()));
        assert_eq!(limits["cpu"], Quantity("2".into()));
        assert!(
            !resources
                .requests
                .as_ref()
                .unwrap()
                .contains_key(GPU_RESOURCE)
        );
        assert!(container.readiness_probe.is_some());
        assert_eq!(container.ports.as_ref().unwrap()[0].container_port, 8080);
    }

    #[test]
    fn owned_objects_are_selected_and_cascade_with_their_owner() {
        let owner = llama();
        let deployment = deployment(&owner, 1, "default/image:1");
        let reference = &deployment.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (reference.kind.as_str(), reference.controller),
            ("AIService", Some(true))
        );
        let spec = deployment.spec;
        let template_labels = spec.template.metadata.unwrap().labels.unwrap();
        for (k, v) in spec.selector.match_labels.unwrap() {
            assert_eq!(
                template_labels.get(&k),
                Some(&v),
                "the selector selects the pods"
            );
        }
        assert_eq!(
            selector_string("llama"),
            "app.kubernetes.io/instance=llama,app.kubernetes.io/managed-by=aiservice-operator"
        );
        let service = service(&owner);
        assert_eq!(service.spec.unwrap().selector, Some(selector("llama")));
        assert_eq!(url(&owner), "http://llama.models.svc:8080");
    }

    #[test]
    fn an_unset_image_is_the_default_runtime() {
        let mut owner = llama();
        owner.spec.image = None;
        let deployment = deployment(&owner, 1, "default/image:1");
        let pod = deployment.spec.template.spec.unwrap();
        assert_eq!(pod.containers[0].image.as_deref(), Some("default/image:1"));
    }
}
