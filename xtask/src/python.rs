//! Python test tools from PyPI, pinned, in a virtual environment of the project's own in
//! the target directory: the public SCIM conformance checkers (`scim2`, `scim-sanity`)
//! that the server suite runs against a real server, and the peer `scim2-server` that
//! `cargo xtask bench scim` measures beside ours (issue 20).

use crate::util;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// The pinned requirements, as tested.
const REQUIREMENTS: &str = "crates/server/tests/scim-checkers.txt";

/// The `bin` directory of a virtual environment holding the SCIM checkers, made or
/// brought up to date (pip does nothing when the pinned versions are there).
pub fn scim_checkers() -> Result<PathBuf> {
    crate::ensure::apt(&["python3-venv"])?;
    let venv = util::target_dir()?.join("python").join("scim-checkers");
    let bin = venv.join("bin");
    if !bin.join("pip").exists() {
        util::run("python3 -m venv (SCIM checkers)", Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let requirements = util::root().join(REQUIREMENTS);
    util::run(
        "pip install the SCIM checkers",
        Command::new(bin.join("pip")).args(["install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements).env("PIP_NO_INPUT", "1"),
    )
    .with_context(|| format!("installing {}", requirements.display()))?;
    Ok(bin)
}
