//! A real gatehouse-server on a fresh demo database, plus the few API calls the tests
//! use to learn what the seed created.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use gatehouse_api::{TokenResponse, User, UserCounts, UserPage};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The demo organization's owner.
pub const OWNER_EMAIL: &str = "owner@acme.test";
/// The owner's password in every test database.
pub const OWNER_PASSWORD: &str = "e2e-Owner-Passw0rd-7";

/// A running server; stopped (killed) when dropped, its database deleted.
pub struct TestServer {
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Seeds `users` demo users into a new database and serves it on a free port, with
    /// `serve_args` added to `serve` (e.g. a short access-token lifetime).
    pub async fn start(cfg: &Config, users: u32, serve_args: &[&str], log_name: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("gatehouse.db");
        let log = std::fs::File::create(cfg.artifacts.join(format!("{log_name}.server.log")))
            .or_else(|_| std::fs::File::create(dir.path().join("server.log")))?;
        let status = Command::new(&cfg.server)
            .arg("seed")
            .arg("--db")
            .arg(&db)
            .args([
                "--demo",
                "--users",
                &users.to_string(),
                "--owner-email",
                OWNER_EMAIL,
            ])
            .env("GATEHOUSE_OWNER_PASSWORD", OWNER_PASSWORD)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .status()
            .await
            .context("running gatehouse-server seed")?;
        if !status.success() {
            bail!("gatehouse-server seed failed ({status}); see the server log");
        }
        let mut child = Command::new(&cfg.server)
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .args(["--listen", "127.0.0.1:0"])
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
        let url = first
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first server line {first:?}"))?
            .trim_end_matches('/')
            .to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            url,
            _child: child,
            _dir: dir,
        })
    }
}

/// A signed-in API session, to look at the data the UI should show.
pub struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    /// Signs in over HTTP.
    pub async fn login(url: &str, email: &str, password: &str) -> Result<Self> {
        let http = reqwest::Client::new();
        let res = http
            .post(format!("{url}/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("API login failed: {}", res.status());
        }
        let tokens: TokenResponse = res.json().await?;
        Ok(Self {
            http,
            url: url.to_owned(),
            token: tokens.access_token.into_inner(),
        })
    }

    /// One page of users matching the search `q` (if any), with the badges' totals.
    pub async fn users(&self, q: Option<&str>, limit: u32) -> Result<UserPage> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(q) = q {
            query.push(("q", q.to_owned()));
        }
        let res = self
            .http
            .get(format!("{}/v1/users", self.url))
            .query(&query)
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("GET /v1/users failed: {}", res.status());
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
        let others: Vec<User> = page
            .items
            .into_iter()
            .filter(|u| !u.email.eq_ignore_ascii_case(OWNER_EMAIL))
            .collect();
        let mid = others.len() / 2;
        others
            .into_iter()
            .nth(mid)
            .context("the demo seed created no users besides the owner")
    }
}
