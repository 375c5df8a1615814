//! PostgreSQL going away and coming back (issue 19): while the server cannot reach its
//! database, requests get 503 `database_unavailable` with `Retry-After`, never 500; once
//! it is back, they succeed again without a restart. The database is reached through a
//! TCP relay the test can cut, as a restart or a network cut would.

use crate::helpers::*;
use gatehouse_server::store::Location;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};

/// Forwards connections to `upstream` while `open`; when cut, drops every relayed
/// connection and refuses new ones (accepts and closes them).
struct Relay {
    port: u16,
    open: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Relay {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (o, c) = (open.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let (upstream, c) = (upstream.clone(), c.clone());
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = c.notified() => {}
                    }
                });
            }
        });
        Self { port, open, cut }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn while_postgres_is_out_of_reach_requests_get_503_and_recover_by_themselves() {
    if !on_postgres() {
        eprintln!("PostgreSQL only: the suite runs on SQLite now");
        return;
    }
    // The test's database, reached through the relay.
    let Location::Postgres(url) = test_database(std::path::Path::new("/nonexistent")).await else { unreachable!() };
    let (prefix, rest) = url.split_once('@').unwrap();
    let (host_port, db) = rest.split_once('/').unwrap();
    let relay = Relay::start(host_port.to_owned()).await;
    let s = TestServer::on_database(20, Location::Postgres(format!("{prefix}@127.0.0.1:{}/{db}", relay.port))).await;
    let t = s.login(OWNER).await;
    assert_eq!(s.get("/v1/users", &t).await.status(), StatusCode::OK);

    relay.cut();
    for path in ["/v1/users", "/v1/me"] {
        let res = s.get(path, &t).await;
        assert!(res.headers().get("retry-after").is_some(), "{path}: Retry-After");
        let p = problem(res, StatusCode::SERVICE_UNAVAILABLE, "database_unavailable").await;
        assert!(p.detail.contains("cannot reach its database"), "{}", p.detail);
    }
    // A write is refused alike, and nothing of it is kept.
    let member = "member@acme.test";
    let refused = s.login_raw(member, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);

    relay.restore();
    // The pool opens new connections by itself: no restart.
    assert_eq!(s.get("/v1/users", &t).await.status(), StatusCode::OK);
    s.login(member).await;
}
