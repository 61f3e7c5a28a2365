//! Compiles the protocol files in `proto/` with a vendored protoc, so a build needs no system
//! protoc. The descriptor sets are kept too: `tests/proto_compat.rs` compares the Pulumi files
//! with the engine's own definitions and tfplugin6 with terraform-plugin-go's.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let well_known = protoc_bin_vendored::include_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .file_descriptor_set_path(out_dir.join("protocol_descriptor.bin"))
        .compile_protos(
            &[
                "proto/pulumi/provider.proto",
                "proto/pulumi/plugin.proto",
                "proto/pulumi/engine.proto",
                "proto/pulumi/resource.proto",
                "proto/google/rpc/status.proto",
            ],
            &[
                "proto",
                well_known.to_str().ok_or("non-UTF-8 protoc include path")?,
            ],
        )?;
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .file_descriptor_set_path(out_dir.join("terraform_descriptor.bin"))
        .compile_protos(
            &[
                "proto/terraform/tfplugin6.proto",
                "proto/goplugin/controller.proto",
            ],
            &["proto"],
        )?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
