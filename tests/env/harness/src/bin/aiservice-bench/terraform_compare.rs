//! Terraform and OpenTofu plan, apply and destroy of a CRD and N custom resources with our
//! provider, against the null provider and `kubectl` on the same control plane.

use std::path::Path;

use anyhow::Result;

use crate::comparison::Comparison;

pub fn terraform_runs(
    _provider: &Path,
    _null_providers: Option<&Path>,
    _sizes: &[usize],
    _rounds: usize,
) -> Result<Vec<Comparison>> {
    anyhow::bail!("the Terraform comparison is not written yet")
}
