//! Saved connections (server URL and e-mail; never a secret) in tauri-plugin-store.

use serde::{Deserialize, Serialize};
use std::path::Path;
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

/// Makes the store file 0600 in a 0700 directory before the plugin touches it: the plugin
/// writes it with `std::fs::write`, which keeps the mode of a file that exists (and an
/// empty file reads as an empty store, like a missing one).
fn prepare(path: &Path) -> std::io::Result<()> {
    use gatehouse_client::private_files;
    if let Some(dir) = path.parent() {
        private_files::create_private_dir(dir)?;
    }
    private_files::ensure_private_file(path)
}

fn prepare_store<R: Runtime>(app: &AppHandle<R>) {
    let prepared = tauri_plugin_store::resolve_store_path(app, STORE_FILE).map_err(|e| e.to_string()).and_then(|path| prepare(&path).map_err(|e| e.to_string()));
    if let Err(e) = prepared {
        tracing::warn!(error = %e, "could not make the connections store private");
    }
}

/// The last connection signed in to, if any.
pub fn last<R: Runtime>(app: &AppHandle<R>) -> Option<SavedConnection> {
    prepare_store(app);
    let store = app.store(STORE_FILE).map_err(|e| tracing::warn!(error = %e, "connections store unreadable")).ok()?;
    store.get(LAST_KEY).and_then(|v| serde_json::from_value(v).ok())
}

/// Remembers `conn` as the last connection.
pub fn remember<R: Runtime>(app: &AppHandle<R>, conn: &SavedConnection) {
    prepare_store(app);
    let result = app.store(STORE_FILE).and_then(|store| {
        store.set(LAST_KEY, serde_json::json!(conn));
        store.save()
    });
    if let Err(e) = result {
        // Losing the prefill is an inconvenience, not a reason to fail a sign-in.
        tracing::warn!(error = %e, "could not save the connection");
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_store_file_is_0600_in_a_0700_directory_and_stays_so_when_rewritten() {
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("dev.gatehouse.app").join(super::STORE_FILE);
        super::prepare(&path).unwrap();
        assert_eq!((mode(path.parent().unwrap()), mode(&path)), (0o700, 0o600));
        // What the plugin's save does: the mode stays.
        std::fs::write(&path, br#"{"last":{"server_url":"https://gh.example/","email":"a@b.co"}}"#).unwrap();
        assert_eq!(mode(&path), 0o600);
        // Preparing again keeps what was saved; a file of an older version is tightened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        super::prepare(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(std::fs::read_to_string(&path).unwrap().contains("gh.example"));
    }
}
