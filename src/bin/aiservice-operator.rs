//! The AIService operator. Its controller arrives with the operator issue; for now the
//! binary answers `--version` and writes our CRDs (`crds`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aiservice-operator", version = aiservice::VERSION, about)]
/// Runs AIServices as Deployments and scales them on requests per second.
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Write the AIService and ModelServing CRDs as YAML, one file each.
    Crds {
        /// The directory to write them to.
        #[arg(long, default_value = aiservice::api::CRD_DIR)]
        out: PathBuf,
    },
}

fn main() {
    match Args::parse().command {
        Some(Command::Crds { out }) => match aiservice::api::write_crds(&out) {
            Ok(files) => {
                for file in files {
                    println!("{}", file.display());
                }
            }
            Err(e) => {
                eprintln!(
                    "aiservice-operator: writing the CRDs to {}: {e}",
                    out.display()
                );
                std::process::exit(1);
            }
        },
        None => {
            eprintln!(
                "aiservice-operator {}: the controller is not built yet",
                aiservice::VERSION
            );
            std::process::exit(1);
        }
    }
}
