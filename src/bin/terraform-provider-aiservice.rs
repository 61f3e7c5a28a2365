//! `terraform-provider-aiservice`: the Terraform (and OpenTofu) provider. Terraform starts it
//! and talks to it over the plugin protocol version 6; run by hand it says so and exits.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match aiservice::terraform::serve().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}
