//! The generated AIService and ModelServing CRDs (`schema/crds/`) on the real apiserver, driven
//! with the real kubectl: they install and become Established, `kubectl get` shows their
//! printer columns, `kubectl scale` moves `spec.replicas`, and the apiserver enforces the
//! schema and the CEL rules with our messages. The CRDs are cluster-scoped and shared by every
//! test of this process: they are applied (idempotently) and never deleted.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aiservice::api::{AIService, ModelServing, Scaling, ScalingMode};
use aiservice_testenv::TestEnv;
use kube::api::Api;
use serde_json::{Value, json};

const AISERVICE_CRD: &str = "aiservices.stable.example.com";
const MODELSERVING_CRD: &str = "modelservings.ai.example.com";

fn crd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(aiservice::api::CRD_DIR)
}

/// `kubectl apply -f schema/crds/`, then waits until both CRDs are Established. Runs once per
/// process; every test calls it.
fn install_crds(env: &TestEnv) {
    static INSTALLED: OnceLock<Result<String, String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let dir = crd_dir();
        let applied = env
            .kubectl(&["apply", "-f", dir.to_str().unwrap()])
            .map_err(|e| format!("{e:#}"))?;
        env.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            &format!("crd/{AISERVICE_CRD}"),
            &format!("crd/{MODELSERVING_CRD}"),
        ])
        .map_err(|e| format!("{e:#}"))?;
        Ok(applied)
    });
    if let Err(e) = result {
        panic!("installing the CRDs failed: {e}");
    }
}

/// Writes `object` to a file and runs `kubectl apply -f` on it.
/// kubectl's output, or its error with stderr.
fn kubectl_apply(env: &TestEnv, object: &Value) -> Result<String, String> {
    let name = object["metadata"]["name"].as_str().unwrap();
    let file = std::env::temp_dir().join(format!("{}-{name}.yaml", env.namespace));
    std::fs::write(&file, serde_yaml::to_string(object).unwrap()).unwrap();
    let result = env.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    result.map_err(|e| format!("{e:#}"))
}

fn ai_service(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "stable.example.com/v1",
        "kind": "AIService",
        "metadata": {"name": name},
        "spec": spec,
    })
}

fn auto_scaling(min: i64, max: i64) -> Value {
    json!({
        "mode": "Auto",
        "minReplicas": min,
        "maxReplicas": max,
        "targetRequestsPerSecond": 50,
        "metric": {"prometheus": {
            "address": "http://prom:9090",
            "query": "sum(rate(http_requests_total{service=\"$NAME\"}[30s]))",
        }},
    })
}

/// The apiserver's refusal of `object`, as kubectl prints it.
fn rejection(env: &TestEnv, object: &Value) -> String {
    match kubectl_apply(env, object) {
        Ok(out) => panic!("the apiserver accepted {object}:\n{out}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn generated_crds_apply_and_become_established() {
    let env = TestEnv::new("api-crds-install").await.unwrap();
    install_crds(&env);
    // Applying the same CRDs again is a no-op, not an error.
    let again = env
        .kubectl(&["apply", "-f", crd_dir().to_str().unwrap()])
        .unwrap();
    assert!(again.contains(AISERVICE_CRD), "{again}");
    assert!(again.contains(MODELSERVING_CRD), "{again}");
    for crd in [AISERVICE_CRD, MODELSERVING_CRD] {
        let established = env
            .kubectl(&[
                "get",
                "crd",
                crd,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Established\")].status}",
            ])
            .unwrap();
        assert_eq!(established, "True", "{crd} is Established");
        let categories = env
            .kubectl(&["get", "crd", crd, "-o", "jsonpath={.spec.names.categories}"])
            .unwrap();
        assert_eq!(categories, r#"["ai"]"#);
    }
}

#[tokio::test]
async fn kubectl_get_aisvc_shows_the_printer_columns_and_defaults_apply() {
    let env = TestEnv::new("api-crds-get").await.unwrap();
    install_crds(&env);
    let mut spec = json!({
        "modelUri": "s3://models/llama",
        "replicas": 2,
        "resources": {"cpu": 1, "memory": "2Gi", "gpu": 1},
    });
    spec["scaling"] = auto_scaling(1, 10);
    kubectl_apply(&env, &ai_service("llama", spec)).unwrap();

    let table = env.kubectl(&["get", "aisvc"]).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "MODEL", "MODE", "DESIRED", "READY", "RPS", "AGE"],
        "{table}"
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["llama", "s3://models/llama", "Auto"], "{table}");

    // The `ai` category lists it too.
    let all = env.kubectl(&["get", "ai", "-o", "name"]).unwrap();
    assert!(all.contains("aiservice.stable.example.com/llama"), "{all}");

    // The apiserver filled in the schema's defaults, and the typed client reads the object
    // back (the integer cpu quantity included).
    let services: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    let service = services.get("llama").await.unwrap();
    assert_eq!(service.spec.port, 8080);
    let scaling = service.spec.scaling.as_ref().unwrap();
    assert_eq!(scaling.mode, ScalingMode::Auto);
    assert_eq!(scaling.tolerance, 0.1);
    assert_eq!(
        service
            .spec
            .resources
            .as_ref()
            .unwrap()
            .cpu
            .as_ref()
            .unwrap()
            .0,
        "1"
    );
    assert!(service.validate_cel().is_ok());
}

#[tokio::test]
async fn kubectl_scale_sets_spec_replicas() {
    let env = TestEnv::new("api-crds-scale").await.unwrap();
    install_crds(&env);
    kubectl_apply(
        &env,
        &ai_service("manual", json!({"modelUri": "s3://m", "replicas": 1})),
    )
    .unwrap();
    env.kubectl(&["scale", "aisvc/manual", "--replicas=4"])
        .unwrap();
    let replicas = env
        .kubectl(&["get", "aisvc", "manual", "-o", "jsonpath={.spec.replicas}"])
        .unwrap();
    assert_eq!(replicas, "4");

    // In Auto mode the scale subresource is held to the bounds by the same CEL rule.
    let mut spec = json!({"modelUri": "s3://m", "replicas": 2});
    spec["scaling"] = auto_scaling(1, 3);
    kubectl_apply(&env, &ai_service("auto", spec)).unwrap();
    let refused = env
        .kubectl(&["scale", "aisvc/auto", "--replicas=10"])
        .map(|out| panic!("scaling beyond maxReplicas was accepted: {out}"))
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains(
            "spec.replicas: Invalid value: in Auto mode replicas (the initial count) must be within [scaling.minReplicas, scaling.maxReplicas]"
        ),
        "{refused:#}"
    );
    env.kubectl(&["scale", "aisvc/auto", "--replicas=3"])
        .unwrap();
}

#[tokio::test]
async fn apiserver_rejects_min_replicas_above_max_replicas_with_the_cel_message() {
    let env = TestEnv::new("api-crds-minmax").await.unwrap();
    install_crds(&env);
    let error = rejection(
        &env,
        &ai_service(
            "inverted",
            json!({"modelUri": "s3://m", "scaling": {"minReplicas": 5, "maxReplicas": 2}}),
        ),
    );
    assert!(
        error.contains("spec.scaling.minReplicas: Invalid value")
            && error.contains("minReplicas must be less than or equal to maxReplicas"),
        "{error}"
    );
}

#[tokio::test]
async fn apiserver_rejects_bad_specs_naming_the_property() {
    let env = TestEnv::new("api-crds-bad").await.unwrap();
    install_crds(&env);
    let cases = [
        (
            json!({"replicas": 1}),
            vec!["spec.modelUri: Required value"],
        ),
        (
            json!({"modelUri": "s3://m", "replicas": -1}),
            vec!["spec.replicas", "should be greater than or equal to 0"],
        ),
        (
            json!({"modelUri": "s3://m", "scaling": {"mode": "Sometimes"}}),
            vec!["spec.scaling.mode", "Unsupported value: \"Sometimes\""],
        ),
        (
            json!({"modelUri": "s3://m", "scaling": {"mode": "Auto", "maxReplicas": 3}}),
            vec![
                "spec.scaling",
                "Auto mode needs targetRequestsPerSecond, metric and maxReplicas",
            ],
        ),
        (
            json!({"modelUri": "s3://m", "replicas": 9, "scaling": auto_scaling(1, 3)}),
            vec![
                "spec.replicas: Invalid value",
                "must be within [scaling.minReplicas, scaling.maxReplicas]",
            ],
        ),
        (
            json!({"modelUri": "s3://m", "scaling": {"metric": {}}}),
            vec![
                "spec.scaling.metric",
                "metric needs exactly one of prometheus, podScrape or interceptor",
            ],
        ),
        (
            json!({"modelUri": "s3://m", "resources": {"memory": "lots"}}),
            vec![
                "spec.resources.memory",
                "must be a non-negative Kubernetes quantity",
            ],
        ),
        (
            json!({"modelUri": "s3://m", "scaling": {"targetRequestsPerSecond": 0}}),
            vec![
                "spec.scaling.targetRequestsPerSecond",
                "should be greater than 0",
            ],
        ),
    ];
    for (i, (spec, expected)) in cases.into_iter().enumerate() {
        let error = rejection(&env, &ai_service(&format!("bad-{i}"), spec.clone()));
        for text in expected {
            assert!(
                error.contains(text),
                "{spec}: expected {text:?} in:\n{error}"
            );
        }
    }
}

#[tokio::test]
async fn kubectl_get_ms_lists_model_servings() {
    let env = TestEnv::new("api-crds-ms").await.unwrap();
    install_crds(&env);
    // Seed 002's instance, unchanged.
    kubectl_apply(
        &env,
        &json!({
            "apiVersion": "ai.example.com/v1",
            "kind": "ModelServing",
            "metadata": {"name": "example-model-serving"},
            "spec": {"image": "example-model-image:v1", "replicas": 3},
        }),
    )
    .unwrap();
    let table = env.kubectl(&["get", "ms"]).unwrap();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "IMAGE", "MODE", "DESIRED", "READY", "RPS", "AGE"],
        "{table}"
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    // No scaling block given: the apiserver defaults it, so the mode shows.
    assert_eq!(
        &row[..3],
        ["example-model-serving", "example-model-image:v1", "Manual"],
        "{table}"
    );

    env.kubectl(&["scale", "ms/example-model-serving", "--replicas=5"])
        .unwrap();
    let servings: Api<ModelServing> = Api::namespaced(env.client.clone(), &env.namespace);
    let serving = servings.get("example-model-serving").await.unwrap();
    assert_eq!(serving.spec.replicas, Some(5));
    assert_eq!(
        serving.spec.image.as_deref(),
        Some("example-model-image:v1")
    );
    assert_eq!(serving.spec.scaling, Some(Scaling::default()));
}
