//! Generated protocol types: `pulumirpc` (the Pulumi provider and engine services) and
//! `google.rpc.Status` for rich errors.

#[allow(clippy::all, missing_docs)]
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}

#[allow(clippy::all, missing_docs)]
pub mod google_rpc {
    tonic::include_proto!("google.rpc");
}

/// The encoded `FileDescriptorSet` of every file in `proto/`, for the compatibility test.
pub const DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/protocol_descriptor.bin"));
