//! Application state, the router, and serving.

use crate::clock::Clock;
use crate::tokens::SigningKey;
use crate::{routes, store};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS};
use chrono::Duration;
use std::sync::Arc;
use tower::ServiceExt as _;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// Tunables of the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Lifetime of an access token.
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (each refresh issues a new one).
    pub refresh_token_ttl: Duration,
    /// "Last active" is written at most this often per session.
    pub last_active_granularity: Duration,
    /// How long the change feed keeps changes; older cursors get 410 and resync in full.
    pub change_retention: Duration,
    /// Proxies whose `X-Forwarded-For` is believed (SPEC S1); empty: the peer address.
    pub trusted_proxies: Vec<crate::net::IpBlock>,
    /// Brute-force protection (SPEC S5).
    pub sign_in_limits: SignInLimits,
    /// The SMTP relay mail goes through; without one mail stays queued.
    pub smtp: Option<crate::mail::SmtpRelay>,
    /// The `From:` of outgoing mail.
    pub mail_from: String,
    /// Keep every outgoing message readable at `GET /v1/dev/mailbox` (demo servers only).
    pub dev_mailbox: bool,
    /// The server's address as users' browsers reach it: the base of e-mailed links.
    pub public_url: String,
    /// How long a password-reset link works.
    pub password_reset_ttl: Duration,
    /// A session's absolute lifetime from sign-in, however active.
    pub session_max_age: Duration,
    /// How long login attempts, ended sessions, spent refresh tokens and dead reset links
    /// are kept.
    pub security_retention: Duration,
    /// Password hashes computed at once (each 19 MiB of memory and a core).
    pub hash_concurrency: usize,
    /// Password checks that may wait for a free slot; past them, 503 `server_busy`.
    pub hash_queue: usize,
    /// Where the server keys come from; `None`: the key file beside the database.
    pub key_source: Option<crate::keys::KeySource>,
}

/// Brute-force protection (SPEC S5): an account locks after `account_failures` failed
/// sign-ins within `account_window` (and unlocks as they age out of it); an address is
/// slowed down after `ip_failures` failed sign-ins within `ip_window`. Both answer 429 and
/// show in login attempts as `locked` and `rate_limited`.
#[derive(Debug, Clone)]
pub struct SignInLimits {
    /// Failed sign-ins of one e-mail address that lock it.
    pub account_failures: u32,
    /// The window they are counted in (also how long the lock lasts at most).
    pub account_window: Duration,
    /// Failed sign-ins from one IP address that rate-limit it.
    pub ip_failures: u32,
    /// The window they are counted in.
    pub ip_window: Duration,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self { account_failures: 5, account_window: Duration::minutes(15), ip_failures: 30, ip_window: Duration::minutes(5) }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::minutes(15),
            refresh_token_ttl: Duration::days(30),
            last_active_granularity: Duration::seconds(60),
            change_retention: Duration::days(30),
            trusted_proxies: Vec::new(),
            sign_in_limits: SignInLimits::default(),
            smtp: None,
            mail_from: "Gatehouse <gatehouse@localhost>".into(),
            dev_mailbox: false,
            public_url: "http://127.0.0.1:8080".into(),
            password_reset_ttl: Duration::hours(1),
            hash_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            hash_queue: 32,
            session_max_age: Duration::days(30),
            security_retention: Duration::days(90),
            key_source: None,
        }
    }
}

/// Change streams open per session (or API key): each holds a connection and polls the
/// database, so one caller may not open them without bound.
#[derive(Default, Clone)]
pub struct StreamSlots(Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>);

/// Most change streams one session may hold open at once (a few app windows).
pub const MAX_STREAMS_PER_SESSION: usize = 4;

/// One open stream's slot; closing the stream frees it.
pub struct StreamSlot {
    slots: StreamSlots,
    who: String,
}

impl StreamSlots {
    /// A slot for `who`, unless they hold [`MAX_STREAMS_PER_SESSION`] already.
    pub fn take(&self, who: &str) -> Option<StreamSlot> {
        let mut open = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(who.to_owned()).or_default();
        if *n >= MAX_STREAMS_PER_SESSION {
            return None;
        }
        *n += 1;
        Some(StreamSlot { slots: self.clone(), who: who.to_owned() })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.who) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.who);
            }
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: store::Db,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Signs access tokens and invitation links with [`Self::keys`].
    pub key: SigningKey,
    /// The server keys (outside the database): they also seal TOTP secrets.
    pub keys: Arc<crate::keys::KeyRing>,
    /// Tunables.
    pub config: Arc<Config>,
    /// Idempotency keys being handled by this process.
    pub in_flight: crate::idempotency::InFlight,
    /// Wakes the mail worker when a message is queued.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// Change streams open, per session.
    pub streams: StreamSlots,
    /// The bounded pool password hashes run in.
    pub hashes: Arc<crate::throttle::HashPool>,
    /// Work a request left running after its answer (self-service resets) that has ended:
    /// what tests wait on instead of sleeping.
    pub background_done: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Opens the database, loads the server keys (creating the key file beside a SQLite
    /// database if there is none), and re-encrypts TOTP secrets stored in plain text or
    /// under a key that is no longer current.
    pub async fn open(location: impl Into<store::Location>, clock: Arc<dyn Clock>, config: Config) -> anyhow::Result<Self> {
        let location = location.into();
        let source = match (config.key_source.clone(), location.file()) {
            (Some(source), _) => source,
            (None, Some(file)) => crate::keys::KeySource::File(crate::keys::key_file_beside(file)),
            (None, None) => anyhow::bail!("{}", crate::keys::KeySource::NEEDED_WITH_POSTGRES),
        };
        let db = store::connect(&location).await?;
        let loaded = crate::keys::load(&db, &source).await?;
        let resealed = crate::keys::reseal(&db, &loaded).await?;
        let keys = Arc::new(crate::keys::KeyRing::new(source, loaded));
        if resealed > 0 {
            tracing::info!(count = resealed, "encrypted TOTP secrets with the current server key");
        }
        let key = SigningKey::new(keys.clone());
        let hashes = Arc::new(crate::throttle::HashPool::new(config.hash_concurrency, config.hash_queue));
        Ok(Self {
            db,
            clock,
            key,
            keys,
            hashes,
            streams: Default::default(),
            config: Arc::new(config),
            in_flight: Default::default(),
            mail_wakeup: Default::default(),
            background_done: Default::default(),
        })
    }

    /// Tells the mail worker that a message was queued (call after the commit).
    pub fn wake_mailer(&self) {
        self.mail_wakeup.notify_one();
    }
}

/// The full router: the API, `/openapi.json`, and problem-document fallbacks.
pub fn build(state: AppState) -> Router {
    let (api, doc) = routes::router().split_for_parts();
    let doc = Arc::new(doc);
    api.route(
        "/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    // Where e-mailed reset links lead: a plain HTML form (SPEC U10).
    .route("/reset-password", axum::routing::get(routes::resets::reset_page).post(routes::resets::reset_page_submit))
    // Where e-mailed invitation links lead: accept or decline (SPEC I7).
    .route("/accept-invitation", axum::routing::get(routes::invitee::accept_page).post(routes::invitee::accept_page_submit))
    // SCIM 2.0 for identity providers (SPEC P1), described by its own discovery endpoints.
    .nest(crate::scim::BASE_PATH, crate::scim::router())
    .fallback(routes::not_found)
    .method_not_allowed_fallback(routes::method_not_allowed)
    .layer(DefaultBodyLimit::max(1024 * 1024))
    .layer(axum::middleware::from_fn(request_timeout))
    // Answers are data, never to be sniffed into something runnable, and never cached:
    // they hold people's details, and pages hold reset and invitation tokens.
    .layer(SetResponseHeaderLayer::if_not_present(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
    .layer(SetResponseHeaderLayer::if_not_present(CACHE_CONTROL, HeaderValue::from_static("no-store")))
    .layer(SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
    // Logs method, path and status; never bodies, headers (tokens live there) or query
    // strings (searches hold names and addresses, reset links their token).
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &axum::http::Request<_>| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())),
    )
    .with_state(state)
}

/// How long a client may take to send a request's headers before the connection closes
/// (slow-header attacks hold a connection per trickled byte otherwise).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a request may take from its headers to its answer; the change stream, which
/// is meant to stay open, is exempt. Past it: 503 `request_timeout`.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long shutdown waits for open connections (a change stream never ends by itself).
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `router` on `listener` until ctrl-c or SIGTERM: HTTP/1.1 with a header-read
/// timeout (which `axum::serve` cannot set), each connection told its peer address.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> anyhow::Result<()> {
    serve_with(listener, router, HEADER_READ_TIMEOUT).await
}

/// [`serve`] with another header-read timeout.
pub async fn serve_with(listener: tokio::net::TcpListener, router: Router, header_read_timeout: std::time::Duration) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (closing_tx, closing_rx) = tokio::sync::watch::channel(false);
    // Each connection holds a sender; all dropped means all closed.
    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = router.clone().map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            req
        });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let mut closing = closing_rx.clone();
        let open = open_tx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
            let mut conn = std::pin::pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = async { closing.wait_for(|c| *c).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(open);
        });
    }
    let _ = closing_tx.send(true);
    drop(open_tx);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, open_rx.recv()).await;
    Ok(())
}

/// Ends a request that takes longer than [`REQUEST_TIMEOUT`], except the change stream.
async fn request_timeout(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path() == "/v1/changes/stream" {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => crate::error::ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            gatehouse_api::codes::REQUEST_TIMEOUT,
            "The request took too long and was stopped; try again.",
        )
        .into_response(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    routes::router().split_for_parts().1
}
