//! aiservice: Pulumi and Terraform resource providers for Kubernetes custom resources and an
//! operator for AI model services. Requests flow one way: a protocol adapter (`pulumi`,
//! `terraform`) decodes wire messages into `value`s and calls a [`contract::Resource`];
//! `resources` implement it on the `cluster` layer, which alone talks to the apiserver.

pub mod api;
pub mod cluster;
pub mod contract;
pub mod description;
pub mod interceptor;
pub mod operator;
pub mod proto;
pub mod provider_config;
pub mod pulumi;
pub mod resources;
pub mod rpc_timing;
pub mod schema;
pub mod terraform;
pub mod value;

/// The crate version, reported by `--version` and `GetPluginInfo`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
