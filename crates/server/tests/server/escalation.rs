//! No role reaches above itself (SPEC R3, R5): actor role × target role × endpoint, with
//! the expected answer of every cell written out, and one test per escalation that worked
//! before the rule was one.

use crate::helpers::*;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The roles, built-in and the demo's custom Support role, in the order of [`REACH`].
const ROLES: [&str; 5] = ["owner", "admin", "manager", "member", "support"];

/// Whether an actor of the row's role reaches a target of the column's role: holds every
/// permission the target holds and, for an Owner target, is an Owner. Written out, not
/// computed, so the test states the rule instead of repeating the server's arithmetic.
const REACH: [[bool; 5]; 5] = [
    //  owner  admin  manager member support   ← target
    [true, true, true, true, true],     // owner
    [false, true, true, true, true],    // admin: same permissions as the Owner, not the Owner
    [false, false, true, true, true],   // manager
    [false, false, false, true, false], // member: Support holds audit.read
    [false, false, false, true, true],  // support
];

/// The permissions of each role, as seeded (the actor's side of a cell).
fn holds(role: &str, permission: &str) -> bool {
    gatehouse_server::seed::ROLES.iter().find(|r| r.0 == role).is_some_and(|r| r.3.contains(&permission))
}

/// One endpoint aimed at a target of some role.
struct Aim {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// The permission it needs; `None`: never allowed on someone else.
    needs: Option<&'static str>,
    /// It needs reach too. Reading someone's sessions does not: the organization-wide
    /// list shows them to whoever holds `sessions.revoke`.
    reach: bool,
}

/// What a target of one role has: the account, one of its sessions, an API key, and an
/// open invitation granting that role.
struct Target {
    id: String,
    session: String,
    key: String,
    invitation: String,
}

async fn make_target(s: &TestServer, owner: &gatehouse_api::TokenResponse, role: &str, n: &str) -> Target {
    let email = format!("target-{role}-{n}@acme.test");
    let body = json!({"first_name": "Target", "last_name": role, "email": email, "password": PASSWORD, "roles": [role]});
    let res = send(s, owner, "POST", "/v1/users", Some(body), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED, "creating the {role} target");
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let me = s.login(&email).await;
    let key = mint_key(s, &me, &id, "target key").await;
    let invited = json!({"emails": [format!("invited-{role}-{n}@elsewhere.test")], "roles": [role]});
    let res = send(s, owner, "POST", "/v1/invitations", Some(invited), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED, "inviting a {role}");
    let invitation = res.json::<Value>().await.unwrap()["invitations"][0]["id"].as_str().unwrap().to_owned();
    Target { id, session: me.session_id.clone(), key, invitation }
}

/// Mints an API key for oneself (with the step-up it needs); returns its id.
async fn mint_key(s: &TestServer, me: &gatehouse_api::TokenResponse, user_id: &str, name: &str) -> String {
    step_up(s, me).await;
    let res = send(s, me, "POST", &format!("/v1/users/{user_id}/api-keys"), Some(json!({"name": name})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED, "minting a key");
    res.json::<Value>().await.unwrap()["key"]["id"].as_str().unwrap().to_owned()
}

fn aims(t: &Target, role: &str, n: usize) -> Vec<Aim> {
    let id = &t.id;
    let a = |method, path: String, body, needs| Aim { method, path, body, needs, reach: true };
    vec![
        // Acting on the person.
        a("PATCH", format!("/v1/users/{id}"), Some(json!({"email": format!("moved-{n}@acme.test")})), Some("users.manage")),
        a("POST", format!("/v1/users/{id}/reset-password"), None, Some("users.manage")),
        a("POST", format!("/v1/users/{id}/reset-mfa"), None, Some("users.manage")),
        a("PUT", format!("/v1/users/{id}/avatar"), None, Some("users.manage")),
        Aim { reach: false, ..a("GET", format!("/v1/users/{id}/sessions"), None, Some("sessions.revoke")) },
        a("DELETE", format!("/v1/sessions/{}", t.session), None, Some("sessions.revoke")),
        a("POST", format!("/v1/users/{id}/logout"), None, Some("sessions.revoke")),
        a("GET", format!("/v1/users/{id}/api-keys"), None, Some("users.manage")),
        a("POST", format!("/v1/api-keys/{}/suspend", t.key), None, Some("users.manage")),
        a("POST", format!("/v1/api-keys/{}/restore", t.key), None, Some("users.manage")),
        a("POST", format!("/v1/users/{id}/api-keys"), Some(json!({"name": "minted by someone else"})), None),
        a("POST", format!("/v1/users/{id}/unlock"), None, Some("users.manage")),
        a("POST", format!("/v1/users/{id}/deactivate"), None, Some("users.manage")),
        a("POST", format!("/v1/users/{id}/reactivate"), None, Some("users.manage")),
        // Active again, so allowed means `not_removable`: nothing is lost.
        a("DELETE", format!("/v1/users/{id}"), None, Some("users.manage")),
        // Handing out the role.
        a("GET", format!("/v1/invitations/{}/link", t.invitation), None, Some("invitations.manage")),
        a("POST", format!("/v1/invitations/{}/resend", t.invitation), None, Some("invitations.manage")),
        a(
            "POST",
            "/v1/invitations".into(),
            Some(json!({"emails": [format!("grant-{n}@elsewhere.test")], "roles": [role]})),
            Some("invitations.manage"),
        ),
        a(
            "POST",
            "/v1/users".into(),
            Some(json!({"first_name": "Grant", "last_name": "Ed", "email": format!("grant-{n}@acme.test"), "password": PASSWORD, "roles": [role]})),
            Some("users.manage"),
        ),
    ]
}

#[tokio::test]
async fn every_role_against_every_role_on_every_endpoint() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"seat_limit": 1000})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut actors = Vec::new();
    for role in ROLES {
        let email = if role == "owner" {
            OWNER.to_owned()
        } else {
            let email = format!("actor-{role}@acme.test");
            let body = json!({"first_name": "Actor", "last_name": role, "email": email, "password": PASSWORD, "roles": [role]});
            assert_eq!(send(&s, &owner, "POST", "/v1/users", Some(body), &[]).await.status(), StatusCode::CREATED);
            email
        };
        actors.push(s.login(&email).await);
    }
    let mut checked = 0;
    let mut n = 0;
    for (a, actor_role) in ROLES.iter().enumerate() {
        for (t, target_role) in ROLES.iter().enumerate() {
            // A fresh target per cell: what one actor did (a revoked session, a moved
            // address) does not decide the next cell.
            let target = make_target(&s, &owner, target_role, &format!("{a}{t}")).await;
            for aim in aims(&target, target_role, n) {
                n += 1;
                let allowed = aim.needs.is_some_and(|p| holds(actor_role, p)) && (REACH[a][t] || !aim.reach);
                let res = send(&s, &actors[a], aim.method, &aim.path, aim.body.clone(), &[("If-Match", "*")]).await;
                let status = res.status();
                let what = format!("{actor_role} → {target_role}: {} {}", aim.method, aim.path);
                if allowed {
                    assert!(
                        status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                        "{what}: allowed, got {status}: {}",
                        res.text().await.unwrap()
                    );
                    assert!(!status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE, "{what}: {status}");
                } else {
                    let body = res.text().await.unwrap();
                    assert_eq!(status, StatusCode::FORBIDDEN, "{what}: refused, got {status}: {body}");
                    assert!(body.contains("\"code\":\"forbidden\""), "{what}: {body}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, ROLES.len() * ROLES.len() * 19);
}

/// Attack 1: a Manager shared the link of the Owner's invitation of a new Owner, accepted
/// it with a password of their own, and signed in as an Owner.
#[tokio::test]
async fn a_manager_cannot_hand_out_an_owner_invitation() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let res = send(&s, &owner, "POST", "/v1/invitations", Some(json!({"emails": ["new-owner@elsewhere.test"], "roles": ["owner"]})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["invitations"][0]["id"].as_str().unwrap().to_owned();
    for who in ["manager@acme.test", "admin@acme.test"] {
        let them = s.login(who).await;
        for (method, path) in [("GET", "link"), ("POST", "resend"), ("POST", "revoke")] {
            let res = send(&s, &them, method, &format!("/v1/invitations/{id}/{path}"), None, &[]).await;
            let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
            assert!(p.detail.contains("new-owner@elsewhere.test"), "{who} {path}: {}", p.detail);
        }
    }
    // The Owner still can.
    assert_eq!(s.get(&format!("/v1/invitations/{id}/link"), &owner).await.status(), StatusCode::OK);
}

/// Attack 2: a Manager moved the Owner's e-mail to their own mailbox, then asked for a
/// password reset there.
#[tokio::test]
async fn a_manager_cannot_move_the_owners_email() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let manager = s.login("manager@acme.test").await;
    let res = send(&s, &manager, "PATCH", &format!("/v1/users/{owner_id}"), Some(json!({"email": "mine@attacker.test"})), &[("If-Match", "*")]).await;
    let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("edit them"), "{}", p.detail);
    let admin = s.login("admin@acme.test").await;
    let res = send(&s, &admin, "PATCH", &format!("/v1/users/{owner_id}"), Some(json!({"email": "mine@attacker.test"})), &[("If-Match", "*")]).await;
    problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let me: Value = s.get("/v1/me", &owner).await.json().await.unwrap();
    assert_eq!(me["user"]["email"], OWNER);
}

/// Attack 3: an Admin minted an API key for the Owner, made themselves Owner with it, and
/// the log named the Owner as the actor.
#[tokio::test]
async fn nobody_mints_a_key_for_someone_else_and_a_key_mints_none() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let admin = s.login("admin@acme.test").await;
    let admin_id = id_of(&s, &owner, "admin@acme.test").await;
    let p = problem(
        send(&s, &admin, "POST", &format!("/v1/users/{owner_id}/api-keys"), Some(json!({"name": "escalate"})), &[]).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    assert!(p.detail.contains("for themselves"), "{}", p.detail);
    // The Admin's own key acts as the Admin: it cannot reach the Owner, nor mint another key.
    step_up(&s, &admin).await;
    let res = send(&s, &admin, "POST", &format!("/v1/users/{admin_id}/api-keys"), Some(json!({"name": "mine"})), &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let secret = res.json::<gatehouse_api::CreatedApiKey>().await.unwrap().secret.expose().clone();
    let via_key = |method: &str, path: String, body: Value| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        s.http.request(method, s.at(&path)).bearer_auth(&secret).header("If-Match", "*").json(&body).send()
    };
    let res = via_key("PATCH", format!("/v1/users/{admin_id}"), json!({"roles": ["owner", "admin"]})).await.unwrap();
    let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("Only an Owner"), "{}", p.detail);
    let res = via_key("POST", format!("/v1/users/{admin_id}/api-keys"), json!({"name": "another"})).await.unwrap();
    let p = problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("cannot create API keys"), "{}", p.detail);
    // What a key does is recorded with the key and who created it.
    let res = via_key("PATCH", format!("/v1/users/{admin_id}"), json!({"first_name": "Samuel"})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (action, actor, details) = events(&s, &admin_id).await.pop().unwrap();
    assert_eq!((action.as_str(), actor.as_deref()), ("user.updated", Some(admin_id.as_str())));
    assert_eq!(details["via_api_key"]["created_by"], admin_id.as_str());
    assert_eq!(details["via_api_key"]["name"], "mine");
}

/// Another organization's accounts are not revealed: an address taken there gets the same
/// generic refusal in create, invite and the CSV check, naming nobody.
#[tokio::test]
async fn another_organizations_addresses_get_one_generic_refusal() {
    let s = TestServer::new().await;
    let now = s.clock_now();
    on!(&s.state.db, |db| sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('org-2', 'Globex', $1)")
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    on!(&s.state.db, |db| sqlx::query(
        "INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, status, created_at, updated_at) \
         VALUES ('0192f4c1-0000-7000-8000-000000000001', 'org-2', 'hank@globex.test', 'hank@globex.test', 'Hank', 'Scorpio', 'Hank Scorpio', 'hank scorpio', 'hank scorpio hank@globex.test', 'active', $1, $2)",
    )
    .bind(now)
    .bind(now)
    .execute(db)
    .await.map(|r| r.rows_affected()))
    .unwrap();
    let owner = s.login(OWNER).await;
    let expected = "Hank@Globex.test cannot be used in this organization; use another address.";
    let body = json!({"first_name": "H", "last_name": "S", "email": "Hank@Globex.test", "password": PASSWORD});
    let p = problem(send(&s, &owner, "POST", "/v1/users", Some(body), &[]).await, StatusCode::CONFLICT, "email_unavailable").await;
    assert_eq!(p.detail, expected);
    let p = problem(
        send(&s, &owner, "POST", "/v1/invitations", Some(json!({"emails": ["Hank@Globex.test"]})), &[]).await,
        StatusCode::CONFLICT,
        "email_unavailable",
    )
    .await;
    assert_eq!(p.detail, expected);
    let res = s
        .http
        .post(s.at("/v1/invitations/import?dry_run=true"))
        .bearer_auth(owner.access_token.expose())
        .header("content-type", "text/csv")
        .body("email,role,department\nHank@Globex.test,member,\n")
        .send()
        .await
        .unwrap();
    let report = res.text().await.unwrap();
    assert!(report.contains("\"email_unavailable\"") && report.contains(expected), "{report}");
    assert!(!report.contains("Hank Scorpio") && !report.contains("Globex\""), "{report}");
}
