//! Application state, the router, and serving.

use crate::clock::Clock;
use crate::tokens::SigningKey;
use crate::{db, routes};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use chrono::Duration;
use sqlx::SqlitePool;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
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
    /// Password hashes computed at once (each 19 MiB of memory and a core).
    pub hash_concurrency: usize,
    /// Password checks that may wait for a free slot; past them, 503 `server_busy`.
    pub hash_queue: usize,
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
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: SqlitePool,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Signs access tokens.
    pub key: SigningKey,
    /// Tunables.
    pub config: Arc<Config>,
    /// Idempotency keys being handled by this process.
    pub in_flight: crate::idempotency::InFlight,
    /// Wakes the mail worker when a message is queued.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// The bounded pool password hashes run in.
    pub hashes: Arc<crate::throttle::HashPool>,
    /// Work a request left running after its answer (self-service resets) that has ended:
    /// what tests wait on instead of sleeping.
    pub background_done: Arc<std::sync::atomic::AtomicU64>,
}

impl AppState {
    /// Opens the database at `path` and loads the signing key.
    pub async fn open(path: &Path, clock: Arc<dyn Clock>, config: Config) -> anyhow::Result<Self> {
        let db = db::connect(path).await?;
        let key = db::signing_key(&db).await?;
        let hashes = Arc::new(crate::throttle::HashPool::new(config.hash_concurrency, config.hash_queue));
        Ok(Self {
            db,
            clock,
            key,
            hashes,
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
    .fallback(routes::not_found)
    .method_not_allowed_fallback(routes::method_not_allowed)
    .layer(DefaultBodyLimit::max(1024 * 1024))
    // Logs method, path and status; never bodies, headers (tokens live there) or query
    // strings (searches hold names and addresses, reset links their token).
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &axum::http::Request<_>| tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())),
    )
    .with_state(state)
}

/// Starts the periodic upkeep, hourly: pruning the change feed and purging audit events
/// past their organization's retention.
pub fn spawn_maintenance(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match crate::routes::changes::prune(&state.db, state.clock.now(), state.config.change_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "pruned the change feed"),
                Err(e) => tracing::warn!(error = %e, "pruning the change feed failed"),
            }
            match crate::routes::activity::purge_expired(&state.db, state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dropped = n, "purged audit events past their retention"),
                Err(e) => tracing::warn!(error = %e, "purging audit events failed"),
            }
        }
    });
}

/// Serves `router` on `listener` until ctrl-c or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> anyhow::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
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
