//! Generated protocol types: `pulumirpc` (the Pulumi provider and engine services),
//! `google.rpc.Status` for rich errors, `tfplugin6` (the Terraform provider service) and
//! go-plugin's controller.

#[allow(clippy::all, missing_docs)]
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}

#[allow(clippy::all, missing_docs)]
pub mod google_rpc {
    tonic::include_proto!("google.rpc");
}

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod goplugin {
    tonic::include_proto!("plugin");
}

/// The encoded `FileDescriptorSet` of the Pulumi files in `proto/`, for the compatibility test.
pub const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/protocol_descriptor.bin"));

/// The same for the Terraform files (tfplugin6, go-plugin's controller).
pub const TERRAFORM_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/terraform_descriptor.bin"));
