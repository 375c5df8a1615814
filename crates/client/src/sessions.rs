//! Sessions, force logout, login attempts and sign-in unlocks (SPEC S1–S4). These are read
//! live from the server, not synced: a session list from an hour ago is no help to someone
//! revoking one.

use crate::auth::Client;
use crate::error::Result;
use gatehouse_api::{
    ApiKey, CreatedApiKey, ForcedLogout, LoginAttemptPage, LoginAttemptQuery, NewApiKey, Revocation, Secret, SessionPage, SessionQuery, SignInUnlocked, StepUpRequest,
    SteppedUp,
};
use reqwest::Method;

/// An id as one path segment.
pub(crate) fn encoded(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

/// `?k=v&…` of the pairs that are set (empty when none is).
pub(crate) fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<String>)>) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            ser.append_pair(k, &v);
        }
    }
    let s = ser.finish();
    if s.is_empty() { s } else { format!("?{s}") }
}

fn session_query(q: &SessionQuery) -> String {
    query_string([
        ("q", q.q.clone()),
        ("state", q.state.clone()),
        ("limit", q.limit.map(|l| l.to_string())),
        ("cursor", q.cursor.clone()),
    ])
}

fn attempt_query(q: &LoginAttemptQuery) -> String {
    query_string([
        ("result", q.result.map(|r| r.as_str().to_owned())),
        ("reason", q.reason.clone()),
        ("user_id", q.user_id.clone()),
        ("email", q.email.clone()),
        ("ip", q.ip.clone()),
        ("from", q.from.map(|t| t.to_rfc3339())),
        ("to", q.to.map(|t| t.to_rfc3339())),
        ("limit", q.limit.map(|l| l.to_string())),
        ("cursor", q.cursor.clone()),
    ])
}

impl Client {
    /// One page of `GET /v1/sessions`: the organization's sessions, newest first.
    pub async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        self.get(&format!("v1/sessions{}", session_query(query))).await
    }

    /// One page of `GET /v1/users/{id}/sessions`.
    pub async fn user_sessions(&self, user_id: &str, query: &SessionQuery) -> Result<SessionPage> {
        self.get(&format!("v1/users/{}/sessions{}", encoded(user_id), session_query(query))).await
    }

    /// `DELETE /v1/sessions/{id}`: its tokens are refused from the next request on.
    /// Repeating it is harmless and answers with the original time.
    pub async fn revoke_session(&self, session_id: &str) -> Result<Revocation> {
        Ok(self.send_authed_with(Method::DELETE, &format!("v1/sessions/{}", encoded(session_id)), None::<&()>, &[]).await?.0)
    }

    /// `POST /v1/users/{id}/logout`: ends every session and trusted device of the user, and
    /// with `suspend_api_keys` suspends their working API keys too.
    pub async fn force_logout(&self, user_id: &str, idempotency_key: &str, suspend_api_keys: bool) -> Result<ForcedLogout> {
        let headers = [("idempotency-key", idempotency_key)];
        let path = format!("v1/users/{}/logout{}", encoded(user_id), if suspend_api_keys { "?suspend_api_keys=true" } else { "" });
        Ok(self.send_authed_with(Method::POST, &path, None::<&()>, &headers).await?.0)
    }

    /// `GET /v1/users/{id}/api-keys`: the user's API keys, newest first, without secrets.
    pub async fn api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        self.get(&format!("v1/users/{}/api-keys", encoded(user_id))).await
    }

    /// `POST /v1/users/{id}/api-keys`: a new key; its secret is in the answer only.
    /// `new.expires_in_days` gives it a lifetime; without one it works until suspended.
    pub async fn create_api_key(&self, user_id: &str, new: &NewApiKey) -> Result<CreatedApiKey> {
        Ok(self.send_authed_with(Method::POST, &format!("v1/users/{}/api-keys", encoded(user_id)), Some(new), &[]).await?.0)
    }

    /// `POST /v1/auth/step-up`: confirms the password (and TOTP code) so that, for a few
    /// minutes, this session may change its own e-mail, reset its own MFA and create keys.
    pub async fn step_up(&self, password: Secret, totp: Option<String>) -> Result<SteppedUp> {
        let body = StepUpRequest { password, totp };
        Ok(self.send_authed_with(Method::POST, "v1/auth/step-up", Some(&body), &[]).await?.0)
    }

    /// `POST /v1/api-keys/{id}/suspend` or `…/restore`.
    pub async fn set_api_key_suspended(&self, key_id: &str, suspended: bool) -> Result<ApiKey> {
        let verb = if suspended { "suspend" } else { "restore" };
        Ok(self.send_authed_with(Method::POST, &format!("v1/api-keys/{}/{verb}", encoded(key_id)), None::<&()>, &[]).await?.0)
    }

    /// One page of `GET /v1/login-attempts`, newest first.
    pub async fn login_attempts(&self, query: &LoginAttemptQuery) -> Result<LoginAttemptPage> {
        self.get(&format!("v1/login-attempts{}", attempt_query(query))).await
    }

    /// `POST /v1/users/{id}/unlock`: lifts the sign-in lock of the user's address, so the
    /// failed sign-ins before it no longer count. Harmless when it was not locked.
    pub async fn unlock_sign_in(&self, user_id: &str) -> Result<SignInUnlocked> {
        Ok(self.send_authed_with(Method::POST, &format!("v1/users/{}/unlock", encoded(user_id)), None::<&()>, &[]).await?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_api::LoginResult;

    #[test]
    fn queries_carry_only_what_is_set() {
        assert_eq!(session_query(&SessionQuery::default()), "");
        let q = SessionQuery { q: Some("10.0 firefox".into()), state: Some("all".into()), ..Default::default() };
        assert_eq!(session_query(&q), "?q=10.0+firefox&state=all");
        let from = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().to_utc();
        let q = LoginAttemptQuery { result: Some(LoginResult::Failure), from: Some(from), ip: Some("::1".into()), ..Default::default() };
        assert_eq!(attempt_query(&q), "?result=failure&ip=%3A%3A1&from=2026-01-02T03%3A04%3A05%2B00%3A00");
    }
}
