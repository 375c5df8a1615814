use chrono::{Duration, TimeZone, Utc};
use gatehouse_api::{Problem, TokenResponse};
use gatehouse_server::clock::ManualClock;
use gatehouse_server::keys::KeySource;
use gatehouse_server::on;
use gatehouse_server::seed::{SeedOptions, seed_demo};
use gatehouse_server::store::Location;
use gatehouse_server::{AppState, Config, app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

pub const OWNER: &str = "owner@acme.test";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub url: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    /// The database, for another server process on it.
    pub location: Location,
}

/// Whether the suite runs on PostgreSQL (`GATEHOUSE_TEST_BACKEND=postgres`, with the cluster
/// in `GATEHOUSE_TEST_POSTGRES`: `cargo xtask test` runs the suite once so) or on SQLite.
pub fn on_postgres() -> bool {
    std::env::var("GATEHOUSE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The database of one test's server: a SQLite file in `dir`, or a new database on the
/// PostgreSQL cluster.
pub async fn test_database(dir: &std::path::Path) -> Location {
    if !on_postgres() {
        return Location::Sqlite(dir.join("test.db"));
    }
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let cluster = std::env::var("GATEHOUSE_TEST_POSTGRES").expect("GATEHOUSE_TEST_BACKEND=postgres needs GATEHOUSE_TEST_POSTGRES, the cluster's URL");
    let name = format!("t{}_{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    gatehouse_server::store::create_postgres_database(&cluster, &name).await.unwrap()
}

/// A PostgreSQL database has no file to keep the keys beside: they go in the test's
/// directory, for every node of the test.
fn keys_beside(config: Config, dir: &std::path::Path) -> Config {
    match config.key_source {
        None if on_postgres() => Config { key_source: Some(KeySource::File(dir.join("test.keys"))), ..config },
        _ => config,
    }
}

impl TestServer {
    /// A server with the demo organization and `users` generated users.
    pub async fn with_users(users: u32) -> Self {
        Self::with_config(users, Config::default()).await
    }

    /// A server with `config`, the demo organization and `users` generated users.
    pub async fn with_config(users: u32, config: Config) -> Self {
        Self::with_seed(users, 0, config).await
    }

    /// A server whose demo organization also has about `events` audit events of history.
    pub async fn with_history(users: u32, events: u32) -> Self {
        Self::with_seed(users, events, Config::default()).await
    }

    async fn with_seed(users: u32, events: u32, config: Config) -> Self {
        Self::seeded(users, events, config, None).await
    }

    /// A server on `location` (else the suite's backend), with `users` generated users.
    pub async fn on_database(users: u32, location: Location) -> Self {
        Self::seeded(users, 0, Config::default(), Some(location)).await
    }

    async fn seeded(users: u32, events: u32, config: Config, location: Option<Location>) -> Self {
        // The server's errors, in the output of the test that failed.
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("gatehouse_server=error").try_init();
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // E-mailed links lead back here.
        let config = Config { public_url: url.clone(), ..config };
        let location = match location {
            Some(l) => l,
            None => test_database(dir.path()).await,
        };
        let config = keys_beside(config, dir.path());
        let state = AppState::open(location.clone(), clock.clone(), config).await.unwrap();
        let opts = SeedOptions { users, owner_email: OWNER.into(), owner_password: PASSWORD.into(), sessions: 0, events };
        seed_demo(&state.db, clock.as_ref(), &state.keys.current(), &opts).await.unwrap();
        tokio::spawn(app::serve(listener, app::build(state.clone())));
        gatehouse_server::mail::spawn_worker(state.clone()).unwrap();
        Self { url, http: reqwest::Client::new(), clock, state, dir, location }
    }

    pub async fn new() -> Self {
        Self::with_users(40).await
    }

    /// A second server process's worth of state on the same database file.
    pub async fn second_node(&self) -> String {
        let state = AppState::open(self.location.clone(), self.clock.clone(), keys_beside(Config::default(), self.dir.path())).await.unwrap();
        start(state).await
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn login_raw(&self, email: &str, password: &str) -> reqwest::Response {
        self.http
            .post(self.at("/v1/auth/login"))
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str) -> TokenResponse {
        let res = self.login_raw(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {email}");
        res.json().await.unwrap()
    }

    pub async fn get(&self, path: &str, token: &TokenResponse) -> reqwest::Response {
        self.get_with(path, token.access_token.expose()).await
    }

    pub async fn get_with(&self, path: &str, access_token: &str) -> reqwest::Response {
        self.http.get(self.at(path)).bearer_auth(access_token).send().await.unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.http.post(self.at("/v1/auth/refresh")).json(&json!({"refresh_token": refresh_token})).send().await.unwrap()
    }

    pub fn clock_now(&self) -> chrono::DateTime<Utc> {
        use gatehouse_server::Clock;
        self.clock.now()
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }
}

pub async fn start(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app::serve(listener, app::build(state)));
    url
}

/// Asserts a problem+json answer with `status` and `code`, and returns it.
pub async fn problem(res: reqwest::Response, status: StatusCode, code: &str) -> Problem {
    assert_eq!(res.status(), status, "status");
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let p: Problem = res.json().await.unwrap();
    assert_eq!(p.code, code, "problem code ({})", p.detail);
    assert_eq!(p.status, status.as_u16());
    assert_eq!(p.type_, format!("urn:gatehouse:problem:{code}"));
    p
}

pub async fn tokens(res: reqwest::Response) -> TokenResponse {
    assert_eq!(res.status(), StatusCode::OK, "expected tokens");
    res.json().await.unwrap()
}

pub async fn id_of(s: &TestServer, t: &TokenResponse, email: &str) -> String {
    let page: Value = s.get(&format!("/v1/users?q={email}"), t).await.json().await.unwrap();
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

pub async fn post(s: &TestServer, t: &TokenResponse, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = s.http.post(s.at(path)).bearer_auth(t.access_token.expose());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// What people do to their own account by using it: signing in and out, failing to, and
/// their API keys at work. [`events`] leaves them out; the activity tests count them.
pub const USE_EVENTS: &[&str] = &["session.signed_in", "session.signed_out", "session.sign_in_failed", "session.mfa_verified", "api_key.used"];

/// The audit events that changed `target`, oldest first: (action, actor id, details);
/// without [`USE_EVENTS`].
pub async fn events(s: &TestServer, target: &str) -> Vec<(String, Option<String>, Value)> {
    let mut all = all_events(s, target).await;
    all.retain(|(a, _, _)| !USE_EVENTS.contains(&a.as_str()));
    all
}

/// Every audit event about `target`, oldest first: (action, actor id, details).
pub async fn all_events(s: &TestServer, target: &str) -> Vec<(String, Option<String>, Value)> {
    let rows: Vec<(String, Option<String>, String)> =
        on!(&s.state.db, |db| sqlx::query_as("SELECT action, actor_id, details FROM audit_events WHERE target_id = $1 ORDER BY at, id")
            .bind(target)
            .fetch_all(db)
            .await)
        .unwrap();
    rows.into_iter().map(|(a, actor, d)| (a, actor, serde_json::from_str(&d).unwrap())).collect()
}

/// Any request with a JSON body (or none) and extra headers.
pub async fn send(s: &TestServer, t: &TokenResponse, method: &str, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s.http.request(method, s.at(path)).bearer_auth(t.access_token.expose());
    if let Some(body) = body {
        req = req.json(&body);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// `gatehouse-server api-key create --db <this server's database> <args>`, as an operator
/// runs it: its output.
pub async fn api_key_command(s: &TestServer, args: &[&str]) -> std::process::Output {
    let db = s.location.expose();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
            .args(["api-key", "create", "--db", &db])
            .args(&args)
            .env("GATEHOUSE_LOG", "error")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Confirms the session's password (`POST /v1/auth/step-up`), as sensitive changes to
/// one's own account need.
pub async fn step_up(s: &TestServer, t: &TokenResponse) {
    let res = send(s, t, "POST", "/v1/auth/step-up", Some(json!({"password": PASSWORD})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "step-up");
}
