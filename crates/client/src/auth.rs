//! The signed-in connection: sign-in, resume, transparent refresh, sign-out.

use crate::error::{Error, Result};
use crate::keyring_store::{ConnectionKey, TokenStore};
use crate::server_url::check_server_url;
use gatehouse_api::{LoginRequest, Me, Problem, RefreshRequest, Secret, TokenResponse, codes};
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use url::Url;

/// Refresh this long before the server would refuse the access token, so a request in
/// flight does not race its expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// Whole-request limit of a streamed answer (an export of millions of events); each read
/// still has the normal timeout.
const STREAM_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

/// How a [`Client`] talks HTTP.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Sent as `User-Agent`; the server shows it as the session's device.
    pub user_agent: String,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request.
    pub timeout: Duration,
    /// Lets plain `http://` reach a server on another computer. Off unless
    /// `GATEHOUSE_ALLOW_INSECURE_HTTP=1` is set ([`crate::ALLOW_INSECURE_HTTP_ENV`]):
    /// only the person starting the app can turn it on.
    pub allow_insecure_http: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            user_agent: format!("gatehouse-client/{} ({})", env!("CARGO_PKG_VERSION"), os_name()),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            allow_insecure_http: crate::server_url::insecure_http_allowed_by_env(),
        }
    }
}

/// The operating system's name as sessions show it.
pub fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

struct AccessToken {
    token: Secret,
    refresh_after: Instant,
}

/// One signed-in connection to a Gatehouse server.
pub struct Client {
    base: Url,
    http: reqwest::Client,
    key: ConnectionKey,
    store: Arc<dyn TokenStore>,
    /// Held across a refresh, so only one refresh token is ever in flight.
    access: Mutex<Option<AccessToken>>,
    /// [`ClientOptions::timeout`], applied per read to streamed answers.
    read_timeout: Duration,
    /// The server said `session_revoked` (revoked, force logout, account deactivated or
    /// removed): the app removes this computer's copy of the organization.
    revoked: AtomicBool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("server", &self.base.as_str()).field("email", &self.key.email).finish_non_exhaustive()
    }
}

impl Client {
    fn new(server_url: &str, email: &str, store: Arc<dyn TokenStore>, options: &ClientOptions) -> Result<Self> {
        let base = check_server_url(server_url, options.allow_insecure_http)?;
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .redirect(crate::server_url::redirect_policy(options.allow_insecure_http))
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .build()
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let key = ConnectionKey::new(base.as_str(), email);
        Ok(Self { base, http, key, store, access: Mutex::new(None), read_timeout: options.timeout, revoked: AtomicBool::new(false) })
    }

    /// Signs in with e-mail and password, and the current TOTP code when the account has
    /// MFA; the refresh token goes to `store`. `Me::mfa_enrollment_required` says when the
    /// organization requires MFA and this session may do nothing before enrolling.
    pub async fn sign_in(
        server_url: &str,
        email: &str,
        password: Secret,
        totp: Option<String>,
        store: Arc<dyn TokenStore>,
        options: &ClientOptions,
    ) -> Result<(Self, Me)> {
        let client = Self::new(server_url, email, store, options)?;
        let totp = totp.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        let body = LoginRequest { email: email.trim().to_owned(), password, totp, trust_device: false, trusted_device_token: None };
        let tokens: TokenResponse = client.send_json(client.request(Method::POST, "v1/auth/login")?.json(&body)).await?;
        client.adopt(tokens).await?;
        let me = client.me().await?;
        Ok((client, me))
    }

    /// "Forgot password", before signing in: asks the server to e-mail a reset link. The
    /// server answers alike whether or not the address has an account.
    pub async fn request_password_reset(server_url: &str, email: &str, options: &ClientOptions) -> Result<()> {
        let client = Self::new(server_url, email, Arc::new(crate::MemoryTokenStore::default()), options)?;
        let body = gatehouse_api::PasswordResetRequest { email: email.trim().to_owned() };
        client.send_raw(client.request(Method::POST, "v1/auth/password-reset")?.json(&body)).await?;
        Ok(())
    }

    /// Resumes a connection from its stored refresh token (at app start).
    pub async fn resume(server_url: &str, email: &str, store: Arc<dyn TokenStore>, options: &ClientOptions) -> Result<(Self, Me)> {
        let client = Self::new(server_url, email, store, options)?;
        let me = client.me().await?;
        Ok((client, me))
    }

    /// A client for a connection whose refresh token `store` holds, without asking the
    /// server anything: the app opens offline with it, and it signs in transparently
    /// once the server answers. `Error::NotSignedIn` when nothing is stored.
    pub async fn restore(server_url: &str, email: &str, store: Arc<dyn TokenStore>, options: &ClientOptions) -> Result<Self> {
        let client = Self::new(server_url, email, store, options)?;
        if client.load_stored().await?.is_none() {
            return Err(Error::NotSignedIn);
        }
        Ok(client)
    }

    pub(crate) fn base_url(&self) -> &Url {
        &self.base
    }

    /// The connection this client is signed in to.
    pub fn key(&self) -> &ConnectionKey {
        &self.key
    }

    /// Whether the server ended this session on purpose (`session_revoked`: a revocation,
    /// a force logout, the account deactivated or removed), as opposed to it expiring.
    /// Stays true once seen: later requests only say "not signed in".
    pub fn session_revoked(&self) -> bool {
        self.revoked.load(Ordering::Acquire)
    }

    /// Signs out: revokes the session on the server, then deletes the stored refresh token
    /// even if the server could not be told. Returns whether the server confirmed.
    pub async fn sign_out(&self) -> Result<bool> {
        let confirmed = match self.send_authed::<()>(Method::POST, "v1/auth/logout", None::<&()>).await {
            Ok(()) => true,
            Err(Error::SessionExpired { .. } | Error::NotSignedIn) => true,
            Err(e) => {
                tracing::warn!(error = %e, "sign-out: the server was not told; the local token is deleted anyway");
                false
            }
        };
        *self.access.lock().await = None;
        self.delete_stored().await?;
        Ok(confirmed)
    }

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<Me> {
        self.get("v1/me").await
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send_authed(Method::GET, path, None::<&()>).await
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let url = self.base.join(path).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(self.http.request(method, url))
    }

    /// Sends a request with a valid access token; refreshes and retries once when the
    /// server says the token expired.
    pub(crate) async fn send_authed<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<&impl Serialize>) -> Result<T> {
        Ok(self.send_authed_with(method, path, body, &[]).await?.0)
    }

    /// [`Self::send_authed`] with extra request headers; also returns the response headers.
    pub(crate) async fn send_authed_with<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        headers: &[(&str, &str)],
    ) -> Result<(T, reqwest::header::HeaderMap)> {
        let body = match body {
            Some(b) => Some((serde_json::to_vec(b).map_err(|e| Error::Protocol(e.to_string()))?, "application/json")),
            None => None,
        };
        let (bytes, headers) = self.send_authed_raw(method, path, body.as_ref().map(|(b, t)| (&b[..], *t)), headers).await?;
        Ok((decode(&bytes)?, headers))
    }

    /// Sends `body` (bytes and their content type) with a valid access token; refreshes
    /// and retries once when the server says the token expired. Returns the successful
    /// answer's bytes and headers; a problem answer is `Error::Api`.
    pub(crate) async fn send_authed_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<(&[u8], &str)>,
        headers: &[(&str, &str)],
    ) -> Result<(bytes::Bytes, reqwest::header::HeaderMap)> {
        self.authed(method, path, body, headers, None, |res| self.read_body(res)).await
    }

    /// A GET whose successful answer is read by the caller as it arrives (a long CSV
    /// export): the same token handling as [`Self::send_authed_raw`], but the body is not
    /// collected and the whole-request timeout gives way to one per read, which the caller
    /// applies with [`Self::read_timeout`].
    pub(crate) async fn get_streamed(&self, path: &str) -> Result<reqwest::Response> {
        self.authed(Method::GET, path, None, &[], Some(STREAM_TIMEOUT), |res| async { Ok(res) }).await
    }

    /// How long one read of a streamed answer may take before the server counts as gone.
    pub(crate) fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// Sends with a valid access token, refreshing and retrying once when the server says
    /// the token expired; `finish` takes the successful answer.
    async fn authed<T, Fut>(
        &self,
        method: Method,
        path: &str,
        body: Option<(&[u8], &str)>,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
        finish: impl Fn(reqwest::Response) -> Fut,
    ) -> Result<T>
    where
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut retried = false;
        // A pooled connection the server closed (it restarted, a proxy timed it out) fails
        // the next request before anything was processed. A request that is safe to repeat
        // (a GET, or one with an Idempotency-Key) gets one more try on a fresh connection.
        let mut resend = method == Method::GET || headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("idempotency-key"));
        loop {
            let token = self.access_token(false).await?;
            let mut req = self.request(method.clone(), path)?.bearer_auth(token.expose());
            for (name, value) in headers {
                req = req.header(*name, *value);
            }
            if let Some((bytes, content_type)) = body {
                req = req.header(reqwest::header::CONTENT_TYPE, content_type).body(bytes.to_vec());
            }
            if let Some(timeout) = timeout {
                req = req.timeout(timeout);
            }
            let answer = match self.send_response(req).await {
                Ok(res) => finish(res).await,
                Err(e) => Err(e),
            };
            match answer {
                Err(Error::Api(p)) if p.code == codes::TOKEN_EXPIRED && !retried => {
                    retried = true;
                    self.access_token(true).await?;
                }
                Err(Error::Api(p)) if p.code == codes::SESSION_REVOKED => return Err(self.session_ended(&p).await),
                Err(Error::Unreachable { .. }) if resend => resend = false,
                other => return other,
            }
        }
    }

    /// A usable access token: the cached one, or a fresh one from the refresh token.
    pub(crate) async fn access_token(&self, force_refresh: bool) -> Result<Secret> {
        let mut guard = self.access.lock().await;
        if let Some(current) = guard.as_ref().filter(|a| !force_refresh && Instant::now() < a.refresh_after) {
            return Ok(current.token.clone());
        }
        let refresh_token = self.load_stored().await?.ok_or(Error::NotSignedIn)?;
        let req = self.request(Method::POST, "v1/auth/refresh")?.json(&RefreshRequest { refresh_token });
        let tokens: TokenResponse = match self.send_json(req).await {
            Ok(t) => t,
            Err(Error::Api(p)) if p.status == 401 => {
                *guard = None;
                return Err(self.forget_session(&p).await);
            }
            Err(e) => return Err(e),
        };
        self.store_refresh(&tokens.refresh_token).await?;
        let token = tokens.access_token.clone();
        *guard = Some(Self::cached(tokens));
        Ok(token)
    }

    async fn adopt(&self, tokens: TokenResponse) -> Result<()> {
        if let Err(e) = self.store_refresh(&tokens.refresh_token).await {
            // Nowhere safe to keep the session: end it rather than leave it orphaned.
            let _ = self.request(Method::POST, "v1/auth/logout")?.bearer_auth(tokens.access_token.expose()).send().await;
            return Err(e);
        }
        *self.access.lock().await = Some(Self::cached(tokens));
        Ok(())
    }

    fn cached(tokens: TokenResponse) -> AccessToken {
        let lifetime = Duration::from_secs(u64::from(tokens.expires_in)).saturating_sub(EXPIRY_MARGIN);
        AccessToken { token: tokens.access_token, refresh_after: Instant::now() + lifetime }
    }

    /// The session is over: forget its tokens and say why.
    pub(crate) async fn session_ended(&self, problem: &Problem) -> Error {
        *self.access.lock().await = None;
        self.forget_session(problem).await
    }

    /// Deletes the stored refresh token of an ended session (the caller clears the cached
    /// access token, possibly under the lock it already holds).
    async fn forget_session(&self, problem: &Problem) -> Error {
        if problem.code == codes::SESSION_REVOKED {
            self.revoked.store(true, Ordering::Release);
        }
        if let Err(e) = self.delete_stored().await {
            return e;
        }
        let reason = match problem.code.as_str() {
            codes::SESSION_REVOKED => "Your session was ended on the server. Sign in again.".to_owned(),
            codes::INVALID_REFRESH_TOKEN => format!("Your session has expired. {}", problem.detail),
            _ => problem.detail.clone(),
        };
        Error::SessionExpired { reason }
    }

    async fn load_stored(&self) -> Result<Option<Secret>> {
        let (store, key) = (self.store.clone(), self.key.clone());
        blocking(move || store.load(&key)).await
    }

    async fn store_refresh(&self, token: &Secret) -> Result<()> {
        let (store, key, token) = (self.store.clone(), self.key.clone(), token.clone());
        blocking(move || store.save(&key, &token)).await
    }

    async fn delete_stored(&self) -> Result<()> {
        let (store, key) = (self.store.clone(), self.key.clone());
        blocking(move || store.delete(&key)).await
    }

    /// Sends and decodes JSON, mapping transport failures and problem documents.
    async fn send_json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        Ok(self.send_json_with_headers(req).await?.0)
    }

    pub(crate) async fn send_json_with_headers<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<(T, reqwest::header::HeaderMap)> {
        let (bytes, headers) = self.send_raw(req).await?;
        Ok((decode(&bytes)?, headers))
    }

    /// Sends, mapping transport failures and problem documents; a success's body as is.
    async fn send_raw(&self, req: RequestBuilder) -> Result<(bytes::Bytes, reqwest::header::HeaderMap)> {
        self.read_body(self.send_response(req).await?).await
    }

    /// Sends, mapping transport failures and problem documents; a success unread.
    async fn send_response(&self, req: RequestBuilder) -> Result<reqwest::Response> {
        let res = req.send().await.map_err(|e| Error::from_transport(&self.base, &e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        let bytes = res.bytes().await.map_err(|e| Error::from_transport(&self.base, &e))?;
        match serde_json::from_slice::<Problem>(&bytes) {
            Ok(problem) => Err(Error::Api(Box::new(problem))),
            Err(_) => Err(Error::Protocol(format!(
                "{status} from {} is not a Gatehouse API answer",
                self.base.as_str().trim_end_matches('/')
            ))),
        }
    }

    async fn read_body(&self, res: reqwest::Response) -> Result<(bytes::Bytes, reqwest::header::HeaderMap)> {
        let headers = res.headers().clone();
        let bytes = res.bytes().await.map_err(|e| Error::from_transport(&self.base, &e))?;
        Ok((bytes, headers))
    }
}

/// A successful answer's JSON; an empty one (204) reads as `null`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let bytes = if bytes.is_empty() { &b"null"[..] } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| Error::Protocol(format!("unexpected answer: {e}")))
}

/// Keyring calls block on D-Bus: keep them off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Keyring(e.to_string()))?
}
