//! The operator's Helm chart (`packaging/chart`: `chart/aiservice-operator-<version>.tgz`) with
//! the real helm, as a user runs it:
//!
//! - `helm show` gives the crate's version and the bundle's defaults as values;
//! - `helm template` renders exactly the objects of `aiservice-operator bundle`, with the
//!   default values and with others (`--set`), in the order Helm installs them;
//! - a value of the wrong type is refused, naming it;
//! - `helm install --wait` brings the operator's Deployment up on the control plane (kwok
//!   makes its pod Ready), every object of the bundle is in the cluster as the bundle has it,
//!   and `helm uninstall` removes each of them but the CRDs, which it keeps (with every
//!   AIService and ModelServing in the cluster) until a person deletes them.

use std::process::Command;

use aiservice::api::bundle::BundleSettings;
use aiservice::api::chart::KEEP;
use aiservice_testenv::{TestEnv, Tools};
use serde::Deserialize;
use serde_json::Value;

use crate::common::assert_gone;
use crate::{CLUSTER_WIDE, dist_dir, version};

/// The packaged chart.
fn chart() -> String {
    let chart = dist_dir()
        .join("chart")
        .join(format!("aiservice-operator-{}.tgz", version()));
    assert!(chart.is_file(), "{} is missing", chart.display());
    chart.to_string_lossy().into_owned()
}

/// Runs the provisioned helm with its own empty home (no repositories, plugins or cache of
/// the user's): its stdout, or its stderr as the error.
fn helm(args: &[&str]) -> Result<String, String> {
    let home = std::env::temp_dir().join(format!("aiservice-dist-helm-{}", std::process::id()));
    let out = Command::new(Tools::get().unwrap().file("helm").unwrap())
        .args(args)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .output()
        .unwrap();
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

fn helm_ok(args: &[&str]) -> String {
    helm(args).unwrap_or_else(|e| panic!("helm {} failed:\n{e}", args.join(" ")))
}

/// The documents of a multi-document YAML stream, empty ones (comments only) left out.
fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{e}:\n{yaml}")))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// `aiservice-operator bundle ARGS`, parsed.
fn bundle(args: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_aiservice-operator"))
        .arg("bundle")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "bundle {args:?}: {out:?}");
    documents(&String::from_utf8_lossy(&out.stdout))
}

/// The bundle as the chart must render it: each CRD with Helm's keep annotation, in the order
/// Helm applies a release: by kind, Helm's `InstallOrder` (pkg/releaseutil/kind_sorter.go),
/// keeping the chart's order within a kind. Namespace and ServiceAccount move ahead of the
/// CRDs; the rest keeps the bundle's order.
fn as_charted(mut objects: Vec<Value>) -> Vec<Value> {
    for object in &mut objects {
        if object["kind"] == "CustomResourceDefinition" {
            object["metadata"]["annotations"][KEEP.0] = KEEP.1.into();
        }
    }
    const INSTALL_ORDER: [&str; 8] = [
        "Namespace",
        "ServiceAccount",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
    ];
    objects.sort_by_key(|o| {
        let kind = o["kind"].as_str().unwrap_or_default();
        INSTALL_ORDER
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_else(|| panic!("{kind}: add its place in Helm's InstallOrder here"))
    });
    objects
}

/// `Kind name` or `Kind namespace/name`.
fn identity(object: &Value) -> String {
    let kind = object["kind"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    match object["metadata"]["namespace"].as_str() {
        Some(namespace) => format!("{kind} {namespace}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// Fails unless the rendered objects are the expected ones: first which (readable), then each
/// object in full.
fn assert_same_objects(rendered: &[Value], expected: &[Value]) {
    let ids = |objects: &[Value]| objects.iter().map(identity).collect::<Vec<_>>();
    assert_eq!(ids(rendered), ids(expected));
    for (rendered, expected) in rendered.iter().zip(expected) {
        // Where they differ first (readable), then exactly.
        let difference =
            differs(rendered, expected, "").or_else(|| differs(expected, rendered, ""));
        assert!(
            difference.is_none(),
            "{}: {difference:?}",
            identity(expected)
        );
        assert_eq!(rendered, expected, "{}", identity(expected));
    }
}

#[test]
fn helm_shows_the_version_and_the_bundle_defaults() {
    let shown: Value = serde_yaml::from_str(&helm_ok(&["show", "chart", &chart()])).unwrap();
    assert_eq!(shown["name"], "aiservice-operator");
    assert_eq!(shown["version"], version());
    assert_eq!(shown["appVersion"], version());

    let values = helm_ok(&["show", "values", &chart()]);
    let parsed: Value = serde_yaml::from_str(&values).unwrap();
    assert_eq!(
        parsed,
        serde_json::to_value(BundleSettings::default()).unwrap()
    );
    assert!(
        values.contains(&format!(
            "image: ghcr.io/example/aiservice-operator:{}",
            version()
        )),
        "{values}"
    );
    assert!(values.contains("# How many operator pods run"), "{values}");
}

#[test]
fn helm_template_renders_the_bundle_with_the_default_values() {
    let rendered = documents(&helm_ok(&["template", "aiservice-operator", &chart()]));
    assert_same_objects(&rendered, &as_charted(bundle(&[])));
}

#[test]
fn helm_template_renders_the_bundle_with_other_values() {
    let rendered = documents(&helm_ok(&[
        "template",
        "aiservice-operator",
        &chart(),
        "--set",
        "image=registry.example.com/ops/aiservice-operator:2",
        "--set",
        "replicas=3",
        "--set",
        "namespace=ai-ops",
        "--set",
        "logLevel=debug",
    ]));
    let expected = bundle(&[
        "--image=registry.example.com/ops/aiservice-operator:2",
        "--replicas=3",
        "--namespace=ai-ops",
        "--log-level=debug",
    ]);
    // Not the defaults: the values did reach the objects.
    assert_ne!(expected, bundle(&[]));
    assert_same_objects(&rendered, &as_charted(expected));

    // A values file too, with a value YAML would read as a boolean were it not quoted.
    let file =
        std::env::temp_dir().join(format!("aiservice-dist-values-{}.yaml", std::process::id()));
    std::fs::write(&file, "logLevel: \"on\"\nnamespace: ops\n").unwrap();
    let rendered = documents(&helm_ok(&[
        "template",
        "aiservice-operator",
        &chart(),
        "--values",
        &file.to_string_lossy(),
    ]));
    std::fs::remove_file(&file).unwrap();
    let expected = bundle(&["--log-level=on", "--namespace=ops"]);
    assert_same_objects(&rendered, &as_charted(expected));
}

#[test]
fn helm_refuses_a_value_of_the_wrong_type() {
    let refused = helm(&[
        "template",
        "aiservice-operator",
        &chart(),
        "--set",
        "replicas=three",
    ])
    .unwrap_err();
    assert!(
        refused.contains("at '/replicas': got string, want integer"),
        "{refused}"
    );
}

/// Where `live` differs from `expected`, if anywhere: every field of `expected` must be in
/// `live` with the same value; more fields are fine (the apiserver adds defaults and status,
/// Helm its labels and annotations).
fn differs(live: &Value, expected: &Value, at: &str) -> Option<String> {
    match (live, expected) {
        (Value::Object(live), Value::Object(expected)) => expected.iter().find_map(|(k, v)| {
            differs(live.get(k).unwrap_or(&Value::Null), v, &format!("{at}.{k}"))
        }),
        (Value::Array(live), Value::Array(expected)) if live.len() == expected.len() => live
            .iter()
            .zip(expected)
            .enumerate()
            .find_map(|(i, (l, e))| differs(l, e, &format!("{at}[{i}]"))),
        // The apiserver writes 65535.0 (a CRD's maximum) back as 65535.
        (Value::Number(l), Value::Number(e)) if l.as_f64() == e.as_f64() => None,
        _ if live == expected => None,
        _ => Some(format!("{at}: {live}, but {expected} in the bundle")),
    }
}

/// Uninstalls the release when a failed test leaves it (cluster-wide objects the other tests
/// of this binary install too); holds helm's `--kubeconfig`/`--namespace` arguments, emptied
/// once the test uninstalled it itself.
struct Release(Vec<String>);

impl Drop for Release {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            let args: Vec<&str> = self.0.iter().map(String::as_str).collect();
            let _ = helm(
                &[
                    ["uninstall", "aiservice-operator", "--wait"].as_slice(),
                    &args,
                ]
                .concat(),
            );
        }
    }
}

#[tokio::test]
async fn helm_install_brings_the_operator_up_and_uninstall_keeps_only_the_crds() {
    let _cluster_wide = CLUSTER_WIDE.lock().await;
    let env = TestEnv::new("dist-helm").await.unwrap();
    // The release lives in the test's namespace; the operator in one the chart creates.
    let operator_namespace = format!("{}-operator", env.namespace);
    let kubeconfig = env.kubeconfig().to_string_lossy().into_owned();
    let on_cluster = ["--kubeconfig", &kubeconfig, "--namespace", &env.namespace];
    let chart = chart();
    let set_namespace = format!("namespace={operator_namespace}");
    let install = [
        ["install", "aiservice-operator", &chart].as_slice(),
        &on_cluster,
        &["--set", &set_namespace, "--wait", "--timeout", "3m"],
    ]
    .concat();
    let installed = helm_ok(&install);
    let mut release = Release(on_cluster.map(String::from).to_vec());
    assert!(installed.contains("STATUS: deployed"), "{installed}");

    let get = |object: &Value| -> Result<Value, String> {
        let kind = object["kind"].as_str().unwrap().to_lowercase();
        let name = object["metadata"]["name"].as_str().unwrap();
        let namespace = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        env.kubectl(&[
            "get",
            &format!("{kind}/{name}"),
            "--namespace",
            namespace,
            "-o",
            "json",
        ])
        .map(|json| serde_json::from_str(&json).unwrap())
        .map_err(|e| format!("{e:#}"))
    };
    let objects = as_charted(bundle(&[&format!("--namespace={operator_namespace}")]));
    assert_eq!(objects.len(), 9);
    for object in &objects {
        let live = get(object).unwrap_or_else(|e| panic!("{}: {e}", identity(object)));
        if let Some(difference) = differs(&live, object, "") {
            panic!("{}: {difference}", identity(object));
        }
        assert_eq!(
            live["metadata"]["annotations"]["meta.helm.sh/release-name"],
            "aiservice-operator",
            "{} belongs to the release",
            identity(object)
        );
    }
    let deployment = get(objects.last().unwrap()).unwrap();
    assert_eq!(deployment["status"]["availableReplicas"], 1, "{deployment}");
    let available = deployment["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Available" && c["status"] == "True");
    assert!(available, "{deployment}");
    let listed = helm_ok(&[["list"].as_slice(), &on_cluster].concat());
    assert!(
        listed.contains("deployed")
            && listed.contains(&format!("aiservice-operator-{}", version())),
        "{listed}"
    );

    let uninstall = [
        ["uninstall", "aiservice-operator"].as_slice(),
        &on_cluster,
        &["--wait", "--timeout", "3m"],
    ]
    .concat();
    let uninstalled = helm_ok(&uninstall);
    release.0.clear();
    assert!(
        uninstalled.contains("release \"aiservice-operator\" uninstalled"),
        "{uninstalled}"
    );
    for object in &objects {
        let kind = object["kind"].as_str().unwrap().to_lowercase();
        let name = object["metadata"]["name"].as_str().unwrap();
        match (kind.as_str(), object["metadata"]["namespace"].as_str()) {
            // Kept, as the uninstall says; then deleted as a person would.
            ("customresourcedefinition", _) => {
                assert!(
                    uninstalled.contains(&format!("[CustomResourceDefinition] {name}")),
                    "{uninstalled}"
                );
                get(object).unwrap_or_else(|e| panic!("{}: {e}", identity(object)));
                env.kubectl(&["delete", &format!("crd/{name}")]).unwrap();
            }
            // Gone with its namespace, which is gone too.
            (_, Some(_)) => assert!(
                get(object).unwrap_err().contains("NotFound"),
                "{}",
                identity(object)
            ),
            (_, None) => assert_gone(&env, &format!("{kind}/{name}")),
        }
    }
}
