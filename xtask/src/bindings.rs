//! `cargo xtask bindings`: regenerates the UI's TypeScript bindings from Rust.

use crate::util;
use anyhow::Result;

/// Rewrites ui/src/lib/bindings.ts through the app crate's drift test, which writes the
/// generated text when UPDATE_SNAPSHOTS is set (src-tauri/src/bindings.rs).
pub fn bindings() -> Result<()> {
    // The app crate embeds the built UI; on a fresh clone there is none yet, and the
    // bindings do not need it: an empty folder lets the crate compile.
    std::fs::create_dir_all(util::root().join("ui/dist"))?;
    util::run(
        "regenerate bindings",
        util::cargo()
            .args(["test", "--quiet", "-p", "gatehouse-app", "--lib"])
            .args(["bindings::tests::committed_bindings_match_the_rust_commands"])
            .env("UPDATE_SNAPSHOTS", "1"),
    )
}
