//! Check+Diff throughput of a typical custom resource, in process, on one thread.
//!
//! The resource is `aiservice:apiextensions:CustomResource` exactly as the provider runs it:
//! `check` (metadata checks and validation against the CRD's openAPIV3Schema) and then `diff`
//! against the previous inputs and the live outputs, for an update that changes one field.
//! The CRD is planned in the kube layer's catalog, as a CRD checked earlier in the same
//! deployment would be, so nothing is sent to a cluster (the client points at a port nobody
//! listens on; a request would fail the run).
//!
//! `custom_resource_cel_rule` is the same with one CEL rule (`x-kubernetes-validations`) in
//! the CRD, which Check evaluates too.
//!
//! Baseline, measured in the same run: a JSON round trip of the same object (serialize to
//! bytes and parse back), the least work any tool does with a resource. `make bench` prints
//! the figures (target: over 50,000 per second) and the ratios.

use std::hint::black_box;
use std::sync::Arc;

use aiservice::contract::{ChangeKind, CheckRequest, Context, Progress, Resource, State};
use aiservice::provider_config::ProviderConfig;
use aiservice::pulumi::DEFAULT_FIELD_MANAGER;
use aiservice::value::{Object, PropertyPath, Value};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "aiservice:apiextensions:CustomResource";
const SEED: &[u8] = b"bench-random-seed";

/// A client configuration that is never contacted.
const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: https://127.0.0.1:9
    insecure-skip-tls-verify: true
users:
- name: bench
  user:
    token: bench
contexts:
- name: bench
  context:
    cluster: bench
    user: bench
    namespace: default
current-context: bench
";

struct Silent;

impl Progress for Silent {
    fn info(&self, _message: &str) {}
    fn warn(&self, _message: &str) {}
}

/// A ModelServing CRD in `group` as a program declares it (the inputs the catalog plans).
fn crd(group: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("modelservings.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "plural": "modelservings",
                "singular": "modelserving",
                "kind": "ModelServing",
                "shortNames": ["ms"],
            },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {
                                "image": {"type": "string", "minLength": 1},
                                "replicas": {"type": "integer", "minimum": 0, "maximum": 100},
                                "model": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "revision": {"type": "string"},
                                    },
                                },
                                "resources": {
                                    "type": "object",
                                    "properties": {"limits": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "x-kubernetes-int-or-string": true,
                                            "anyOf": [{"type": "integer"}, {"type": "string"}],
                                        },
                                    }},
                                },
                                "ports": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "name": {"type": "string"},
                                            "containerPort": {"type": "integer"},
                                        },
                                    },
                                },
                            },
                        },
                        "status": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": true,
                        },
                    },
                }},
            }],
        },
    })
}

/// The same CRD with one CEL rule (`x-kubernetes-validations`) on its spec.
fn crd_with_rule(group: &str) -> serde_json::Value {
    let mut crd = crd(group);
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"] = json!([{
        "rule": "self.replicas <= 10 || self.model.revision != ''",
        "message": "more than 10 replicas need a pinned model revision",
    }]);
    crd
}

/// The custom resource as the program declares it, with `replicas` replicas.
fn model_serving(group: &str, replicas: u32) -> serde_json::Value {
    json!({
        "apiVersion": format!("{group}/v1"),
        "kind": "ModelServing",
        "metadata": {
            "name": "llama-serving",
            "namespace": "models",
            "labels": {"app": "llama", "team": "ml-platform"},
            "annotations": {"example.com/owner": "ml-platform@example.com"},
        },
        "spec": {
            "image": "registry.example.com/models/llama:3.1",
            "replicas": replicas,
            "model": {"name": "llama-3.1-8b", "revision": "2024-07-23"},
            "resources": {"limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": 1}},
            "ports": [{"name": "http", "containerPort": 8080}],
        },
    })
}

/// What the apiserver returned for it: the inputs plus server-set metadata and a status.
fn live(group: &str, replicas: u32) -> serde_json::Value {
    let mut live = model_serving(group, replicas);
    let metadata = &mut live["metadata"];
    metadata["uid"] = json!("5b7f3c0e-8a8e-4c64-9a55-0f1b6a3e9d21");
    metadata["resourceVersion"] = json!("48213");
    metadata["generation"] = json!(1);
    metadata["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
    live["status"] = json!({
        "observedGeneration": 1,
        "readyReplicas": replicas,
        "conditions": [{"type": "Ready", "status": "True", "reason": "Serving", "message": ""}],
    });
    live
}

fn object(json: &serde_json::Value) -> Object {
    match Value::from_json(json) {
        Value::Object(fields) => fields,
        other => panic!("expected an object, got {}", other.type_name()),
    }
}

/// Benchmarks Check then Diff of the update from 3 to 4 replicas of the ModelServing in
/// `group` (whose CRD `kube` knows), after asserting that it passes and diffs as expected.
fn bench_update(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    ctx: &Context,
    group: &str,
) {
    let resource: &'static dyn Resource = aiservice::resources::find(TOKEN).expect(TOKEN);
    // The update: the recorded inputs and outputs have 3 replicas, the program now says 4.
    let old_inputs = object(&model_serving(group, 3));
    let old = State {
        id: "models/llama-serving".into(),
        outputs: object(&live(group, 3)),
    };
    let news = object(&model_serving(group, 4));
    let (old_inputs, old) = (&old_inputs, &old);
    let check_then_diff = move |news: Object| async move {
        let checked = resource
            .check(
                ctx,
                CheckRequest {
                    name: "llama-serving",
                    olds: old_inputs,
                    news,
                    random_seed: SEED,
                    proposed_name: None,
                },
            )
            .await
            .expect("check");
        assert!(checked.failures.is_empty(), "{:?}", checked.failures);
        resource.diff(old_inputs, old, &checked.inputs)
    };

    // Measure the real path: the inputs pass and the diff is the one-field update.
    let diff = runtime.block_on(check_then_diff(news.clone()));
    assert_eq!(diff.changes.len(), 1, "{diff:?}");
    assert_eq!(diff.changes[0].path, PropertyPath::dotted("spec.replicas"));
    assert_eq!(
        (diff.changes[0].kind, diff.changes[0].replace),
        (ChangeKind::Update, false)
    );

    let mut group = c.benchmark_group("check_diff");
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.to_async(runtime)
            .iter_batched(|| news.clone(), check_then_diff, BatchSize::SmallInput)
    });
    group.finish();
}

fn check_diff(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    let settings = ProviderConfig {
        kubeconfig: Some(KUBECONFIG.to_string()),
        field_manager: DEFAULT_FIELD_MANAGER.to_string(),
        ..ProviderConfig::default()
    };
    let kube = runtime
        .block_on(settings.connect())
        .expect("a client (nothing is contacted)");
    kube.crds.plan(&crd("ai.example.com"));
    kube.crds.plan(&crd_with_rule("cel.example.com"));
    let ctx = Context {
        kube: Arc::new(kube),
        cancel: CancellationToken::new(),
        progress: Arc::new(Silent),
        timeout: None,
        owner: None,
    };

    // The rule is really evaluated: breaking it fails Check.
    let mut broken = model_serving("cel.example.com", 11);
    broken["spec"]["model"]["revision"] = json!("");
    let resource = aiservice::resources::find(TOKEN).expect(TOKEN);
    let checked = runtime
        .block_on(resource.check(
            &ctx,
            CheckRequest {
                name: "llama-serving",
                olds: &Object::new(),
                news: object(&broken),
                random_seed: SEED,
                proposed_name: None,
            },
        ))
        .expect("check");
    assert!(
        checked
            .failures
            .iter()
            .any(|f| f.reason.contains("pinned model revision")),
        "the CEL rule was not evaluated: {:?}",
        checked.failures
    );

    bench_update(c, "custom_resource", &runtime, &ctx, "ai.example.com");
    bench_update(
        c,
        "custom_resource_cel_rule",
        &runtime,
        &ctx,
        "cel.example.com",
    );

    let json = model_serving("ai.example.com", 4);
    let mut group = c.benchmark_group("check_diff");
    group.throughput(Throughput::Elements(1));
    group.bench_function("json_round_trip_baseline", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&json)).expect("serializes");
            let back: serde_json::Value = serde_json::from_slice(&bytes).expect("parses");
            back
        })
    });
    group.finish();
}

criterion_group!(benches, check_diff);
criterion_main!(benches);
