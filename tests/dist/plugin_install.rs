//! A Python program in CI, the way users run one: the released wheel installed in its
//! virtualenv, an empty `PULUMI_HOME`, plugins on `PATH` ignored, and the plugin archive served
//! by a loopback HTTP server standing in for the release page. `pulumi preview` installs the
//! plugin by itself (the SDK declares it), `pulumi plugin ls` shows it, and `up` and `destroy`
//! run with it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aiservice_testenv::{PulumiStack, TestEnv};
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;

use crate::common::{live, repo};
use crate::{CLUSTER_WIDE, dist_dir, version};

/// Serves the files of one directory over HTTP on a free loopback port and records each
/// requested path; stops with the test process.
struct FileServer {
    url: String,
    requested: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    fn start(dir: PathBuf) -> FileServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requested = Arc::new(Mutex::new(Vec::new()));
        let state = (dir, requested.clone());
        // Its own runtime on its own thread: the test blocks its thread on the pulumi CLI.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = axum::Router::new()
                    .route("/{file}", axum::routing::get(serve_file))
                    .with_state(state);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        FileServer { url, requested }
    }

    fn requested(&self) -> Vec<String> {
        self.requested.lock().unwrap().clone()
    }
}

async fn serve_file(
    State((dir, requested)): State<(PathBuf, Arc<Mutex<Vec<String>>>)>,
    UrlPath(file): UrlPath<String>,
) -> Result<Vec<u8>, StatusCode> {
    requested.lock().unwrap().push(file.clone());
    std::fs::read(dir.join(&file)).map_err(|_| StatusCode::NOT_FOUND)
}

/// The one file in `dir` whose name ends with `suffix`.
fn released(dir: &Path, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect();
    assert_eq!(found.len(), 1, "{suffix} in {}: {found:?}", dir.display());
    found[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn pulumi_downloads_and_installs_the_released_plugin_by_itself() {
    let _cluster_wide = CLUSTER_WIDE.lock().await;
    let dist = dist_dir();
    let server = FileServer::start(dist.join("pulumi"));
    let env = TestEnv::new("dist-plugin").await.unwrap();
    let wheel = released(&dist.join("sdk"), "-py3-none-any.whl");
    let stack = PulumiStack::with_released_plugin(
        &env,
        &repo("sdk-examples/python/modelserving"),
        &wheel,
        &server.url,
    )
    .unwrap();
    stack
        .run_ok(&["config", "set", "aiservice:namespace", &env.namespace])
        .unwrap();
    let before = stack.run_ok(&["plugin", "ls"]).unwrap();
    assert!(!before.stdout.contains("aiservice"), "{}", before.text());

    stack.run_ok(&["preview"]).unwrap();
    let archive = format!(
        "pulumi-resource-aiservice-v{}-linux-amd64.tar.gz",
        version()
    );
    assert_eq!(server.requested(), [archive.as_str()]);
    let installed = stack.run_ok(&["plugin", "ls"]).unwrap();
    let line = installed
        .stdout
        .lines()
        .find(|line| line.starts_with("aiservice "))
        .unwrap_or_else(|| panic!("pulumi plugin ls shows no aiservice:\n{}", installed.text()));
    let columns: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(columns[..3], ["aiservice", "resource", version()], "{line}");

    // The installed plugin, by its name, makes CRD packages (`pulumi package add aiservice
    // <CRDs>` runs the same Parameterize and GetSchema).
    let crds = repo("sdk-examples/crds/mlplat");
    let schema = stack
        .run_ok(&[
            "package",
            "get-schema",
            "aiservice",
            crds.to_str().unwrap(),
            "name=mlplat",
        ])
        .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&schema.stdout).unwrap();
    assert_eq!(
        schema["parameterization"]["baseProvider"],
        serde_json::json!({"name": "aiservice", "version": version()})
    );
    assert!(schema["resources"]["mlplat:serving/v1:InferenceEndpoint"].is_object());

    stack.up().unwrap();
    let created = live(
        &env,
        "modelservings.ai.example.com",
        "example-model-serving",
    );
    assert_eq!(created["spec"]["replicas"], 3, "{created}");
    stack.run_ok(&["destroy", "--yes"]).unwrap();
    // Installed once: the later commands found it in PULUMI_HOME.
    assert_eq!(server.requested(), [archive.as_str()]);
}
