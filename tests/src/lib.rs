//! Helpers of the end-to-end suite: the real app under tauri-driver + WebKitWebDriver
//! against a real gatehouse-server, with the real keyring. `cargo xtask test` provides
//! the environment (see [`config`]); without it every test fails and says why.

pub mod app;
pub mod config;
pub mod scan;
pub mod server;

use anyhow::Result;
pub use app::{App, Row};
pub use config::Config;
pub use server::{Api, Database, OWNER_EMAIL, OWNER_PASSWORD, TestServer, totp_code};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// A progress line on the real stderr (not captured by the test harness), so a slow
/// or stuck test shows where it is while it runs.
pub fn log(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "e2e: {msg}");
}

/// What a test body gets.
pub struct Ctx {
    pub cfg: Config,
    pub app: App,
    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub server_url: String,
    /// The server itself, to stop and resume it.
    pub server: Arc<tokio::sync::Mutex<TestServer>>,
}

/// Runs one end-to-end test: a fresh server with `users` demo users, a freshly launched
/// app, the body; then saves a screenshot on failure and stops app and server.
///
/// Tests run one at a time whatever the test threads: they share the keyring, the
/// app's data directory and the one tauri-driver.
pub fn e2e<F, Fut>(users: u32, body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    e2e_with(users, &[], body);
}

/// [`e2e`] with extra arguments for the server's `serve`.
pub fn e2e_with<F, Fut>(users: u32, serve_args: &[&str], body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    e2e_on(Database::Sqlite, users, serve_args, body);
}

/// [`e2e_with`] on a server whose database is `database`.
pub fn e2e_on<F, Fut>(database: Database, users: u32, serve_args: &[&str], body: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let name = std::thread::current().name().unwrap_or("e2e").to_owned();
    let cfg = match Config::from_env() {
        Ok(cfg) => cfg,
        Err(e) => panic!("{e:#}"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let outcome = rt.block_on(async move {
        let server = TestServer::start(&cfg, database, users, serve_args, &name).await?;
        let app = App::launch(&cfg).await?;
        let server_url = server.url.clone();
        let server = Arc::new(tokio::sync::Mutex::new(server));
        let ctx = Ctx { cfg: cfg.clone(), app: app.clone(), server_url, server: server.clone() };
        let outcome = tokio::spawn(body(ctx)).await;
        if !matches!(outcome, Ok(Ok(()))) {
            app.save_artifacts(&cfg.artifacts, &name).await;
        }
        app.close().await;
        drop(server);
        anyhow::Ok(outcome)
    });
    // A keyring call stuck on D-Bus must not keep the test from reporting.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) | Err(e) => panic!("{e:#}"),
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(join)) => panic!("{join}"),
    }
}
