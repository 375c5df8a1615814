//! A real SMTP listener on loopback for the tests: it speaks enough of RFC 5321 for a
//! real client (lettre) to deliver to it, keeps what it receives, and can answer the next
//! deliveries with a temporary failure to exercise retries. Its own test follows an
//! invitation e-mail from the listener to the invitee's first sign-in.

use crate::helpers::*;
use gatehouse_server::Config;
use gatehouse_server::mail::SmtpRelay;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    /// The raw message (headers and body) as sent after DATA.
    pub data: String,
}

impl Received {
    /// The message with quoted-printable soft breaks and escapes undone: good enough to
    /// find a link in either part.
    pub fn decoded(&self) -> String {
        let joined = self.data.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let (b'=', Some(b)) = (bytes[i], hex) {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The first link in the message whose address contains `marker`.
    pub fn link(&self, marker: &str) -> String {
        let text = self.decoded();
        let start = text.find(marker).unwrap_or_else(|| panic!("no {marker} link in:\n{text}"));
        let from = text[..start].rfind("http").unwrap();
        text[from..].split(|c: char| c.is_whitespace() || c == '"' || c == '<').next().unwrap().to_owned()
    }
}

pub struct SmtpSink {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    fail_next: Arc<AtomicUsize>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail_next = Arc::new(AtomicUsize::new(0));
        let (r, f) = (received.clone(), fail_next.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(session(stream, r.clone(), f.clone()));
            }
        });
        Self { url, received, fail_next }
    }

    /// The next `n` deliveries get "451 try again later".
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 20 s) until `n` messages have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("expected {n} messages, the SMTP listener has {}", self.received().len());
    }
}

async fn session(stream: tokio::net::TcpStream, received: Arc<Mutex<Vec<Received>>>, fail_next: Arc<AtomicUsize>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 sink.test ESMTP ready\r\n").await;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 ok\r\n",
            "RSET" => {
                to.clear();
                b"250 ok\r\n"
            }
            "MAIL" => {
                let failing = fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                if failing { b"451 4.3.0 try again later\r\n" } else { b"250 ok\r\n" }
            }
            "RCPT" => {
                to.push(line[8..].trim().trim_start_matches(':').trim().trim_matches(|c| c == '<' || c == '>').to_owned());
                b"250 ok\r\n"
            }
            "DATA" => {
                let _ = write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                received.lock().unwrap().push(Received { to: std::mem::take(&mut to), data });
                b"250 ok queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"502 not implemented\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn an_invitation_arrives_over_smtp_and_its_page_lets_the_invitee_join() {
    const CHOSEN: &str = "my own passphrase 42";
    let sink = SmtpSink::start().await;
    let s = TestServer::with_config(40, Config { smtp: Some(SmtpRelay { url: sink.url.clone().into() }), ..Config::default() }).await;
    let owner = s.login(OWNER).await;
    let body = json!({"emails": ["smtp.new@acme.test"], "roles": ["support"], "departments": ["HR"], "message": "See you on Monday"});
    assert_eq!(send(&s, &owner, "POST", "/v1/invitations", Some(body), &[]).await.status(), StatusCode::CREATED);

    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["smtp.new@acme.test"]);
    let text = mail.decoded();
    assert!(text.contains("invited you to join Acme on Gatehouse"), "the subject: {text}");
    assert!(text.contains("Content-Type: text/plain"), "a plain-text part");
    assert!(text.contains("Content-Type: text/html"), "an HTML part");
    assert!(text.contains("See you on Monday"), "the personal message");
    let link = mail.link("/accept-invitation?token=");
    assert!(link.starts_with(&format!("{}/accept-invitation?token=ghi_", s.url)), "{link} leads to this server");
    assert!(text.matches(link.as_str()).count() >= 2, "the same link in both parts");

    // The page behind the link: who is invited to what, and the form.
    let page = s.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\"") && html.contains("name=\"confirm\""), "{html}");
    assert!(html.contains("smtp.new@acme.test") && html.contains("Acme"));

    let token = link.split("token=").nth(1).unwrap();
    let form = [("token", token), ("action", "accept"), ("first_name", "Sam"), ("last_name", "Tepper"), ("password", CHOSEN), ("confirm", CHOSEN)];
    let res = s.http.post(s.at("/accept-invitation")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Welcome") && html.contains("smtp.new@acme.test"), "{html}");

    // Signed in with the address and the chosen password, as an active Support member of HR.
    let t = tokens(s.login_raw("smtp.new@acme.test", CHOSEN).await).await;
    let me: Value = s.get("/v1/me", &t).await.json().await.unwrap();
    assert_eq!(me["user"]["status"], "active", "{me}");
    assert_eq!(me["user"]["display_name"], "Sam Tepper");
    assert!(me["user"]["roles"].as_array().unwrap().iter().any(|r| r["key"] == "support"), "{me}");
    assert!(me["user"]["departments"].as_array().unwrap().iter().any(|g| g["name"] == "HR"), "{me}");
    // The link worked once.
    assert_eq!(s.http.get(&link).send().await.unwrap().status(), StatusCode::GONE);
    // Delivered mail keeps no body (it held the link) outside demo mode, once marked sent.
    let mut row = (String::new(), String::from("?"), None::<chrono::DateTime<chrono::Utc>>);
    for _ in 0..400 {
        row = on!(&s.state.db, |db| sqlx::query_as("SELECT kind, text_body, sent_at FROM mail_outbox").fetch_one(db).await).unwrap();
        if row.2.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!((row.0.as_str(), row.1.as_str()), ("invitation", ""));
}
