//! Deactivate and reactivate (SPEC U8, R3), and the audit events every mutation writes.

use crate::helpers::*;
use gatehouse_api::{User, UserStatus};
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn deactivating_ends_the_users_sessions_at_their_next_request_and_reactivating_restores_them() {
    let s = TestServer::new().await;
    let admin = s.login(OWNER).await;
    let casey_session = s.login("member@acme.test").await;
    assert_eq!(s.get("/v1/me", &casey_session).await.status(), StatusCode::OK);
    let casey = id_of(&s, &admin, "member@acme.test").await;
    let before: User = s.get(&format!("/v1/users/{casey}"), &admin).await.json().await.unwrap();
    let open: i64 = on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL")
        .bind(&casey)
        .fetch_one(db)
        .await)
    .unwrap();
    assert!(open >= 1, "the sign-in above opened a session");

    let res = post(&s, &admin, &format!("/v1/users/{casey}/deactivate"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("etag").is_some());
    let after: User = res.json().await.unwrap();
    assert_eq!(after.status, UserStatus::Deactivated);
    assert_eq!((&after.roles, &after.departments), (&before.roles, &before.departments), "roles and departments kept");

    // Their very next request is refused, their refresh token too, and they cannot sign in.
    problem(s.get("/v1/me", &casey_session).await, StatusCode::UNAUTHORIZED, "session_revoked").await;
    assert_eq!(s.refresh(casey_session.refresh_token.expose()).await.status(), StatusCode::UNAUTHORIZED);
    problem(s.login_raw("member@acme.test", PASSWORD).await, StatusCode::FORBIDDEN, "account_disabled").await;

    // Deactivating again changes nothing.
    let again = post(&s, &admin, &format!("/v1/users/{casey}/deactivate"), &[]).await;
    assert_eq!(again.status(), StatusCode::OK);

    let res = post(&s, &admin, &format!("/v1/users/{casey}/reactivate"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let back: User = res.json().await.unwrap();
    assert_eq!(back.status, UserStatus::Active);
    assert_eq!((&back.roles, &back.departments), (&before.roles, &before.departments), "the same roles and departments");
    s.login("member@acme.test").await;

    let log = events(&s, &casey).await;
    let actions: Vec<&str> = log.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(actions, ["user.deactivated", "user.reactivated"], "one event per real change");
    let (_, actor, details) = &log[0];
    assert_eq!(actor.as_deref(), Some(id_of(&s, &admin, OWNER).await.as_str()));
    assert_eq!(details["before"]["status"], "active");
    assert_eq!(details["after"]["status"], "deactivated");
    assert_eq!(details["sessions_ended"], open, "every open session of theirs, the seed's included");
    let ended: i64 =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND revoked_reason = 'user_deactivated'")
            .bind(&casey)
            .fetch_one(db)
            .await)
        .unwrap();
    assert_eq!(ended, open, "every session open before the deactivation was ended by it");
    assert_eq!(details["target"]["email"], "member@acme.test");
}

#[tokio::test]
async fn the_guards_hold_self_last_owner_outranked_and_members() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let admin_id = id_of(&s, &owner, "admin@acme.test").await;
    let casey = id_of(&s, &owner, "member@acme.test").await;

    problem(post(&s, &owner, &format!("/v1/users/{owner_id}/deactivate"), &[]).await, StatusCode::CONFLICT, "cannot_deactivate_self").await;
    // An Admin holds every permission the Owner holds, and still does not reach them.
    let admin = s.login("admin@acme.test").await;
    let p = problem(post(&s, &admin, &format!("/v1/users/{owner_id}/deactivate"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("is an Owner and you are not"), "{}", p.detail);
    // A Manager cannot act on an Admin, whose roles hold permissions the Manager lacks.
    let manager = s.login("manager@acme.test").await;
    let p = problem(post(&s, &manager, &format!("/v1/users/{admin_id}/deactivate"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(p.detail.contains("Sam Rivera"), "{}", p.detail);
    // A Member manages nobody.
    let member = s.login("member@acme.test").await;
    problem(post(&s, &member, &format!("/v1/users/{admin_id}/deactivate"), &[]).await, StatusCode::FORBIDDEN, "forbidden").await;
    // Unknown users, and reactivating someone who is active, change nothing.
    problem(post(&s, &owner, "/v1/users/nobody/deactivate", &[]).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(post(&s, &owner, &format!("/v1/users/{casey}/reactivate"), &[]).await.status(), StatusCode::OK);
    assert!(events(&s, &owner_id).await.is_empty() && events(&s, &admin_id).await.is_empty() && events(&s, &casey).await.is_empty());
    // Nothing was written: everyone is still active.
    for id in [&owner_id, &admin_id, &casey] {
        let u: User = s.get(&format!("/v1/users/{id}"), &owner).await.json().await.unwrap();
        assert_eq!(u.status, UserStatus::Active);
    }
}

#[tokio::test]
async fn a_stale_if_match_gets_412_and_a_retried_key_the_first_answer() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let casey = id_of(&s, &owner, "member@acme.test").await;
    let res = s.get(&format!("/v1/users/{casey}"), &owner).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    // Someone edits Casey first: the admin's ETag is stale.
    let edit = s
        .http
        .patch(s.at(&format!("/v1/users/{casey}")))
        .bearer_auth(owner.access_token.expose())
        .header("if-match", &etag)
        .json(&json!({"first_name": "Cass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::OK);
    let p = problem(
        post(&s, &owner, &format!("/v1/users/{casey}/deactivate"), &[("if-match", &etag)]).await,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    assert_eq!(p.current.as_ref().unwrap()["first_name"], "Cass");

    let key = [("idempotency-key", "deactivate-casey-1")];
    let first = post(&s, &owner, &format!("/v1/users/{casey}/deactivate"), &key).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first_tag = first.headers()["etag"].to_str().unwrap().to_owned();
    // Reactivated meanwhile; the retry of the deactivation answers as the first time and
    // does not deactivate again.
    assert_eq!(post(&s, &owner, &format!("/v1/users/{casey}/reactivate"), &[]).await.status(), StatusCode::OK);
    let retry = post(&s, &owner, &format!("/v1/users/{casey}/deactivate"), &key).await;
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.headers()["etag"].to_str().unwrap(), first_tag);
    let now: User = s.get(&format!("/v1/users/{casey}"), &owner).await.json().await.unwrap();
    assert_eq!(now.status, UserStatus::Active);

    // The edit was audited with what changed, and only that.
    let log = events(&s, &casey).await;
    let (action, _, details) = &log[0];
    assert_eq!(action, "user.updated");
    assert_eq!(details["before"], json!({"first_name": "Casey", "display_name": "Casey Kim"}));
    assert_eq!(details["after"], json!({"first_name": "Cass", "display_name": "Cass Kim"}));
}
