//! The AIService operator. Its controller arrives with the operator issue; for now the
//! binary only answers `--version`.

use clap::Parser;

#[derive(Parser)]
#[command(name = "aiservice-operator", version = aiservice::VERSION, about)]
/// Runs AIServices as Deployments and scales them on requests per second.
struct Args {}

fn main() {
    Args::parse();
    eprintln!(
        "aiservice-operator {}: the controller is not built yet",
        aiservice::VERSION
    );
    std::process::exit(1);
}
