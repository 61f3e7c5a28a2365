//! `schema/schema.json` through Pulumi's own tooling: `pulumi package gen-sdk` of the real
//! CLI binds and validates the schema and generates the Python, Node.js and Go SDKs; the test
//! then checks the SDKs read like the seed programs.
//!
//! The CLI asks the language plugin to generate code (GeneratePackage). The plugins of the
//! test environment's Python and Node.js hosts only run programs, so this test builds
//! `tests/env/language-hosts/codegen`: GeneratePackage exactly as Pulumi's plugins implement
//! it, with Pulumi's own code generators of the CLI's version, started under each language's
//! plugin name from a directory put first on PATH for these runs only.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use aiservice_testenv::Tools;
use common::repo;

/// A scratch directory of this test binary, emptied first.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("schema-codegen")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The directory of the codegen plugin, built once, linked as each language's plugin.
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("plugins");
        let binary = dir.join("pulumi-language-codegen");
        let build = Command::new("go")
            .args(["build", "-o"])
            .arg(&binary)
            .arg(".")
            .current_dir(repo("tests/env/language-hosts/codegen"))
            .output()
            .expect("running go build");
        assert!(
            build.status.success(),
            "building the codegen plugin failed:\n{}",
            String::from_utf8_lossy(&build.stderr)
        );
        for language in ["python", "nodejs", "go"] {
            std::os::unix::fs::symlink(&binary, dir.join(format!("pulumi-language-{language}")))
                .unwrap();
        }
        dir
    })
}

/// `pulumi package gen-sdk schema/schema.json --language <language>`; returns the SDK's root.
fn gen_sdk(language: &str) -> PathBuf {
    let tools = Tools::get().unwrap();
    let work = scratch(language);
    let path = std::env::join_paths(std::iter::once(plugin_dir().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(tools.file("pulumi").unwrap())
        .args(["package", "gen-sdk"])
        .arg(repo("schema/schema.json"))
        .args(["--language", language, "--out"])
        .arg(work.join("sdk"))
        .env("PATH", path)
        .env("PULUMI_HOME", work.join("home"))
        .env("PULUMI_SKIP_UPDATE_CHECK", "true")
        .env("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
        .output()
        .expect("running pulumi package gen-sdk");
    assert!(
        out.status.success(),
        "gen-sdk --language {language} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    work.join("sdk").join(language)
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
    let sdk = gen_sdk("python").join("pulumi_aiservice");
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
        &["type", "properties", "required"],
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
    let sdk = gen_sdk("nodejs");
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
}

#[test]
fn go_sdk_has_one_package_per_module() {
    let sdk = gen_sdk("go").join("aiservice");
    let crd = read(&sdk.join("apiextensions/v1/customResourceDefinition.go"));
    assert!(crd.contains("package v1"));
    assert!(crd.contains("example.com/aiservice/sdk/go/aiservice/internal"));
    assert!(read(&sdk.join("meta/v1/pulumiTypes.go")).contains("type ObjectMetaArgs struct"));
    assert!(read(&sdk.join("aiservice.go")).contains("func NewAIService("));
}
