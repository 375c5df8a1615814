//! Saved connections (server URL and e-mail; never a secret) in tauri-plugin-store.

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;
use ts_rs::TS;

const STORE_FILE: &str = "connections.json";
const LAST_KEY: &str = "last";

/// A server and the account last used on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SavedConnection {
    /// Server base URL.
    pub server_url: String,
    /// Account e-mail.
    pub email: String,
}

/// The last connection signed in to, if any.
pub fn last<R: Runtime>(app: &AppHandle<R>) -> Option<SavedConnection> {
    let store = app.store(STORE_FILE).map_err(|e| tracing::warn!(error = %e, "connections store unreadable")).ok()?;
    store.get(LAST_KEY).and_then(|v| serde_json::from_value(v).ok())
}

/// Remembers `conn` as the last connection.
pub fn remember<R: Runtime>(app: &AppHandle<R>, conn: &SavedConnection) {
    let result = app.store(STORE_FILE).and_then(|store| {
        store.set(LAST_KEY, serde_json::json!(conn));
        store.save()
    });
    if let Err(e) = result {
        // Losing the prefill is an inconvenience, not a reason to fail a sign-in.
        tracing::warn!(error = %e, "could not save the connection");
    }
}
