//! The operator against the real apiserver, controller-manager and kwok (pods become Ready),
//! and a real Prometheus scraping a stand-in model server driven by a bounded load.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use aiservice::api::{AIService, AIServiceSpec, ServingStatus};
use aiservice_testenv::{
    CountingServer, Load, OperatorProcess, Prometheus, PulumiStack, TestEnv, object_ref,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use serde_json::json;
use tokio::sync::OnceCell;

fn operator_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_aiservice-operator"))
}

/// Installs the project's CRDs once for this test process's cluster.
async fn crds(env: &TestEnv) {
    static INSTALLED: OnceCell<()> = OnceCell::const_new();
    INSTALLED
        .get_or_init(|| async { common::install_crds(env, "schema/crds") })
        .await;
}

fn aiservice(name: &str, spec: serde_json::Value) -> AIService {
    let mut spec_json = serde_json::to_value(AIServiceSpec::new("s3://models/llama")).unwrap();
    for (k, v) in spec.as_object().unwrap() {
        spec_json[k] = v.clone();
    }
    AIService::new(name, serde_json::from_value(spec_json).unwrap())
}

/// The stand-in model server, and a real Prometheus scraping it every second.
fn model_server_and_prometheus() -> (CountingServer, Prometheus) {
    let server = CountingServer::start().unwrap();
    let prometheus = Prometheus::start(std::slice::from_ref(&server.address)).unwrap();
    (server, prometheus)
}

/// An AIService spec in Auto mode: 10 requests/s per replica, at most 8 replicas, the rate
/// over 5 s from `prometheus`, a 10 s scale-down window, and `scaling` merged over that.
fn auto_scaling(prometheus: &Prometheus, scaling: serde_json::Value) -> serde_json::Value {
    let mut spec = json!({
        "replicas": 1,
        "scaling": {
            "mode": "Auto",
            "maxReplicas": 8,
            "targetRequestsPerSecond": 10,
            "metric": {"prometheus": {
                "address": prometheus.url,
                "query": "sum(rate(http_requests_total[5s]))",
            }},
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 10}},
        },
    });
    for (key, value) in scaling.as_object().unwrap() {
        spec["scaling"][key] = value.clone();
    }
    spec
}

/// Polls the AIService until `done` holds for its status, or fails after `timeout` with the
/// last status and the operator's log.
async fn wait_for_status(
    api: &Api<AIService>,
    name: &str,
    timeout: Duration,
    operator: &OperatorProcess,
    what: &str,
    done: impl Fn(&ServingStatus) -> bool,
) -> (ServingStatus, Duration) {
    let started = Instant::now();
    loop {
        let status = api.get(name).await.unwrap().status.unwrap_or_default();
        if done(&status) {
            return (status, started.elapsed());
        }
        assert!(
            started.elapsed() < timeout,
            "{what}: not within {timeout:?}; status {}\noperator log:\n{}",
            serde_json::to_string_pretty(&status).unwrap(),
            operator.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn condition<'a>(status: &'a ServingStatus, type_: &str) -> Option<(&'a str, &'a str)> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.as_str(), c.reason.as_str()))
}

#[tokio::test]
async fn manual_aiservice_runs_scales_by_kubectl_stays_quiet_and_cascades() {
    let env = TestEnv::new("operator").await.unwrap();
    crds(&env).await;
    let operator =
        OperatorProcess::start(&env, operator_binary(), &["--poll-interval=2s"]).unwrap();
    let api: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    api.create(
        &PostParams::default(),
        &aiservice("llama", json!({"replicas": 2, "resources": {"gpu": 1}})),
    )
    .await
    .unwrap();

    let (status, _) = wait_for_status(
        &api,
        "llama",
        Duration::from_secs(60),
        &operator,
        "2 ready replicas",
        |s| s.ready_replicas == Some(2) && condition(s, "Ready") == Some(("True", "Ready")),
    )
    .await;
    assert_eq!(status.desired_replicas, Some(2));
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(
        status.url.as_deref(),
        Some(format!("http://llama.{}.svc:8080", env.namespace).as_str())
    );
    let deployment = Api::<Deployment>::namespaced(env.client.clone(), &env.namespace)
        .get("llama")
        .await
        .unwrap();
    let container = &deployment.spec.template.spec.as_ref().unwrap().containers[0];
    assert_eq!(
        container
            .resources
            .as_ref()
            .unwrap()
            .limits
            .as_ref()
            .unwrap()["nvidia.com/gpu"]
            .0,
        "1"
    );
    assert!(
        container
            .env
            .iter()
            .flatten()
            .any(|e| e.name == "MODEL_URI" && e.value.as_deref() == Some("s3://models/llama"))
    );
    let service = Api::<Service>::namespaced(env.client.clone(), &env.namespace)
        .get("llama")
        .await
        .unwrap();
    assert_eq!(
        service.spec.unwrap().selector.unwrap()["app.kubernetes.io/instance"],
        "llama"
    );

    // kubectl scale writes spec.replicas through the scale subresource; the operator follows.
    env.kubectl(&["scale", "aisvc/llama", "--replicas=3"])
        .unwrap();
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(60),
        &operator,
        "3 ready replicas",
        |s| s.ready_replicas == Some(3) && s.desired_replicas == Some(3),
    )
    .await;

    // Steady state: nothing changes, so the operator writes nothing.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let audit = env.audit_log().unwrap();
    let start = audit.events().unwrap().len();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let writes: Vec<String> = audit
        .writes_since(start)
        .unwrap()
        .into_iter()
        .filter(|e| object_ref(e, "namespace") == env.namespace)
        .filter(|e| {
            let uri = e["requestURI"].as_str().unwrap_or_default();
            uri.contains("fieldManager=aiservice-operator") || object_ref(e, "resource") == "events"
        })
        .map(|e| format!("{} {}", e["verb"], e["requestURI"]))
        .collect();
    assert!(
        writes.is_empty(),
        "writes in steady state: {writes:#?}\nevents:\n{}\noperator log:\n{}",
        env.kubectl(&["get", "events", "-o", "wide"])
            .unwrap_or_default(),
        operator.log()
    );
    let metrics = operator.metrics().unwrap();
    assert!(
        metrics.contains("aiservice_operator_reconciles_total"),
        "{metrics}"
    );

    // Someone scales the Deployment itself: the operator owns its replicas and takes them back.
    env.kubectl(&["scale", "deployment/llama", "--replicas=1"])
        .unwrap();
    let deployments = Api::<Deployment>::namespaced(env.client.clone(), &env.namespace);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replicas = deployments.get("llama").await.unwrap().spec.replicas;
        if replicas == Some(3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the Deployment stayed at {replicas:?}:\n{}",
            operator.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Deleting the AIService deletes what the operator made for it.
    api.delete("llama", &DeleteParams::foreground())
        .await
        .unwrap();
    let services = Api::<Service>::namespaced(env.client.clone(), &env.namespace);
    let deadline = Instant::now() + Duration::from_secs(60);
    while deployments.get_opt("llama").await.unwrap().is_some()
        || services.get_opt("llama").await.unwrap().is_some()
    {
        assert!(
            Instant::now() < deadline,
            "the Deployment and Service outlived their AIService"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn auto_aiservice_scales_on_requests_per_second_to_zero_and_falls_back() {
    let env = TestEnv::new("operator").await.unwrap();
    crds(&env).await;
    let (server, prometheus) = model_server_and_prometheus();
    let operator =
        OperatorProcess::start(&env, operator_binary(), &["--poll-interval=2s"]).unwrap();
    let api: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    api.create(
        &PostParams::default(),
        &aiservice(
            "llama",
            auto_scaling(
                &prometheus,
                json!({"minReplicas": 0, "scaleToZeroAfterSeconds": 15, "fallbackReplicas": 2}),
            ),
        ),
    )
    .await
    .unwrap();

    // 50 requests/s at 10 per replica: 5 replicas, all Ready on kwok, within one metric
    // window (5 s) plus one poll (2 s) plus the time to ramp and for pods to become Ready.
    let load = Load::start(&server.address, 50, Duration::from_secs(180));
    let (status, took) = wait_for_status(
        &api,
        "llama",
        Duration::from_secs(45),
        &operator,
        "5 desired and 5 ready",
        |s| s.desired_replicas == Some(5) && s.ready_replicas == Some(5),
    )
    .await;
    eprintln!("5 desired and 5 ready after {took:?} of load");
    assert_eq!(
        condition(&status, "MetricsAvailable").map(|c| c.0),
        Some("True")
    );
    assert!(status.last_scale_time.is_some());
    let served_before = server.served();
    assert!(served_before > 0);

    // The load stops: the rate falls to 0 within the 5 s metric window; the replicas stay
    // until the 10 s scale-down stabilization window has passed, then go down to 1 (the floor
    // while the service has been quiet for less than scaleToZeroAfterSeconds), then to 0.
    drop(load);
    let stopped = Instant::now();
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(30),
        &operator,
        "the rate seen as 0",
        |s| s.requests_per_second == Some(0.0),
    )
    .await;
    let quiet_seen = stopped.elapsed();
    let still = api.get("llama").await.unwrap().status.unwrap_or_default();
    assert_eq!(
        still.desired_replicas,
        Some(5),
        "no scale-down inside the stabilization window"
    );
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(60),
        &operator,
        "scaled down to 1",
        |s| s.desired_replicas == Some(1),
    )
    .await;
    let down = stopped.elapsed();
    let (zero, _) = wait_for_status(
        &api,
        "llama",
        Duration::from_secs(60),
        &operator,
        "scaled to zero",
        |s| s.desired_replicas == Some(0) && s.ready_replicas == Some(0),
    )
    .await;
    let to_zero = stopped.elapsed();
    eprintln!(
        "after the load stopped: rate 0 seen at {quiet_seen:?}, 1 replica at {down:?}, 0 at {to_zero:?}"
    );
    // The last recommendation of 5 was made while the load ran, so the window ends no
    // earlier than 10 s after it stopped; the quiet period starts when the rate reads 0.
    assert!(
        down >= Duration::from_secs(10),
        "scaled down {down:?} after the load stopped, inside the 10 s stabilization window"
    );
    assert!(
        to_zero >= Duration::from_secs(15) && to_zero > down,
        "scaled to zero {to_zero:?} after the load stopped, before 15 s of quiet"
    );
    assert_eq!(condition(&zero, "Ready"), Some(("True", "ScaledToZero")));

    // Prometheus stops: the metric is unavailable and the fallback count applies.
    drop(prometheus);
    let (fallback, _) = wait_for_status(
        &api,
        "llama",
        Duration::from_secs(30),
        &operator,
        "the fallback",
        |s| s.desired_replicas == Some(2),
    )
    .await;
    assert_eq!(
        condition(&fallback, "MetricsAvailable"),
        Some(("False", "MetricUnavailable"))
    );
}

/// The holder of the operator's Lease in `env`'s namespace, if any.
async fn lease_holder(env: &TestEnv) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), &env.namespace);
    leases
        .get_opt("aiservice-operator")
        .await
        .unwrap()
        .and_then(|l| l.spec?.holder_identity)
        .filter(|h| !h.is_empty())
}

/// Waits until some operator holds the Lease, and returns the holder.
async fn wait_for_leader(env: &TestEnv, operator: &OperatorProcess) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(holder) = lease_holder(env).await {
            return holder;
        }
        assert!(Instant::now() < deadline, "no leader:\n{}", operator.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two replicas with leader election: only the leader writes; killing it hands over to the
/// standby within the lease duration (plus one retry period), and the standby goes on from
/// where the leader was, neither repeating nor dropping a scale decision.
#[tokio::test]
async fn killing_the_leader_hands_over_to_the_standby() {
    let env = TestEnv::new("operator").await.unwrap();
    crds(&env).await;
    let (server, prometheus) = model_server_and_prometheus();
    let flags = [
        "--poll-interval=2s",
        "--leader-elect",
        "--leader-elect-duration=6s",
    ];
    let mut first = OperatorProcess::start(&env, operator_binary(), &flags).unwrap();
    let leader = wait_for_leader(&env, &first).await;
    let second = OperatorProcess::start(&env, operator_binary(), &flags).unwrap();

    let api: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    api.create(
        &PostParams::default(),
        &aiservice(
            "llama",
            auto_scaling(&prometheus, json!({"minReplicas": 1})),
        ),
    )
    .await
    .unwrap();
    let load = Load::start(&server.address, 50, Duration::from_secs(180));
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(45),
        &first,
        "5 ready under the first leader",
        |s| s.desired_replicas == Some(5) && s.ready_replicas == Some(5),
    )
    .await;
    assert_eq!(
        second.counter("aiservice_operator_writes_total").unwrap(),
        0,
        "the standby wrote while the leader led:\n{}",
        second.log()
    );
    let scale_events = |env: &TestEnv| {
        let events = env
            .kubectl(&[
                "get",
                "events",
                "--field-selector=reason=ScaleUp",
                "-o",
                "name",
            ])
            .unwrap();
        events.lines().count()
    };
    let before = scale_events(&env);

    first.kill();
    let killed = Instant::now();
    let handover = loop {
        if lease_holder(&env).await.is_some_and(|h| h != leader) {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "no handover:\n{}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!("the standby leads {handover:?} after the leader was killed");
    // The Lease lapses at most 6 s after the leader's last renewal, and the standby looks
    // every 2 s; 3 s more absorb a loaded CI machine (measured: about 4 s).
    assert!(
        handover <= Duration::from_secs(6 + 2 + 3),
        "handover took {handover:?}, more than the 6 s lease plus a 2 s retry period"
    );

    // Under the same load the new leader keeps 5 replicas: no decision repeated or undone.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let steady = api.get("llama").await.unwrap().status.unwrap_or_default();
    assert_eq!(steady.desired_replicas, Some(5), "{}", second.log());
    assert_eq!(scale_events(&env), before, "a scale-up was repeated");
    // And it acts: without load it scales down after the stabilization window.
    drop(load);
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(60),
        &second,
        "scaled down by the new leader",
        |s| s.desired_replicas == Some(1),
    )
    .await;
    assert!(second.counter("aiservice_operator_writes_total").unwrap() > 0);
}

/// With the operator running, `pulumi up` of a typed AIService waits until the operator
/// reports it Ready for the applied generation; after the operator scaled it under load, the
/// next `up` has nothing to change (the program owns the spec, the operator the replicas).
#[tokio::test]
async fn pulumi_up_waits_for_the_operator_and_its_scaling_is_never_drift() {
    let env = TestEnv::new("operator").await.unwrap();
    crds(&env).await;
    let (server, prometheus) = model_server_and_prometheus();
    let operator = OperatorProcess::start(
        &env,
        operator_binary(),
        &[
            "--poll-interval=2s",
            "--leader-elect",
            "--leader-elect-duration=6s",
        ],
    )
    .unwrap();
    wait_for_leader(&env, &operator).await;

    let stack = PulumiStack::new(
        &env,
        &common::repo("tests/programs/aiservice-auto"),
        common::our_bins(),
    )
    .unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack
        .run_ok(&["config", "set", "prometheus", &prometheus.url])
        .unwrap();
    stack.up().unwrap();
    let api: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    let status = api.get("llama").await.unwrap().status.unwrap_or_default();
    assert_eq!(
        status.observed_generation,
        Some(1),
        "up returned before the operator saw it"
    );
    assert_eq!(condition(&status, "Ready").map(|c| c.0), Some("True"));

    let load = Load::start(&server.address, 50, Duration::from_secs(180));
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(45),
        &operator,
        "5 ready",
        |s| s.desired_replicas == Some(5) && s.ready_replicas == Some(5),
    )
    .await;
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();
    stack
        .run_ok(&["up", "--yes", "--skip-preview", "--expect-no-changes"])
        .unwrap();
    let object = api.get("llama").await.unwrap();
    assert_eq!(
        object.spec.replicas,
        Some(1),
        "the operator never writes spec"
    );
    let deployment = Api::<Deployment>::namespaced(env.client.clone(), &env.namespace)
        .get("llama")
        .await
        .unwrap();
    assert_eq!(
        deployment.spec.replicas,
        Some(5),
        "and up did not take the replicas back"
    );
    drop(load);
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
}

/// An AIService scaled on the request interceptor's counts, at zero: one request held by the
/// interceptor (its Service has an EndpointSlice without endpoints) wakes it, though the
/// operator's poll interval is 15 s: objects on the interceptor are looked at every second,
/// and a held request counts as demand at once.
#[tokio::test]
async fn a_request_held_by_the_interceptor_wakes_a_service_at_zero() {
    use aiservice::interceptor::{self, Settings, proxy::Queue};
    let env = TestEnv::new("operator").await.unwrap();
    crds(&env).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin: "127.0.0.1:0".parse().unwrap(),
        queue: Queue {
            size: 10,
            timeout: Duration::from_secs(60),
        },
        namespace: Some(env.namespace.clone()),
    };
    let running = interceptor::start(env.client.clone(), settings, stop.clone())
        .await
        .unwrap();
    let admin = format!("--interceptor-admin=http://{}", running.admin);
    let operator =
        OperatorProcess::start(&env, operator_binary(), &["--poll-interval=15s", &admin]).unwrap();
    let api: Api<AIService> = Api::namespaced(env.client.clone(), &env.namespace);
    let spec = json!({
        "replicas": 0,
        "scaling": {
            "mode": "Auto",
            "minReplicas": 0,
            "maxReplicas": 3,
            "targetRequestsPerSecond": 10,
            "scaleToZeroAfterSeconds": 300,
            "metric": {"interceptor": {}},
        },
    });
    api.create(&PostParams::default(), &aiservice("llama", spec))
        .await
        .unwrap();
    wait_for_status(
        &api,
        "llama",
        Duration::from_secs(30),
        &operator,
        "at zero, measured",
        |s| s.desired_replicas == Some(0) && s.requests_per_second.is_some(),
    )
    .await;

    let host = format!("llama.{}:8080", env.namespace);
    let proxy = running.proxy;
    let held = tokio::task::spawn_blocking(move || {
        ureq::get(&format!("http://{proxy}/v1/completions"))
            .header("host", &host)
            .call()
    });
    let (_, took) = wait_for_status(
        &api,
        "llama",
        Duration::from_secs(30),
        &operator,
        "woken to 1 desired replica",
        |s| s.desired_replicas == Some(1),
    )
    .await;
    eprintln!("woken {took:?} after the request");
    let deployments: Api<Deployment> = Api::namespaced(env.client.clone(), &env.namespace);
    let deployment = deployments.get("llama").await.unwrap();
    let replicas = deployment.spec.replicas;
    assert_eq!(replicas, Some(1));
    // The kwok pod's address serves nothing: the held request is not what this test is
    // about (tests/interceptor.rs forwards to real backends).
    held.abort();
    drop(operator);
    stop.cancel();
}
