//! `aiservice`: drive Kubernetes custom resources — above all the AIService — from
//! infrastructure-as-code, and run the operator that serves and scales them.
//!
//! The layout follows `DESIGN.md`: protocol adapters (`pulumi`, later `terraform`) sit on a
//! protocol-neutral `resource` layer, which talks to the cluster only through `kube`.
//! Those modules arrive with the issues that build them; this crate root holds what every
//! binary shares.

/// The crate version, reported by every binary's `--version` and later by the provider's
/// `GetPluginInfo`, so the engine and users see one number.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
