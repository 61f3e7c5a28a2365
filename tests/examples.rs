//! Every program in `sdk-examples/`, end to end with the real `pulumi` CLI, its language host
//! and the SDKs `make sdk` generated: `up`, a second `preview` with no changes, one in-place
//! update (the program edited as a user would), `destroy`. Python examples run from the
//! generated Python SDK pip-installed into their virtualenv, TypeScript ones from the
//! generated Node.js SDK installed into their `node_modules`.
//!
//! A CRD is cluster-wide, so examples that declare the same CRD take turns.

mod common;

use std::sync::OnceLock;

use aiservice_testenv::{PulumiStack, Sdks, TestEnv};
use common::{
    assert_gone, assert_planned_update, install_crds, live, our_bins, repo, step_ops, steps,
};
use tokio::sync::Mutex;

/// Held while an example owns `aiservices.stable.example.com`.
static AISERVICES_CRD: Mutex<()> = Mutex::const_new(());
/// Held while an example owns `modelservings.ai.example.com`.
static MODELSERVINGS_CRD: Mutex<()> = Mutex::const_new(());

fn sdks() -> &'static Sdks {
    static SDKS: OnceLock<Sdks> = OnceLock::new();
    SDKS.get_or_init(|| Sdks::generated(&repo("")).unwrap())
}

/// One example program and what a user sees of it.
struct Example {
    /// The program, under `sdk-examples/`.
    dir: &'static str,
    /// The CRD it declares.
    crd: &'static str,
    /// The custom resource it creates, as `kubectl get` names it.
    kind: &'static str,
    name: &'static str,
    /// The stack output naming what was created, and its value.
    output: (&'static str, &'static str),
    /// The edit of the update: file, text before, text after.
    edit: (&'static str, &'static str, &'static str),
    /// The Pulumi resource the edit updates, and `spec.replicas` before and after.
    updated: &'static str,
    replicas: (i64, i64),
}

const AISERVICE_CRD: Example = Example {
    dir: "",
    crd: "aiservices.stable.example.com",
    kind: "aisvc",
    name: "llama",
    output: ("ai_service_crd_name", "aiservices.stable.example.com"),
    edit: ("", "", ""),
    updated: "aiService",
    replicas: (2, 3),
};

const MODELSERVING: Example = Example {
    dir: "",
    crd: "modelservings.ai.example.com",
    kind: "modelserving",
    name: "example-model-serving",
    output: ("model_serving_name", "example-model-serving"),
    edit: ("", "", ""),
    updated: "model-serving-instance",
    replicas: (3, 4),
};

/// Runs `example`'s whole lifecycle in a fresh namespace.
async fn lifecycle(example: Example) {
    let _turn = if example.crd == AISERVICE_CRD.crd {
        AISERVICES_CRD.lock().await
    } else {
        MODELSERVINGS_CRD.lock().await
    };
    let env = TestEnv::new("example").await.unwrap();
    let program = repo("sdk-examples").join(example.dir);
    let stack = if example.dir.starts_with("yaml/") {
        PulumiStack::new(&env, &program, our_bins()).unwrap()
    } else {
        PulumiStack::with_sdk(&env, &program, our_bins(), sdks()).unwrap()
    };
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();

    stack.up().unwrap();
    let (output, value) = example.output;
    assert_eq!(stack.outputs().unwrap()[output], value);
    env.kubectl(&["get", "crd", example.crd]).unwrap();
    let created = live(&env, example.kind, example.name);
    assert_eq!(created["spec"]["replicas"], example.replicas.0, "{created}");

    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    let (file, from, to) = example.edit;
    stack.edit(file, from, to).unwrap();
    assert_planned_update(&stack, example.updated, &["spec.replicas"]);
    stack.up().unwrap();
    let updated = live(&env, example.kind, example.name);
    assert_eq!(updated["spec"]["replicas"], example.replicas.1, "{updated}");
    assert_eq!(
        updated["metadata"]["uid"], created["metadata"]["uid"],
        "updated in place, not replaced"
    );

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, &format!("crd/{}", example.crd));
}

#[tokio::test]
async fn python_seed_000_aiservice_crd() {
    lifecycle(Example {
        dir: "python/aiservice-crd",
        edit: ("__main__.py", "replicas=2,", "replicas=3,"),
        ..AISERVICE_CRD
    })
    .await;
}

#[tokio::test]
async fn typescript_seed_000_aiservice_crd() {
    lifecycle(Example {
        dir: "typescript/aiservice-crd",
        edit: ("index.ts", "replicas: 2,", "replicas: 3,"),
        ..AISERVICE_CRD
    })
    .await;
}

#[tokio::test]
async fn yaml_seed_000_aiservice_crd() {
    lifecycle(Example {
        dir: "yaml/aiservice-crd",
        edit: ("Pulumi.yaml", "default: 2", "default: 3"),
        ..AISERVICE_CRD
    })
    .await;
}

#[tokio::test]
async fn python_seed_002_modelserving() {
    lifecycle(Example {
        dir: "python/modelserving",
        edit: ("__main__.py", "\"replicas\": 3", "\"replicas\": 4"),
        ..MODELSERVING
    })
    .await;
}

#[tokio::test]
async fn typescript_seed_002_modelserving() {
    lifecycle(Example {
        dir: "typescript/modelserving",
        edit: ("index.ts", "replicas: 3,", "replicas: 4,"),
        ..MODELSERVING
    })
    .await;
}

#[tokio::test]
async fn yaml_seed_002_modelserving() {
    lifecycle(Example {
        dir: "yaml/modelserving",
        edit: ("Pulumi.yaml", "default: 3", "default: 4"),
        ..MODELSERVING
    })
    .await;
}

/// The typed AIService in Auto mode, with the project's CRDs installed as a kubectl user
/// would: what the operator does to replicas and status is never drift, and an edit of the
/// scaling settings updates the object in place without taking the operator's replicas back.
#[tokio::test]
async fn python_aiservice_autoscaling() {
    let _turn = AISERVICES_CRD.lock().await;
    let env = TestEnv::new("example").await.unwrap();
    let _crd = InstalledCrd::apply(&env, "schema/crds/aiservices.stable.example.com.yaml");

    let program = repo("sdk-examples/python/aiservice-autoscaling");
    let stack = PulumiStack::with_sdk(&env, &program, our_bins(), sdks()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack.up().unwrap();
    assert_eq!(stack.outputs().unwrap()["name"], "llama");
    let created = live(&env, "aisvc", "llama");
    let scaling = &created["spec"]["scaling"];
    assert_eq!(scaling["mode"], "Auto", "{created}");
    assert_eq!(scaling["targetRequestsPerSecond"], 10, "{created}");
    assert_eq!(
        scaling["metric"]["prometheus"]["address"],
        "http://prometheus.monitoring:9090"
    );
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    // What the operator does: scale through the scale subresource and report status.
    env.kubectl(&["scale", "aisvc/llama", "--replicas=4"])
        .unwrap();
    env.kubectl(&[
        "patch",
        "aisvc",
        "llama",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"desiredReplicas":4,"requestsPerSecond":38.5}}"#,
    ])
    .unwrap();
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .edit(
            "__main__.py",
            "target_requests_per_second=10,",
            "target_requests_per_second=20,",
        )
        .unwrap();
    assert_planned_update(&stack, "llama", &["spec.scaling.targetRequestsPerSecond"]);
    stack.up().unwrap();
    let updated = live(&env, "aisvc", "llama");
    assert_eq!(updated["spec"]["scaling"]["targetRequestsPerSecond"], 20);
    assert_eq!(
        updated["spec"]["replicas"], 4,
        "the operator's replica count stays: {updated}"
    );
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, "aisvc/llama");
}

/// A CRD installed from a committed file with kubectl, deleted again when dropped (also when
/// the test fails), so the next example that declares it finds the cluster without it.
struct InstalledCrd<'a> {
    env: &'a TestEnv,
    file: String,
}

impl<'a> InstalledCrd<'a> {
    fn apply(env: &'a TestEnv, file: &str) -> Self {
        install_crds(env, file);
        let file = repo(file).to_str().unwrap().to_string();
        InstalledCrd { env, file }
    }
}

impl Drop for InstalledCrd<'_> {
    fn drop(&mut self) {
        let _ = self.env.kubectl(&[
            "delete",
            "-f",
            &self.file,
            "--ignore-not-found",
            "--wait=true",
        ]);
    }
}

/// `sdk-examples/yaml/aiservice`: one typed AIService, its CRD installed as a kubectl user
/// would (no operator runs here, so `up` waits only until the apiserver accepted it).
#[tokio::test]
async fn yaml_aiservice() {
    let _turn = AISERVICES_CRD.lock().await;
    let env = TestEnv::new("example").await.unwrap();
    let _crd = InstalledCrd::apply(&env, "schema/crds/aiservices.stable.example.com.yaml");
    let stack = PulumiStack::new(&env, &repo("sdk-examples/yaml/aiservice"), our_bins()).unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    stack.up().unwrap();
    assert_eq!(stack.outputs().unwrap()["name"], "llama");
    let created = live(&env, "aisvc", "llama");
    assert_eq!(created["spec"]["resources"]["gpu"], 1, "{created}");
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .edit("Pulumi.yaml", "default: 2", "default: 3")
        .unwrap();
    assert_planned_update(&stack, "llama", &["spec.replicas"]);
    stack.up().unwrap();
    let updated = live(&env, "aisvc", "llama");
    assert_eq!(updated["spec"]["replicas"], 3);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, "aisvc/llama");
}

/// `python/manifests`: the ConfigGroup from the Python SDK, a component the provider builds
/// (`Construct`): each object of the YAML file is its own resource in the preview, `up`
/// creates the CRD first, a clean preview, an edit of one object updates only that one,
/// destroy removes them all.
#[tokio::test]
async fn python_manifests_config_group() {
    let env = TestEnv::new("example").await.unwrap();
    let program = repo("sdk-examples/python/manifests");
    let stack = PulumiStack::with_sdk(&env, &program, our_bins(), sdks()).unwrap();
    let preview = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&preview.stdout)),
        [
            "create models",
            "create models:CustomResourceDefinition:modelrouters.ai.example.com",
            "create models:ModelRouter:routing/chat",
            "create models:Namespace:routing",
        ],
        "{}",
        preview.stdout
    );

    stack.up().unwrap();
    assert_eq!(
        stack.outputs().unwrap()["objects"],
        serde_json::json!([
            "CustomResourceDefinition modelrouters.ai.example.com",
            "Namespace routing",
            "ModelRouter routing/chat",
        ])
    );
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .edit(
            "manifests/models.yaml",
            "backends: [llama, mistral]",
            "backends: [llama]",
        )
        .unwrap();
    assert_planned_update(
        &stack,
        "models:ModelRouter:routing/chat",
        &["spec.backends"],
    );
    stack.up().unwrap();
    let chat = env
        .kubectl(&[
            "get",
            "modelrouters.ai.example.com",
            "chat",
            "-n",
            "routing",
            "-o",
            "jsonpath={.spec.backends}",
        ])
        .unwrap();
    assert_eq!(chat, "[\"llama\"]");

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, "crd/modelrouters.ai.example.com");
    assert_gone(&env, "namespace/routing");
}
