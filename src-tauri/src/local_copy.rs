//! Where a connection's local copy lives, and removing it: at sign-out when the admin asks
//! (the sign-out dialog), and whenever the server revoked the session (issue 18). What a
//! removal keeps — queued changes only — is decided in `gatehouse_client::Cache::remove`.

use crate::error::{IpcError, IpcErrorCode};
use gatehouse_client::{Cache, Client, Removal};
use std::path::PathBuf;
use tauri::{AppHandle, Manager, Runtime};

/// The cache file of a connection: one per server and account, in the app data dir.
pub fn cache_path<R: Runtime>(app: &AppHandle<R>, server_url: &str, email: &str) -> Result<PathBuf, IpcError> {
    let dir = app.path().app_data_dir().map_err(|e| IpcError::new(IpcErrorCode::Internal, format!("No app data directory: {e}")))?;
    // The app's own directory: its files are the organization's data.
    gatehouse_client::private_files::create_private_dir(&dir).map_err(|e| IpcError::new(IpcErrorCode::Internal, format!("Cannot create {}: {e}", dir.display())))?;
    let key = gatehouse_client::ConnectionKey::new(server_url, email);
    let name: String = format!("{}-{}", key.server_url, key.email)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
        .take(150)
        .collect();
    Ok(dir.join("connections").join(format!("{name}.db")))
}

/// Removes `cache`, saying why in the log.
pub async fn remove(cache: &Cache, why: &str) -> Result<Removal, IpcError> {
    let removal = cache.remove().await?;
    match removal {
        Removal::Everything => tracing::info!("{why}: this computer's copy of the organization removed"),
        Removal::KeptQueuedChanges(n) => tracing::info!(kept = n, "{why}: this computer's copy of the organization removed but its queued changes"),
    }
    Ok(removal)
}

/// Removes `cache` if the server revoked `client`'s session. The sync worker does so as
/// soon as it sees the revocation; this covers a worker stopped before it could (a new
/// sign-in right after), and is a no-op after a finished removal.
pub async fn remove_if_revoked(client: &Client, cache: &Cache) {
    if client.session_revoked()
        && let Err(e) = remove(cache, "session revoked").await
    {
        tracing::warn!(error = %e.message, "the revoked session's local copy could not be removed");
    }
}

/// Removes the copy of a connection that is not open (a session found revoked at start).
pub async fn remove_closed<R: Runtime>(app: &AppHandle<R>, server_url: &str, email: &str) {
    let removed = async { remove(&Cache::open(&cache_path(app, server_url, email)?).await?, "session revoked while the app was closed").await }.await;
    if let Err(e) = removed {
        tracing::warn!(error = %e.message, "the revoked session's local copy could not be removed");
    }
}
