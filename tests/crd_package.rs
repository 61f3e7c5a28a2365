//! Typed packages of any CRDs through the real `pulumi` CLI: `pulumi package add` of our
//! provider with the CRD files of sdk-examples/crds/mlplat generates a Python or TypeScript
//! SDK (Pulumi's own code generators), and programs using it preview, go up, preview clean,
//! update in place and destroy; mistakes are caught before anything reaches the cluster, by
//! the TypeScript compiler or by Check naming the path, validated against the packaged CRDs
//! even when no cluster can be reached.

mod common;

use aiservice_testenv::{PulumiStack, TestEnv};
use common::{
    UNREACHABLE, assert_gone, assert_planned_update, assert_pulumi_fails_saying, install_crds,
    our_bins, repo, step_ops, steps, unreachable_kubeconfig,
};
use serde_json::Value;

/// The package's name and its Node.js SDK's.
const PACKAGE: &str = "mlplat";
const NPM_NAME: &str = "@aiservice/mlplat";
const CRDS: &str = "sdk-examples/crds/mlplat";
const ENDPOINTS: &str = "inferenceendpoints.serving.mlplat.example.com";

/// A stack of `program` with the mlplat SDK added by `pulumi package add` and installed, in
/// the namespace of `env`.
fn stack_with_package(env: &TestEnv, program: &str) -> PulumiStack {
    let stack = PulumiStack::new(env, &repo(program), our_bins()).unwrap();
    let provider = our_bins().join("pulumi-resource-aiservice");
    let crds = repo(CRDS);
    let added = stack
        .package_add(
            &provider,
            &[crds.to_str().unwrap(), &format!("name={PACKAGE}")],
        )
        .unwrap();
    assert!(
        added.success,
        "pulumi package add failed:\n{}",
        added.text()
    );
    let project: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(stack.program().join("Pulumi.yaml")).unwrap(),
    )
    .unwrap();
    let recorded = &project["packages"][PACKAGE];
    assert_eq!(recorded["source"], "aiservice", "{project:?}");
    assert_eq!(recorded["parameters"][1], "name=mlplat", "{project:?}");
    assert!(stack.program().join("sdks/mlplat").is_dir());
    stack.install_local_sdk(PACKAGE, NPM_NAME).unwrap();
    stack
        .run_ok(&["config", "set", "mlplat:namespace", &env.namespace])
        .unwrap();
    stack
}

/// The endpoint as the cluster has it.
fn endpoint(env: &TestEnv) -> Value {
    serde_json::from_str(
        &env.kubectl(&["get", ENDPOINTS, "chat", "-o", "json"])
            .unwrap(),
    )
    .unwrap()
}

/// Up, a clean preview, an in-place update of one field, destroy: the lifecycle every
/// program of the package goes through once its CRDs are installed.
fn assert_lifecycle(env: &TestEnv, stack: &PulumiStack) {
    install_crds(env, CRDS);
    stack.up().unwrap();
    let created = endpoint(env);
    let spec = &created["spec"];
    assert_eq!(spec["maxReplicas"], 4);
    assert_eq!(spec["port"], "http", "int-or-string as a string");
    assert_eq!(spec["resources"]["gpus"], 1, "int-or-string as a number");
    assert_eq!(spec["serverConfig"]["kvCache"]["dtype"], "fp8");
    assert_eq!(spec["routing"]["rules"][0]["weight"], 100);
    assert_eq!(spec["protocol"], "http", "the CRD's default applies");
    assert_eq!(created["metadata"]["labels"]["team"], "ml");
    let runtime = stack.outputs().unwrap()["runtime"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(spec["runtime"], runtime.as_str());
    let scaler = env
        .kubectl(&[
            "get",
            "modelscalers.autoscaling.mlplat.example.com",
            "chat",
            "-o",
            "json",
        ])
        .unwrap();
    let scaler: Value = serde_json::from_str(&scaler).unwrap();
    assert_eq!(scaler["spec"]["selector"]["app.kubernetes.io/name"], "chat");
    stack.run_ok(&["preview", "--expect-no-changes"]).unwrap();

    stack
        .run_ok(&["config", "set", "maxReplicas", "6"])
        .unwrap();
    assert_planned_update(stack, "chat-endpoint", &["spec.maxReplicas"]);
    stack.up().unwrap();
    let updated = endpoint(env);
    assert_eq!(
        (&updated["spec"]["maxReplicas"], &updated["metadata"]["uid"]),
        (&Value::from(6), &created["metadata"]["uid"])
    );

    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(env, &format!("{ENDPOINTS}/chat"));
    assert_gone(
        env,
        &format!("modelruntimes.serving.mlplat.example.com/{runtime}"),
    );
}

#[tokio::test]
async fn python_program_uses_the_sdk_of_a_crd_package() {
    let env = TestEnv::new("e2e-crd-package-py").await.unwrap();
    let stack = stack_with_package(&env, "sdk-examples/python/crd-package");
    let requirements = std::fs::read_to_string(stack.program().join("requirements.txt")).unwrap();
    assert!(
        requirements.lines().any(|l| l == "sdks/mlplat"),
        "{requirements}"
    );

    // With no cluster to ask, preview still validates against the packaged CRDs.
    let kubeconfig = unreachable_kubeconfig("crd-package-py");
    stack
        .run_ok(&[
            "config",
            "set",
            "mlplat:kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .unwrap();
    let offline = stack.run_ok(&["preview", "--json"]).unwrap();
    assert_eq!(
        step_ops(&steps(&offline.stdout)),
        ["create chat-endpoint", "create chat-scaler", "create vllm"]
    );
    assert!(
        offline
            .text()
            .contains(&format!("cannot reach the cluster at {UNREACHABLE}/")),
        "{}",
        offline.text()
    );
    stack.run_ok(&["config", "set", "variant", "typo"]).unwrap();
    let typo = stack.run(&["preview"]).unwrap();
    assert_pulumi_fails_saying(&typo, &["spec.maxReplcas", "maxReplicas"]);
    stack.run_ok(&["config", "set", "variant", "good"]).unwrap();
    stack
        .run_ok(&["config", "rm", "mlplat:kubeconfig"])
        .unwrap();

    assert_lifecycle(&env, &stack);

    // A package of the CRDs the cluster has, by API group.
    let provider = our_bins().join("pulumi-resource-aiservice");
    let schema = stack
        .run_ok(&[
            "package",
            "get-schema",
            provider.to_str().unwrap(),
            "group=autoscaling.mlplat.example.com",
            "name=live",
        ])
        .unwrap();
    let schema: Value = serde_json::from_str(&schema.stdout).unwrap();
    let resources: Vec<&String> = schema["resources"].as_object().unwrap().keys().collect();
    assert_eq!(resources, ["live:autoscaling/v1alpha1:ModelScaler"]);
}

#[tokio::test]
async fn typescript_program_uses_the_sdk_of_a_crd_package() {
    let env = TestEnv::new("e2e-crd-package-ts").await.unwrap();
    let stack = stack_with_package(&env, "sdk-examples/typescript/crd-package");
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(stack.program().join("package.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(package["dependencies"][NPM_NAME], "file:sdks/mlplat");

    // A misspelled field is a type error: nothing is sent to the provider.
    stack
        .edit("index.ts", "maxReplicas: config", "maxReplcas: config")
        .unwrap();
    let typo = stack.run(&["preview"]).unwrap();
    assert_pulumi_fails_saying(&typo, &["'maxReplcas' does not exist in type"]);
    stack
        .edit("index.ts", "maxReplcas: config", "maxReplicas: config")
        .unwrap();

    assert_lifecycle(&env, &stack);

    // An object made with kubectl joins the stack by `namespace/name` (the token names its
    // type), and the stack's destroy then deletes it. The CLI's `import` needs the package's
    // parameterization spelled out (an import file), which the SDK carries.
    let manifest = stack.program().join("imported.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: serving.mlplat.example.com/v1\nkind: InferenceEndpoint\nmetadata: {name: imported}\nspec: {model: phi-3}\n",
    )
    .unwrap();
    env.kubectl(&["apply", "-f", manifest.to_str().unwrap()])
        .unwrap();
    let sdk: Value = serde_json::from_str(
        &std::fs::read_to_string(stack.program().join("sdks/mlplat/package.json")).unwrap(),
    )
    .unwrap();
    let pulumi = &sdk["pulumi"];
    let import = serde_json::json!({"resources": [{
        "type": "mlplat:serving/v1:InferenceEndpoint",
        "name": "imported",
        "id": format!("{}/imported", env.namespace),
        "version": pulumi["parameterization"]["version"],
        "parameterization": {
            "pluginName": pulumi["name"],
            "pluginVersion": pulumi["version"],
            "value": pulumi["parameterization"]["value"],
        },
    }]});
    let import_file = stack.program().join("import.json");
    std::fs::write(&import_file, import.to_string()).unwrap();
    stack
        .run_ok(&[
            "import",
            "--file",
            import_file.to_str().unwrap(),
            "--yes",
            "--protect=false",
            "--generate-code=false",
        ])
        .unwrap();
    let state = stack.run_ok(&["stack", "export"]).unwrap();
    assert!(state.stdout.contains("phi-3"), "{}", state.stdout);
    stack
        .run_ok(&["destroy", "--yes", "--skip-preview"])
        .unwrap();
    assert_gone(&env, &format!("{ENDPOINTS}/imported"));
}
