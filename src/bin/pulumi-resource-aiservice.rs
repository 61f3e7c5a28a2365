//! The Pulumi resource provider plugin. The engine starts it as
//! `pulumi-resource-aiservice [flags] <engine-address>`; it prints its port and serves gRPC.
//! `--version` and `--print-schema` are for people and `make schema`.

use aiservice::pulumi::{PluginArgs, serve};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
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
