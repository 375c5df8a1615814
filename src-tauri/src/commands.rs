//! What each command does; thin calls into gatehouse-client. Registered, and exported
//! to TypeScript, by `app_commands!` in lib.rs.

use crate::connections::{self, SavedConnection};
use crate::error::{IpcError, IpcErrorCode};
use gatehouse_client::api::{Me, OrganizationRef, Secret, UserListQuery, UserPage};
use gatehouse_client::{Client, ClientOptions, Error, KeyringTokenStore, TokenStore, keyring_store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tauri::{AppHandle, Runtime};
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
}

/// The signed-in account, as the UI shows it.
#[derive(Debug, Clone, Serialize, TS)]
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
}

/// The app's state: at most one signed-in connection for now.
#[derive(Default)]
pub struct AppState {
    active: Mutex<Option<Active>>,
}

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
        server_url: client.key().server_url.clone(),
        email: me.user.email,
        user_id: me.user.id,
        display_name: me.user.display_name,
        organization: me.organization,
        permissions: me.permissions,
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
    if let Err(Error::InvalidServerUrl(msg)) = gatehouse_client::parse_server_url(&args.server_url) {
        field_errors.push(IpcError::field("server_url", msg));
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
    let (client, me) = Client::sign_in(&args.server_url, &args.email, args.password, store, &client_options()).await?;
    let info = session_info(&client, me);
    connections::remember(app, &SavedConnection { server_url: info.server_url.clone(), email: info.email.clone() });
    *active = Some(Active { client: Arc::new(client), info: info.clone() });
    tracing::info!(server = %info.server_url, "signed in");
    Ok(info)
}

async fn end_session(active: Active) {
    match active.client.sign_out().await {
        Ok(true) => tracing::info!("signed out"),
        Ok(false) => tracing::warn!("signed out locally; the server could not be told"),
        Err(e) => tracing::warn!(error = %e, "sign-out failed"),
    }
}

pub async fn sign_out(state: &AppState) -> Result<(), IpcError> {
    let Some(active) = state.active.lock().await.take() else { return Ok(()) };
    // Deletes the keyring entry even when the server cannot be told.
    active.client.sign_out().await?;
    Ok(())
}

pub async fn current_session<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> Result<CurrentSession, IpcError> {
    if let Some(active) = state.active.lock().await.as_ref() {
        let last = SavedConnection { server_url: active.info.server_url.clone(), email: active.info.email.clone() };
        return Ok(CurrentSession { session: Some(active.info.clone()), last_connection: Some(last), signed_out_reason: None });
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
    match Client::resume(&conn.server_url, &conn.email, store, &client_options()).await {
        Ok((client, me)) => {
            let info = session_info(&client, me);
            current.session = Some(info.clone());
            current.last_connection = Some(conn);
            *state.active.lock().await = Some(Active { client: Arc::new(client), info });
        }
        Err(Error::NotSignedIn) => {}
        Err(e) => {
            current.last_connection = Some(conn);
            current.signed_out_reason = Some(IpcError::from(e).message);
        }
    }
    Ok(current)
}

pub async fn list_users(state: &AppState, query: UserListQuery) -> Result<UserPage, IpcError> {
    let client = match state.active.lock().await.as_ref() {
        Some(active) => active.client.clone(),
        None => return Err(IpcError::new(IpcErrorCode::NotSignedIn, "Sign in to continue.")),
    };
    match client.list_users(&query).await {
        Ok(page) => Ok(page),
        Err(e @ Error::SessionExpired { .. }) => {
            state.active.lock().await.take();
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}
