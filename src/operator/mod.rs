//! The AIService operator: watches AIServices and ModelServings and runs each as a Deployment
//! and a Service (`workload`), deciding replicas with a pure function (`scaling`) from the
//! requests per second its metric source reports (`metric_source`); `controller` is the
//! reconcile loop (reading the watched copies of what it owns, `owned`), `run` the process around it, `leader` its leader election on a Lease,
//! `stats` its `/metrics`. What installs it in a cluster is
//! `api::bundle`.

pub mod controller;
pub mod leader;
pub mod metric_source;
mod owned;
pub mod run;
pub mod scaling;
pub mod stats;
pub mod workload;
