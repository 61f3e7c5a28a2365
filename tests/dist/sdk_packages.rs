//! The released SDK packages install with each language's own tools, under their names and
//! the crate's version (the Python wheel is installed by `plugin_install`):
//! - the Python sdist builds into the same wheel with pip;
//! - the npm tarball is `@aiservice/pulumi` of the version, compiled, declaring the plugin;
//! - the Go module is fetched by `go mod download` from the release's GOPROXY directory under
//!   its module path.

use std::path::{Path, PathBuf};
use std::process::Command;

use aiservice_testenv::Tools;
use serde_json::Value;

use crate::{dist_dir, scratch_dir, version};

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_python_sdist_builds_the_released_wheel() {
    let sdk = dist_dir().join("sdk");
    let sdist = sdk.join(format!("pulumi_aiservice-{}.tar.gz", version()));
    let out = scratch_dir("sdist");
    Tools::get().unwrap().build_wheel(&sdist, &out).unwrap();
    let wheel = format!("pulumi_aiservice-{}-py3-none-any.whl", version());
    let built = listing(&out.join(&wheel));
    assert_eq!(built, listing(&sdk.join(&wheel)));
    assert!(
        built
            .iter()
            .any(|name| name == "pulumi_aiservice/pulumi-plugin.json"),
        "{built:?}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// The names of the files in a wheel (a zip).
fn listing(wheel: &Path) -> Vec<String> {
    let text = run(Command::new("unzip").arg("-Z1").arg(wheel));
    let mut names: Vec<String> = text.lines().map(str::to_owned).collect();
    names.sort();
    names
}

#[test]
fn the_npm_tarball_is_the_compiled_package_of_the_version() {
    let tarball = dist_dir().join(format!("sdk/aiservice-pulumi-{}.tgz", version()));
    let files = run(Command::new("tar").arg("tzf").arg(&tarball));
    assert!(files.lines().any(|f| f == "package/index.js"), "{files}");
    assert!(files.lines().any(|f| f == "package/index.d.ts"), "{files}");
    let manifest: Value = serde_json::from_str(&run(Command::new("tar")
        .arg("xzOf")
        .arg(&tarball)
        .arg("package/package.json")))
    .unwrap();
    assert_eq!(manifest["name"], "@aiservice/pulumi");
    assert_eq!(manifest["version"], version());
    assert_eq!(manifest["pulumi"]["name"], "aiservice");
    assert_eq!(manifest["pulumi"]["version"], version());
}

#[test]
fn go_fetches_the_module_from_the_released_proxy_directory() {
    let proxy = dist_dir().join("sdk/goproxy");
    let cache = scratch_dir("gomodcache");
    let module = format!("example.com/aiservice/sdk/go@v{}", version());
    let out = run(Command::new("go")
        .args(["mod", "download", "-json", &module])
        .env("GOPROXY", format!("file://{}", proxy.display()))
        .env("GOMODCACHE", &cache)
        .env("GOFLAGS", "-modcacherw")
        .env("GONOSUMDB", "example.com"));
    let downloaded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(downloaded["Version"], format!("v{}", version()), "{out}");
    let dir = PathBuf::from(downloaded["Dir"].as_str().unwrap());
    let go_mod = std::fs::read_to_string(dir.join("go.mod")).unwrap();
    assert!(
        go_mod.starts_with("module example.com/aiservice/sdk/go\n"),
        "{go_mod}"
    );
    assert!(dir.join("aiservice/provider.go").is_file(), "{out}");
    std::fs::remove_dir_all(&cache).unwrap();
}
