//! The Gatehouse desktop shell: thin Tauri commands over gatehouse-client.
//!
//! Each command is declared once, in `app_commands!` below; that one declaration
//! registers it with Tauri and describes it to the TypeScript binding generator
//! (bindings.rs), and a test checks it against the capability manifest (build.rs).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod account;
mod activity;
mod bindings;
mod commands;
mod connections;
mod error;
mod local_copy;
mod sync;

pub use activity::{ActivityExportStatus, ActivitySettings};
pub use gatehouse_client::ActivityPage;
pub use bindings::typescript_bindings;
pub use commands::{AppState, CachedUserPage, CurrentSession, ExportStatus, LogoutStatus, SessionInfo, SignInArgs, TotpSetup};
pub use connections::SavedConnection;
pub use error::{IpcError, IpcErrorCode};

use gatehouse_client::api::{
    AuditEventQuery, Histogram, HistogramBucket, ApiKey, BulkRequest, ImportReport, Invitation, InvitationLink, InvitationPage, InvitationStatus, InvitationsCreated, MailMessage, NewInvitations, PasswordResetSent, BulkResponse, CreatedApiKey, Directory, Group, LoginAttemptPage, LoginAttemptQuery, NewGroup, NewRole, NewUser, Organization, OrganizationPatch, OutboxAction, OutboxEntry,
    Resolution, Revocation, Role, RolePatch, Secret, SessionPage, SessionQuery, SignInUnlocked, SteppedUp, SyncStatus, User, UserListQuery, UserPatch,
};
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
                    #[allow(unused_variables)] $state: State<'_, AppState>,
                    $($arg: $ty),*
                ) -> Result<$ret, IpcError> {
                    #[allow(unused_variables)]
                    let $state: &AppState = &$state;
                    // How long each command took, for `GATEHOUSE_LOG=gatehouse_app=debug`
                    // (never its arguments or result: they may hold secrets).
                    let started = std::time::Instant::now();
                    let result: Result<$ret, IpcError> = async { $body }.await;
                    tracing::debug!(command = stringify!($name), ms = started.elapsed().as_secs_f64() * 1000.0, ok = result.is_ok(), "ipc");
                    result
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
    /// changes are kept for the next sign-in, or dropped with `discard_pending`;
    /// `remove_copy` also deletes this computer's copy of the organization (kept changes stay).
    sign_out(discard_pending: bool, remove_copy: bool) -> () => commands::sign_out(state, discard_pending, remove_copy).await;
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
    /// Sends a queued change now (a refused one is put back first); null once the server
    /// confirmed it, else the change as it waits. A refusal rejects with the server's code
    /// and the change stays in the queue, refused.
    send_change(seq: u32) -> Option<OutboxEntry> => account::send_change(state, seq).await;
    /// Roles and departments from the local copy (readable offline).
    directory() -> Directory => commands::directory(state).await;
    /// Queues a deactivation, reactivation or removal: shown at once, sent when online.
    user_action(user_id: String, action: OutboxAction) -> OutboxEntry => commands::user_action(state, user_id, action).await;
    /// Creates a user on the server (needs a connection: the password is never stored here).
    create_user(user: NewUser) -> User => commands::create_user(state, user).await;
    /// Uploads a user's picture (PNG, JPEG, GIF or WebP, at most 512 KiB).
    upload_avatar(user_id: String, image: Vec<u8>) -> User => commands::upload_avatar(state, user_id, image).await;
    /// A user's uploaded picture as a `data:` URL, or null when there is none.
    avatar(user_id: String) -> Option<String> => commands::avatar(state, user_id).await;
    /// Applies one action to many users on the server; a result per user.
    bulk_action(request: BulkRequest) -> BulkResponse => commands::bulk_action(state, request).await;
    /// The organization's settings and seat usage.
    organization() -> Organization => commands::organization(state).await;
    /// Changes the organization's settings.
    update_organization(patch: OrganizationPatch) -> Organization => commands::update_organization(state, patch).await;
    /// Every role with its permissions and member count.
    roles() -> Vec<Role> => commands::roles(state).await;
    /// Creates a custom role.
    create_role(role: NewRole) -> Role => commands::create_role(state, role).await;
    /// Renames a custom role or changes its permissions.
    update_role(id: String, patch: RolePatch) -> Role => commands::update_role(state, id, patch).await;
    /// Deletes a custom role.
    delete_role(id: String) -> () => commands::delete_role(state, id).await;
    /// Every department and company with its member count.
    groups() -> Vec<Group> => commands::groups(state).await;
    /// Creates a department or company.
    create_group(group: NewGroup) -> Group => commands::create_group(state, group).await;
    /// Renames a department or company.
    rename_group(id: String, name: String) -> Group => commands::rename_group(state, id, name).await;
    /// Deletes a department or company, moving its members to `move_to` if given.
    delete_group(id: String, move_to: Option<String>) -> () => commands::delete_group(state, id, move_to).await;
    /// Starts exporting the filtered list (local copy) to a CSV file in Downloads.
    start_export(query: UserListQuery) -> () => commands::start_export(&app, state, query).await;
    /// How the running or last export went.
    export_status() -> ExportStatus => commands::export_status(state).await;
    /// Force logout: queues it durably, then sends it at once; says whether the server
    /// confirmed it (and when) or it waits, not yet effective.
    force_logout(user_id: String, suspend_api_keys: bool) -> LogoutStatus => commands::force_logout(state, user_id, suspend_api_keys).await;
    /// Where the last force logout of a user stands (queued, refused or confirmed).
    logout_status(user_id: String) -> LogoutStatus => commands::logout_status(state, user_id).await;
    /// Starts enrolling an authenticator app for the signed-in account: a secret to scan.
    start_mfa_enrollment() -> TotpSetup => commands::start_mfa_enrollment(state).await;
    /// Confirms the enrolment with a current code; MFA is on from now.
    confirm_mfa_enrollment(code: String) -> SessionInfo => commands::confirm_mfa_enrollment(&app, state, code).await;
    /// "Forgot password": asks the server to e-mail the address a reset link.
    request_password_reset(server_url: String, email: String) -> () => commands::request_password_reset(server_url, email).await;
    /// E-mails a user a single-use, expiring link to choose a new password.
    reset_password(user_id: String, suspend_api_keys: bool) -> PasswordResetSent => commands::reset_password(state, user_id, suspend_api_keys).await;
    /// Resets a user's MFA: they enrol again; their trusted devices are withdrawn.
    reset_mfa(user_id: String) -> User => commands::reset_mfa(state, user_id).await;
    /// Confirms the signed-in account's password (and TOTP code when enrolled): for a few
    /// minutes it may change its own e-mail, reset its own MFA and create API keys.
    step_up(password: Secret, totp: Option<String>) -> SteppedUp => account::step_up(state, password, totp).await;
    /// Lifts the sign-in lock of a user's address: earlier failed sign-ins stop counting.
    unlock_sign_in(user_id: String) -> SignInUnlocked => account::unlock_sign_in(state, user_id).await;
    /// Invitations from the local copy (readable offline), newest first, with counts.
    list_invitations(status: Option<InvitationStatus>, q: Option<String>) -> InvitationPage => commands::list_invitations(state, status, q).await;
    /// Invites one or many addresses (online); each gets an e-mail and takes a seat.
    invite(invitations: NewInvitations) -> InvitationsCreated => commands::invite(state, invitations).await;
    /// Sends an invitation again with a new link and expiry; older links stop working.
    resend_invitation(id: String) -> Invitation => commands::resend_invitation(state, id).await;
    /// Withdraws an invitation: its link stops working and its seat is freed.
    revoke_invitation(id: String) -> Invitation => commands::revoke_invitation(state, id).await;
    /// An invitation's link, to share by another channel (it is never stored here).
    invitation_link(id: String) -> InvitationLink => commands::invitation_link(state, id).await;
    /// Checks a CSV file of people to invite, row by row; nothing is sent.
    validate_invitation_csv(csv: String) -> ImportReport => commands::validate_invitation_csv(state, csv).await;
    /// Invites every row of a CSV file when all are valid (one batch; `idempotency_key`
    /// makes a retry of the same batch safe).
    import_invitations(csv: String, idempotency_key: String) -> ImportReport => commands::import_invitations(state, csv, idempotency_key).await;
    /// A demo server's outgoing mail (the messages a real relay would deliver).
    dev_mailbox() -> Vec<MailMessage> => commands::dev_mailbox(state).await;
    /// One page of the organization's sessions (live from the server).
    list_sessions(query: SessionQuery) -> SessionPage => commands::list_sessions(state, query).await;
    /// One page of a user's sessions (live from the server).
    user_sessions(user_id: String, query: SessionQuery) -> SessionPage => commands::user_sessions(state, user_id, query).await;
    /// Revokes one session; its next request is refused. Repeats answer with the original time.
    revoke_session(session_id: String) -> Revocation => commands::revoke_session(state, session_id).await;
    /// One page of login attempts, filtered (live from the server).
    login_attempts(query: LoginAttemptQuery) -> LoginAttemptPage => commands::login_attempts(state, query).await;
    /// A user's API keys, newest first, without their secrets.
    api_keys(user_id: String) -> Vec<ApiKey> => commands::api_keys(state, user_id).await;
    /// Creates an API key, limited to `role` when given (`scim`: a provisioning key); the
    /// answer carries its secret, to be shown once and never stored.
    create_api_key(user_id: String, name: String, expires_in_days: Option<u32>, role: Option<String>) -> CreatedApiKey => commands::create_api_key(state, user_id, name, expires_in_days, role).await;
    /// Suspends (true) or restores (false) an API key.
    set_api_key_suspended(key_id: String, suspended: bool) -> ApiKey => commands::set_api_key_suspended(state, key_id, suspended).await;
    /// One page of the activity log, newest first: from the server, or from the cached
    /// window when it cannot be reached (`offline`; `beyond_window` when older events
    /// need a connection). A `user_id` alone reads the user's timeline.
    activity(query: AuditEventQuery) -> ActivityPage => activity::activity(state, query).await;
    /// Matching events per hour or day, every bucket present, oldest first (offline: the
    /// part inside the cached window).
    activity_histogram(query: AuditEventQuery, bucket: HistogramBucket) -> Histogram => activity::histogram(state, query, bucket).await;
    /// Asks where to save (native dialog), then exports the filtered log from the server
    /// as CSV; the chosen path, or null when the dialog was cancelled.
    start_activity_export(query: AuditEventQuery) -> Option<String> => activity::start_export(&app, state, query).await;
    /// How the running or last activity export went.
    activity_export_status() -> ActivityExportStatus => activity::export_status(state).await;
    /// Stops the running activity export; its partial file is deleted.
    cancel_activity_export() -> () => activity::cancel_export(state).await;
    /// How many days of activity are kept for reading offline, and what is cached.
    activity_settings() -> ActivitySettings => activity::settings(state).await;
    /// Keeps `days` (1–365) of activity for reading offline.
    set_activity_window(days: u32) -> ActivitySettings => activity::set_window(state, days).await;
}

/// Starts the app.
pub fn run() {
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        // Used from Rust only (the activity export's Save dialog): no UI permission.
        .plugin(tauri_plugin_dialog::init())
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
    let file = app.path().app_log_dir().ok().and_then(|dir| open_log(&dir));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false);
    let _ = match file {
        Some(file) => builder.with_writer(std::io::stderr.and(std::sync::Mutex::new(file))).try_init(),
        None => builder.with_writer(std::io::stderr).try_init(),
    };
}

/// `gatehouse.log` in `dir`, appended to: 0600 in a 0700 directory (it names the
/// organization's people and servers). `None` when it cannot be written: then stderr only.
fn open_log(dir: &std::path::Path) -> Option<std::fs::File> {
    use gatehouse_client::private_files;
    private_files::create_private_dir(dir).and_then(|()| private_files::append_private_file(&dir.join("gatehouse.log"))).ok()
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_log_is_0600_in_a_0700_directory() {
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("dev.gatehouse.app/logs");
        drop(super::open_log(&dir).expect("a log file"));
        assert_eq!((mode(&dir), mode(&dir.join("gatehouse.log"))), (0o700, 0o600));
        // One of an older version, readable by all, is tightened and appended to.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.join("gatehouse.log"), "old\n").unwrap();
        std::fs::set_permissions(dir.join("gatehouse.log"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::io::Write::write_all(&mut super::open_log(&dir).unwrap(), b"new\n").unwrap();
        assert_eq!((mode(&dir), mode(&dir.join("gatehouse.log"))), (0o700, 0o600));
        assert_eq!(std::fs::read_to_string(dir.join("gatehouse.log")).unwrap(), "old\nnew\n");
    }
}
