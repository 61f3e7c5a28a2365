//! The Pulumi resource provider plugin. The engine starts it as
//! `pulumi-resource-aiservice [flags] <engine-address>`; the gRPC server arrives with the
//! provider-core issue, so for now the binary only answers `--version`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "pulumi-resource-aiservice", version = aiservice::VERSION, about)]
/// Pulumi resource provider for Kubernetes CRDs, custom resources and AIServices.
struct Args {}

fn main() {
    Args::parse();
    eprintln!(
        "pulumi-resource-aiservice {}: the provider's gRPC server is not built yet",
        aiservice::VERSION
    );
    std::process::exit(1);
}
