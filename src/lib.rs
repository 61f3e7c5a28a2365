//! aiservice: Pulumi and Terraform resource providers for Kubernetes custom resources and an
//! operator for AI model services. Requests flow one way: a protocol adapter (`pulumi`,
//! `terraform`) decodes wire messages into `value`s and calls a `resource`; `resources`
//! implement them on the `kube` layer, which alone talks to the apiserver.

pub mod api;
pub mod kube;
pub mod operator;
pub mod proto;
pub mod provider_config;
pub mod pulumi;
pub mod resource;
pub mod resources;
pub mod rpc_timing;
pub mod schema;
pub mod terraform;
pub mod value;

/// The crate version, reported by `--version` and `GetPluginInfo`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
