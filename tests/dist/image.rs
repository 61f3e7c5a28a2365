//! The operator's OCI image (`packaging/image`: `target/dist/image`, an OCI image layout) the
//! way its users meet it, with the real tools of `tests/env/tools/image_tools.sh`:
//!
//! - `skopeo inspect` shows the version tag, the reference the provider deploys, and the
//!   config the Containerfile describes (entrypoint, user 65532, port 8080, labels);
//! - unpacked with `umoci`, its root filesystem runs the binary as the image's user (`chroot`
//!   with the runtime spec umoci writes; a container engine cannot run here), and that
//!   operator, as uid 65532, reaches the test control plane over TLS and takes its Lease;
//! - pushed with `skopeo copy` to a loopback registry (Debian's distribution `registry`),
//!   it is there under its tag with the same digest, and pulled back it is the same image.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aiservice_testenv::{TestEnv, Tools, remove_stale_dirs, tail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{dist_dir, version};

const ENTRYPOINT: &str = "/usr/local/bin/aiservice-operator";
const NONROOT: u32 = 65532;

/// `target/dist/image`.
fn layout() -> PathBuf {
    dist_dir().join("image")
}

/// The image in an OCI layout directory, as skopeo names it.
fn oci(dir: &Path) -> String {
    format!("oci:{}:{}", dir.display(), version())
}

fn tool(name: &str) -> PathBuf {
    Tools::get().unwrap().file(name).unwrap()
}

/// Runs `command`; its stdout, or a panic with its stderr.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn skopeo(args: &[&str]) -> Value {
    let out = run(Command::new(tool("skopeo")).args(args));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("skopeo {args:?} printed ({e}):\n{out}"))
}

/// The manifest digest the layout's `index.json` tags with the version.
fn tagged_digest(dir: &Path) -> String {
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let tagged: Vec<&Value> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["annotations"]["org.opencontainers.image.ref.name"] == version())
        .collect();
    assert_eq!(
        tagged.len(),
        1,
        "one manifest tagged {}: {index}",
        version()
    );
    tagged[0]["digest"].as_str().unwrap().to_string()
}

/// The image the provider's Deployment runs: `aiservice-operator bundle`'s.
fn bundle_image() -> String {
    let bundle = run(Command::new(env!("CARGO_BIN_EXE_aiservice-operator")).arg("bundle"));
    serde_yaml::Deserializer::from_str(&bundle)
        .map(|doc| serde_json::to_value(serde_yaml::Value::deserialize(doc).unwrap()).unwrap())
        .find(|doc| doc["kind"] == "Deployment")
        .expect("the bundle has a Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `GET path` on one connection that closes after it, as the kubelet probes: the response.
fn http_get_once(address: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// A directory of this test process in the system's temporary directory, removed on drop
/// (and by a later run if this one was killed).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        remove_stale_dirs("aiservice-image-");
        let dir =
            std::env::temp_dir().join(format!("aiservice-image-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A process killed on drop, its output in `log`.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn spawn(command: &mut Command, log: PathBuf) -> Process {
        let out = std::fs::File::create(&log).unwrap();
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
        Process { child, log }
    }

    fn log(&self) -> String {
        tail(&self.log, 30)
    }

    /// Polls `ready` until it holds; fails if the process exits or `timeout` passes.
    fn wait_until(&mut self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !ready() {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{what}: the process exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not within {timeout:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The image unpacked by umoci: the root filesystem and the runtime spec (`config.json`) a
/// container runtime would run it with.
struct Unpacked {
    rootfs: PathBuf,
    spec: Value,
    _dir: Scratch,
}

fn unpack(name: &str) -> Unpacked {
    let dir = Scratch::new(name);
    let bundle = dir.0.join("bundle");
    run(Command::new(tool("umoci"))
        .args(["unpack", "--image"])
        .arg(format!("{}:{}", layout().display(), version()))
        .arg(&bundle));
    let spec = serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    Unpacked {
        rootfs: bundle.join("rootfs"),
        spec,
        _dir: dir,
    }
}

impl Unpacked {
    /// The image's process as its runtime spec says (user, arguments, environment), in its
    /// root filesystem, with `extra` arguments.
    fn command(&self, extra: &[&str]) -> Command {
        let process = &self.spec["process"];
        let mut command = Command::new("/usr/sbin/chroot");
        command
            .arg(format!(
                "--userspec={}:{}",
                process["user"]["uid"], process["user"]["gid"]
            ))
            .arg(&self.rootfs)
            .args(
                process["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap()),
            )
            .args(extra)
            .env_clear();
        for var in process["env"].as_array().unwrap() {
            let (name, value) = var.as_str().unwrap().split_once('=').unwrap();
            command.env(name, value);
        }
        command
    }
}

#[test]
fn layout_is_tagged_with_the_version_and_configured_like_the_containerfile() {
    let layout = layout();
    let reference = std::fs::read_to_string(layout.join("IMAGE")).unwrap();
    assert_eq!(
        reference.trim_end(),
        bundle_image(),
        "IMAGE names what the provider deploys"
    );
    assert!(reference.trim_end().ends_with(&format!(":{}", version())));

    let digest = tagged_digest(&layout);
    let manifest = skopeo(&["inspect", &oci(&layout)]);
    assert_eq!(manifest["Digest"], digest.as_str());
    assert_eq!(manifest["Architecture"], "amd64");
    assert_eq!(manifest["Os"], "linux");
    assert_eq!(
        manifest["Layers"].as_array().unwrap().len(),
        2,
        "the base and the binary: {manifest:#}"
    );

    let config = skopeo(&["inspect", "--config", &oci(&layout)]);
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    let run_config = &config["config"];
    assert_eq!(run_config["Entrypoint"], json!([ENTRYPOINT]));
    assert_eq!(run_config["Cmd"], Value::Null);
    assert_eq!(run_config["User"], format!("{NONROOT}:{NONROOT}"));
    assert_eq!(run_config["ExposedPorts"], json!({"8080/tcp": {}}));
    let labels = &run_config["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], version());
    assert_eq!(
        labels["org.opencontainers.image.title"],
        "aiservice-operator"
    );
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://github.com/example/aiservice"
    );
    let description = labels["org.opencontainers.image.description"]
        .as_str()
        .unwrap_or_default();
    assert!(description.contains("AIService"), "{labels:#}");
    assert_eq!(manifest["Labels"], *labels, "what `skopeo inspect` shows");

    // The Containerfile, for people with podman or docker, describes the same image.
    let containerfile = std::fs::read_to_string(crate::common::repo("Containerfile")).unwrap();
    assert!(
        containerfile.contains(&format!("ENTRYPOINT [\"{ENTRYPOINT}\"]"))
            && containerfile.contains("EXPOSE 8080")
            && containerfile.contains(&format!("USER {NONROOT}:{NONROOT}")),
        "the Containerfile's entrypoint, port and user are the image's"
    );
}

#[test]
fn root_filesystem_runs_the_operator_as_nonroot() {
    let image = unpack("rootfs");
    let process = &image.spec["process"];
    assert_eq!(process["user"]["uid"], NONROOT);
    assert_eq!(process["user"]["gid"], NONROOT);
    assert_eq!(process["args"], json!([ENTRYPOINT]));

    let rootfs = &image.rootfs;
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with(&format!("nonroot:x:{NONROOT}:{NONROOT}:"))),
        "{passwd}"
    );
    let group = std::fs::read_to_string(rootfs.join("etc/group")).unwrap();
    assert!(
        group.lines().any(|l| l == format!("nonroot:x:{NONROOT}:")),
        "{group}"
    );
    let tmp = std::fs::metadata(rootfs.join("tmp")).unwrap();
    assert_eq!(
        tmp.permissions().mode() & 0o7777,
        0o1777,
        "/tmp is sticky and open"
    );
    let binary = std::fs::metadata(rootfs.join(&ENTRYPOINT[1..])).unwrap();
    assert_eq!(binary.permissions().mode() & 0o7777, 0o755);
    assert_eq!(
        (binary.uid(), binary.gid()),
        (0, 0),
        "nonroot cannot replace it"
    );
    let certificates =
        std::fs::read_to_string(rootfs.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
    let count = certificates.matches("-----BEGIN CERTIFICATE-----").count();
    assert!(count > 100, "the CA bundle has {count} certificates");

    let out = image.command(&["--version"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("aiservice-operator {}\n", version())
    );
}

#[tokio::test]
async fn operator_from_the_image_takes_its_lease_on_the_cluster_as_nonroot() {
    let env = TestEnv::new("image").await.unwrap();
    let image = unpack("cluster");

    // The test cluster's kubeconfig, with its certificate files copied in for nonroot.
    let mut kubeconfig: Value =
        serde_yaml::from_str(&std::fs::read_to_string(env.kubeconfig()).unwrap()).unwrap();
    let kube = image.rootfs.join("tmp/kube");
    std::fs::create_dir_all(&kube).unwrap();
    let mut copied = 0;
    for (list, item) in [("clusters", "cluster"), ("users", "user")] {
        for entry in kubeconfig[list].as_array_mut().into_iter().flatten() {
            for key in ["certificate-authority", "client-certificate", "client-key"] {
                let Some(path) = entry[item][key].as_str().map(str::to_owned) else {
                    continue;
                };
                copied += 1;
                std::fs::copy(&path, kube.join(format!("{copied}-{key}"))).unwrap();
                entry[item][key] = json!(format!("/tmp/kube/{copied}-{key}"));
            }
        }
    }
    std::fs::write(kube.join("config"), kubeconfig.to_string()).unwrap();
    for entry in std::fs::read_dir(&kube).unwrap() {
        std::os::unix::fs::chown(entry.unwrap().path(), Some(NONROOT), Some(NONROOT)).unwrap();
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut operator = Process::spawn(
        image
            .command(&[
                "--kubeconfig=/tmp/kube/config",
                &format!("--namespace={}", env.namespace),
                &format!("--metrics-address={address}"),
                "--leader-elect",
                &format!("--leader-elect-namespace={}", env.namespace),
            ])
            .env("POD_NAME", "operator-from-the-image"),
        image.rootfs.parent().unwrap().join("operator.log"),
    );
    operator.wait_until("/healthz", Duration::from_secs(30), || {
        http_get_once(&address, "/healthz").is_some_and(|r| r.ends_with("\r\n\r\nok\n"))
    });
    let status = std::fs::read_to_string(format!("/proc/{}/status", operator.child.id())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    let nonroot = NONROOT.to_string();
    assert_eq!(
        uid.split_whitespace().skip(1).collect::<Vec<_>>(),
        [nonroot.as_str(); 4],
        "real, effective, saved and filesystem uid"
    );
    // The Lease's holder; None while kubectl fails.
    let holder = || {
        env.kubectl(&[
            "get",
            "lease",
            aiservice::cluster::OPERATOR_LEASE,
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .ok()
    };
    operator.wait_until("the Lease", Duration::from_secs(30), || {
        holder().as_deref() == Some("operator-from-the-image")
    });

    // A graceful stop gives the Lease up at once, as in a rolling update of the Deployment,
    // and the process exits successfully within the kubelet's 30 s grace period, whether or
    // not the CRDs are installed (they come and go with the Helm test of this binary; without
    // them the watches keep retrying and the operator stops after its own grace period).
    run(Command::new("kill").args(["-TERM", &operator.child.id().to_string()]));
    let deadline = Instant::now() + Duration::from_secs(30);
    while holder().as_deref() != Some("") {
        assert!(
            Instant::now() < deadline,
            "the Lease is still held 30 s after SIGTERM:\n{}",
            operator.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    loop {
        if let Some(status) = operator.child.try_wait().unwrap() {
            assert!(status.success(), "{status}:\n{}", operator.log());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 30 s after SIGTERM:\n{}",
            operator.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn push_to_a_loopback_registry_and_pull_back_unchanged() {
    let layout = layout();
    let digest = tagged_digest(&layout);
    let labels = skopeo(&["inspect", &oci(&layout)])["Labels"].clone();
    let reference = std::fs::read_to_string(layout.join("IMAGE")).unwrap();
    // ghcr.io/example/aiservice-operator:0.1.0 -> example/aiservice-operator:0.1.0
    let (_, name) = reference.trim_end().split_once('/').unwrap();
    let repository = name.rsplit_once(':').unwrap().0;

    let dir = Scratch::new("registry");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.0.join("config.yml");
    std::fs::write(
        &config,
        json!({
            "version": "0.1",
            "log": {"level": "info", "accesslog": {"disabled": true}},
            "storage": {"filesystem": {"rootdirectory": dir.0.join("storage")}},
            "http": {"addr": format!("127.0.0.1:{port}"), "secret": "aiservice-test"},
        })
        .to_string(),
    )
    .unwrap();
    // The registry dies with this test's thread even if the test binary is killed.
    let mut registry = Process::spawn(
        Command::new("setpriv")
            .args(["--pdeathsig", "KILL", "--"])
            .arg(tool("docker-registry"))
            .arg("serve")
            .arg(&config),
        dir.0.join("registry.log"),
    );
    let url = format!("http://127.0.0.1:{port}");
    registry.wait_until("the registry's /v2/", Duration::from_secs(30), || {
        ureq::get(format!("{url}/v2/")).call().is_ok()
    });

    let remote = format!("docker://127.0.0.1:{port}/{name}");
    run(Command::new(tool("skopeo")).args([
        "copy",
        "--dest-tls-verify=false",
        &oci(&layout),
        &remote,
    ]));
    let tags: Value = serde_json::from_str(
        &ureq::get(format!("{url}/v2/{repository}/tags/list"))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(tags["tags"], json!([version()]), "{}", registry.log());
    let pushed = skopeo(&["inspect", "--tls-verify=false", &remote]);
    assert_eq!(
        pushed["Digest"],
        digest.as_str(),
        "the registry has the same manifest"
    );
    assert_eq!(pushed["Labels"], labels);
    assert_eq!(pushed["Architecture"], "amd64");

    let pulled = dir.0.join("pulled");
    run(Command::new(tool("skopeo")).args([
        "copy",
        "--src-tls-verify=false",
        &remote,
        &oci(&pulled),
    ]));
    assert_eq!(
        tagged_digest(&pulled),
        digest,
        "pulled back, the same manifest"
    );
    let blobs = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(blobs(&pulled), blobs(&layout), "the same config and layers");
    drop(registry);
}
