//! Proof that every part of the test environment is the real thing: the apiserver stores and
//! serves a CRD and its custom resources and audits them, kubectl talks to it, Deployments get
//! Ready pods through controller-manager, scheduler and kwok, the pulumi CLI runs a Python, a
//! YAML and a TypeScript program (and fails on the TypeScript program's error) and finds our
//! provider plugin, Terraform runs, and Prometheus scrapes and answers.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use aiservice_testenv::{Prometheus, PulumiStack, TestEnv, Tools, object_ref};
use common::our_bins;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::json;

const OUR_VERSION: &str = env!("CARGO_PKG_VERSION");

#[tokio::test]
async fn crd_and_custom_resource_round_trip_through_the_apiserver_and_are_audited() {
    let env = TestEnv::new("smoke-crd").await.unwrap();
    let group = format!("{}.smoke.example.com", env.namespace);
    let crd_name = format!("widgets.{group}");
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": crd_name},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                }}},
            }],
        },
    }))
    .unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    crds.create(&PostParams::default(), &crd).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(crds.clone(), &crd_name, conditions::is_crd_established()),
    )
    .await
    .expect("CRD established within 30s")
    .unwrap();

    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&group, "v1", "Widget"),
        "widgets",
    );
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(env.client.clone(), &env.namespace, &resource);
    let mut widget = DynamicObject::new("first", &resource);
    widget.data = json!({"spec": {"size": 3}});
    widgets
        .create(&PostParams::default(), &widget)
        .await
        .unwrap();
    let read_back = widgets.get("first").await.unwrap();
    assert_eq!(read_back.data["spec"], json!({"size": 3}));
    assert!(
        read_back.metadata.uid.is_some(),
        "the apiserver assigned a uid"
    );

    let audit = env.audit_log().unwrap();
    let ns = env.namespace.clone();
    audit
        .wait_for(Duration::from_secs(10), |e| {
            e["verb"] == "create"
                && object_ref(e, "resource") == "customresourcedefinitions"
                && object_ref(e, "name") == crd_name
                && e["responseStatus"]["code"] == 201
        })
        .expect("the CRD creation is audited");
    audit
        .wait_for(Duration::from_secs(10), |e| {
            e["verb"] == "create"
                && object_ref(e, "resource") == "widgets"
                && object_ref(e, "namespace") == ns
                && object_ref(e, "apiGroup") == group
        })
        .expect("the custom resource creation is audited");

    crds.delete(&crd_name, &Default::default()).await.unwrap();
}

#[tokio::test]
async fn kubectl_works_with_the_harness_kubeconfig() {
    let env = TestEnv::new("smoke-kubectl").await.unwrap();
    let name = env
        .kubectl(&[
            "get",
            "namespace",
            &env.namespace,
            "-o",
            "jsonpath={.metadata.name}",
        ])
        .unwrap();
    assert_eq!(name, env.namespace);
    let version: serde_json::Value =
        serde_json::from_str(&env.kubectl(&["get", "--raw", "/version"]).unwrap()).unwrap();
    assert_eq!(
        version["gitVersion"], "v1.37.2",
        "the pinned kube-apiserver answers"
    );
}

#[tokio::test]
async fn a_deployment_gets_ready_pods_on_the_kwok_node() {
    let env = TestEnv::new("smoke-deploy").await.unwrap();
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model-server"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "model-server"}},
            "template": {
                "metadata": {"labels": {"app": "model-server"}},
                "spec": {"containers": [{"name": "server", "image": "example.invalid/model-server:1"}]},
            },
        },
    }))
    .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), &env.namespace);
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = deployments
            .get("model-server")
            .await
            .unwrap()
            .status
            .unwrap_or_default();
        if status.ready_replicas == Some(2) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deployment not ready after 90s: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), &env.namespace);
    let pods = pods
        .list(&ListParams::default().labels("app=model-server"))
        .await
        .unwrap();
    assert_eq!(pods.items.len(), 2);
    for pod in pods.items {
        let spec = pod.spec.unwrap();
        assert_eq!(
            spec.node_name.as_deref(),
            Some("kwok-node-0"),
            "the scheduler bound the pod to kwok's node"
        );
        let status = pod.status.unwrap();
        assert_eq!(status.phase.as_deref(), Some("Running"));
    }
}

/// A stack of `program` with config `message` set, after a successful `pulumi up` that shows
/// the program's `greeting` output.
fn up_with_message(
    env: &TestEnv,
    program: &Path,
) -> (PulumiStack, aiservice_testenv::PulumiOutput) {
    let stack = PulumiStack::new(env, program, our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "message", "from the smoke test"])
        .unwrap();
    let up = stack.up().unwrap();
    assert!(
        up.stdout.contains("greeting"),
        "up shows the output:\n{}",
        up.stdout
    );
    (stack, up)
}

#[tokio::test]
async fn pulumi_up_runs_a_python_program_and_returns_its_output() {
    let env = TestEnv::new("smoke-pulumi").await.unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/python-output");
    let (stack, _) = up_with_message(&env, &program);
    assert_eq!(
        stack.outputs().unwrap(),
        json!({"greeting": "from the smoke test"})
    );
    let version = stack.run_ok(&["version"]).unwrap();
    assert_eq!(
        version.stdout.trim(),
        "v3.259.0",
        "the pinned pulumi CLI ran"
    );
}

#[tokio::test]
async fn pulumi_up_runs_a_yaml_program_through_the_yaml_language_host() {
    let env = TestEnv::new("smoke-pulumi-yaml").await.unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/yaml-output");
    let (stack, up) = up_with_message(&env, &program);
    assert_eq!(
        stack.outputs().unwrap(),
        json!({"greeting": "hello from the smoke test"})
    );
    assert!(
        up.stderr
            .contains("/pulumi-yaml-v1.19.1/pulumi-language-yaml"),
        "the provisioned YAML host ran:\n{}",
        up.stderr
    );
}

#[tokio::test]
async fn pulumi_up_runs_a_typescript_program_through_the_nodejs_language_host() {
    let env = TestEnv::new("smoke-pulumi-nodejs").await.unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/nodejs-output");
    let (stack, up) = up_with_message(&env, &program);
    assert_eq!(
        stack.outputs().unwrap(),
        json!({"greeting": "from the smoke test"})
    );
    assert!(
        up.stderr.contains("/language-hosts/pulumi-language-nodejs"),
        "the test environment's Node.js host ran:\n{}",
        up.stderr
    );
    let about = stack.run_ok(&["about"]).unwrap();
    assert!(
        about
            .stdout
            .contains("/nodejs-22.23.3/bin/node' version='v22.23.3'"),
        "the provisioned node ran the program:\n{}",
        about.stdout
    );
    assert!(
        about.stdout.contains("typescriptVersion='5.9.3'"),
        "the program's own TypeScript compiled it:\n{}",
        about.stdout
    );
}

#[tokio::test]
async fn a_typescript_program_error_fails_pulumi_up_and_shows_its_message() {
    let env = TestEnv::new("smoke-pulumi-nodejs-error").await.unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/nodejs-output");
    let stack = PulumiStack::new(&env, &program, our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "failWith", "the program failed on purpose"])
        .unwrap();
    let up = stack.run(&["up", "--yes", "--skip-preview"]).unwrap();
    assert!(!up.success, "up succeeded:\n{}", up.stdout);
    assert!(
        up.stdout.contains("failed with an unhandled exception")
            && up.stdout.contains("Error: the program failed on purpose"),
        "up shows the program's error:\n{}\nstderr:\n{}",
        up.stdout,
        up.stderr
    );
    assert_eq!(stack.outputs().unwrap(), json!({}), "nothing was exported");
}

#[tokio::test]
async fn pulumi_finds_our_provider_plugin() {
    let env = TestEnv::new("smoke-plugin").await.unwrap();
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/python-output");
    let stack = PulumiStack::new(&env, &program, our_bins()).unwrap();
    let provider = env!("CARGO_BIN_EXE_pulumi-resource-aiservice");
    stack
        .run_ok(&[
            "plugin",
            "install",
            "resource",
            "aiservice",
            OUR_VERSION,
            "--file",
            provider,
        ])
        .unwrap();
    let listed: serde_json::Value =
        serde_json::from_str(&stack.run_ok(&["plugin", "ls", "--json"]).unwrap().stdout).unwrap();
    let ours = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "aiservice")
        .unwrap_or_else(|| panic!("aiservice is not among the plugins: {listed}"));
    assert_eq!(ours["kind"], "resource");
    assert_eq!(ours["version"], OUR_VERSION);
}

#[test]
fn terraform_cli_runs() {
    let out = std::process::Command::new(Tools::get().unwrap().file("terraform").unwrap())
        .arg("version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Terraform v1."),
        "unexpected output: {text}"
    );
}

/// A one-endpoint HTTP server exposing a counter, standing in for a scrape target. It answers
/// a bounded number of requests and then stops.
fn serve_counter(value: u64) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let body = format!(
                "# TYPE aiservice_smoke_requests_total counter\naiservice_smoke_requests_total {value}\n"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    address
}

#[test]
fn prometheus_scrapes_a_target_and_answers_a_query() {
    let target = serve_counter(42);
    let prometheus = Prometheus::start(&[target]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let result = prometheus.query("aiservice_smoke_requests_total").unwrap();
        if let Some(sample) = result.as_array().and_then(|r| r.first()) {
            assert_eq!(sample["value"][1], "42");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "prometheus scraped nothing in 30s"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `eval "$(tests/env/tools-env)"`, for users with a cluster of their own: the CLIs on `PATH`,
/// the `pulumi` CLI with its language plugins bundled beside it (so it needs none on `PATH`),
/// `KUBECONFIG` left alone.
#[test]
fn tools_env_puts_the_user_tools_on_path() {
    let script = format!(
        "set -e; eval \"$({})\"; for tool in pulumi kubectl terraform helm node; do command -v $tool; done; \
         ls \"$(dirname \"$(command -v pulumi)\")\"; echo \"KUBECONFIG=$KUBECONFIG\"",
        Tools::testenv_dir().join("tools-env").display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .env("KUBECONFIG", "/nowhere/kubeconfig")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with("target/tools/pulumi/pulumi"), "{text}");
    assert_eq!(lines.len(), 5 + 4 + 1, "{text}");
    assert_eq!(
        lines[5..9],
        [
            "pulumi",
            "pulumi-language-nodejs",
            "pulumi-language-python",
            "pulumi-language-yaml"
        ],
        "{text}"
    );
    assert_eq!(lines[9], "KUBECONFIG=/nowhere/kubeconfig");
}
