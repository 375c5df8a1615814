//! The organization's users.

use crate::auth::Client;
use crate::error::{Error, Result};
use gatehouse_api::{BulkRequest, BulkResponse, NewUser, User, UserListQuery, UserPage, UserPatch};
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
    format!("v1/users/{}", crate::sessions::encoded(id))
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

    /// `POST /v1/users/{id}/deactivate`: the user's sessions end at once.
    pub async fn deactivate_user(&self, id: &str, idempotency_key: &str) -> Result<Versioned<User>> {
        let headers = [("idempotency-key", idempotency_key)];
        let (user, headers) = self.send_authed_with(Method::POST, &format!("{}/deactivate", user_path(id)), None::<&()>, &headers).await?;
        versioned(user, &headers)
    }

    /// `POST /v1/users/{id}/reactivate`.
    pub async fn reactivate_user(&self, id: &str, idempotency_key: &str) -> Result<Versioned<User>> {
        let headers = [("idempotency-key", idempotency_key)];
        let (user, headers) = self.send_authed_with(Method::POST, &format!("{}/reactivate", user_path(id)), None::<&()>, &headers).await?;
        versioned(user, &headers)
    }

    /// `DELETE /v1/users/{id}` (the user must be deactivated).
    pub async fn remove_user(&self, id: &str, idempotency_key: &str) -> Result<()> {
        let headers = [("idempotency-key", idempotency_key)];
        let ((), _) = self.send_authed_with(Method::DELETE, &user_path(id), None::<&()>, &headers).await?;
        Ok(())
    }

    /// `POST /v1/users`: creates an active user with an initial password.
    pub async fn create_user(&self, new: &NewUser, idempotency_key: &str) -> Result<Versioned<User>> {
        let headers = [("idempotency-key", idempotency_key)];
        let (user, headers) = self.send_authed_with(Method::POST, "v1/users", Some(new), &headers).await?;
        versioned(user, &headers)
    }

    /// `PUT /v1/users/{id}/avatar`: uploads a picture (PNG, JPEG, GIF or WebP, at most
    /// 512 KiB; the server checks the bytes, not only `content_type`).
    pub async fn upload_avatar(&self, id: &str, image: &[u8], content_type: &str) -> Result<Versioned<User>> {
        let (bytes, headers) = self.send_authed_raw(Method::PUT, &format!("{}/avatar", user_path(id)), Some((image, content_type)), &[]).await?;
        versioned(crate::auth::decode(&bytes)?, &headers)
    }

    /// `GET /v1/users/{id}/avatar`: the uploaded picture and its content type, or `None`
    /// when the user has none.
    pub async fn avatar(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        match self.send_authed_raw(Method::GET, &format!("{}/avatar", user_path(id)), None, &[]).await {
            Ok((bytes, headers)) => {
                let kind = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/octet-stream");
                Ok(Some((kind.to_owned(), bytes.to_vec())))
            }
            Err(Error::Api(p)) if p.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/users/bulk`: one action on many users, a result for each.
    pub async fn bulk(&self, request: &BulkRequest, idempotency_key: &str) -> Result<BulkResponse> {
        let headers = [("idempotency-key", idempotency_key)];
        Ok(self.send_authed_with(Method::POST, "v1/users/bulk", Some(request), &headers).await?.0)
    }
}

fn serde_urlencoded_query(q: &UserListQuery) -> String {
    crate::sessions::query_string([
        ("q", q.q.clone()),
        ("status", q.status.map(|s| s.as_str().to_owned())),
        ("role", q.role.clone()),
        ("department", q.department.clone()),
        ("limit", q.limit.map(|l| l.to_string())),
        ("cursor", q.cursor.clone()),
    ])
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
