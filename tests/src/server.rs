//! A real gatehouse-server on a fresh demo database, plus the few API calls the tests
//! use to learn what the seed created.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use gatehouse_api::{MailMessage, TokenResponse, User, UserCounts, UserPage};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The demo organization's owner.
pub const OWNER_EMAIL: &str = "owner@acme.test";
/// The owner's password in every test database.
pub const OWNER_PASSWORD: &str = "e2e-Owner-Passw0rd-7";

/// A running server; stopped (killed) when dropped, its database deleted. It can be
/// stopped and started again on the same address, to take the app offline and back.
/// Which database the server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in a temporary directory (the embedded default).
    Sqlite,
    /// A new database on the PostgreSQL cluster `cargo xtask test` starts
    /// (`GATEHOUSE_TEST_POSTGRES`).
    Postgres,
}

pub struct TestServer {
    pub url: String,
    cfg: Config,
    /// `--db` and, for PostgreSQL, `--keys-file` with its path.
    db: Vec<String>,
    serve_args: Vec<String>,
    log_name: String,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Seeds `users` demo users into a new database and serves it on a free port, with
    /// `serve_args` added to `serve` (e.g. a short access-token lifetime).
    pub async fn start(cfg: &Config, database: Database, users: u32, serve_args: &[&str], log_name: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let db = match database {
            Database::Sqlite => vec!["--db".to_owned(), dir.path().join("gatehouse.db").display().to_string()],
            Database::Postgres => vec![
                "--db".to_owned(),
                new_postgres_database(log_name).await?,
                "--keys-file".to_owned(),
                dir.path().join("gatehouse.keys").display().to_string(),
            ],
        };
        let log = open_log(cfg, log_name, true)?;
        let status = Command::new(&cfg.server)
            .arg("seed")
            .args(&db)
            .args(["--demo", "--users", &users.to_string(), "--owner-email", OWNER_EMAIL])
            // A few thousand events of history: enough to filter and page, quick to seed
            // and to cache (the demo itself has 40 000).
            .args(["--events", &std::env::var("GATEHOUSE_E2E_SEED_EVENTS").unwrap_or_else(|_| "3000".to_owned())])
            // Benchmarks ask for many sessions (`cargo xtask bench app`).
            .args(std::env::var("GATEHOUSE_E2E_SEED_SESSIONS").map(|n| vec!["--sessions".to_owned(), n]).unwrap_or_default())
            .env("GATEHOUSE_OWNER_PASSWORD", OWNER_PASSWORD)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .await
            .context("running gatehouse-server seed")?;
        if !status.success() {
            bail!("gatehouse-server seed failed ({status}); see the server log");
        }
        let serve_args: Vec<String> = serve_args.iter().map(|a| (*a).to_owned()).collect();
        let (child, url) = serve(cfg, &db, "127.0.0.1:0", &serve_args, log_name).await?;
        Ok(Self { url, cfg: cfg.clone(), db, serve_args, log_name: log_name.to_owned(), child: Some(child), _dir: dir })
    }

    /// Kills the server (as a crash or a network cut would end it) and waits until it
    /// is gone; the app then finds nobody at its address.
    pub async fn stop(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("killing gatehouse-server")?;
        }
        Ok(())
    }

    /// Serves the same database at the same address again.
    pub async fn resume(&mut self) -> Result<()> {
        self.stop().await?;
        let listen = self.url.trim_start_matches("http://").to_owned();
        // The port was just released; a few tries cover a slow release.
        let mut last = None;
        for _ in 0..20 {
            match serve(&self.cfg, &self.db, &listen, &self.serve_args, &self.log_name).await {
                Ok((child, url)) => {
                    if url != self.url {
                        bail!("the server came back at {url}, not {}", self.url);
                    }
                    self.child = Some(child);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("the server did not come back")))
    }

    /// A second server process on the same database at another address: another
    /// admin's way in while the app's server is down. Stopped when dropped.
    pub async fn another_instance(&self) -> Result<(Child, String)> {
        serve(&self.cfg, &self.db, "127.0.0.1:0", &self.serve_args, &self.log_name).await
    }
}

/// A new, empty database on the test cluster, named after the test; its URL.
async fn new_postgres_database(test: &str) -> Result<String> {
    let cluster =
        std::env::var("GATEHOUSE_TEST_POSTGRES").context("GATEHOUSE_TEST_POSTGRES is not set: `cargo xtask test` starts PostgreSQL and sets it")?;
    let name: String = format!("e2e_{test}").chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(60).collect();
    Ok(gatehouse_server::store::create_postgres_database(&cluster, &name).await?.expose())
}

/// The server's log file for this test; `fresh` empties it (a new test).
fn open_log(cfg: &Config, log_name: &str, fresh: bool) -> Result<std::fs::File> {
    let path = cfg.artifacts.join(format!("{log_name}.server.log"));
    std::fs::OpenOptions::new()
        .create(true)
        .append(!fresh)
        .write(true)
        .truncate(fresh)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Starts `serve` on `db` at `listen`; returns the process and its base URL.
async fn serve(cfg: &Config, db: &[String], listen: &str, serve_args: &[String], log_name: &str) -> Result<(Child, String)> {
    let log = open_log(cfg, log_name, false)?;
    let mut child = Command::new(&cfg.server)
        .arg("serve")
        .args(db)
        .args(["--listen", listen])
        .args(serve_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting gatehouse-server serve")?;
    let mut lines = BufReader::new(child.stdout.take().context("server stdout")?).lines();
    let first = tokio::time::timeout(cfg.timeout, lines.next_line())
        .await
        .context("the server printed no address in time")??
        .context("the server exited before printing its address")?;
    let url =
        first.strip_prefix("listening on ").with_context(|| format!("unexpected first server line {first:?}"))?.trim_end_matches('/').to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, url))
}

/// A signed-in API session, to look at the data the UI should show.
pub struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
    /// The session this sign-in created.
    pub session_id: String,
}

impl Api {
    /// Signs in over HTTP.
    pub async fn login(url: &str, email: &str, password: &str) -> Result<Self> {
        let http = reqwest::Client::new();
        let res = http.post(format!("{url}/v1/auth/login")).json(&serde_json::json!({ "email": email, "password": password })).send().await?;
        if !res.status().is_success() {
            bail!("API login failed: {}", res.status());
        }
        let tokens: TokenResponse = res.json().await?;
        Ok(Self { http, url: url.to_owned(), token: tokens.access_token.into_inner(), session_id: tokens.session_id })
    }

    /// The id of the role with this key.
    pub async fn role_id(&self, key: &str) -> Result<String> {
        let res = self.http.get(format!("{}/v1/roles", self.url)).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET /v1/roles failed: {}", res.status());
        }
        let roles: Vec<gatehouse_api::Role> = res.json().await?;
        roles.into_iter().find(|r| r.key == key).map(|r| r.id).ok_or_else(|| anyhow::anyhow!("no role {key}"))
    }

    /// The HTTP status of `GET /v1/me` with this session: 200 while it lives, 401 once
    /// it has been ended.
    pub async fn me_status(&self) -> Result<u16> {
        let res = self.http.get(format!("{}/v1/me", self.url)).bearer_auth(&self.token).send().await?;
        Ok(res.status().as_u16())
    }

    /// One page of users matching the search `q` (if any), with the badges' totals.
    pub async fn users(&self, q: Option<&str>, limit: u32) -> Result<UserPage> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(q) = q {
            query.push(("q", q.to_owned()));
        }
        let res = self.http.get(format!("{}/v1/users", self.url)).query(&query).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET /v1/users failed: {}", res.status());
        }
        Ok(res.json().await?)
    }

    /// How many users hold the role with this id, as the server counts them.
    pub async fn count_with_role(&self, role_id: &str) -> Result<u32> {
        let res = self.http.get(format!("{}/v1/users", self.url)).query(&[("role", role_id), ("limit", "1")]).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET /v1/users?role={role_id} failed: {}", res.status());
        }
        Ok(res.json::<UserPage>().await?.counts.all)
    }

    /// One user as the server has it now, with its ETag.
    pub async fn user(&self, id: &str) -> Result<(User, String)> {
        let res = self.http.get(format!("{}/v1/users/{id}", self.url)).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET /v1/users/{id} failed: {}", res.status());
        }
        let etag = res.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).context("GET /v1/users/{id} sent no ETag")?.to_owned();
        Ok((res.json().await?, etag))
    }

    /// Changes a user the way another admin would: `PATCH` with the current ETag.
    pub async fn patch_user(&self, id: &str, patch: serde_json::Value) -> Result<User> {
        let (_, etag) = self.user(id).await?;
        let res = self
            .http
            .patch(format!("{}/v1/users/{id}", self.url))
            .bearer_auth(&self.token)
            .header(reqwest::header::IF_MATCH, etag)
            .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
            .json(&patch)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("PATCH /v1/users/{id} failed: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        Ok(res.json().await?)
    }

    /// The totals the count badges should show for the search `q` (if any).
    pub async fn counts(&self, q: Option<&str>) -> Result<UserCounts> {
        Ok(self.users(q, 1).await?.counts)
    }

    /// A seeded user other than the owner, from the middle of the first page.
    pub async fn some_other_user(&self) -> Result<User> {
        let page = self.users(None, 100).await?;
        let others: Vec<User> = page.items.into_iter().filter(|u| !u.email.eq_ignore_ascii_case(OWNER_EMAIL)).collect();
        let mid = others.len() / 2;
        others.into_iter().nth(mid).context("the demo seed created no users besides the owner")
    }

    /// The demo server's outgoing mail, newest first (`serve --dev-mailbox`).
    pub async fn mailbox(&self) -> Result<Vec<MailMessage>> {
        let res = self.http.get(format!("{}/v1/dev/mailbox", self.url)).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET /v1/dev/mailbox failed: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        Ok(res.json().await?)
    }

    /// `GET path`; the answer's JSON (an error for a non-2xx status).
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let res = self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.token).send().await?;
        if !res.status().is_success() {
            bail!("GET {path} failed: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        Ok(res.json().await?)
    }

    /// `POST path` with a JSON body; the answer's JSON (an error for a non-2xx status).
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let res = self.http.post(format!("{}{path}", self.url)).bearer_auth(&self.token).json(&body).send().await?;
        if !res.status().is_success() {
            bail!("POST {path} failed: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        Ok(res.json().await?)
    }

    /// `PATCH path` with a JSON body; the answer's JSON.
    pub async fn patch_json(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value> {
        let res = self.http.patch(format!("{}{path}", self.url)).bearer_auth(&self.token).json(&body).send().await?;
        if !res.status().is_success() {
            bail!("PATCH {path} failed: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        Ok(res.json().await?)
    }
}

/// The TOTP code an authenticator app with `secret` shows `steps_ahead` 30-second steps
/// from now.
pub fn totp_code(secret: &str, steps_ahead: i64) -> Result<String> {
    use gatehouse_server::totp;
    let key = totp::base32_decode(secret).context("the secret is not base32")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    Ok(format!("{:06}", totp::code_at(&key, totp::step_of(i64::try_from(now)?) + steps_ahead)))
}
