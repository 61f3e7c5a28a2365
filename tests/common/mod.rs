//! Paths every end-to-end test binary needs. Each binary compiles its own copy of this module
//! and uses a subset of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The directory of the freshly built `pulumi-resource-aiservice`, put first on `PATH` so the
/// engine finds our provider there.
pub fn our_bins() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_pulumi-resource-aiservice"))
        .parent()
        .expect("the provider binary sits in a directory")
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
