//! The activity log's commands (SPEC A1–A5): pages and charts from the server, or from the
//! cached window when it cannot be reached; the CSV export streamed from the server to a
//! file the admin picks; the size of the cached window.

use crate::commands::{AppState, active_connection};
use crate::error::{IpcError, IpcErrorCode};
use chrono::{DateTime, Utc};
use gatehouse_client::{ActivityPage, Error};
use gatehouse_client::api::{AuditEventQuery, Histogram, HistogramBucket};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::Notify;
use ts_rs::TS;

/// Where the activity export stands, for the progress bar.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct ActivityExportStatus {
    /// An export is being written.
    pub running: bool,
    /// Events written so far.
    pub done: u32,
    /// Events the server said it will write.
    pub total: Option<u32>,
    /// The finished file.
    pub path: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The admin cancelled it; nothing was kept.
    pub cancelled: bool,
}

/// How much activity this connection keeps for reading offline.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ActivitySettings {
    /// Days kept (1–365).
    pub window_days: u32,
    /// Events in the cache now.
    pub cached_events: u32,
    /// The oldest cached event's time.
    pub oldest_cached: Option<DateTime<Utc>>,
}

pub async fn activity(state: &AppState, query: AuditEventQuery) -> Result<ActivityPage, IpcError> {
    let (client, cache, _) = active_connection(state).await?;
    Ok(client.activity(&cache, &query, Utc::now()).await?)
}

pub async fn histogram(state: &AppState, query: AuditEventQuery, bucket: HistogramBucket) -> Result<Histogram, IpcError> {
    let (client, cache, _) = active_connection(state).await?;
    Ok(client.activity_histogram(&cache, &query, bucket, Utc::now()).await?)
}

pub async fn settings(state: &AppState) -> Result<ActivitySettings, IpcError> {
    let (_, cache, _) = active_connection(state).await?;
    let (cached_events, oldest_cached) = cache.activity_stats().await?;
    Ok(ActivitySettings { window_days: cache.activity_window_days().await?, cached_events, oldest_cached })
}

pub async fn set_window(state: &AppState, days: u32) -> Result<ActivitySettings, IpcError> {
    let (_, cache, shared) = active_connection(state).await?;
    cache.set_activity_window_days(days, Utc::now()).await?;
    // A larger window is filled from the server now, not at the next sync.
    shared.refresh_activity();
    settings(state).await
}

struct Export {
    status: ActivityExportStatus,
    cancel: Option<Arc<Notify>>,
}

static EXPORT: Mutex<Export> = Mutex::new(Export { status: ActivityExportStatus { running: false, done: 0, total: None, path: None, error: None, cancelled: false }, cancel: None });

fn export() -> std::sync::MutexGuard<'static, Export> {
    EXPORT.lock().unwrap_or_else(|p| p.into_inner())
}

fn already_running() -> IpcError {
    IpcError::new(IpcErrorCode::Invalid, "An activity export is already running.")
}

/// `gatehouse-activity-YYYYMMDD-HHMMSS.csv`, in local time.
fn default_name(now: DateTime<chrono::Local>) -> String {
    format!("gatehouse-activity-{}.csv", now.format("%Y%m%d-%H%M%S"))
}

/// `<path>.part`: where the export is written until it is whole.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// A write into the file being exported.
pub(crate) type Writing<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, Error>> + Send + 'a>>;

/// Writes `path` whole or not at all: `write` fills `<path>.part`, renamed to `path` once
/// it is done; a failure, or `cancel` (which drops `write`, so a download closes its
/// connection), deletes it. `None` when cancelled.
///
/// Both files are created 0600 (an export is the organization's data), and a missing
/// folder 0700; an existing folder keeps its mode, since the admin chose it.
pub(crate) async fn write_whole(path: &Path, cancel: &Notify, write: impl for<'a> FnOnce(&'a mut std::io::BufWriter<std::fs::File>) -> Writing<'a>) -> Result<Option<u64>, Error> {
    use gatehouse_client::private_files;
    let partial = partial_path(path);
    let written = async {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_files::create_dir_if_missing(dir).map_err(|e| Error::Invalid(format!("Could not create {}: {e}", dir.display())))?;
        }
        let file = private_files::create_private_file(&partial).map_err(|e| Error::Invalid(format!("Could not create {}: {e}", partial.display())))?;
        let mut out = std::io::BufWriter::new(file);
        let finished = tokio::select! {
            rows = write(&mut out) => Some(rows?),
            () = cancel.notified() => None,
        };
        let file = out.into_inner().map_err(|e| Error::Invalid(format!("Could not write {}: {e}", partial.display())))?;
        drop(file);
        if finished.is_some() {
            std::fs::rename(&partial, path).map_err(|e| Error::Invalid(format!("Could not save {}: {e}", path.display())))?;
        }
        Ok(finished)
    }
    .await;
    if !matches!(written, Ok(Some(_))) {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Asks where to save with the native Save dialog (CSV filter, the default name in
/// Downloads); `None` when the admin cancelled. The dialog is opened from Rust only, so
/// the UI needs no dialog permission.
async fn ask_path<R: Runtime>(app: &AppHandle<R>, name: &str) -> Result<Option<PathBuf>, IpcError> {
    use tauri_plugin_dialog::DialogExt;
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir()).map_err(|e| IpcError::new(IpcErrorCode::Internal, e.to_string()))?;
    let mut dialog = app.dialog().file().set_title("Export activity").set_directory(dir).set_file_name(name).add_filter("CSV", &["csv"]);
    if let Some(window) = app.get_webview_window("main") {
        dialog = dialog.set_parent(&window);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    dialog.save_file(move |chosen| {
        let _ = tx.send(chosen);
    });
    match rx.await.ok().flatten() {
        None => Ok(None),
        Some(chosen) => chosen.into_path().map(Some).map_err(|e| IpcError::new(IpcErrorCode::Invalid, format!("Cannot save there: {e}"))),
    }
}

/// Starts exporting the filtered activity log from the server to a CSV file; returns the
/// file's path, or `None` when the admin cancelled the Save dialog.
///
/// With `GATEHOUSE_EXPORT_DIR` set, no dialog opens and the file goes there under its
/// default name: the end-to-end tests drive the app through WebDriver, which cannot
/// operate native dialogs.
pub async fn start_export<R: Runtime>(app: &AppHandle<R>, state: &AppState, query: AuditEventQuery) -> Result<Option<String>, IpcError> {
    let (client, _, _) = active_connection(state).await?;
    if export().status.running {
        return Err(already_running());
    }
    let name = default_name(chrono::Local::now());
    let path = match std::env::var_os("GATEHOUSE_EXPORT_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join(name),
        None => match ask_path(app, &name).await? {
            Some(path) => path,
            None => return Ok(None),
        },
    };
    let cancel = Arc::new(Notify::new());
    {
        let mut export = export();
        // Two dialogs may have been open at once.
        if export.status.running {
            return Err(already_running());
        }
        *export = Export { status: ActivityExportStatus { running: true, ..ActivityExportStatus::default() }, cancel: Some(cancel.clone()) };
    }
    let shown = path.display().to_string();
    tauri::async_runtime::spawn(async move {
        let progress = |done: u64, total: Option<u64>| {
            let mut export = export();
            export.status.done = u32::try_from(done).unwrap_or(u32::MAX);
            export.status.total = total.map(|t| u32::try_from(t).unwrap_or(u32::MAX));
        };
        let written = write_whole(&path, &cancel, move |out| Box::pin(async move { client.export_audit_csv(&query, out, progress).await })).await;
        let mut export = export();
        export.cancel = None;
        let status = &mut export.status;
        status.running = false;
        match written {
            Ok(Some(_)) => status.path = Some(path.display().to_string()),
            Ok(None) => status.cancelled = true,
            Err(e) => status.error = Some(IpcError::from(e).message),
        }
    });
    Ok(Some(shown))
}

pub async fn export_status(state: &AppState) -> Result<ActivityExportStatus, IpcError> {
    active_connection(state).await?;
    Ok(export().status.clone())
}

pub async fn cancel_export(state: &AppState) -> Result<(), IpcError> {
    active_connection(state).await?;
    if let Some(cancel) = &export().cancel {
        // A stored permit: the export sees it even if it is between two reads.
        cancel.notify_one();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[tokio::test]
    async fn an_export_file_appears_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let cancel = Notify::new();
        let files = || std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<Vec<_>>();
        // Done: the file, and no partial one.
        let done = write_whole(&path, &cancel, |out| Box::pin(async move { out.write_all(b"h\r\nrow\r\n").map(|()| 1).map_err(|e| Error::Invalid(e.to_string())) })).await;
        assert_eq!(done.unwrap(), Some(1));
        assert_eq!(std::fs::read(&path).unwrap(), b"h\r\nrow\r\n");
        assert_eq!(files(), ["out.csv"]);
        std::fs::remove_file(&path).unwrap();
        // Failed part-way: nothing left.
        let failed = write_whole(&path, &cancel, |out| {
            Box::pin(async move {
                out.write_all(b"h\r\nhalf").map_err(|e| Error::Invalid(e.to_string()))?;
                Err(Error::Unreachable { url: "http://x".into(), reason: "cut".into() })
            })
        })
        .await;
        assert!(matches!(failed, Err(Error::Unreachable { .. })));
        assert!(files().is_empty(), "{:?}", files());
        // Cancelled while the download waits: nothing left either.
        cancel.notify_one();
        let cancelled = write_whole(&path, &cancel, |out| {
            Box::pin(async move {
                out.write_all(b"h\r\n").map_err(|e| Error::Invalid(e.to_string()))?;
                std::future::pending().await
            })
        })
        .await;
        assert_eq!(cancelled.unwrap(), None);
        assert!(files().is_empty(), "{:?}", files());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn an_export_and_its_partial_file_are_0600_in_a_0700_folder() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        // GATEHOUSE_EXPORT_DIR may name a folder that does not exist yet.
        let dir = root.path().join("exports");
        let path = dir.join("out.csv");
        let partial = partial_path(&path);
        let seen = Arc::new(Mutex::new(None));
        let (seen_there, writing) = (seen.clone(), partial.clone());
        let done = write_whole(&path, &Notify::new(), move |out| {
            Box::pin(async move {
                out.write_all(b"h\r\nrow\r\n").map_err(|e| Error::Invalid(e.to_string()))?;
                *seen_there.lock().unwrap() = Some(std::fs::metadata(&writing).unwrap().permissions().mode() & 0o777);
                Ok(1)
            })
        })
        .await;
        assert_eq!(done.unwrap(), Some(1));
        assert_eq!(*seen.lock().unwrap(), Some(0o600), "the .part file while it is written");
        assert_eq!((mode(&dir), mode(&path)), (0o700, 0o600));
        // A folder that exists keeps its mode (it is the admin's, e.g. Downloads); a stale
        // world-readable .part of an earlier run is not reused as it was.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let again = dir.join("again.csv");
        let partial = partial_path(&again);
        std::fs::write(&partial, b"stale").unwrap();
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_whole(&again, &Notify::new(), |out| Box::pin(async move { out.write_all(b"h\r\n").map(|()| 0).map_err(|e| Error::Invalid(e.to_string())) })).await.unwrap();
        assert_eq!((mode(&dir), mode(&again), std::fs::read(&again).unwrap()), (0o755, 0o600, b"h\r\n".to_vec()));
    }

    #[test]
    fn export_file_names() {
        let at = chrono::TimeZone::with_ymd_and_hms(&chrono::Local, 2026, 3, 1, 9, 5, 7).unwrap();
        assert_eq!(default_name(at), "gatehouse-activity-20260301-090507.csv");
        assert_eq!(partial_path(Path::new("/tmp/a b/x.csv")), Path::new("/tmp/a b/x.csv.part"));
        assert_eq!(partial_path(Path::new("/tmp/no-extension")), Path::new("/tmp/no-extension.part"));
    }
}
