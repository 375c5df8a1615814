//! What the tests need from their runner (`cargo xtask test` sets all of it).

use anyhow::{Result, bail};
use std::path::PathBuf;
use std::time::Duration;

/// Path of the built app (`target/debug/gatehouse`).
pub const ENV_APP: &str = "GATEHOUSE_E2E_APP";
/// Path of the built server (`target/debug/gatehouse-server`).
pub const ENV_SERVER: &str = "GATEHOUSE_E2E_SERVER";
/// tauri-driver's URL, e.g. `http://127.0.0.1:4444`.
pub const ENV_WEBDRIVER: &str = "GATEHOUSE_E2E_WEBDRIVER";
/// The throwaway HOME the app runs with (tauri-driver was started with it).
pub const ENV_HOME: &str = "GATEHOUSE_E2E_HOME";
/// Where to leave screenshots, page sources and server logs (optional).
pub const ENV_ARTIFACTS: &str = "GATEHOUSE_E2E_ARTIFACTS";
/// Where the ignored screenshot test writes its PNG.
pub const ENV_SCREENSHOT: &str = "GATEHOUSE_E2E_SCREENSHOT";
/// Overall limit of each wait, in seconds (optional, default 60).
pub const ENV_TIMEOUT: &str = "GATEHOUSE_E2E_TIMEOUT_SECS";

/// The runner's environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub app: PathBuf,
    pub server: PathBuf,
    pub webdriver: String,
    pub home: PathBuf,
    pub artifacts: PathBuf,
    pub timeout: Duration,
}

impl Config {
    /// Reads the environment; fails with what is missing and how to run the suite.
    pub fn from_env() -> Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let missing: Vec<&str> = [ENV_APP, ENV_SERVER, ENV_WEBDRIVER, ENV_HOME].into_iter().filter(|k| var(k).is_none()).collect();
        if !missing.is_empty() {
            bail!(
                "the end-to-end tests need a built app, a server, tauri-driver under Xvfb and a \
                 throwaway keyring; {} not set. Run them with `cargo xtask test --only e2e`.",
                missing.join(", ")
            );
        }
        let path = |k: &str| PathBuf::from(var(k).unwrap_or_default());
        let cfg = Self {
            app: path(ENV_APP),
            server: path(ENV_SERVER),
            webdriver: var(ENV_WEBDRIVER).unwrap_or_default(),
            home: path(ENV_HOME),
            artifacts: var(ENV_ARTIFACTS).map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
            timeout: Duration::from_secs(var(ENV_TIMEOUT).and_then(|t| t.parse().ok()).unwrap_or(60)),
        };
        for (what, p) in [("app", &cfg.app), ("server", &cfg.server)] {
            if !p.is_file() {
                bail!("the {what} binary {} does not exist; build it first", p.display());
            }
        }
        if std::env::var_os("HOME").map(PathBuf::from) != Some(cfg.home.clone()) {
            bail!(
                "HOME must be {} (the app's throwaway home), so the keyring and the files \
                   the tests inspect are the app's",
                cfg.home.display()
            );
        }
        Ok(cfg)
    }
}
