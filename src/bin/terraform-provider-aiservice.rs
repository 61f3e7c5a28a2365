//! `terraform-provider-aiservice`: the Terraform (and OpenTofu) provider. Terraform starts it
//! and talks to it over the plugin protocol version 6; run by hand it says so and exits.
//! `--help` and `--version` are for people.

/// What `--help` prints: a person running the binary learns that a Terraform CLI starts it.
const USAGE: &str = "\
The Terraform and OpenTofu provider (plugin protocol version 6: Terraform 1.0 or later, any
OpenTofu) for Kubernetes CRDs, custom resources, AIServices and ModelServings
(aiservice_* resources and data sources).

Terraform or OpenTofu starts it, with TF_PLUGIN_MAGIC_COOKIE, PLUGIN_PROTOCOL_VERSIONS and
PLUGIN_CLIENT_CERT in its environment; it then prints the go-plugin handshake line on stdout
and serves the CLI over mutual TLS. To use it, point a CLI configuration's dev_overrides (or
a provider mirror) at this binary's directory and run terraform plan; see
sdk-examples/terraform/README.md.

Usage:
  terraform-provider-aiservice                (started by the CLI)
  terraform-provider-aiservice --version | --help

Options:
  -V, --version  print the version and exit
  -h, --help     print this help and exit

Environment:
  AISERVICE_LOG  the log filter, such as debug or aiservice=trace (default info); the log
                 goes to stderr, which the CLI shows with TF_LOG=info
  KUBECONFIG     the kubeconfig when the provider block sets none (then ~/.kube/config)

Provider block: kubeconfig (a path or the file's contents), context, namespace,
field_manager (default terraform-aiservice), skip_await.
";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("--help" | "-h") => {
            print!(
                "terraform-provider-aiservice {}\n\n{USAGE}",
                aiservice::VERSION
            );
            return std::process::ExitCode::SUCCESS;
        }
        Some("--version" | "-V") => {
            println!("terraform-provider-aiservice {}", aiservice::VERSION);
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    match aiservice::terraform::serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
