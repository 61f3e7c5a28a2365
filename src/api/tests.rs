use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::core::cel::{ValidationErrors, Validator};
use serde_json::{Value, json};

use super::scaling::{
    AUTO_NEEDS_TARGET_MESSAGE, MIN_LE_MAX_MESSAGE, ONE_METRIC_SOURCE_MESSAGE, QUANTITY_MESSAGE,
    REPLICAS_WITHIN_BOUNDS_MESSAGE,
};
use super::*;

#[test]
fn committed_crds_are_current() {
    let committed = [
        (
            "aiservices.stable.example.com.yaml",
            include_str!("../../schema/crds/aiservices.stable.example.com.yaml"),
        ),
        (
            "modelservings.ai.example.com.yaml",
            include_str!("../../schema/crds/modelservings.ai.example.com.yaml"),
        ),
    ];
    let generated = crds();
    assert_eq!(generated.len(), committed.len(), "a CRD is not committed");
    for (crd, (file, text)) in generated.iter().zip(committed) {
        assert_eq!(crd_file_name(crd), file);
        assert!(
            crd_yaml(crd) == text,
            "schema/crds/{file} is stale: run `make crds` and commit it"
        );
    }
}

#[test]
fn write_crds_writes_one_file_per_crd() {
    let dir = std::env::temp_dir().join(format!("aiservice-crds-{}", std::process::id()));
    let written = write_crds(&dir).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "aiservices.stable.example.com.yaml",
            "modelservings.ai.example.com.yaml"
        ]
    );
    for (path, crd) in written.iter().zip(crds()) {
        assert_eq!(std::fs::read_to_string(path).unwrap(), crd_yaml(&crd));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn schema_of(crd: &CustomResourceDefinition) -> Value {
    serde_json::to_value(
        crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .unwrap(),
    )
    .unwrap()
}

/// Every node of a schema with its path.
fn walk<'a>(path: String, schema: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.clone(), schema));
    if let Some(props) = schema["properties"].as_object() {
        for (name, child) in props {
            walk(format!("{path}.{name}"), child, out);
        }
    }
    if schema["items"].is_object() {
        walk(format!("{path}[]"), &schema["items"], out);
    }
    if schema["additionalProperties"].is_object() {
        walk(format!("{path}{{}}"), &schema["additionalProperties"], out);
    }
}

#[test]
fn schemas_are_structural_and_every_property_is_described() {
    for crd in crds() {
        let schema = schema_of(&crd);
        let text = schema.to_string();
        for forbidden in [
            "$ref",
            "anyOf",
            "oneOf",
            "allOf",
            "\"not\"",
            "definitions",
            "$defs",
        ] {
            assert!(
                !text.contains(forbidden),
                "{}: schema contains {forbidden}",
                crd.spec.names.kind
            );
        }
        let problems = crate::resources::openapi::structural_problems(
            &schema,
            &crate::value::PropertyPath::dotted("openAPIV3Schema"),
        );
        assert!(problems.is_empty(), "{}: {problems:?}", crd.spec.names.kind);
        let mut nodes = vec![];
        walk(String::new(), &schema, &mut nodes);
        for (path, node) in nodes {
            if path.ends_with("{}") {
                continue; // a map's values: the map itself is described
            }
            assert!(
                node["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{}: {path} has no description",
                crd.spec.names.kind
            );
            assert!(
                !node["description"].as_str().unwrap().contains('\n'),
                "{}: {path}'s description is not reflowed",
                crd.spec.names.kind
            );
            assert!(
                node["type"].is_string() || node["x-kubernetes-int-or-string"] == true,
                "{}: {path} has no type",
                crd.spec.names.kind
            );
        }
    }
}

#[test]
fn seed_fields_are_kept_exactly() {
    let ai = schema_of(&AIService::crd());
    let spec = &ai["properties"]["spec"];
    assert_eq!(spec["required"], json!(["modelUri"]));
    assert_eq!(spec["properties"]["modelUri"]["type"], "string");
    assert_eq!(spec["properties"]["replicas"]["type"], "integer");
    assert_eq!(
        AIService::crd().spec.names.short_names,
        Some(vec!["aisvc".into()])
    );

    let ms = schema_of(&ModelServing::crd());
    let spec = &ms["properties"]["spec"];
    assert!(spec.get("required").is_none(), "the seed requires nothing");
    assert_eq!(spec["properties"]["image"]["type"], "string");
    assert_eq!(spec["properties"]["replicas"]["type"], "integer");
    assert_eq!(
        ModelServing::crd().spec.names.short_names,
        Some(vec!["ms".into()])
    );
    for crd in crds() {
        assert_eq!(crd.spec.names.categories, Some(vec!["ai".into()]));
        assert_eq!(crd.spec.scope, "Namespaced");
    }
}

#[test]
fn enums_and_defaults_reach_the_schema() {
    let schema = schema_of(&AIService::crd());
    let spec = &schema["properties"]["spec"]["properties"];
    let scaling = &spec["scaling"]["properties"];
    assert_eq!(scaling["mode"]["enum"], json!(["Manual", "Auto"]));
    assert_eq!(scaling["mode"]["default"], "Manual");
    assert_eq!(scaling["minReplicas"]["default"], 1);
    assert_eq!(scaling["tolerance"]["default"], 0.1);
    assert_eq!(spec["port"]["default"], 8080);
    assert_eq!(
        spec["scaling"]["default"],
        json!({}),
        "the apiserver fills in Manual"
    );
    let policy = &scaling["behavior"]["properties"]["scaleUp"]["properties"]["policies"]["items"];
    assert_eq!(
        policy["properties"]["type"]["enum"],
        json!(["Pods", "Percent"])
    );
    assert_eq!(
        spec["resources"]["properties"]["cpu"]["x-kubernetes-int-or-string"],
        true
    );
}

#[test]
fn scale_subresource_and_printer_columns() {
    for (crd, first) in [(AIService::crd(), "Model"), (ModelServing::crd(), "Image")] {
        let version = &crd.spec.versions[0];
        let scale = version
            .subresources
            .as_ref()
            .and_then(|s| s.scale.as_ref())
            .unwrap();
        assert_eq!(scale.spec_replicas_path, ".spec.replicas");
        assert_eq!(scale.status_replicas_path, ".status.replicas");
        assert_eq!(
            scale.label_selector_path.as_deref(),
            Some(".status.selector")
        );
        let columns: Vec<_> = version
            .additional_printer_columns
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| (c.name.as_str(), c.type_.as_str()))
            .collect();
        assert_eq!(
            columns,
            [
                (first, "string"),
                ("Mode", "string"),
                ("Desired", "integer"),
                ("Ready", "integer"),
                ("RPS", "number"),
                ("Age", "date"),
            ]
        );
    }
}

/// The DESIGN.md example, verbatim in shape.
fn design_example() -> Value {
    json!({
        "apiVersion": "stable.example.com/v1",
        "kind": "AIService",
        "metadata": {"name": "llama"},
        "spec": {
            "modelUri": "s3://models/llama",
            "replicas": 2,
            "image": "ghcr.io/example/server:1",
            "port": 8080,
            "resources": {"cpu": "1", "memory": "2Gi", "gpu": 1},
            "env": {"KEY": "value"},
            "scaling": {
                "mode": "Auto",
                "minReplicas": 1,
                "maxReplicas": 10,
                "targetRequestsPerSecond": 50.0,
                "metric": {"prometheus": {
                    "address": "http://prom:9090",
                    "query": "sum(rate(http_requests_total{service=\"$NAME\"}[30s]))",
                }},
                "tolerance": 0.1,
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0, "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                    "scaleDown": {"stabilizationWindowSeconds": 300, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                },
                "scaleToZeroAfterSeconds": 300,
                "fallbackReplicas": 2,
            },
        },
    })
}

fn typed(value: Value) -> AIService {
    serde_json::from_value(value).unwrap()
}

/// The failure messages, sorted.
fn messages(result: Result<(), ValidationErrors>) -> Vec<String> {
    match result {
        Ok(()) => vec![],
        Err(errors) => {
            let mut messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            messages.sort();
            messages
        }
    }
}

/// Validates raw JSON (fields absent rather than defaulted by serde) against the CRD's CEL rules.
fn raw_messages(crd: &CustomResourceDefinition, object: &Value) -> Vec<String> {
    messages(Validator::new().validate(&schema_of(crd), object, None))
}

#[test]
fn design_example_round_trips_and_is_valid() {
    let example = design_example();
    let service = typed(example.clone());
    assert_eq!(serde_json::to_value(&service).unwrap(), example);
    assert_eq!(messages(service.validate_cel()), Vec::<String>::new());
    assert_eq!(
        raw_messages(&AIService::crd(), &example),
        Vec::<String>::new()
    );
}

#[test]
fn defaults_fill_a_minimal_spec() {
    let service = typed(json!({
        "apiVersion": "stable.example.com/v1", "kind": "AIService",
        "metadata": {"name": "x"},
        "spec": {"modelUri": "s3://m", "scaling": {}},
    }));
    assert_eq!(service.spec.port, 8080);
    let scaling = service.spec.scaling.unwrap();
    assert_eq!(scaling, Scaling::default());
    assert_eq!(scaling.mode, ScalingMode::Manual);
    assert_eq!(scaling.min_replicas, 1);
    assert_eq!(scaling.tolerance, 0.1);
}

fn auto_service() -> AIService {
    let mut spec = AIServiceSpec::new("s3://models/llama");
    spec.replicas = Some(2);
    spec.scaling = Some(Scaling {
        mode: ScalingMode::Auto,
        min_replicas: 1,
        max_replicas: Some(5),
        target_requests_per_second: Some(10.0),
        metric: Some(Metric {
            pod_scrape: Some(PodScrapeMetric {
                port: 9090,
                path: "/metrics".into(),
                counter: "http_requests_total".into(),
            }),
            ..Metric::default()
        }),
        ..Scaling::default()
    });
    AIService::new("llama", spec)
}

fn scaling_mut(service: &mut AIService) -> &mut Scaling {
    service.spec.scaling.as_mut().unwrap()
}

#[test]
fn validate_cel_accepts_a_good_auto_spec() {
    assert_eq!(
        messages(auto_service().validate_cel()),
        Vec::<String>::new()
    );
}

#[test]
fn validate_cel_rejects_min_greater_than_max() {
    let mut service = auto_service();
    scaling_mut(&mut service).min_replicas = 6;
    service.spec.replicas = None;
    assert_eq!(messages(service.validate_cel()), [MIN_LE_MAX_MESSAGE]);
    // Also in Manual mode: the bounds are kept for a later switch to Auto.
    scaling_mut(&mut service).mode = ScalingMode::Manual;
    assert_eq!(messages(service.validate_cel()), [MIN_LE_MAX_MESSAGE]);
}

#[test]
fn validate_cel_rejects_auto_without_target_metric_or_max() {
    for strip in [
        |s: &mut Scaling| s.target_requests_per_second = None,
        |s: &mut Scaling| s.metric = None,
        |s: &mut Scaling| s.max_replicas = None,
    ] {
        let mut service = auto_service();
        strip(scaling_mut(&mut service));
        assert_eq!(
            messages(service.validate_cel()),
            [AUTO_NEEDS_TARGET_MESSAGE]
        );
        // Manual mode needs none of them.
        scaling_mut(&mut service).mode = ScalingMode::Manual;
        assert_eq!(messages(service.validate_cel()), Vec::<String>::new());
    }
}

#[test]
fn validate_cel_keeps_auto_replicas_within_bounds() {
    for (replicas, ok) in [(0, false), (1, true), (5, true), (6, false)] {
        let mut service = auto_service();
        service.spec.replicas = Some(replicas);
        let expected: Vec<String> = if ok {
            vec![]
        } else {
            vec![REPLICAS_WITHIN_BOUNDS_MESSAGE.into()]
        };
        assert_eq!(
            messages(service.validate_cel()),
            expected,
            "replicas {replicas}"
        );
        // Manual mode: replicas is the count, the bounds do not apply.
        scaling_mut(&mut service).mode = ScalingMode::Manual;
        assert_eq!(messages(service.validate_cel()), Vec::<String>::new());
    }
    let mut service = auto_service();
    service.spec.replicas = None;
    assert_eq!(
        messages(service.validate_cel()),
        Vec::<String>::new(),
        "unset replicas"
    );
}

#[test]
fn local_failures_name_the_property_like_the_apiserver() {
    let mut service = auto_service();
    service.spec.replicas = Some(9);
    scaling_mut(&mut service).min_replicas = 6;
    let errors = service.validate_cel().unwrap_err();
    let mut paths: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            format!("spec.replicas: {REPLICAS_WITHIN_BOUNDS_MESSAGE}"),
            format!("spec.scaling.minReplicas: {MIN_LE_MAX_MESSAGE}"),
        ]
    );
}

#[test]
fn replicas_bound_holds_with_an_undefaulted_min_replicas() {
    // Without minReplicas the default 1 applies, so 0 initial replicas are out of bounds.
    let mut object = serde_json::to_value(auto_service()).unwrap();
    object["spec"]["scaling"]
        .as_object_mut()
        .unwrap()
        .remove("minReplicas");
    object["spec"]["replicas"] = json!(0);
    assert_eq!(
        raw_messages(&AIService::crd(), &object),
        [REPLICAS_WITHIN_BOUNDS_MESSAGE]
    );
}

#[test]
fn validate_cel_needs_exactly_one_metric_source() {
    let mut service = auto_service();
    scaling_mut(&mut service).metric = Some(Metric::default());
    assert_eq!(
        messages(service.validate_cel()),
        [ONE_METRIC_SOURCE_MESSAGE]
    );
    let mut both = auto_service();
    scaling_mut(&mut both).metric.as_mut().unwrap().prometheus = Some(PrometheusMetric {
        address: "http://prom:9090".into(),
        query: "sum(rate(x[30s]))".into(),
    });
    assert_eq!(messages(both.validate_cel()), [ONE_METRIC_SOURCE_MESSAGE]);
    let mut interceptor = auto_service();
    scaling_mut(&mut interceptor).metric = Some(Metric {
        interceptor: Some(InterceptorMetric {}),
        ..Metric::default()
    });
    assert!(messages(interceptor.validate_cel()).is_empty());
    scaling_mut(&mut interceptor)
        .metric
        .as_mut()
        .unwrap()
        .pod_scrape = Some(PodScrapeMetric {
        port: 9090,
        path: "/metrics".into(),
        counter: "http_requests_total".into(),
    });
    assert_eq!(
        messages(interceptor.validate_cel()),
        [ONE_METRIC_SOURCE_MESSAGE]
    );
}

#[test]
fn validate_cel_checks_quantities() {
    let mut service = auto_service();
    service.spec.resources = Some(ModelResources {
        cpu: Some(Quantity("500m".into())),
        memory: Some(Quantity("4Gi".into())),
        gpu: Some(1),
    });
    assert_eq!(messages(service.validate_cel()), Vec::<String>::new());
    let mut object = serde_json::to_value(&service).unwrap();
    object["spec"]["resources"]["cpu"] = json!(2);
    assert_eq!(
        raw_messages(&AIService::crd(), &object),
        Vec::<String>::new()
    );
    object["spec"]["resources"]["memory"] = json!("four gigs");
    object["spec"]["resources"]["cpu"] = json!("-1");
    assert_eq!(
        raw_messages(&AIService::crd(), &object),
        [QUANTITY_MESSAGE, QUANTITY_MESSAGE]
    );
}

#[test]
fn model_serving_shares_the_scaling_rules() {
    let seed = json!({
        "apiVersion": "ai.example.com/v1", "kind": "ModelServing",
        "metadata": {"name": "example-model-serving"},
        "spec": {"image": "example-model-image:v1", "replicas": 3},
    });
    let serving: ModelServing = serde_json::from_value(seed.clone()).unwrap();
    assert_eq!(serde_json::to_value(&serving).unwrap(), seed);
    assert_eq!(messages(serving.validate_cel()), Vec::<String>::new());

    let mut auto = serving.clone();
    auto.spec.scaling = auto_service().spec.scaling; // bounds [1, 5]
    assert_eq!(messages(auto.validate_cel()), Vec::<String>::new());
    auto.spec.replicas = Some(7);
    assert_eq!(
        messages(auto.validate_cel()),
        [REPLICAS_WITHIN_BOUNDS_MESSAGE]
    );
    auto.spec.scaling.as_mut().unwrap().min_replicas = 9;
    assert_eq!(
        messages(auto.validate_cel()),
        [REPLICAS_WITHIN_BOUNDS_MESSAGE, MIN_LE_MAX_MESSAGE] // sorted
    );
}

#[test]
fn reflow_joins_lines_and_keeps_paragraphs() {
    assert_eq!(reflow("one\ntwo\n\nthree\n four"), "one two\n\nthree four");
}
