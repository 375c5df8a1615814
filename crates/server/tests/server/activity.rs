//! The activity log (SPEC A1–A5): each action leaves exactly one event, in its own
//! transaction; the log filters, pages, exports and counts; host products post their own
//! events; retention purges; bad filters get specific 400s.

use crate::helpers::*;
use gatehouse_api::{AuditEvent, AuditEventPage, Histogram, User};
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

const MEMBER: &str = "member@acme.test";
const SUPPORT: &str = "support@acme.test";

/// How many events of each action the whole log holds.
async fn tally(s: &TestServer) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> =
        on!(&s.state.db, |db| sqlx::query_as("SELECT action, COUNT(*) FROM audit_events GROUP BY action").fetch_all(db).await).unwrap();
    rows.into_iter().collect()
}

/// The actions that grew from `before` to `after`, with by how much.
fn grown(before: &BTreeMap<String, i64>, after: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    after.iter().map(|(a, n)| (a.clone(), n - before.get(a).copied().unwrap_or(0))).filter(|(_, grew)| *grew != 0).collect()
}

/// Runs `step` and asserts the log grew by exactly `expected` (action → count).
macro_rules! leaves {
    ($s:expr, [$($action:literal $(x $n:literal)?),*], $step:expr) => {{
        let before = tally($s).await;
        let out = $step;
        let after = tally($s).await;
        #[allow(unused_mut, unused_assignments)]
        let expected: BTreeMap<String, i64> = [$({ let mut n = 1; $(n = $n;)? ($action.to_owned(), n) }),*].into_iter().collect();
        assert_eq!(grown(&before, &after), expected, "events of {}", stringify!($step));
        out
    }};
}

async fn page(s: &TestServer, t: &gatehouse_api::TokenResponse, query: &str) -> AuditEventPage {
    let res = s.get(&format!("/v1/audit-events{query}"), t).await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.json().await.unwrap()
}

async fn etag_of(s: &TestServer, t: &gatehouse_api::TokenResponse, id: &str) -> String {
    let res = s.get(&format!("/v1/users/{id}"), t).await;
    res.headers().get("etag").unwrap().to_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_action_leaves_exactly_one_event_and_a_failed_change_none() {
    let s = TestServer::new().await;
    let owner = leaves!(&s, ["session.signed_in"], s.login(OWNER).await);
    let member_id = id_of(&s, &owner, MEMBER).await;
    leaves!(&s, ["session.sign_in_failed"], assert_eq!(s.login_raw(MEMBER, "wrong password").await.status(), StatusCode::UNAUTHORIZED));
    leaves!(&s, ["session.sign_in_failed"], assert_eq!(s.login_raw("nobody@acme.test", "wrong password").await.status(), StatusCode::UNAUTHORIZED));
    let member = leaves!(&s, ["session.signed_in"], s.login(MEMBER).await);
    leaves!(&s, ["session.signed_out"], assert_eq!(post(&s, &member, "/v1/auth/logout", &[]).await.status(), StatusCode::NO_CONTENT));

    // A failed sign-in of an unknown address names the address as its target.
    let failed: (String, String, Option<String>) = on!(&s.state.db, |db| sqlx::query_as(
        "SELECT target_type, target_id, actor_id FROM audit_events WHERE action = 'session.sign_in_failed' ORDER BY at DESC, id DESC LIMIT 1",
    )
    .fetch_one(db)
    .await)
    .unwrap();
    assert_eq!(failed, ("email".to_owned(), "nobody@acme.test".to_owned(), None));

    // One edit, one event per part that changed: profile, roles, departments.
    let support_role =
        on!(&s.state.db, |db| sqlx::query_scalar::<_, String>("SELECT id FROM roles WHERE key = 'support'").fetch_one(db).await).unwrap();
    let sales = on!(&s.state.db, |db| sqlx::query_scalar::<_, String>("SELECT id FROM groups WHERE name = 'Sales'").fetch_one(db).await).unwrap();
    let path = format!("/v1/users/{member_id}");
    let tag = etag_of(&s, &owner, &member_id).await;
    let body = json!({"first_name": "Jordan", "roles": [support_role], "departments": [sales]});
    let res = leaves!(
        &s,
        ["user.updated", "user.roles_changed", "user.departments_changed"],
        send(&s, &owner, "PATCH", &path, Some(body.clone()), &[("if-match", &tag)]).await
    );
    assert_eq!(res.status(), StatusCode::OK);
    let tag = etag_of(&s, &owner, &member_id).await;
    leaves!(&s, ["user.updated"], send(&s, &owner, "PATCH", &path, Some(json!({"first_name": "Jordy"})), &[("if-match", &tag)]).await);
    // A stale ETag changes nothing and records nothing; neither does an edit that changes nothing.
    let res = leaves!(&s, [], send(&s, &owner, "PATCH", &path, Some(json!({"first_name": "Late"})), &[("if-match", &tag)]).await);
    assert_eq!(res.status(), StatusCode::PRECONDITION_FAILED);
    let tag = etag_of(&s, &owner, &member_id).await;
    leaves!(&s, [], send(&s, &owner, "PATCH", &path, Some(json!({"first_name": "Jordy"})), &[("if-match", &tag)]).await);
    // Refused by a guard: no event.
    let res = leaves!(&s, [], post(&s, &owner, &format!("/v1/users/{}/deactivate", id_of(&s, &owner, OWNER).await), &[]).await);
    assert_eq!(res.status(), StatusCode::CONFLICT);

    // Settings changed; an invalid change records nothing.
    let res = leaves!(&s, ["organization.updated"], send(&s, &owner, "PATCH", "/v1/org", Some(json!({"audit_retention_days": 180})), &[]).await);
    assert_eq!(res.json::<gatehouse_api::Organization>().await.unwrap().audit_retention_days, 180);
    let res = leaves!(&s, [], send(&s, &owner, "PATCH", "/v1/org", Some(json!({"audit_retention_days": 7})), &[]).await);
    let p = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("audit_retention_days", "out_of_range"));

    // An API key: created, then used — one event for its first request, none for the
    // next within the hour, one again after it.
    let member = s.login(MEMBER).await;
    step_up(&s, &member).await;
    let res = leaves!(
        &s,
        ["api_key.created"],
        send(&s, &member, "POST", &format!("/v1/users/{member_id}/api-keys"), Some(json!({"name": "Helpdesk"})), &[]).await
    );
    let created: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    let secret = created.secret.expose().clone();
    leaves!(&s, ["api_key.used"], assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK));
    leaves!(&s, [], assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK));
    s.advance(chrono::Duration::minutes(61));
    let owner = s.login(OWNER).await;
    leaves!(&s, ["api_key.used"], assert_eq!(s.get_with("/v1/me", &secret).await.status(), StatusCode::OK));
    let used = page(&s, &owner, "?action=api_key.used&limit=1").await.items.remove(0);
    assert_eq!(used.details["api_key"]["name"], "Helpdesk");
    assert_eq!(used.details["path"], "/v1/me");

    // Deactivation and reactivation; the admin's own events carry who, from where, with what.
    let res = leaves!(&s, ["user.deactivated"], post(&s, &owner, &format!("/v1/users/{member_id}/deactivate"), &[]).await);
    assert_eq!(res.status(), StatusCode::OK);
    leaves!(&s, ["user.reactivated"], post(&s, &owner, &format!("/v1/users/{member_id}/reactivate"), &[]).await);
    let last = page(&s, &owner, &format!("?user_id={member_id}&limit=1")).await.items.remove(0);
    assert_eq!(last.action, "user.reactivated");
    let actor = last.actor.unwrap();
    assert_eq!((actor.kind.as_str(), actor.email.as_deref()), ("user", Some(OWNER)));
    assert_eq!(last.target.email.as_deref(), Some(MEMBER));
    assert_eq!(last.ip, "127.0.0.1");
    assert_eq!(
        (last.details["before"]["status"].as_str(), last.details["after"]["status"].as_str()),
        (Some("deactivated"), Some("active")),
        "{}",
        last.details
    );
}

#[tokio::test]
async fn signing_in_with_mfa_records_the_check_and_the_sign_in() {
    let s = TestServer::new().await;
    let member = s.login(MEMBER).await;
    let res = send(&s, &member, "POST", "/v1/me/mfa/totp", None, &[]).await;
    let e: gatehouse_api::TotpEnrollment = res.json().await.unwrap();
    let key = gatehouse_server::totp::base32_decode(e.secret.expose()).unwrap();
    let code = |s: &TestServer| format!("{:06}", gatehouse_server::totp::code_at(&key, gatehouse_server::totp::step_of(s.clock_now().timestamp())));
    let res = leaves!(&s, ["user.mfa_enrolled"], send(&s, &member, "POST", "/v1/me/mfa/totp/confirm", Some(json!({"code": code(&s)})), &[]).await);
    assert_eq!(res.status(), StatusCode::OK);
    s.advance(chrono::Duration::seconds(31));
    let body = json!({"email": MEMBER, "password": PASSWORD, "totp": code(&s)});
    let res = leaves!(&s, ["session.mfa_verified", "session.signed_in"], s.http.post(s.at("/v1/auth/login")).json(&body).send().await.unwrap());
    assert_eq!(res.status(), StatusCode::OK);
    // A wrong code: a failed sign-in, no MFA check.
    let body = json!({"email": MEMBER, "password": PASSWORD, "totp": "000000"});
    let res = leaves!(&s, ["session.sign_in_failed"], s.http.post(s.at("/v1/auth/login")).json(&body).send().await.unwrap());
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let owner = s.login(OWNER).await;
    let failed = page(&s, &owner, "?action=session.sign_in_failed&limit=1").await.items.remove(0);
    assert_eq!(failed.details["reason"], "mfa_failed");
    assert!(failed.actor.is_none());
}

#[tokio::test]
async fn the_log_filters_and_pages_newest_first_on_a_seeded_history() {
    let s = TestServer::with_history(60, 6000).await;
    let support = s.login(SUPPORT).await;
    let total: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(db).await).unwrap();
    assert!(total > 5000, "the seed wrote a history: {total}");

    // Paging the whole log visits every event once, newest first.
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut last: Option<(chrono::DateTime<chrono::Utc>, String)> = None;
    loop {
        let q = cursor.as_ref().map_or("?limit=500".to_owned(), |c| format!("?limit=500&cursor={c}"));
        let p = page(&s, &support, &q).await;
        for e in &p.items {
            assert!(seen.insert(e.id.clone()), "{} twice", e.id);
            let key = (e.at, e.id.clone());
            assert!(last.as_ref().is_none_or(|l| *l > key), "newest first");
            last = Some(key);
        }
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total);

    // One user's events: as actor or target, all of them.
    let who: String = on!(&s.state.db, |db| sqlx::query_scalar(
        "SELECT target_id FROM audit_events WHERE target_type = 'user' GROUP BY target_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    .fetch_one(db)
    .await)
    .unwrap();
    let expected: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE actor_id = $1 OR target_id = $1")
        .bind(&who)
        .fetch_one(db)
        .await)
    .unwrap();
    let mut n = 0;
    let mut cursor = String::new();
    loop {
        let p = page(&s, &support, &format!("?user_id={who}&limit=37&cursor={cursor}")).await;
        assert!(p.items.iter().all(|e| e.target.id == who || e.actor.as_ref().is_some_and(|a| a.id == who)));
        n += p.items.len() as i64;
        let Some(c) = p.next_cursor else { break };
        cursor = c;
    }
    assert_eq!(n, expected);
    // The per-user timeline is the same.
    let timeline: AuditEventPage = s.get(&format!("/v1/users/{who}/activity?limit=500"), &support).await.json().await.unwrap();
    assert_eq!(timeline.items.len() as i64, expected.min(500));

    // One user's failed sign-ins, and a prefix of actions.
    let failures = page(&s, &support, &format!("?user_id={who}&action=session.sign_in_failed&limit=500")).await;
    let expected: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE target_id = $1 AND action = 'session.sign_in_failed'")
            .bind(&who)
            .fetch_one(db)
            .await)
        .unwrap();
    assert_eq!(failures.items.len() as i64, expected);
    let sessions = page(&s, &support, "?action=session.*,user.deactivated&limit=500").await;
    assert_eq!(sessions.items.len(), 500);
    assert!(sessions.items.iter().all(|e| e.action.starts_with("session.") || e.action == "user.deactivated"));
    assert!(sessions.items.iter().map(|e| e.action.as_str()).collect::<HashSet<_>>().len() >= 3, "several session actions merge");

    // A time range, an IP, a text.
    let from = s.clock_now() - chrono::Duration::days(10);
    let to = s.clock_now() - chrono::Duration::days(9);
    let range = format!("from={}&to={}", urlencode(&from.to_rfc3339()), urlencode(&to.to_rfc3339()));
    let day = page(&s, &support, &format!("?{range}&limit=500")).await;
    assert!(!day.items.is_empty() && day.items.iter().all(|e| e.at >= from && e.at < to));
    let attacker: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT ip FROM audit_events WHERE ip LIKE '198.51.100.%' LIMIT 1").fetch_one(db).await).unwrap();
    let burst = page(&s, &support, &format!("?ip={attacker}&limit=500")).await;
    assert!(burst.items.len() >= 40 && burst.items.iter().all(|e| e.ip == attacker && e.action == "session.sign_in_failed"));
    let helpdesk = page(&s, &support, "?q=HELPDESK%20assistant&limit=500").await;
    assert!(!helpdesk.items.is_empty());
    assert!(helpdesk.items.iter().all(|e| e.details["agent"] == "Helpdesk assistant"));

    // The histogram counts what the list shows.
    let h: Histogram = s.get(&format!("/v1/audit-events/histogram?bucket=hour&{range}"), &support).await.json().await.unwrap();
    assert_eq!(h.bars.len(), 24);
    assert_eq!(h.total as usize, day.items.len().min(500));
    assert_eq!(h.bars.iter().map(|b| b.count).sum::<u32>(), h.total);
    let h: Histogram = s.get("/v1/audit-events/histogram?bucket=day&action=session.sign_in_failed", &support).await.json().await.unwrap();
    assert_eq!(h.bars.len(), 31, "30 days back from now, whole days");
    assert!(h.bars.windows(2).all(|w| w[0].start < w[1].start));
    // Those bars came from the hourly counts; counting the events themselves (a text
    // filter forces that) gives the same bars.
    let counted: Histogram =
        s.get("/v1/audit-events/histogram?bucket=day&action=session.sign_in_failed&q=sign_in_failed", &support).await.json().await.unwrap();
    assert!(h.total > 0);
    assert_eq!(counted.bars, h.bars);
    // And a new event counts at once.
    assert_eq!(s.login_raw(MEMBER, "wrong").await.status(), StatusCode::UNAUTHORIZED);
    let after: Histogram = s.get("/v1/audit-events/histogram?bucket=day&action=session.sign_in_failed", &support).await.json().await.unwrap();
    assert_eq!(after.total, h.total + 1);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B")
}

#[tokio::test]
async fn bad_filters_get_specific_codes() {
    let s = TestServer::with_history(10, 600).await;
    let support = s.login(SUPPORT).await;
    let code_of = |p: &gatehouse_api::Problem| (p.errors[0].field.clone(), p.errors[0].code.clone());
    for (query, field, code) in [
        ("?from=yesterday", "from", "invalid_time"),
        ("?to=2026-13-01T00:00:00Z", "to", "invalid_time"),
        ("?action=user.exploded", "action", "unknown_action"),
        ("?action=nonsense.*", "action", "unknown_action"),
        ("?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to", "range_reversed"),
        ("?ip=10.0.0.300", "ip", "invalid"),
        ("?user_id=../etc", "user_id", "invalid_id"),
        ("?limit=0", "limit", "out_of_range"),
        ("?cursor=garbage", "cursor", "invalid_cursor"),
    ] {
        let p = problem(s.get(&format!("/v1/audit-events{query}"), &support).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(code_of(&p), (field.to_owned(), code.to_owned()), "{query}");
    }
    // A cursor of another filter.
    let first = page(&s, &support, "?action=session.*&limit=5").await;
    let cursor = first.next_cursor.unwrap();
    let p = problem(
        s.get(&format!("/v1/audit-events?action=user.*&limit=5&cursor={cursor}"), &support).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(code_of(&p), ("cursor".to_owned(), "invalid_cursor".to_owned()));
    assert!(p.errors[0].message.contains("different"), "{}", p.errors[0].message);
    // The same filter in another order is the same filter.
    assert_eq!(s.get(&format!("/v1/audit-events?action=session.*&limit=5&cursor={cursor}"), &support).await.status(), StatusCode::OK);
    let p = problem(s.get("/v1/audit-events/histogram?bucket=week", &support).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(code_of(&p), ("bucket".to_owned(), "invalid".to_owned()));
    let p = problem(
        s.get("/v1/audit-events/histogram?bucket=hour&from=2025-01-01T00:00:00Z", &support).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(code_of(&p), ("from".to_owned(), "range_too_large".to_owned()));
    problem(s.get("/v1/audit-events/export.csv?from=soon", &support).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Several errors at once, each named.
    let p = problem(s.get("/v1/audit-events?from=x&action=y.z", &support).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors.len(), 2);
    // A member may not read the log.
    let member = s.login(MEMBER).await;
    problem(s.get("/v1/audit-events", &member).await, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn the_export_streams_every_matching_event_a_chunk_at_a_time() {
    let s = TestServer::with_history(40, 9000).await;
    let support = s.login(SUPPORT).await;
    let expected: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(db).await).unwrap();
    let mut res = s.get("/v1/audit-events/export.csv", &support).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(res.headers()["x-total-count"].to_str().unwrap(), expected.to_string());
    // Read as it streams: no piece holds more than one database chunk of rows, and there
    // are as many pieces as chunks — the server never had the whole file at once.
    let mut body = Vec::new();
    let (mut pieces, mut largest) = (0usize, 0usize);
    while let Some(piece) = res.chunk().await.unwrap() {
        pieces += 1;
        largest = largest.max(piece.iter().filter(|b| **b == b'\n').count());
        body.extend_from_slice(&piece);
    }
    let chunk = gatehouse_server::routes::activity_export::EXPORT_CHUNK as usize;
    assert!(largest <= chunk, "a piece of {largest} lines");
    assert!(pieces > expected as usize / chunk, "{pieces} pieces for {expected} rows");
    let mut reader = csv::Reader::from_reader(body.as_slice());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), gatehouse_api::AUDIT_CSV_HEADER.trim_end().split(',').collect::<Vec<_>>());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len() as i64, expected);
    // Details survive quoting: each is the stored JSON.
    let with_details = records.iter().find(|r| r[10].contains("before")).expect("an edit");
    let parsed: Value = serde_json::from_str(&with_details[10]).unwrap();
    assert!(parsed["before"].is_object());

    // A filtered export has only the filter's rows.
    let res = s.get("/v1/audit-events/export.csv?action=session.sign_in_failed", &support).await;
    let n: usize = res.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), n);
    assert!(n > 0 && rows.iter().all(|r| &r[2] == "session.sign_in_failed"));
}

#[tokio::test]
async fn host_products_post_their_own_namespace_with_an_api_key() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let member_id = id_of(&s, &owner, MEMBER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    step_up(&s, &owner).await;
    let res = send(&s, &owner, "POST", &format!("/v1/users/{owner_id}/api-keys"), Some(json!({"name": "Agent host"})), &[]).await;
    let key: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    let secret = key.secret.expose().clone();
    let post_as = |token: String, body: Value| {
        let s = &s;
        async move { s.http.post(s.at("/v1/audit-events")).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let event = json!({"action": "app.agent_interaction", "user_id": member_id, "ip": "203.0.113.9", "details": {"agent": "Helpdesk", "turns": 3}});
    // A person's session may not post; nor may a key post Gatehouse's own actions.
    problem(post_as(owner.access_token.expose().clone(), event.clone()).await, StatusCode::FORBIDDEN, "api_key_required").await;
    let p = problem(post_as(secret.clone(), json!({"action": "user.deactivated"})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].code, "reserved_action");
    for bad in [
        json!({"action": "app.Bad Name"}),
        json!({"action": "app.x", "details": [1]}),
        json!({"action": "app.x", "ip": "here"}),
        json!({"action": "app.x", "details": {"blob": "x".repeat(17 * 1024)}}),
    ] {
        problem(post_as(secret.clone(), bad).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    }
    problem(
        post_as(secret.clone(), json!({"action": "app.x", "user_id": "0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a"})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let before = tally(&s).await;
    let res = post_as(secret.clone(), event).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let posted: AuditEvent = res.json().await.unwrap();
    assert_eq!(grown(&before, &tally(&s).await), [("app.agent_interaction".to_owned(), 1)].into_iter().collect());
    // The recorded address is the request's; the host's word for its user's is a claim beside it.
    assert_eq!((posted.action.as_str(), posted.ip.as_str(), posted.target.id.as_str()), ("app.agent_interaction", "127.0.0.1", member_id.as_str()));
    assert_eq!(posted.details["reported_ip"], "203.0.113.9");
    assert_eq!(posted.details["agent"], "Helpdesk");
    assert_eq!(posted.details["api_key"]["name"], "Agent host");
    assert_eq!(posted.details["via_api_key"]["id"], key.key.id.as_str());
    assert_eq!(posted.details["via_api_key"]["created_by"], owner_id.as_str());
    // The host cannot write what the log shows as the target.
    let spoof = json!({"action": "app.x", "details": {"target": {"name": "Somebody else"}}});
    let p = problem(post_as(secret.clone(), spoof).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("details", "reserved"));
    // Posting needs `audit.write`, which a Member's key lacks.
    let member = s.login(MEMBER).await;
    step_up(&s, &member).await;
    let res = send(&s, &member, "POST", &format!("/v1/users/{member_id}/api-keys"), Some(json!({"name": "No host"})), &[]).await;
    let member_key: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    let p = problem(post_as(member_key.secret.expose().clone(), json!({"action": "app.x"})).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("audit.write"), "{}", p.detail);
    // It is in the member's timeline and behind `app.*`.
    let timeline: AuditEventPage = s.get(&format!("/v1/users/{member_id}/activity?action=app.*"), &owner).await.json().await.unwrap();
    assert_eq!(timeline.items, vec![posted]);
}

#[tokio::test]
async fn retention_purges_old_events_and_no_endpoint_edits_one() {
    let s = TestServer::with_history(20, 3000).await;
    let owner = s.login(OWNER).await;
    let res = send(&s, &owner, "PATCH", "/v1/org", Some(json!({"audit_retention_days": 30})), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cutoff = s.clock_now() - chrono::Duration::days(30);
    let old: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE at < $1").bind(cutoff).fetch_one(db).await).unwrap();
    let kept: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE at >= $1").bind(cutoff).fetch_one(db).await).unwrap();
    assert!(old > 1000 && kept > 0);
    let purged = gatehouse_server::store::audit::purge_expired(&s.state.db, s.clock_now()).await.unwrap();
    assert_eq!(purged as i64, old);
    let left: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM audit_events").fetch_one(db).await).unwrap();
    assert_eq!(left, kept);
    // The hourly counts behind the charts went with them.
    let counted: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT CAST(SUM(count) AS BIGINT) FROM audit_hourly").fetch_one(db).await).unwrap();
    assert_eq!(counted, left);
    // Stored events cannot be rewritten.
    let edit = on!(&s.state.db, |db| sqlx::query("UPDATE audit_events SET action = 'user.created'").execute(db).await.map(|r| r.rows_affected()));
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    // And the API has no verb that changes one.
    for method in ["PUT", "PATCH", "DELETE"] {
        let res = send(&s, &owner, method, "/v1/audit-events", Some(json!({})), &[]).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
}

#[tokio::test]
async fn support_staff_read_the_log_and_manage_nobody() {
    let s = TestServer::with_history(10, 500).await;
    let support = s.login(SUPPORT).await;
    let me: Value = s.get("/v1/me", &support).await.json().await.unwrap();
    let perms: Vec<&str> = me["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(perms.contains(&"audit.read"));
    for managing in ["users.manage", "invitations.manage", "sessions.revoke", "roles.manage", "org.settings"] {
        assert!(!perms.contains(&managing), "support holds {managing}");
    }
    assert_eq!(s.get("/v1/audit-events", &support).await.status(), StatusCode::OK);
    assert_eq!(s.get("/v1/login-attempts", &support).await.status(), StatusCode::OK);
    let member = id_of(&s, &support, MEMBER).await;
    let res = send(&s, &support, "POST", &format!("/v1/users/{member}/deactivate"), None, &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let user: User = s.get(&format!("/v1/users/{member}"), &support).await.json().await.unwrap();
    assert_eq!(user.status, gatehouse_api::UserStatus::Active);
}
