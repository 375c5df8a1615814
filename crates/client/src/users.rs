//! The organization's users.

use crate::auth::Client;
use crate::error::Result;
use gatehouse_api::{User, UserListQuery, UserPage};

impl Client {
    /// One page of `GET /v1/users`.
    pub async fn list_users(&self, query: &UserListQuery) -> Result<UserPage> {
        let qs = serde_urlencoded_query(query);
        self.get(&format!("v1/users{qs}")).await
    }

    /// `GET /v1/users/{id}`.
    pub async fn get_user(&self, id: &str) -> Result<User> {
        self.get(&format!("v1/users/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())).await
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
