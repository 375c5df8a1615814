//! Outgoing e-mail (SPEC I9): messages are written to `mail_outbox` in the same
//! transaction as what causes them, so a request never waits on a mail relay and a crash
//! loses nothing; a background worker delivers them over SMTP and retries with backoff.
//!
//! Once the relay accepts a message its bodies are blanked, because they may carry a
//! single-use link; the demo mailbox (`--dev-mailbox`) keeps them so the app can show them.

use crate::app::AppState;
use crate::error::Result;
use chrono::{DateTime, Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Delivery attempts before a message is given up on.
pub const MAX_ATTEMPTS: i64 = 10;

/// Where mail goes and who it is from.
#[derive(Clone)]
pub struct SmtpRelay {
    /// `smtp://host:port` (plain), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host:465`; may hold credentials, so never printed.
    pub url: gatehouse_api::Secret,
}

impl std::fmt::Debug for SmtpRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpRelay(<redacted>)")
    }
}

impl SmtpRelay {
    /// Checks the URL and builds its transport.
    pub fn transport(&self) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(self.url.expose()).map_err(|e| anyhow::anyhow!("the SMTP relay URL is not valid: {e}"))?;
        Ok(builder.timeout(Some(std::time::Duration::from_secs(20))).build())
    }
}

/// A message to send: a plain-text and an HTML part.
pub struct Mail {
    /// What it is about, e.g. `password_reset`.
    pub kind: &'static str,
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

/// Queues `mail` in the caller's transaction; it is sent once that commits and the worker
/// is woken (see [`AppState::wake_mailer`]).
pub async fn enqueue(tx: &mut crate::store::Conn, org_id: &str, mail: &Mail, now: DateTime<Utc>) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    crate::store::mail::enqueue(tx, &id, org_id, mail, now).await?;
    Ok(id)
}

/// Wait before attempt `attempts + 1`: 10 s, 20 s, 40 s … at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 12)).unwrap_or(12);
    Duration::seconds((10_i64 << exp).min(3600))
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

use crate::store::mail::Due;

/// Starts the delivery worker when a relay is configured; without one, mail stays queued
/// (and, in demo mode, readable in the mailbox).
pub fn spawn_worker(state: AppState) -> anyhow::Result<()> {
    let Some(relay) = state.config.smtp.clone() else {
        return Ok(());
    };
    let transport = relay.transport()?;
    tokio::spawn(async move {
        loop {
            match deliver_due(&state, &transport).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(sent = n, "mail delivered"),
                Err(e) => tracing::warn!(error = %e, "mail delivery pass failed"),
            }
            // Woken by new mail, or every few seconds for retries that came due.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), state.mail_wakeup.notified()).await;
        }
    });
    Ok(())
}

/// How long a worker holds a message it is sending before another may try it.
const LEASE: Duration = Duration::minutes(5);

/// Sends every message that is due; returns how many the relay accepted. Each message is
/// claimed first (its next attempt moved past a lease), so several server processes on
/// one database never send the same message at once.
pub async fn deliver_due(state: &AppState, transport: &AsyncSmtpTransport<Tokio1Executor>) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let due = crate::store::mail::due(&state.db, now, 50).await?;
    let mut sent = 0;
    for m in due {
        if !crate::store::mail::lease(&state.db, &m, now + LEASE).await? {
            continue; // another worker has it
        }
        let outcome = match build(&state.config.mail_from, &m) {
            Ok(message) => transport.send(message).await.map(|_| ()).map_err(|e| (e.is_permanent(), e.to_string())),
            Err(e) => Err((true, e)),
        };
        if outcome.is_ok() {
            sent += 1;
        }
        // Recorded one by one: a failure to record one message does not stop the others.
        if let Err(e) = record_outcome(state, &m, outcome).await {
            tracing::warn!(mail_id = %m.id, error = %e, "recording a delivery failed; the message is retried after its lease");
        }
    }
    Ok(sent)
}

async fn record_outcome(state: &AppState, m: &Due, outcome: std::result::Result<(), (bool, String)>) -> anyhow::Result<()> {
    let now = state.clock.now();
    let attempts = m.attempts + 1;
    // A delivered or abandoned message keeps no body (it may hold a link), except in the
    // demo mailbox.
    let keep_body = state.config.dev_mailbox;
    match outcome {
        Ok(()) => crate::store::mail::sent(&state.db, &m.id, attempts, keep_body, now).await?,
        Err((permanent, error)) => {
            let give_up = permanent || attempts >= MAX_ATTEMPTS;
            tracing::warn!(mail_id = %m.id, attempts, give_up, %error, "mail not delivered");
            let error: String = error.chars().take(500).collect();
            let failed =
                crate::store::mail::Failed { attempts, error: &error, retry_at: now + backoff(attempts - 1), given_up: give_up.then_some(now) };
            crate::store::mail::failed(&state.db, &m.id, &failed, keep_body || !give_up).await?;
        }
    }
    Ok(())
}

fn build(from: &str, m: &Due) -> std::result::Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("the sender address is not valid: {e}"))?;
    let to: Mailbox = m.to_addr.parse().map_err(|e| format!("the recipient address is not valid: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .multipart(MultiPart::alternative_plain_html(m.text_body.clone(), m.html_body.clone()))
        .map_err(|e| format!("building the message: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::seconds(10));
        assert_eq!(backoff(1), Duration::seconds(20));
        assert_eq!(backoff(5), Duration::seconds(320));
        assert_eq!(backoff(9), Duration::seconds(3600));
        assert_eq!(backoff(100), Duration::seconds(3600));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape(r#"<a href="x">Tom & 'Jerry'</a>"#), "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    }

    #[test]
    fn relay_urls_are_checked_and_never_printed() {
        let relay = SmtpRelay { url: "smtp://user:hunter2@127.0.0.1:2525".into() };
        assert!(relay.transport().is_ok());
        assert!(!format!("{relay:?}").contains("hunter2"));
        assert!(SmtpRelay { url: "http://example.test".into() }.transport().is_err());
    }
}
