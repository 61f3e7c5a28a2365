//! aiservice: a Pulumi resource provider for Kubernetes custom resources and an operator for
//! AI model services. See `README.md` and `../shared/DESIGN.md` for the architecture.

pub mod proto;
pub mod value;

/// The crate version, reported by `--version` and `GetPluginInfo`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
