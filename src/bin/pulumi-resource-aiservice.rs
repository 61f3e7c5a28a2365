//! The Pulumi resource provider plugin. The engine starts it as
//! `pulumi-resource-aiservice [flags] <engine-address>`; it prints its port and serves gRPC.
//! `--help`, `--version` and `--print-schema` are for people and `make schema`.

use aiservice::pulumi::{PluginArgs, serve};

/// What `--help` prints: a person running the binary learns that the pulumi CLI starts it.
const USAGE: &str = "\
The Pulumi resource provider for Kubernetes CRDs, custom resources, AIServices, ModelServings
and the aiservice operator (resource types aiservice:*).

The pulumi CLI starts it: put this binary on PATH (or install it with `pulumi plugin install
resource aiservice <version> -f <archive>`) and use the aiservice:* resources in a program.
It then listens on a loopback port, prints only that port on stdout, and serves the engine
over gRPC until the engine stops it.

Usage:
  pulumi-resource-aiservice [-v=N] [--logtostderr] <engine-address>
  pulumi-resource-aiservice --version | --print-schema | --help

Options:
  <engine-address>  the engine's address, passed by the pulumi CLI; progress goes there
  -v=N              how much the provider logs to stderr: 0 warnings (default), 1-5 info,
                    6-8 debug, 9 and up trace; `pulumi --logflow -v=N` passes its level on
  --logtostderr     passed on by `pulumi --logflow --logtostderr`; the log always goes to
                    stderr
  -V, --version     print the version and exit
  --print-schema    print the Pulumi package schema (JSON) and exit
  -h, --help        print this help and exit

Provider configuration (a provider resource's arguments, or `pulumi config set aiservice:<key>`):
  kubeconfig    a kubeconfig file's path or its contents; unset: $KUBECONFIG, then ~/.kube/config
  context       the kubeconfig context; unset: its current context
  namespace     where namespaced objects without metadata.namespace go; unset: the
                context's namespace, else default
  fieldManager  the server-side apply field manager (default pulumi-aiservice)
  skipAwait     true: do not wait for objects to become ready
";

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--help" | "-h") => {
            print!(
                "pulumi-resource-aiservice {}\n\n{USAGE}",
                aiservice::VERSION
            );
            return std::process::ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("pulumi-resource-aiservice {}", aiservice::VERSION);
            return std::process::ExitCode::SUCCESS;
        }
        Some("--print-schema") => {
            print!("{}", aiservice::schema::schema_json());
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pulumi-resource-aiservice: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(PluginArgs::parse(args))) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulumi-resource-aiservice: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
