//! `cargo xtask bindings`: regenerates the UI's TypeScript bindings from Rust.

use crate::util;
use anyhow::Result;

/// Rewrites ui/src/lib/bindings.ts through the app crate's drift test, which writes the
/// generated text when UPDATE_SNAPSHOTS is set (src-tauri/src/bindings.rs).
pub fn bindings() -> Result<()> {
    util::run(
        "regenerate bindings",
        util::cargo()
            .args(["test", "--quiet", "-p", "gatehouse-app", "--lib"])
            .args(["bindings::tests::committed_bindings_match_the_rust_commands"])
            .env("UPDATE_SNAPSHOTS", "1"),
    )
}
