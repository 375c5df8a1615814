//! The organization's users.

use crate::auth::Client;
use crate::error::{Error, Result};
use gatehouse_api::{User, UserListQuery, UserPage, UserPatch};
use reqwest::Method;

/// A resource with the ETag of the version read, for a later `If-Match`.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The resource.
    pub value: T,
    /// Its ETag.
    pub etag: String,
}

fn user_path(id: &str) -> String {
    format!("v1/users/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())
}

fn versioned<T>(value: T, headers: &reqwest::header::HeaderMap) -> Result<Versioned<T>> {
    let etag = headers.get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).ok_or_else(|| Error::Protocol("no ETag on a user".into()))?;
    Ok(Versioned { value, etag: etag.to_owned() })
}

impl Client {
    /// One page of `GET /v1/users`.
    pub async fn list_users(&self, query: &UserListQuery) -> Result<UserPage> {
        let qs = serde_urlencoded_query(query);
        self.get(&format!("v1/users{qs}")).await
    }

    /// `GET /v1/users/{id}`.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        Ok(self.get_user_versioned(id).await?.value)
    }

    /// `GET /v1/users/{id}` with the user's ETag.
    pub async fn get_user_versioned(&self, id: &str) -> Result<Versioned<User>> {
        let (user, headers) = self.send_authed_with(Method::GET, &user_path(id), None::<&()>, &[]).await?;
        versioned(user, &headers)
    }

    /// `PATCH /v1/users/{id}` based on the version `etag`. `idempotency_key` makes a retry
    /// safe: the server answers it with the first attempt's response. A stale `etag` is
    /// `Error::Api` with code `precondition_failed` and the user as it is now in `current`.
    pub async fn update_user(&self, id: &str, etag: &str, patch: &UserPatch, idempotency_key: &str) -> Result<Versioned<User>> {
        let headers = [("if-match", etag), ("idempotency-key", idempotency_key)];
        let (user, headers) = self.send_authed_with(Method::PATCH, &user_path(id), Some(patch), &headers).await?;
        versioned(user, &headers)
    }
}

fn serde_urlencoded_query(q: &UserListQuery) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    let status = q.status.map(|s| s.as_str().to_owned());
    let limit = q.limit.map(|l| l.to_string());
    for (k, v) in [
        ("q", q.q.as_deref()),
        ("status", status.as_deref()),
        ("role", q.role.as_deref()),
        ("department", q.department.as_deref()),
        ("limit", limit.as_deref()),
        ("cursor", q.cursor.as_deref()),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            ser.append_pair(k, v);
        }
    }
    let s = ser.finish();
    if s.is_empty() { s } else { format!("?{s}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_api::UserStatus;

    #[test]
    fn queries_encode_only_what_is_set() {
        assert_eq!(serde_urlencoded_query(&UserListQuery::default()), "");
        let q = UserListQuery { q: Some("a b&c".into()), status: Some(UserStatus::Active), limit: Some(100), ..Default::default() };
        assert_eq!(serde_urlencoded_query(&q), "?q=a+b%26c&status=active&limit=100");
    }
}
