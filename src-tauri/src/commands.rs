//! What each command does; thin calls into gatehouse-client. Registered, and exported
//! to TypeScript, by `app_commands!` in lib.rs.

use crate::connections::{self, SavedConnection};
use crate::error::{IpcError, IpcErrorCode};
use crate::local_copy;
use crate::sync::Worker;
use gatehouse_client::api::{
    ApiKey, BulkRequest, ImportReport, Invitation, InvitationLink, InvitationPage, InvitationStatus, InvitationsCreated, MailMessage, NewInvitations, PasswordResetSent, BulkResponse, CreatedApiKey, Directory, ForcedLogout, NewApiKey, Group, LoginAttemptPage, LoginAttemptQuery, Revocation, SessionPage, SessionQuery, GroupPatch, Me, NewGroup, NewRole, NewUser, Organization, OrganizationPatch,
    OrganizationRef, OutboxAction, OutboxEntry, OutboxState, Resolution, Role, RolePatch, Secret, SyncStatus, User, UserCounts,
    UserListQuery, UserPatch,
};
use gatehouse_client::{Cache, Client, ClientOptions, Error, KeyringTokenStore, TokenStore, keyring_store};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::Mutex;
use ts_rs::TS;

/// What the sign-in form sends.
#[derive(Debug, Deserialize, TS)]
pub struct SignInArgs {
    /// Server base URL as typed.
    pub server_url: String,
    /// Account e-mail.
    pub email: String,
    /// Password; redacted in every `Debug` output.
    pub password: Secret,
    /// The current TOTP code, when the account has MFA (asked for after `mfa_required`).
    #[serde(default)]
    #[ts(optional)]
    pub totp: Option<String>,
}

/// The signed-in account, as the UI shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct SessionInfo {
    /// Server base URL.
    pub server_url: String,
    /// Account e-mail.
    pub email: String,
    /// Account id.
    pub user_id: String,
    /// Account display name.
    pub display_name: String,
    /// The account's organization.
    pub organization: OrganizationRef,
    /// Permission keys, for hiding what the account may not do.
    pub permissions: Vec<String>,
    /// The organization requires MFA and the account has none: the app shows only the
    /// enrolment until it is done.
    #[serde(default)]
    pub mfa_enrollment_required: bool,
    /// The account has an authenticator: confirming the password asks for its code too.
    /// (A session cached by an older version reads as without, and the server asks.)
    #[serde(default)]
    pub mfa_enabled: bool,
    /// The account holds the Owner role, which outranks an Admin with the same
    /// permissions: the UI mirrors the server's rule with it.
    #[serde(default)]
    pub owner: bool,
}

/// A new TOTP secret to put in an authenticator app (shown once, never stored here).
#[derive(Debug, Clone, Serialize, TS)]
pub struct TotpSetup {
    /// The base32 secret, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
    /// Digits per code.
    pub digits: u32,
    /// Seconds per code.
    pub period: u32,
}

/// What the app starts with.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CurrentSession {
    /// The resumed session, if the keyring held a live one.
    pub session: Option<SessionInfo>,
    /// Where to sign in: the last connection, or the one the app was started for.
    pub last_connection: Option<SavedConnection>,
    /// Why a stored session could not be resumed, for the sign-in screen.
    pub signed_out_reason: Option<String>,
}

struct Active {
    client: Arc<Client>,
    info: SessionInfo,
    cache: Cache,
    worker: Worker,
}

/// A page of users from the local copy, with the outbox state of those with queued edits.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CachedUserPage {
    /// Users, ordered by display name, then id.
    pub items: Vec<User>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
    /// Count badges.
    pub counts: UserCounts,
    /// Users with queued edits: pending, conflict or failed.
    pub local: HashMap<String, OutboxState>,
}

/// The app's state: at most one signed-in connection for now.
#[derive(Default)]
pub struct AppState {
    active: Mutex<Option<Active>>,
    /// A session that must enrol MFA before it may do anything: no cache, no sync yet.
    enrolling: Mutex<Option<(Client, SessionInfo)>>,
}

/// The permission to read the activity log.
const AUDIT_READ: &str = "audit.read";

/// The key of the built-in role that outranks every other (the server's `policy::OWNER_ROLE`).
const OWNER_ROLE: &str = "owner";

fn client_options() -> ClientOptions {
    ClientOptions {
        user_agent: format!("gatehouse-desktop/{} ({})", env!("CARGO_PKG_VERSION"), gatehouse_client::os_name()),
        ..ClientOptions::default()
    }
}

fn token_store() -> Result<Arc<dyn TokenStore>, IpcError> {
    keyring_store::use_platform_store()?;
    Ok(Arc::new(KeyringTokenStore))
}

fn session_info(client: &Client, me: Me) -> SessionInfo {
    SessionInfo {
        mfa_enabled: me.user.mfa_enabled,
        owner: me.user.roles.iter().any(|r| r.key == OWNER_ROLE),
        server_url: client.key().server_url.clone(),
        email: me.user.email,
        user_id: me.user.id,
        display_name: me.user.display_name,
        organization: me.organization,
        permissions: me.permissions,
        mfa_enrollment_required: me.mfa_enrollment_required,
    }
}

/// The connection the app was started for (`cargo xtask run` sets these).
fn launch_connection() -> Option<SavedConnection> {
    let server_url = std::env::var("GATEHOUSE_SERVER_URL").ok().filter(|s| !s.trim().is_empty())?;
    let email = std::env::var("GATEHOUSE_EMAIL").unwrap_or_default();
    Some(SavedConnection { server_url, email })
}

pub async fn sign_in<R: Runtime>(app: &AppHandle<R>, state: &AppState, args: SignInArgs) -> Result<SessionInfo, IpcError> {
    let mut field_errors = Vec::new();
    // Malformed, or plain http:// to another computer: both are the server URL's fault.
    if let Err(e @ (Error::InvalidServerUrl(_) | Error::InsecureUrl(_))) = gatehouse_client::check_server_url(&args.server_url, client_options().allow_insecure_http) {
        field_errors.push(IpcError::from(e));
    }
    if !args.email.contains('@') {
        field_errors.push(IpcError::field("email", "Enter your e-mail address."));
    }
    if args.password.expose().is_empty() {
        field_errors.push(IpcError::field("password", "Enter your password."));
    }
    if let Some(first) = field_errors.into_iter().next() {
        return Err(first);
    }
    let store = token_store()?;
    let mut active = state.active.lock().await;
    if let Some(previous) = active.take() {
        end_session(previous).await;
    }
    if let Some((previous, _)) = state.enrolling.lock().await.take() {
        let _ = previous.sign_out().await;
    }
    let (client, me) = Client::sign_in(&args.server_url, &args.email, args.password, args.totp, store, &client_options()).await?;
    let info = session_info(&client, me);
    connections::remember(app, &SavedConnection { server_url: info.server_url.clone(), email: info.email.clone() });
    if info.mfa_enrollment_required {
        tracing::info!(server = %info.server_url, "signed in; MFA enrolment required first");
        *state.enrolling.lock().await = Some((client, info.clone()));
        return Ok(info);
    }
    *active = Some(activate(app, client, info.clone()).await?);
    tracing::info!(server = %info.server_url, "signed in");
    Ok(info)
}

/// Opens the connection's cache and starts its sync worker.
async fn activate<R: Runtime>(app: &AppHandle<R>, client: Client, info: SessionInfo) -> Result<Active, IpcError> {
    let cache = Cache::open(&local_copy::cache_path(app, &info.server_url, &info.email)?).await?;
    // Kept so the app can open on this account offline (nothing secret in it).
    if let Ok(json) = serde_json::to_string(&info) {
        cache.set_meta("session", &json).await?;
    }
    let last = cache.meta("last_synced_at").await?;
    let client = Arc::new(client);
    // The activity window is cached only for accounts that may read the log.
    let activity = info.permissions.iter().any(|p| p == AUDIT_READ);
    let worker = Worker::start(client.clone(), cache.clone(), last, activity);
    Ok(Active { client, info, cache, worker })
}

async fn end_session(active: Active) {
    drop(active.worker);
    // Before another session may open this connection's cache again.
    local_copy::remove_if_revoked(&active.client, &active.cache).await;
    match active.client.sign_out().await {
        Ok(true) => tracing::info!("signed out"),
        Ok(false) => tracing::warn!("signed out locally; the server could not be told"),
        Err(e) => tracing::warn!(error = %e, "sign-out failed"),
    }
}

/// Signs out; with `remove_copy`, this computer's copy of the organization goes too. Kept
/// changes (`discard_pending` false) survive the removal and go out at the next sign-in.
pub async fn sign_out(state: &AppState, discard_pending: bool, remove_copy: bool) -> Result<(), IpcError> {
    if let Some((client, _)) = state.enrolling.lock().await.take() {
        client.sign_out().await?;
    }
    let Some(active) = state.active.lock().await.take() else { return Ok(()) };
    drop(active.worker);
    if discard_pending {
        let n = active.cache.discard_all().await?;
        tracing::info!(discarded = n, "queued changes discarded at sign-out");
    }
    // Deletes the keyring entry even when the server cannot be told.
    let signed_out = active.client.sign_out().await;
    if remove_copy {
        local_copy::remove(&active.cache, "signed out").await?;
    } else {
        local_copy::remove_if_revoked(&active.client, &active.cache).await;
    }
    signed_out?;
    Ok(())
}

pub async fn current_session<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<CurrentSession, IpcError> {
    if let Some(active) = state.active.lock().await.as_ref() {
        let last = SavedConnection { server_url: active.info.server_url.clone(), email: active.info.email.clone() };
        return Ok(CurrentSession { session: Some(active.info.clone()), last_connection: Some(last), signed_out_reason: None });
    }
    if let Some((_, info)) = state.enrolling.lock().await.as_ref() {
        let last = SavedConnection { server_url: info.server_url.clone(), email: info.email.clone() };
        return Ok(CurrentSession { session: Some(info.clone()), last_connection: Some(last), signed_out_reason: None });
    }
    let saved = connections::last(app);
    let launch = launch_connection();
    // A launch target for another server wins over the saved one (and is not resumed).
    let resumable = match (&saved, &launch) {
        (Some(s), Some(l)) if gatehouse_client::ConnectionKey::new(&s.server_url, "").server_url
            != gatehouse_client::ConnectionKey::new(&l.server_url, "").server_url => None,
        (Some(s), _) => Some(s.clone()),
        (None, _) => None,
    };
    let prefill = launch.clone().map(|l| SavedConnection { email: if l.email.is_empty() { saved.as_ref().map(|s| s.email.clone()).unwrap_or_default() } else { l.email }, ..l }).or(saved);
    let mut current = CurrentSession { session: None, last_connection: prefill, signed_out_reason: None };
    let Some(conn) = resumable else { return Ok(current) };
    let store = match token_store() {
        Ok(s) => s,
        Err(e) => {
            current.signed_out_reason = Some(e.message);
            return Ok(current);
        }
    };
    let client = match Client::restore(&conn.server_url, &conn.email, store, &client_options()).await {
        Ok(client) => client,
        Err(Error::NotSignedIn) => return Ok(current),
        Err(e) => {
            current.last_connection = Some(conn);
            current.signed_out_reason = Some(IpcError::from(e).message);
            return Ok(current);
        }
    };
    let info = match client.me().await {
        Ok(me) => session_info(&client, me),
        Err(e) if client.session_revoked() => {
            local_copy::remove_closed(app, &conn.server_url, &conn.email).await;
            current.last_connection = Some(conn);
            current.signed_out_reason = Some(IpcError::from(e).message);
            return Ok(current);
        }
        // Offline: open on the account as last seen; the worker signs in when it can.
        Err(e @ (Error::Unreachable { .. } | Error::Protocol(_))) => {
            let cached = Cache::open(&local_copy::cache_path(app, &conn.server_url, &conn.email)?).await?.meta("session").await?;
            match cached.and_then(|json| serde_json::from_str::<SessionInfo>(&json).ok()) {
                Some(info) => info,
                None => {
                    current.last_connection = Some(conn);
                    current.signed_out_reason = Some(IpcError::from(e).message);
                    return Ok(current);
                }
            }
        }
        Err(e) => {
            current.last_connection = Some(conn);
            current.signed_out_reason = Some(IpcError::from(e).message);
            return Ok(current);
        }
    };
    current.session = Some(info.clone());
    current.last_connection = Some(conn);
    if info.mfa_enrollment_required {
        *state.enrolling.lock().await = Some((client, info));
        return Ok(current);
    }
    *state.active.lock().await = Some(activate(app, client, info).await?);
    Ok(current)
}

fn not_signed_in() -> IpcError {
    IpcError::new(IpcErrorCode::NotSignedIn, "Sign in to continue.")
}

/// The active connection's client, cache and worker state, for the command modules.
pub(crate) async fn active_connection(state: &AppState) -> Result<(Arc<Client>, Cache, Arc<crate::sync::Shared>), IpcError> {
    match state.active.lock().await.as_ref() {
        Some(active) => Ok((active.client.clone(), active.cache.clone(), active.worker.shared.clone())),
        None => Err(not_signed_in()),
    }
}

/// Runs `f` on the active connection's cache.
async fn with_cache<T, F, Fut>(state: &AppState, f: F) -> Result<T, IpcError>
where
    F: FnOnce(Cache, Arc<crate::sync::Shared>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let (cache, shared) = match state.active.lock().await.as_ref() {
        Some(active) => (active.cache.clone(), active.worker.shared.clone()),
        None => return Err(not_signed_in()),
    };
    Ok(f(cache, shared).await?)
}

pub async fn list_users(state: &AppState, query: UserListQuery) -> Result<CachedUserPage, IpcError> {
    with_cache(state, |cache, _| async move {
        let page = cache.list_users(&query).await?;
        let ids: Vec<&str> = page.items.iter().map(|u| u.id.as_str()).collect();
        let local = cache.local_states(&ids).await?;
        Ok(CachedUserPage { items: page.items, next_cursor: page.next_cursor, counts: page.counts, local })
    })
    .await
}

pub async fn sync_status(state: &AppState) -> Result<SyncStatus, IpcError> {
    match state.active.lock().await.as_ref() {
        Some(active) => Ok(active.worker.shared.status()),
        None => Err(not_signed_in()),
    }
}

pub async fn sync_now(state: &AppState) -> Result<(), IpcError> {
    with_cache(state, |cache, shared| async move {
        cache.retry_now().await?;
        shared.wake();
        Ok(())
    })
    .await
}

pub async fn update_user(state: &AppState, user_id: String, patch: UserPatch) -> Result<OutboxEntry, IpcError> {
    with_cache(state, |cache, shared| async move {
        let entry = cache.enqueue_user_edit(&user_id, &patch).await?;
        shared.touched();
        shared.wake();
        Ok(entry)
    })
    .await
}

pub async fn outbox(state: &AppState) -> Result<Vec<OutboxEntry>, IpcError> {
    with_cache(state, |cache, _| async move { cache.outbox().await }).await
}

pub async fn settle_change(state: &AppState, seq: u32, resolution: Resolution) -> Result<(), IpcError> {
    with_cache(state, |cache, shared| async move {
        cache.settle(i64::from(seq), &resolution).await?;
        shared.touched();
        shared.wake();
        Ok(())
    })
    .await
}

pub async fn discard_change(state: &AppState, seq: u32) -> Result<(), IpcError> {
    with_cache(state, |cache, shared| async move {
        cache.discard(i64::from(seq)).await?;
        shared.touched();
        shared.wake();
        Ok(())
    })
    .await
}

/// Runs `f` with the active connection's client, then wakes the sync worker so what the
/// server changed reaches the local copy at once.
async fn with_client<T, F, Fut>(state: &AppState, f: F) -> Result<T, IpcError>
where
    F: FnOnce(Arc<Client>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let (client, shared) = match state.active.lock().await.as_ref() {
        Some(active) => (active.client.clone(), active.worker.shared.clone()),
        None => return Err(not_signed_in()),
    };
    let result = f(client).await;
    shared.wake();
    Ok(result?)
}

pub async fn directory(state: &AppState) -> Result<Directory, IpcError> {
    with_cache(state, |cache, _| async move { cache.directory().await }).await
}

pub async fn user_action(state: &AppState, user_id: String, action: OutboxAction) -> Result<OutboxEntry, IpcError> {
    with_cache(state, |cache, shared| async move {
        let entry = cache.enqueue_user_action(&user_id, action).await?;
        shared.touched();
        shared.wake();
        Ok(entry)
    })
    .await
}

pub async fn create_user(state: &AppState, user: NewUser) -> Result<User, IpcError> {
    // One key per dialog submission: a retry after a lost answer creates nobody twice.
    let key = uuid::Uuid::now_v7().to_string();
    with_client(state, |client| async move { Ok(client.create_user(&user, &key).await?.value) }).await
}

pub async fn upload_avatar(state: &AppState, user_id: String, image: Vec<u8>) -> Result<User, IpcError> {
    // Checked here too, so a wrong file is refused before it crosses the network.
    let Some(kind) = gatehouse_api::image_type(&image) else {
        return Err(IpcError::field("avatar", "This file is not a PNG, JPEG, GIF or WebP image."));
    };
    if image.len() > gatehouse_api::MAX_AVATAR_BYTES {
        return Err(IpcError::field("avatar", format!("A picture is at most {} KiB; choose a smaller one.", gatehouse_api::MAX_AVATAR_BYTES / 1024)));
    }
    with_client(state, |client| async move { Ok(client.upload_avatar(&user_id, &image, kind).await?.value) }).await
}

pub async fn avatar(state: &AppState, user_id: String) -> Result<Option<String>, IpcError> {
    use base64::Engine;
    with_client(state, |client| async move {
        Ok(client.avatar(&user_id).await?.and_then(|(kind, bytes)| {
            // Only what the server accepted as a picture is shown (img-src allows data:).
            let kind = gatehouse_api::image_type(&bytes).filter(|sniffed| kind.starts_with(sniffed))?;
            Some(format!("data:{kind};base64,{}", base64::engine::general_purpose::STANDARD.encode(&bytes)))
        }))
    })
    .await
}

pub async fn bulk_action(state: &AppState, request: BulkRequest) -> Result<BulkResponse, IpcError> {
    let key = uuid::Uuid::now_v7().to_string();
    with_client(state, |client| async move { client.bulk(&request, &key).await }).await
}

/// Where a force logout of one user stands, as the app knows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct LogoutStatus {
    /// The user.
    pub user_id: String,
    /// A force logout not confirmed by the server yet: `pending` (not yet effective: the
    /// user's sessions still work) or `failed` (refused; `last_error` says why).
    pub queued: Option<OutboxEntry>,
    /// The last force logout the server confirmed, with its time.
    pub confirmed: Option<ForcedLogout>,
}

async fn logout_status_of(cache: &Cache, user_id: &str) -> Result<LogoutStatus, Error> {
    Ok(LogoutStatus { user_id: user_id.to_owned(), queued: cache.queued_logout(user_id).await?, confirmed: cache.logout_confirmation(user_id).await? })
}

pub async fn force_logout(state: &AppState, user_id: String, suspend_api_keys: bool) -> Result<LogoutStatus, IpcError> {
    let (client, cache, shared) = match state.active.lock().await.as_ref() {
        Some(active) => (active.client.clone(), active.cache.clone(), active.worker.shared.clone()),
        None => return Err(not_signed_in()),
    };
    // Durable first: if the app dies or the network is down, it is still sent later.
    let entry = cache.enqueue_logout(&user_id, suspend_api_keys).await?;
    // Then at once, ahead of any queued edits.
    let sent = client.send_entry(&cache, entry.seq).await;
    shared.touched();
    shared.wake();
    if let Err(e) = sent {
        // The session ended or the cache failed; the entry stays queued.
        return Err(e.into());
    }
    Ok(logout_status_of(&cache, &user_id).await?)
}

pub async fn logout_status(state: &AppState, user_id: String) -> Result<LogoutStatus, IpcError> {
    with_cache(state, |cache, _| async move { logout_status_of(&cache, &user_id).await }).await
}

pub async fn list_sessions(state: &AppState, query: SessionQuery) -> Result<SessionPage, IpcError> {
    with_client(state, |client| async move { client.list_sessions(&query).await }).await
}

pub async fn user_sessions(state: &AppState, user_id: String, query: SessionQuery) -> Result<SessionPage, IpcError> {
    with_client(state, |client| async move { client.user_sessions(&user_id, &query).await }).await
}

pub async fn revoke_session(state: &AppState, session_id: String) -> Result<Revocation, IpcError> {
    with_client(state, |client| async move { client.revoke_session(&session_id).await }).await
}

pub async fn api_keys(state: &AppState, user_id: String) -> Result<Vec<ApiKey>, IpcError> {
    with_client(state, |client| async move { client.api_keys(&user_id).await }).await
}

/// `role`: limit the key to that role (`scim`: a provisioning key for an identity provider).
pub async fn create_api_key(
    state: &AppState,
    user_id: String,
    name: String,
    expires_in_days: Option<u32>,
    role: Option<String>,
) -> Result<CreatedApiKey, IpcError> {
    // Checked here too, so a bad name or lifetime is refused before it crosses the network.
    let new = NewApiKey { name, expires_in_days, role };
    if let Some(e) = new.field_errors().into_iter().next() {
        return Err(IpcError::field(&e.field, e.message));
    }
    with_client(state, |client| async move { client.create_api_key(&user_id, &new).await }).await
}

pub async fn set_api_key_suspended(state: &AppState, key_id: String, suspended: bool) -> Result<ApiKey, IpcError> {
    with_client(state, |client| async move { client.set_api_key_suspended(&key_id, suspended).await }).await
}

pub async fn login_attempts(state: &AppState, query: LoginAttemptQuery) -> Result<LoginAttemptPage, IpcError> {
    with_client(state, |client| async move { client.login_attempts(&query).await }).await
}

pub async fn organization(state: &AppState) -> Result<Organization, IpcError> {
    with_client(state, |client| async move { client.organization().await }).await
}

pub async fn update_organization(state: &AppState, patch: OrganizationPatch) -> Result<Organization, IpcError> {
    with_client(state, |client| async move { client.update_organization(&patch).await }).await
}

pub async fn roles(state: &AppState) -> Result<Vec<Role>, IpcError> {
    with_client(state, |client| async move { client.roles().await }).await
}

pub async fn create_role(state: &AppState, role: NewRole) -> Result<Role, IpcError> {
    with_client(state, |client| async move { client.create_role(&role).await }).await
}

pub async fn update_role(state: &AppState, id: String, patch: RolePatch) -> Result<Role, IpcError> {
    with_client(state, |client| async move { client.update_role(&id, &patch).await }).await
}

pub async fn delete_role(state: &AppState, id: String) -> Result<(), IpcError> {
    with_client(state, |client| async move { client.delete_role(&id).await }).await
}

pub async fn groups(state: &AppState) -> Result<Vec<Group>, IpcError> {
    with_client(state, |client| async move { client.groups().await }).await
}

pub async fn create_group(state: &AppState, group: NewGroup) -> Result<Group, IpcError> {
    with_client(state, |client| async move { client.create_group(&group).await }).await
}

pub async fn rename_group(state: &AppState, id: String, name: String) -> Result<Group, IpcError> {
    with_client(state, |client| async move { client.rename_group(&id, &GroupPatch { name }).await }).await
}

pub async fn delete_group(state: &AppState, id: String, move_to: Option<String>) -> Result<(), IpcError> {
    with_client(state, |client| async move { client.delete_group(&id, move_to.as_deref()).await }).await
}

/// Where an export stands, for the progress bar.
#[derive(Debug, Clone, Default, Serialize, TS)]
pub struct ExportStatus {
    /// An export is being written.
    pub running: bool,
    /// Users written so far.
    pub done: u32,
    /// Users to write.
    pub total: u32,
    /// The finished file.
    pub path: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

static EXPORT: std::sync::Mutex<Option<ExportStatus>> = std::sync::Mutex::new(None);

fn set_export(f: impl FnOnce(&mut ExportStatus)) {
    let mut guard = EXPORT.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(ExportStatus::default));
}

/// Starts writing the filtered list from the local copy to a CSV file in the Downloads
/// folder; `export_status` follows it. The file appears whole or not at all.
pub async fn start_export<R: Runtime>(app: &AppHandle<R>, state: &AppState, query: UserListQuery) -> Result<(), IpcError> {
    let cache = match state.active.lock().await.as_ref() {
        Some(active) => active.cache.clone(),
        None => return Err(not_signed_in()),
    };
    if EXPORT.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|s| s.running) {
        return Err(IpcError::new(IpcErrorCode::Invalid, "An export is already running."));
    }
    let dir = app.path().download_dir().or_else(|_| app.path().home_dir()).map_err(|e| IpcError::new(IpcErrorCode::Internal, e.to_string()))?;
    let name = format!("gatehouse-users-{}.csv", chrono::Local::now().format("%Y%m%d-%H%M%S"));
    let path = dir.join(name);
    set_export(|s| *s = ExportStatus { running: true, ..ExportStatus::default() });
    tauri::async_runtime::spawn(async move {
        // Not cancellable: the local copy is written in seconds.
        let never = tokio::sync::Notify::new();
        let result = crate::activity::write_whole(&path, &never, |out| {
            Box::pin(async move {
                let n = cache.export_csv(&query, out, |done, total| set_export(|s| (s.done, s.total) = (done, total))).await?;
                Ok(u64::from(n))
            })
        })
        .await;
        match result {
            Ok(_) => set_export(|s| {
                s.running = false;
                s.path = Some(path.display().to_string());
            }),
            Err(e) => set_export(|s| {
                s.running = false;
                s.error = Some(IpcError::from(e).message);
            }),
        }
    });
    Ok(())
}

pub async fn export_status(state: &AppState) -> Result<ExportStatus, IpcError> {
    if state.active.lock().await.is_none() {
        return Err(not_signed_in());
    }
    Ok(EXPORT.lock().unwrap_or_else(|p| p.into_inner()).clone().unwrap_or_default())
}

/// Starts enrolling an authenticator for the signed-in account (also a session that must
/// enrol before anything else).
pub async fn start_mfa_enrollment(state: &AppState) -> Result<TotpSetup, IpcError> {
    let enrollment = if let Some((client, _)) = state.enrolling.lock().await.as_ref() {
        client.start_totp().await?
    } else {
        with_client(state, |client| async move { client.start_totp().await }).await?
    };
    Ok(TotpSetup {
        secret: enrollment.secret.into_inner(),
        otpauth_uri: enrollment.otpauth_uri.into_inner(),
        digits: enrollment.digits,
        period: enrollment.period,
    })
}

/// Confirms the enrolment with a current code. A session that had to enrol becomes a full
/// one: its cache opens and sync starts.
pub async fn confirm_mfa_enrollment<R: Runtime>(app: &AppHandle<R>, state: &AppState, code: String) -> Result<SessionInfo, IpcError> {
    if code.trim().is_empty() {
        return Err(IpcError::field("code", "Enter the 6-digit code the authenticator app shows."));
    }
    let mut enrolling = state.enrolling.lock().await;
    if let Some((client, info)) = enrolling.as_ref() {
        // Already enrolled when an earlier activation failed: only that is retried.
        if info.mfa_enrollment_required {
            client.confirm_totp(&code).await?;
        }
        let info = SessionInfo { mfa_enrollment_required: false, mfa_enabled: true, ..info.clone() };
        let Some((client, _)) = enrolling.take() else { return Err(not_signed_in()) };
        return match activate(app, client, info.clone()).await {
            Ok(active) => {
                drop(enrolling);
                *state.active.lock().await = Some(active);
                tracing::info!("MFA enrolled; session active");
                Ok(info)
            }
            Err(e) => {
                // The session is not lost: it is rebuilt from the keyring for a retry.
                if let Ok(client) = Client::restore(&info.server_url, &info.email, token_store()?, &client_options()).await {
                    *enrolling = Some((client, info));
                }
                Err(e)
            }
        };
    }
    drop(enrolling);
    with_client(state, |client| async move { client.confirm_totp(&code).await }).await?;
    match state.active.lock().await.as_mut() {
        Some(active) => {
            active.info.mfa_enabled = true;
            Ok(active.info.clone())
        }
        None => Err(not_signed_in()),
    }
}

/// "Forgot password" on the sign-in screen: the server e-mails a reset link if the address
/// has an account (and says the same either way).
pub async fn request_password_reset(server_url: String, email: String) -> Result<(), IpcError> {
    if let Err(Error::InvalidServerUrl(msg)) = gatehouse_client::parse_server_url(&server_url) {
        return Err(IpcError::field("server_url", msg));
    }
    if !email.contains('@') {
        return Err(IpcError::field("email", "Enter the e-mail address you sign in with."));
    }
    Ok(Client::request_password_reset(&server_url, &email, &client_options()).await?)
}

/// E-mails a user a single-use link to choose a new password.
/// With `suspend_api_keys`, the user's working API keys are suspended too.
pub async fn reset_password(state: &AppState, user_id: String, suspend_api_keys: bool) -> Result<PasswordResetSent, IpcError> {
    let key = uuid::Uuid::now_v7().to_string();
    with_client(state, |client| async move { client.reset_password(&user_id, &key, suspend_api_keys).await }).await
}

/// Resets a user's MFA: their authenticator and trusted devices stop working.
pub async fn reset_mfa(state: &AppState, user_id: String) -> Result<User, IpcError> {
    let key = uuid::Uuid::now_v7().to_string();
    with_client(state, |client| async move { client.reset_mfa(&user_id, &key).await }).await
}

/// A demo server's outgoing mail, newest first.
pub async fn dev_mailbox(state: &AppState) -> Result<Vec<MailMessage>, IpcError> {
    with_client(state, |client| async move { client.mailbox().await }).await
}

/// Invitations from the local copy: readable offline; expiry judged by this clock.
pub async fn list_invitations(state: &AppState, status: Option<InvitationStatus>, q: Option<String>) -> Result<InvitationPage, IpcError> {
    with_cache(state, |cache, _| async move { cache.list_invitations(status, q.as_deref(), chrono::Utc::now()).await }).await
}

/// Runs `f` online and stores the invitations it answers in the local copy, so the list
/// shows them before the change feed brings them.
async fn with_invitations<T, F, Fut>(state: &AppState, f: F, of: impl Fn(&T) -> Vec<Invitation>) -> Result<T, IpcError>
where
    F: FnOnce(Arc<Client>) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let cache = state.active.lock().await.as_ref().map(|a| a.cache.clone());
    let value = with_client(state, f).await?;
    if let Some(cache) = cache {
        cache.put_invitations(&of(&value)).await?;
    }
    Ok(value)
}

pub async fn invite(state: &AppState, invitations: NewInvitations) -> Result<InvitationsCreated, IpcError> {
    // One key per dialog submission: a retry after a lost answer e-mails nobody twice.
    let key = uuid::Uuid::now_v7().to_string();
    with_invitations(state, |client| async move { client.invite(&invitations, &key).await }, |c: &InvitationsCreated| c.invitations.clone()).await
}

pub async fn resend_invitation(state: &AppState, id: String) -> Result<Invitation, IpcError> {
    let key = uuid::Uuid::now_v7().to_string();
    with_invitations(state, |client| async move { client.resend_invitation(&id, &key).await }, |i: &Invitation| vec![i.clone()]).await
}

pub async fn revoke_invitation(state: &AppState, id: String) -> Result<Invitation, IpcError> {
    let key = uuid::Uuid::now_v7().to_string();
    with_invitations(state, |client| async move { client.revoke_invitation(&id, &key).await }, |i: &Invitation| vec![i.clone()]).await
}

pub async fn invitation_link(state: &AppState, id: String) -> Result<InvitationLink, IpcError> {
    with_client(state, |client| async move { client.invitation_link(&id).await }).await
}

/// Refuses a CSV the server would refuse anyway before it crosses the network.
fn check_csv_size(csv: &str) -> Result<(), IpcError> {
    if csv.len() > gatehouse_api::MAX_IMPORT_BYTES {
        return Err(IpcError::field("csv", format!("The file is larger than {} MiB; split it into smaller files.", gatehouse_api::MAX_IMPORT_BYTES / (1024 * 1024))));
    }
    Ok(())
}

pub async fn validate_invitation_csv(state: &AppState, csv: String) -> Result<ImportReport, IpcError> {
    check_csv_size(&csv)?;
    with_client(state, |client| async move { client.import_invitations(&csv, true, None).await }).await
}

pub async fn import_invitations(state: &AppState, csv: String, idempotency_key: String) -> Result<ImportReport, IpcError> {
    check_csv_size(&csv)?;
    with_invitations(
        state,
        |client| async move { client.import_invitations(&csv, false, Some(&idempotency_key)).await },
        |r: &ImportReport| r.invitations.clone(),
    )
    .await
}
