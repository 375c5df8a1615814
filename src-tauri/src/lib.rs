//! The Gatehouse desktop shell: thin Tauri commands over gatehouse-client.
//!
//! Each command is declared once, in `app_commands!` below; that one declaration
//! registers it with Tauri and describes it to the TypeScript binding generator
//! (bindings.rs), and a test checks it against the capability manifest (build.rs).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod bindings;
mod commands;
mod connections;
mod error;
mod sync;

pub use bindings::typescript_bindings;
pub use commands::{AppState, CachedUserPage, CurrentSession, SessionInfo, SignInArgs};
pub use connections::SavedConnection;
pub use error::{IpcError, IpcErrorCode};

use gatehouse_client::api::{OutboxEntry, Resolution, SyncStatus, UserListQuery, UserPatch};
use tauri::{AppHandle, Manager, State};

/// Declares the app's commands: `/// doc` `name(arg: Type, …) -> Ret => body;`. The body
/// sees the `AppHandle` and `&AppState` under the names given in `context(app, state);`.
macro_rules! app_commands {
    (context($app:ident, $state:ident);
     $( $(#[doc = $doc:literal])+ $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty => $body:expr; )+) => {
        mod ipc {
            use super::*;
            $(
                $(#[doc = $doc])+
                #[tauri::command]
                pub async fn $name(
                    #[allow(unused_variables)] $app: AppHandle,
                    $state: State<'_, AppState>,
                    $($arg: $ty),*
                ) -> Result<$ret, IpcError> {
                    let $state: &AppState = &$state;
                    $body
                }
            )+
        }

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(ipc::$name),+]
        }

        /// Every command's signature, for the TypeScript generator.
        pub(crate) fn command_signatures(cfg: &ts_rs::Config) -> Vec<bindings::CommandSig> {
            vec![$(
                bindings::CommandSig {
                    name: stringify!($name),
                    doc: concat!($($doc),+).trim().to_owned(),
                    args: vec![$((stringify!($arg), <$ty as ts_rs::TS>::name(cfg))),*],
                    ret: <$ret as ts_rs::TS>::name(cfg),
                },
            )+]
        }

        /// Declarations of every type the commands use (transitively).
        pub(crate) fn command_types(collector: &mut bindings::Collector) {
            collector.add::<IpcError>();
            $( $( collector.add::<$ty>(); )* collector.add::<$ret>(); )+
        }
    };
}

app_commands! {
    context(app, state);
    /// Signs in to a server; the refresh token goes to the OS keyring.
    sign_in(args: SignInArgs) -> SessionInfo => commands::sign_in(&app, state, args).await;
    /// Signs out: revokes the session on the server and deletes the keyring entry. Queued
    /// changes are kept for the next sign-in, or dropped with `discard_pending`.
    sign_out(discard_pending: bool) -> () => commands::sign_out(state, discard_pending).await;
    /// The resumed session, if any, and the last connection to prefill sign-in.
    current_session() -> CurrentSession => commands::current_session(&app, state).await;
    /// One page of the organization's users, from the local copy.
    list_users(query: UserListQuery) -> CachedUserPage => commands::list_users(state, query).await;
    /// Online or not, last sync, sync progress and queued-change counts.
    sync_status() -> SyncStatus => commands::sync_status(state).await;
    /// Syncs and sends queued changes now.
    sync_now() -> () => commands::sync_now(state).await;
    /// Queues an edit of a user: shown at once, sent when the server is reachable.
    update_user(user_id: String, patch: UserPatch) -> OutboxEntry => commands::update_user(state, user_id, patch).await;
    /// The queued changes, oldest first.
    outbox() -> Vec<OutboxEntry> => commands::outbox(state).await;
    /// Settles a conflicted or refused change.
    settle_change(seq: u32, resolution: Resolution) -> () => commands::settle_change(state, seq, resolution).await;
    /// Drops a queued change.
    discard_change(seq: u32) -> () => commands::discard_change(state, seq).await;
}

/// Starts the app.
pub fn run() {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .manage(AppState::default())
        .setup(|app| {
            init_logging(app.handle());
            lighten_webview(app.handle());
            Ok(())
        })
        .invoke_handler(invoke_handler())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("gatehouse: {e}");
        std::process::exit(1);
    }
}

/// The UI is one page of an app, not a browser: WebKit's page and resource caches would
/// only hold memory (SPEC budget: the app with 100 000 users cached).
fn lighten_webview(app: &AppHandle) {
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        let applied = window.with_webview(|webview| {
            use webkit2gtk::{WebContextExt, WebViewExt};
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
            }
        });
        if let Err(e) = applied {
            tracing::warn!("could not tune the web view: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Logs to stderr and to `gatehouse.log` in the app's log directory. Command arguments,
/// request bodies and tokens are never logged.
fn init_logging(app: &AppHandle) {
    use tracing_subscriber::fmt::writer::MakeWriterExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tao=warn,wry=warn"));
    let file = app.path().app_log_dir().ok().and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::OpenOptions::new().create(true).append(true).open(dir.join("gatehouse.log")).ok()
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let _ = match file {
        Some(file) => builder.with_writer(std::io::stderr.and(std::sync::Mutex::new(file))).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}
