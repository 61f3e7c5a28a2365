//! The SDKs `make sdk` generated from `schema/schema.json` with Pulumi's own tooling (`pulumi
//! package gen-sdk` of the real CLI binds and validates the schema, then Pulumi's code
//! generators write the Python, Node.js and Go SDKs; see `tests/env/gen-sdk`): they are
//! current, they read like the seed programs, and the Go SDK builds.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aiservice_testenv::{Sdks, Tools};
use common::repo;

/// The root of one language's generated SDK; fails unless `make sdk` ran on the current
/// schema.
fn sdk(language: &str) -> PathBuf {
    static SDKS: OnceLock<Sdks> = OnceLock::new();
    SDKS.get_or_init(|| Sdks::generated(&repo("")).unwrap())
        .dir(language)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The keyword parameters of `<class>.__init__` in a generated Python file, read with
/// Python's own parser (the SDK is not installed, so it is not imported).
fn python_keywords(file: &Path, class: &str) -> Vec<String> {
    let python = Tools::get().unwrap().file("python").unwrap();
    let script = r#"
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in tree.body:
    if isinstance(node, ast.ClassDef) and node.name == sys.argv[2]:
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                print("\n".join(a.arg for a in item.args.kwonlyargs))
                sys.exit(0)
sys.exit(f"no {sys.argv[2]}.__init__ in {sys.argv[1]}")
"#;
    let out = Command::new(python)
        .args(["-c", script])
        .arg(file)
        .arg(class)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn assert_keywords(file: &Path, class: &str, expected: &[&str]) {
    let keywords = python_keywords(file, class);
    for keyword in expected {
        assert!(
            keywords.iter().any(|k| k == keyword),
            "{class} takes no `{keyword}=`; it takes {keywords:?}"
        );
    }
}

#[test]
fn python_sdk_reads_like_the_seeds() {
    let sdk = sdk("python").join("pulumi_aiservice");
    let v1 = sdk.join("apiextensions/v1");
    assert!(v1.join("custom_resource_definition.py").is_file());
    assert_keywords(
        &v1.join("custom_resource_definition.py"),
        "CustomResourceDefinitionArgs",
        &["spec", "metadata"],
    );
    let inputs = v1.join("_inputs.py");
    assert_keywords(
        &inputs,
        "CustomResourceDefinitionSpecArgs",
        &["group", "versions", "scope", "names"],
    );
    assert_keywords(
        &inputs,
        "CustomResourceDefinitionVersionArgs",
        &["name", "served", "storage", "schema"],
    );
    assert_keywords(
        &inputs,
        "CustomResourceDefinitionNamesArgs",
        &["plural", "singular", "kind", "short_names"],
    );
    assert_keywords(
        &inputs,
        "JSONSchemaPropsArgs",
        &[
            "type",
            "properties",
            "required",
            "x_kubernetes_preserve_unknown_fields",
        ],
    );
    // Pulumi's Python generator snake-cases every property and has no per-property override,
    // so the seeds' `openAPIV3Schema=` is `open_apiv3_schema=` (as in pulumi-kubernetes);
    // on the wire it stays `openAPIV3Schema`.
    assert_keywords(
        &inputs,
        "CustomResourceValidationArgs",
        &["open_apiv3_schema"],
    );
    assert!(read(&inputs).contains(r#"@pulumi.getter(name="openAPIV3Schema")"#));

    assert_keywords(
        &sdk.join("apiextensions/custom_resource.py"),
        "CustomResourceArgs",
        &["api_version", "kind", "metadata", "spec"],
    );
    assert_keywords(
        &sdk.join("meta/v1/_inputs.py"),
        "ObjectMetaArgs",
        &["name", "namespace", "labels"],
    );
    assert_keywords(
        &sdk.join("ai_service.py"),
        "AIServiceArgs",
        &["spec", "metadata"],
    );
    assert_keywords(
        &sdk.join("_inputs.py"),
        "AIServiceSpecArgs",
        &["model_uri", "replicas", "scaling"],
    );
    assert!(read(&sdk.join("__init__.py")).contains("from .ai_service import *"));
    assert!(read(&sdk.join("_enums.py")).contains("class ScalingMode"));
}

#[test]
fn nodejs_sdk_has_the_modules_of_the_seeds() {
    let sdk = sdk("nodejs");
    let package: serde_json::Value =
        serde_json::from_str(&read(&sdk.join("package.json"))).unwrap();
    assert_eq!(package["name"], "@aiservice/pulumi");
    assert!(
        sdk.join("apiextensions/v1/customResourceDefinition.ts")
            .is_file()
    );
    assert!(sdk.join("apiextensions/customResource.ts").is_file());
    assert!(read(&sdk.join("aiservice.ts")).contains("export class AIService "));
    let inputs = read(&sdk.join("types/input.ts"));
    assert!(inputs.contains("export namespace meta") && inputs.contains("ObjectMetaArgs"));
    assert!(inputs.contains("shortNames?:") && inputs.contains("openAPIV3Schema?:"));
    // The schema extensions have names TypeScript takes; the provider sends x-kubernetes-*.
    assert!(inputs.contains("x_kubernetes_preserve_unknown_fields?:"));
    // The compiled package, as `npm install` of the packed SDK delivers it.
    let compiled = sdk.join("bin");
    assert!(compiled.join("index.js").is_file() && compiled.join("index.d.ts").is_file());
    assert!(sdk.join("aiservice-pulumi.tgz").is_file());
}

#[test]
fn go_sdk_has_one_package_per_module() {
    let sdk = sdk("go").join("aiservice");
    let crd = read(&sdk.join("apiextensions/v1/customResourceDefinition.go"));
    assert!(crd.contains("package v1"));
    assert!(crd.contains("example.com/aiservice/sdk/go/aiservice/internal"));
    assert!(read(&sdk.join("meta/v1/pulumiTypes.go")).contains("type ObjectMetaArgs struct"));
    assert!(read(&sdk.join("aiservice.go")).contains("func NewAIService("));

    // Compiles (gen-sdk built it; this proves the module as it is now still does).
    let build = Command::new("go")
        .args(["build", "./..."])
        .current_dir(sdk.parent().unwrap())
        .output()
        .expect("running go build");
    assert!(
        build.status.success(),
        "go build of the Go SDK failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
}
