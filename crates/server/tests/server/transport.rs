//! What the HTTP layer itself guarantees: headers on every answer, a slow client's
//! connection closed, and change streams capped per session.

use crate::helpers::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn answers_are_nosniff_and_not_cached() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    for res in [
        s.get("/v1/users", &owner).await,
        s.get("/v1/users/not-an-id", &owner).await,
        s.http.get(s.at("/reset-password?token=x")).send().await.unwrap(),
    ] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{}", res.url());
        assert_eq!(h["cache-control"], "no-store", "{}", res.url());
        assert_eq!(h["referrer-policy"], "no-referrer", "{}", res.url());
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let s = TestServer::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = gatehouse_server::app::build(s.state.clone());
    tokio::spawn(gatehouse_server::app::serve_with(listener, router, std::time::Duration::from_millis(300)));
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
    // The server closes the connection (EOF, or an error answer then EOF); without a
    // header timeout it would wait for ever and this read would not end.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was left open");
}

#[tokio::test]
async fn one_session_holds_at_most_four_change_streams() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let open = || async { s.http.get(s.at("/v1/changes/stream")).bearer_auth(owner.access_token.expose()).send().await.unwrap() };
    let mut streams = Vec::new();
    for _ in 0..4 {
        let res = open().await;
        assert_eq!(res.status(), StatusCode::OK);
        streams.push(res);
    }
    problem(open().await, StatusCode::TOO_MANY_REQUESTS, "too_many_streams").await;
    // Another session is not affected.
    let other = s.login(OWNER).await;
    let res = s.http.get(s.at("/v1/changes/stream")).bearer_auth(other.access_token.expose()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Closing one frees its slot (the server notices when its next write fails, or the
    // connection drops: wait for the slot rather than for a time).
    drop(streams.pop());
    let mut freed = false;
    for _ in 0..600 {
        let res = open().await;
        if res.status() == StatusCode::OK {
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(freed, "closing a stream did not free its slot");
}
