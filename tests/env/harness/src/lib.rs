//! Dev-only test environment for `aiservice`: a real kube-apiserver with etcd (plus
//! kube-controller-manager, kube-scheduler and kwok when workloads must run), and helpers
//! that run the real `kubectl`, `pulumi`, Terraform and OpenTofu CLIs provisioned by `tests/env/`.
//!
//! Tests call [`TestEnv::new`]: the first call in a `cargo test` process starts one control
//! plane shared by every test of that process (stopped when the process exits), and each call
//! gets a fresh namespace that is deleted when the `TestEnv` drops. With
//! `AISERVICE_TEST_CLUSTER=external` and `KUBECONFIG` set, tests use that cluster instead.

mod audit;
mod certs;
mod control_plane;
mod model_server;
mod operator;
mod process;
mod prometheus;
mod pulumi;
mod terraform;
mod test_env;
mod tools;

pub use audit::{AuditLog, object_ref};
pub use control_plane::{ControlPlane, Options};
pub use model_server::{CountingServer, Load};
pub use operator::OperatorProcess;
pub use process::{remove_stale_dirs, tail};
pub use prometheus::Prometheus;
pub use pulumi::{PulumiOutput, PulumiStack, Sdks};
pub use terraform::{Cli, TerraformConfig, TerraformOutput};
pub use test_env::TestEnv;
pub use tools::Tools;
