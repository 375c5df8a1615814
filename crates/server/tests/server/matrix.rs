//! The permission matrix (SPEC R1, R4): every role against every endpoint. Each endpoint
//! names the permission it needs; each role's permissions come from the seeded roles.
//! A caller without the permission gets 403; with it, anything but 401/403. Requests that
//! would destroy something aim at ids that do not exist, so the answer is 404 when allowed.

use crate::helpers::*;
use gatehouse_server::seed::ROLES;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Endpoint {
    method: &'static str,
    /// `{user}` is a Member's id, `{none}` an id that does not exist.
    path: &'static str,
    body: Option<Value>,
    /// `None`: any signed-in user.
    needs: Option<&'static str>,
}

fn endpoints(n: usize) -> Vec<Endpoint> {
    let e = |method, path, body, needs| Endpoint { method, path, body, needs };
    vec![
        e("GET", "/v1/me", None, None),
        e("GET", "/v1/org", None, None),
        e("GET", "/v1/users", None, Some("users.read")),
        e("GET", "/v1/users/{user}", None, Some("users.read")),
        e("GET", "/v1/users/export.csv", None, Some("users.read")),
        e("GET", "/v1/users/{user}/avatar", None, Some("users.read")),
        e("GET", "/v1/changes", None, Some("users.read")),
        e("GET", "/v1/roles", None, Some("users.read")),
        e("GET", "/v1/departments", None, Some("users.read")),
        e(
            "POST",
            "/v1/users",
            Some(json!({"first_name": "M", "last_name": "X", "email": format!("matrix{n}@acme.test"), "password": "long enough"})),
            Some("users.manage"),
        ),
        e("PATCH", "/v1/users/{none}", Some(json!({})), Some("users.manage")),
        e("DELETE", "/v1/users/{none}", None, Some("users.manage")),
        e("POST", "/v1/users/{none}/deactivate", None, Some("users.manage")),
        e("POST", "/v1/users/{none}/reactivate", None, Some("users.manage")),
        e("PUT", "/v1/users/{none}/avatar", None, Some("users.manage")),
        e("POST", "/v1/users/bulk", Some(json!({"action": "deactivate", "user_ids": ["none"]})), Some("users.manage")),
        e("POST", "/v1/users/bulk", Some(json!({"action": "logout", "user_ids": ["none"]})), Some("sessions.revoke")),
        e("POST", "/v1/roles", Some(json!({"name": format!("Matrix {n}")})), Some("roles.manage")),
        e("PATCH", "/v1/roles/{none}", Some(json!({})), Some("roles.manage")),
        e("DELETE", "/v1/roles/{none}", None, Some("roles.manage")),
        e("POST", "/v1/departments", Some(json!({"name": format!("Matrix {n}")})), Some("org.settings")),
        e("PATCH", "/v1/departments/{none}", Some(json!({"name": "x"})), Some("org.settings")),
        e("DELETE", "/v1/departments/{none}", None, Some("org.settings")),
        e("PATCH", "/v1/org", Some(json!({})), Some("org.settings")),
        e("GET", "/v1/sessions", None, Some("sessions.revoke")),
        e("GET", "/v1/users/{user}/sessions", None, Some("sessions.revoke")),
        e("DELETE", "/v1/sessions/{none}", None, Some("sessions.revoke")),
        e("POST", "/v1/users/{none}/logout", None, Some("sessions.revoke")),
        e("GET", "/v1/login-attempts", None, Some("audit.read")),
        e("POST", "/v1/users/{none}/unlock", None, Some("users.manage")),
        e("GET", "/v1/audit-events", None, Some("audit.read")),
        e("GET", "/v1/audit-events/export.csv", None, Some("audit.read")),
        e("GET", "/v1/audit-events/histogram", None, Some("audit.read")),
        e("GET", "/v1/users/{user}/activity", None, Some("audit.read")),
        e("POST", "/v1/users/{none}/reset-password", None, Some("users.manage")),
        e("POST", "/v1/users/{none}/reset-mfa", None, Some("users.manage")),
        e("GET", "/v1/dev/mailbox", None, Some("users.manage")),
        e("GET", "/v1/invitations", None, Some("invitations.manage")),
        e("POST", "/v1/invitations", Some(json!({"emails": [format!("matrix{n}@invited.test")]})), Some("invitations.manage")),
        // An empty file: `invalid_csv` when allowed.
        e("POST", "/v1/invitations/import", None, Some("invitations.manage")),
        e("POST", "/v1/invitations/{none}/resend", None, Some("invitations.manage")),
        e("POST", "/v1/invitations/{none}/revoke", None, Some("invitations.manage")),
        e("GET", "/v1/invitations/{none}/link", None, Some("invitations.manage")),
    ]
}

/// Endpoints outside the matrix, and why.
const OUTSIDE: &[(&str, &str)] = &[
    ("POST", "/v1/auth/login"),                   // before sign-in
    ("POST", "/v1/auth/refresh"),                 // before sign-in
    ("POST", "/v1/auth/logout"),                  // ends the caller's own session
    ("POST", "/v1/auth/step-up"),                 // confirms the caller's own password (step_up tests)
    ("POST", "/v1/audit-events"),                 // API keys only, of any user (activity tests)
    ("GET", "/v1/changes/stream"),                // an endless stream; needs users.read like /v1/changes (changes tests)
    ("GET", "/v1/users/{id}/api-keys"),           // one's own: anyone; someone else's: users.manage (sessions tests)
    ("POST", "/v1/users/{id}/api-keys"),          // likewise
    ("POST", "/v1/api-keys/{id}/suspend"),        // likewise, by the key's user
    ("POST", "/v1/api-keys/{id}/restore"),        // likewise
    ("POST", "/v1/me/mfa/totp"),                  // the caller's own MFA (mfa tests)
    ("POST", "/v1/me/mfa/totp/confirm"),          // likewise
    ("POST", "/v1/auth/password-reset"),          // before sign-in (resets tests)
    ("POST", "/v1/auth/password-reset/complete"), // before sign-in, with the e-mailed token
    ("POST", "/v1/invitations/accept"),           // public: the invitee, with the e-mailed token (invitations tests)
    ("POST", "/v1/invitations/decline"),          // likewise
];

#[test]
fn the_matrix_covers_every_endpoint_of_the_api() {
    let doc = gatehouse_server::app::openapi_document();
    let listed = endpoints(0);
    for (path, item) in &doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (method, present) in methods {
            if !present {
                continue;
            }
            let normalized = path.replace("{id}", "{x}");
            let covered = listed.iter().any(|e| e.method == method && e.path.replace("{user}", "{x}").replace("{none}", "{x}") == normalized)
                || OUTSIDE.contains(&(method, path.as_str()));
            assert!(covered, "{method} {path} is not in the permission matrix");
        }
    }
}

#[tokio::test]
async fn every_role_against_every_endpoint() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, "member@acme.test").await;
    // One account per role, each holding only that role.
    let mut accounts = Vec::new();
    for (i, (key, _, _, perms)) in ROLES.iter().enumerate() {
        let email = format!("role-{key}@acme.test");
        if *key != "owner" {
            let body = json!({"first_name": "Role", "last_name": key, "email": email, "password": PASSWORD, "roles": [key]});
            let res = send(&s, &owner, "POST", "/v1/users", Some(body), &[]).await;
            assert_eq!(res.status(), StatusCode::CREATED, "creating the {key} account");
        }
        let email = if *key == "owner" { OWNER.to_owned() } else { email };
        accounts.push((i, *key, *perms, email));
    }
    let mut checked = 0;
    for (i, key, perms, email) in accounts {
        let token = s.login(&email).await;
        for endpoint in endpoints(i) {
            let path = endpoint.path.replace("{user}", &member_id).replace("{none}", "no-such-id");
            let res = send(&s, &token, endpoint.method, &path, endpoint.body.clone(), &[("If-Match", "*")]).await;
            let status = res.status();
            let allowed = endpoint.needs.is_none_or(|p| perms.contains(&p));
            let what = format!("{key} {} {}", endpoint.method, endpoint.path);
            if allowed {
                assert!(status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED, "{what}: allowed, got {status}");
                assert!(!status.is_server_error(), "{what}: {status}");
            } else {
                let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
                assert!(p.detail.contains(endpoint.needs.unwrap_or_default()), "{what}: the refusal names the permission: {}", p.detail);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROLES.len() * endpoints(0).len());
}
