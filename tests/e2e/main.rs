//! End-to-end tests: the built Gatehouse app, driven through tauri-driver under Xvfb,
//! against a real gatehouse-server, with the real Secret Service keyring.
//! Run with `cargo xtask test --only e2e` (it sets up everything these need).

mod activity;
mod bench;
mod directory;
mod invitations;
mod mfa;
mod offline;
mod provisioning;
mod resets;
mod screenshot;
mod session;
mod sessions;
mod signin;
mod users;

use anyhow::Result;
use gatehouse_api::Secret;
use gatehouse_client::keyring_store::{ConnectionKey, KeyringTokenStore, TokenStore, use_platform_store};

/// Reads the app's stored refresh token for (server, e-mail) from the keyring.
///
/// Keyring calls block on D-Bus, so they run off the async workers.
pub async fn keyring_token(server_url: &str, email: &str) -> Result<Option<Secret>> {
    // The same normalisation the app applies (no trailing slash, lower-case e-mail).
    let key = ConnectionKey::new(server_url, email);
    tokio::task::spawn_blocking(move || -> Result<Option<Secret>> {
        use_platform_store()?;
        Ok(KeyringTokenStore.load(&key)?)
    })
    .await?
}
