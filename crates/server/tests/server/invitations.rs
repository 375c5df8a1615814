//! Invitations (SPEC I1–I9): inviting by e-mail, every status an invitation passes
//! through, identity-provider restrictions, seats, the CSV import and its validator, the
//! change feed and the copy-link. Mail is read from the demo mailbox.

use crate::helpers::*;
use chrono::Duration;
use gatehouse_api::{
    AcceptedInvitation, AuthMethod, ChangeKind, ChangePage, ImportReport, Invitation, InvitationLink, InvitationPage, InvitationStatus,
    InvitationsCreated, MailMessage, Organization, SeatUsage, TokenResponse, User, UserPage, UserStatus,
};
use gatehouse_server::Config;
use gatehouse_server::on;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MEMBER: &str = "member@acme.test";
const NEW_PASSWORD: &str = "a fine new passphrase";

async fn demo() -> TestServer {
    TestServer::with_config(40, Config { dev_mailbox: true, ..Config::default() }).await
}

async fn invite(s: &TestServer, t: &TokenResponse, body: Value) -> reqwest::Response {
    send(s, t, "POST", "/v1/invitations", Some(body), &[]).await
}

/// Invites `emails` with `extra` fields (roles, departments, …) and expects 201.
async fn invited(s: &TestServer, t: &TokenResponse, emails: &[&str], extra: Value) -> InvitationsCreated {
    let mut body = json!({ "emails": emails });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let res = invite(s, t, body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "inviting {emails:?}");
    res.json().await.unwrap()
}

async fn invited_one(s: &TestServer, t: &TokenResponse, email: &str, extra: Value) -> Invitation {
    invited(s, t, &[email], extra).await.invitations.remove(0)
}

async fn link_of(s: &TestServer, t: &TokenResponse, id: &str) -> InvitationLink {
    let res = s.get(&format!("/v1/invitations/{id}/link"), t).await;
    assert_eq!(res.status(), StatusCode::OK, "the link of {id}");
    res.json().await.unwrap()
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).unwrap().to_owned()
}

async fn token(s: &TestServer, t: &TokenResponse, id: &str) -> String {
    token_of(link_of(s, t, id).await.link.expose())
}

/// `POST /v1/invitations/accept` without signing in.
async fn accept(s: &TestServer, body: Value) -> reqwest::Response {
    s.http.post(s.at("/v1/invitations/accept")).json(&body).send().await.unwrap()
}

async fn accept_with_password(s: &TestServer, token: &str) -> reqwest::Response {
    accept(s, json!({"token": token, "first_name": "Nova", "last_name": "Quinn", "password": NEW_PASSWORD})).await
}

async fn decline(s: &TestServer, token: &str) -> reqwest::Response {
    s.http.post(s.at("/v1/invitations/decline")).json(&json!({"token": token})).send().await.unwrap()
}

async fn list(s: &TestServer, t: &TokenResponse, query: &str) -> InvitationPage {
    let res = s.get(&format!("/v1/invitations?{query}"), t).await;
    assert_eq!(res.status(), StatusCode::OK, "GET /v1/invitations?{query}");
    res.json().await.unwrap()
}

/// The one invitation of `email`, as the list shows it.
async fn listed(s: &TestServer, t: &TokenResponse, email: &str) -> Invitation {
    let mut page = list(s, t, &format!("q={email}")).await;
    assert_eq!(page.items.len(), 1, "one invitation of {email}: {:?}", page.items);
    page.items.remove(0)
}

async fn org(s: &TestServer, t: &TokenResponse) -> Organization {
    s.get("/v1/org", t).await.json().await.unwrap()
}

async fn users(s: &TestServer, t: &TokenResponse, query: &str) -> Vec<User> {
    let res = s.get(&format!("/v1/users?{query}"), t).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<UserPage>().await.unwrap().items
}

/// The demo mailbox's invitation messages, newest first.
async fn invitation_mail(s: &TestServer, t: &TokenResponse) -> Vec<MailMessage> {
    let res = s.get("/v1/dev/mailbox", t).await;
    assert_eq!(res.status(), StatusCode::OK);
    let all: Vec<MailMessage> = res.json().await.unwrap();
    all.into_iter().filter(|m| m.kind == "invitation").collect()
}

async fn set_seat_limit(s: &TestServer, t: &TokenResponse, limit: u32) {
    let res = s.get("/v1/org", t).await;
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let res = send(s, t, "PATCH", "/v1/org", Some(json!({"seat_limit": limit})), &[("If-Match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::OK, "seat limit {limit}");
}

async fn import(s: &TestServer, t: &TokenResponse, dry_run: bool, body: impl Into<reqwest::Body>) -> reqwest::Response {
    s.http
        .post(s.at(&format!("/v1/invitations/import?dry_run={dry_run}")))
        .bearer_auth(t.access_token.expose())
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn report(res: reqwest::Response) -> ImportReport {
    assert_eq!(res.status(), StatusCode::OK, "an import report");
    res.json().await.unwrap()
}

fn keys(u: &User) -> Vec<&str> {
    u.roles.iter().map(|r| r.key.as_str()).collect()
}

fn department_names(u: &User) -> Vec<&str> {
    u.departments.iter().map(|g| g.name.as_str()).collect()
}

#[tokio::test]
async fn inviting_two_addresses_creates_pending_users_with_the_roles_takes_two_seats_and_is_audited() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    let before = org(&s, &owner).await;
    let created = invited(
        &s,
        &owner,
        &["ada.new@acme.test", "Bo.New@Acme.test"],
        json!({"roles": ["manager"], "departments": ["Sales", "engineering"], "message": "Welcome aboard!"}),
    )
    .await;

    assert_eq!(created.invitations.len(), 2);
    assert_eq!(created.seats, SeatUsage { used: before.seats_used + 2, limit: before.seat_limit });
    for (inv, email) in created.invitations.iter().zip(["ada.new@acme.test", "Bo.New@Acme.test"]) {
        assert_eq!(inv.email, email, "in the order given, as typed");
        assert_eq!(inv.status, InvitationStatus::Pending);
        assert_eq!(inv.roles.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["manager"]);
        assert_eq!(inv.departments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Engineering", "Sales"]);
        assert_eq!(inv.message.as_deref(), Some("Welcome aboard!"));
        assert_eq!(inv.invited_by.as_ref().map(|i| i.id.as_str()), Some(owner_id.as_str()));
        assert_eq!(inv.send_count, 1);
        assert_eq!(inv.expires_at, s.clock_now() + Duration::days(i64::from(before.invitation_expiry_days)));
        assert!(inv.responded_at.is_none());
    }
    assert_eq!(org(&s, &owner).await.seats_used, before.seats_used + 2);

    // Each holds its seat through a pending user with the invited roles and departments.
    for inv in &created.invitations {
        let found = users(&s, &owner, &format!("status=pending&q={}", inv.email.to_lowercase())).await;
        assert_eq!(found.len(), 1, "{} is a pending user", inv.email);
        let user = &found[0];
        assert_eq!(Some(&user.id), inv.user_id.as_ref());
        assert_eq!(user.status, UserStatus::Pending);
        assert_eq!(keys(user), ["manager"]);
        assert_eq!(department_names(user), ["Engineering", "Sales"]);

        let events = events(&s, &user.id).await;
        let sent: Vec<_> = events.iter().filter(|e| e.0 == "invitation.sent").collect();
        assert_eq!(sent.len(), 1, "{events:?}");
        assert_eq!(sent[0].1.as_deref(), Some(owner_id.as_str()), "the inviter is the actor");
        assert_eq!(sent[0].2["invitation_id"], inv.id.as_str());
        assert_eq!(sent[0].2["target"]["email"], inv.email.as_str());
    }

    // Each address got its e-mail, with the message and its own link.
    let mail = invitation_mail(&s, &owner).await;
    assert_eq!(mail.len(), 2);
    for inv in &created.invitations {
        let m = mail.iter().find(|m| m.to == inv.email).unwrap_or_else(|| panic!("mail to {}", inv.email));
        assert!(m.subject.contains("invited you to join Acme"), "{}", m.subject);
        assert!(m.text.contains("Welcome aboard!") && m.html.contains("Welcome aboard!"));
        let link = link_of(&s, &owner, &inv.id).await;
        assert!(m.text.contains(link.link.expose().as_str()), "the e-mail carries the current link");
    }
    let page = list(&s, &owner, "status=pending&q=new@acme.test").await;
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.counts.pending, 2);
}

#[tokio::test]
async fn accepting_makes_an_active_member_with_the_invited_roles_who_signs_in_once() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "nova.new@acme.test", json!({"roles": ["manager", "support"], "departments": ["Sales", "HR"]})).await;
    let seats = org(&s, &owner).await.seats_used;
    let token = token(&s, &owner, &inv.id).await;
    // Not yet: a pending user cannot sign in.
    assert_ne!(s.login_raw("nova.new@acme.test", NEW_PASSWORD).await.status(), StatusCode::OK);

    // A bad password or a missing name spends nothing.
    let p = problem(
        accept(&s, json!({"token": token, "first_name": "Nova", "last_name": "Quinn", "password": "short"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].field, "password");
    let p = problem(
        accept(&s, json!({"token": token, "first_name": "", "last_name": "Quinn", "password": NEW_PASSWORD})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert!(p.errors.iter().any(|e| e.field == "first_name"), "{p:?}");
    problem(accept(&s, json!({"token": token, "first_name": "Nova", "last_name": "Quinn"})).await, StatusCode::BAD_REQUEST, "validation_failed")
        .await;

    let res = accept_with_password(&s, &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: AcceptedInvitation = res.json().await.unwrap();
    assert_eq!((done.email.as_str(), done.organization.as_str()), ("nova.new@acme.test", "Acme"));
    assert_eq!(Some(&done.user_id), inv.user_id.as_ref(), "the pending user becomes the member");

    let nova = s.login_raw("nova.new@acme.test", NEW_PASSWORD).await;
    let nova = tokens(nova).await;
    let me: Value = s.get("/v1/me", &nova).await.json().await.unwrap();
    assert_eq!(me["user"]["email"], "nova.new@acme.test", "{me}");
    let user: User = s.get(&format!("/v1/users/{}", done.user_id), &owner).await.json().await.unwrap();
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!((user.first_name.as_str(), user.last_name.as_str(), user.display_name.as_str()), ("Nova", "Quinn", "Nova Quinn"));
    assert_eq!(keys(&user), ["manager", "support"]);
    assert_eq!(department_names(&user), ["HR", "Sales"]);
    assert_eq!(user.auth_methods, [AuthMethod::Password]);
    assert_eq!(org(&s, &owner).await.seats_used, seats, "still one seat: now an active one");

    let now = listed(&s, &owner, "nova.new@acme.test").await;
    assert_eq!(now.status, InvitationStatus::Accepted);
    assert_eq!(now.responded_at, Some(s.clock_now()));
    assert_eq!(list(&s, &owner, "status=accepted&q=nova.new").await.items.len(), 1);
    assert!(list(&s, &owner, "status=pending&q=nova.new").await.items.is_empty());
    let actions: Vec<String> = events(&s, &done.user_id).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["invitation.sent", "invitation.accepted"]);

    // The link worked once; an accepted invitation is neither resent nor revoked.
    problem(accept_with_password(&s, &token).await, StatusCode::GONE, "invitation_used").await;
    problem(decline(&s, &token).await, StatusCode::GONE, "invitation_used").await;
    problem(post(&s, &owner, &format!("/v1/invitations/{}/resend", inv.id), &[]).await, StatusCode::CONFLICT, "invitation_not_pending").await;
    problem(post(&s, &owner, &format!("/v1/invitations/{}/revoke", inv.id), &[]).await, StatusCode::CONFLICT, "invitation_not_pending").await;
    problem(s.get(&format!("/v1/invitations/{}/link", inv.id), &owner).await, StatusCode::CONFLICT, "invitation_not_pending").await;
    // The address is a member now.
    problem(invite(&s, &owner, json!({"emails": ["nova.new@acme.test"]})).await, StatusCode::CONFLICT, "email_taken").await;
}

#[tokio::test]
async fn declining_removes_the_pending_user_and_frees_the_seat() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let seats = org(&s, &owner).await.seats_used;
    let inv = invited_one(&s, &owner, "dee.new@acme.test", json!({})).await;
    assert_eq!(org(&s, &owner).await.seats_used, seats + 1);
    let token = token(&s, &owner, &inv.id).await;

    assert_eq!(decline(&s, &token).await.status(), StatusCode::NO_CONTENT);
    let now = listed(&s, &owner, "dee.new@acme.test").await;
    assert_eq!(now.status, InvitationStatus::Declined);
    assert_eq!(now.responded_at, Some(s.clock_now()));
    assert!(users(&s, &owner, "q=dee.new").await.is_empty(), "the pending user is gone");
    assert_eq!(org(&s, &owner).await.seats_used, seats, "the seat is free again");
    let actions: Vec<String> = events(&s, inv.user_id.as_deref().unwrap()).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["invitation.sent", "invitation.declined"]);

    problem(decline(&s, &token).await, StatusCode::GONE, "invitation_used").await;
    problem(accept_with_password(&s, &token).await, StatusCode::GONE, "invitation_used").await;
    // The address can be invited again.
    invited_one(&s, &owner, "dee.new@acme.test", json!({})).await;
}

#[tokio::test]
async fn revoking_ends_the_link_at_once_and_frees_the_seat() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let seats = org(&s, &owner).await.seats_used;
    let inv = invited_one(&s, &owner, "rev.new@acme.test", json!({})).await;
    let link = link_of(&s, &owner, &inv.id).await;
    assert_eq!(s.http.get(link.link.expose()).send().await.unwrap().status(), StatusCode::OK, "the page opens before");

    let res = post(&s, &owner, &format!("/v1/invitations/{}/revoke", inv.id), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let revoked: Invitation = res.json().await.unwrap();
    assert_eq!(revoked.status, InvitationStatus::Revoked);
    assert!(revoked.user_id.is_none(), "its pending user is gone");
    assert_eq!(org(&s, &owner).await.seats_used, seats);
    assert!(users(&s, &owner, "q=rev.new").await.is_empty());

    let token = token_of(link.link.expose());
    problem(accept_with_password(&s, &token).await, StatusCode::GONE, "invitation_revoked").await;
    problem(decline(&s, &token).await, StatusCode::GONE, "invitation_revoked").await;
    let page = s.http.get(link.link.expose()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("withdrawn"));
    problem(s.get(&format!("/v1/invitations/{}/link", inv.id), &owner).await, StatusCode::CONFLICT, "invitation_not_pending").await;
    problem(post(&s, &owner, &format!("/v1/invitations/{}/resend", inv.id), &[]).await, StatusCode::CONFLICT, "invitation_not_pending").await;
    // Revoking again answers it as it is.
    let again = post(&s, &owner, &format!("/v1/invitations/{}/revoke", inv.id), &[]).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Invitation>().await.unwrap().status, InvitationStatus::Revoked);
    let actions: Vec<String> = events(&s, inv.user_id.as_deref().unwrap()).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["invitation.sent", "invitation.revoked"]);
    assert_eq!(list(&s, &owner, "status=revoked&q=rev.new").await.items.len(), 1);
    // The address can be invited again.
    invited_one(&s, &owner, "rev.new@acme.test", json!({})).await;
}

#[tokio::test]
async fn an_invitation_expires_with_the_clock_and_a_resend_revives_it_with_a_new_link() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let days = i64::from(org(&s, &owner).await.invitation_expiry_days);
    let inv = invited_one(&s, &owner, "exp.new@acme.test", json!({})).await;
    let old = token(&s, &owner, &inv.id).await;
    let expired_before = list(&s, &owner, "").await.counts.expired;

    // Just before its expiry it works; at its expiry it does not.
    s.advance(Duration::days(days) - Duration::seconds(1));
    let owner = s.login(OWNER).await;
    assert_eq!(listed(&s, &owner, "exp.new@acme.test").await.status, InvitationStatus::Pending);
    s.advance(Duration::seconds(1));
    let now = listed(&s, &owner, "exp.new@acme.test").await;
    assert_eq!(now.status, InvitationStatus::Expired);
    let page = list(&s, &owner, "status=expired&q=exp.new").await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.counts.expired, 1);
    assert!(list(&s, &owner, "status=pending&q=exp.new").await.items.is_empty());
    // The seeded ones (due in five days) expired meanwhile as well; the counts agree with the items.
    let all = list(&s, &owner, "limit=500").await;
    assert!(all.counts.expired > expired_before + 1);
    assert_eq!(all.counts.expired as usize, all.items.iter().filter(|i| i.status == InvitationStatus::Expired).count());
    problem(accept_with_password(&s, &old).await, StatusCode::GONE, "invitation_expired").await;
    problem(decline(&s, &old).await, StatusCode::GONE, "invitation_expired").await;
    assert_eq!(s.http.get(s.at(&format!("/accept-invitation?token={old}"))).send().await.unwrap().status(), StatusCode::GONE);
    problem(s.get(&format!("/v1/invitations/{}/link", inv.id), &owner).await, StatusCode::CONFLICT, "invitation_not_pending").await;

    // A resend: pending again, a new expiry, a second e-mail with a new link.
    s.advance(Duration::hours(5));
    let owner = s.login(OWNER).await;
    let res = post(&s, &owner, &format!("/v1/invitations/{}/resend", inv.id), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let resent: Invitation = res.json().await.unwrap();
    assert_eq!(resent.status, InvitationStatus::Pending);
    assert_eq!(resent.expires_at, s.clock_now() + Duration::days(days));
    assert_eq!(resent.sent_at, s.clock_now());
    assert_eq!(resent.send_count, 2);
    assert_eq!(resent.created_at, inv.created_at);
    assert_eq!(listed(&s, &owner, "exp.new@acme.test").await.status, InvitationStatus::Pending);
    let mail = invitation_mail(&s, &owner).await;
    assert_eq!(mail.iter().filter(|m| m.to == "exp.new@acme.test").count(), 2);
    let new = token(&s, &owner, &inv.id).await;
    assert_ne!(new, old);
    assert!(mail[0].text.contains(&new), "the newest e-mail has the new link");

    // The old link is superseded (not merely expired); the new one works.
    problem(accept_with_password(&s, &old).await, StatusCode::GONE, "invitation_superseded").await;
    let page = s.http.get(s.at(&format!("/accept-invitation?token={old}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("newer invitation"));
    assert_eq!(accept_with_password(&s, &new).await.status(), StatusCode::OK);
    assert_eq!(s.login_raw("exp.new@acme.test", NEW_PASSWORD).await.status(), StatusCode::OK);
    let actions: Vec<String> = events(&s, inv.user_id.as_deref().unwrap()).await.into_iter().map(|e| e.0).collect();
    assert_eq!(actions, ["invitation.sent", "invitation.resent", "invitation.accepted"]);
}

#[tokio::test]
async fn forged_and_garbage_tokens_are_invalid() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "forge.new@acme.test", json!({})).await;
    let real = token(&s, &owner, &inv.id).await;
    let (payload, sig) = real.split_once('.').unwrap();
    let flipped = format!("{payload}.{}{}", if sig.starts_with('A') { 'B' } else { 'A' }, &sig[1..]);
    // Signed by this server's key, for an invitation that does not exist.
    let unknown = s.state.key.invitation_token("01900000-0000-7000-8000-000000000000", 1);
    // The real invitation at a generation never issued, signed by another key.
    let other_key = gatehouse_server::tokens::SigningKey::from_bytes(s.state.keys.current().current_id(), [9; 32]).invitation_token(&inv.id, 1);
    for bad in ["", "ghi_", "ghi_garbage", "ghi_a.b", "not a token", &flipped, &format!("{real}x"), unknown.expose(), other_key.expose()] {
        problem(accept_with_password(&s, bad).await, StatusCode::BAD_REQUEST, "invitation_invalid").await;
        problem(decline(&s, bad).await, StatusCode::BAD_REQUEST, "invitation_invalid").await;
        let page = s.http.get(s.at("/accept-invitation")).query(&[("token", bad)]).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "the page for {bad:?}");
    }
    // The page without any token at all.
    assert_eq!(s.http.get(s.at("/accept-invitation")).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    // None of it spent the real one.
    assert_eq!(accept_with_password(&s, &real).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_google_only_invitation_is_accepted_with_google_only() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "goo.new@acme.test", json!({"identity_provider": "google"})).await;
    assert_eq!(inv.identity_provider, gatehouse_api::IdentityProvider::Google);
    let token = token(&s, &owner, &inv.id).await;
    let names = |provider: Option<&str>| {
        let mut b = json!({"token": token, "first_name": "Goo", "last_name": "Gle", "password": NEW_PASSWORD});
        if let Some(p) = provider {
            b["provider"] = json!(p);
        }
        b
    };
    for provider in [None, Some("any"), Some("microsoft")] {
        let p = problem(accept(&s, names(provider)).await, StatusCode::FORBIDDEN, "identity_provider_mismatch").await;
        assert!(p.detail.contains("Google"), "{}", p.detail);
    }
    // The page's password form cannot accept it either.
    let form = [
        ("token", token.as_str()),
        ("action", "accept"),
        ("first_name", "Goo"),
        ("last_name", "Gle"),
        ("password", NEW_PASSWORD),
        ("confirm", NEW_PASSWORD),
    ];
    let res = s.http.post(s.at("/accept-invitation")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("identity provider"));
    assert_eq!(listed(&s, &owner, "goo.new@acme.test").await.status, InvitationStatus::Pending, "nothing spent");

    let res = accept(&s, json!({"token": token, "first_name": "Goo", "last_name": "Gle", "provider": "google"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: AcceptedInvitation = res.json().await.unwrap();
    let user: User = s.get(&format!("/v1/users/{}", done.user_id), &owner).await.json().await.unwrap();
    assert_eq!(user.status, UserStatus::Active);
    assert_eq!(user.auth_methods, [AuthMethod::Google], "no password was set");
    problem(s.login_raw("goo.new@acme.test", NEW_PASSWORD).await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn a_microsoft_invitation_with_a_tenant_is_accepted_from_that_tenant_only() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "ms.new@acme.test", json!({"identity_provider": "microsoft", "tenant_id": "contoso.onmicrosoft.com"})).await;
    assert_eq!(inv.tenant_id.as_deref(), Some("contoso.onmicrosoft.com"));
    let token = token(&s, &owner, &inv.id).await;
    let body = |provider: &str, tenant: Option<&str>| json!({"token": token, "first_name": "Em", "last_name": "Ess", "provider": provider, "tenant_id": tenant});
    for (provider, tenant) in
        [("microsoft", Some("fabrikam.onmicrosoft.com")), ("microsoft", None), ("microsoft", Some("")), ("google", Some("contoso.onmicrosoft.com"))]
    {
        problem(accept(&s, body(provider, tenant)).await, StatusCode::FORBIDDEN, "identity_provider_mismatch").await;
    }
    let p = problem(accept(&s, body("microsoft", Some("fabrikam.onmicrosoft.com"))).await, StatusCode::FORBIDDEN, "identity_provider_mismatch").await;
    assert!(p.detail.contains("contoso.onmicrosoft.com"), "names the tenant: {}", p.detail);
    let res = accept(&s, body("microsoft", Some("Contoso.onmicrosoft.com"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let done: AcceptedInvitation = res.json().await.unwrap();
    let user: User = s.get(&format!("/v1/users/{}", done.user_id), &owner).await.json().await.unwrap();
    assert_eq!(user.auth_methods, [AuthMethod::Microsoft]);

    // A tenant goes with Microsoft only, and is one word.
    let p = problem(
        invite(&s, &owner, json!({"emails": ["t1.new@acme.test"], "identity_provider": "google", "tenant_id": "x"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!((p.errors[0].field.as_str(), p.errors[0].code.as_str()), ("tenant_id", "not_applicable"));
    let p = problem(
        invite(&s, &owner, json!({"emails": ["t1.new@acme.test"], "identity_provider": "microsoft", "tenant_id": "two words"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].field, "tenant_id");
    problem(
        invite(&s, &owner, json!({"emails": ["t1.new@acme.test"], "identity_provider": "okta"})).await,
        StatusCode::BAD_REQUEST,
        "malformed_body",
    )
    .await;
}

#[tokio::test]
async fn members_open_invitations_and_bad_addresses_are_refused_by_name() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let count = || async { on!(&s.state.db, |db| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM invitations").fetch_one(db).await).unwrap() };
    let start = count().await;

    for taken in [MEMBER, "Member@Acme.Test"] {
        let p = problem(invite(&s, &owner, json!({"emails": ["fresh.new@acme.test", taken]})).await, StatusCode::CONFLICT, "email_taken").await;
        assert!(p.errors[0].message.contains(taken), "{:?}", p.errors);
    }
    invited_one(&s, &owner, "open.new@acme.test", json!({})).await;
    let p =
        problem(invite(&s, &owner, json!({"emails": ["fresh.new@acme.test", "OPEN.new@acme.test"]})).await, StatusCode::CONFLICT, "already_invited")
            .await;
    assert!(p.detail.contains("OPEN.new@acme.test") && p.detail.contains("resend"), "{}", p.detail);
    // A seeded pending user has an open invitation too (some of them expired).
    let seeded: String =
        on!(&s.state.db, |db| sqlx::query_scalar("SELECT email FROM invitations WHERE status = 'pending' AND email NOT LIKE '%.new@%' LIMIT 1")
            .fetch_one(db)
            .await)
        .unwrap();
    problem(invite(&s, &owner, json!({"emails": [seeded]})).await, StatusCode::CONFLICT, "already_invited").await;

    let p = problem(
        invite(&s, &owner, json!({"emails": ["fresh.new@acme.test", "not-an-address", "x@", "two@@acme.test"]})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    let e = p.errors.iter().find(|e| e.field == "emails" && e.code == "invalid").unwrap_or_else(|| panic!("{p:?}"));
    for bad in ["not-an-address", "x@", "two@@acme.test"] {
        assert!(e.message.contains(bad), "{} names {bad}", e.message);
    }
    assert!(!e.message.contains("fresh.new"), "{}", e.message);
    let p = problem(
        invite(&s, &owner, json!({"emails": ["dup.new@acme.test", "DUP.new@acme.test"]})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].code, "duplicate");
    let p = problem(invite(&s, &owner, json!({"emails": [" ", ""]})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].code, "required");
    let p = problem(
        invite(&s, &owner, json!({"emails": ["a.new@acme.test", "b.new@acme.test"], "notify_email": "boss@acme.test"})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].code, "one_address_only");
    let p =
        problem(invite(&s, &owner, json!({"emails": ["a.new@acme.test"], "roles": ["wizard"]})).await, StatusCode::BAD_REQUEST, "validation_failed")
            .await;
    assert_eq!(p.errors[0].code, "unknown_role");
    let p = problem(
        invite(&s, &owner, json!({"emails": ["a.new@acme.test"], "departments": ["Narnia"]})).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert_eq!(p.errors[0].code, "unknown_department");
    // A Manager cannot invite an Admin.
    let manager = s.login("manager@acme.test").await;
    problem(invite(&s, &manager, json!({"emails": ["a.new@acme.test"], "roles": ["admin"]})).await, StatusCode::FORBIDDEN, "forbidden").await;
    // And a Member cannot invite at all.
    let member = s.login(MEMBER).await;
    problem(invite(&s, &member, json!({"emails": ["a.new@acme.test"]})).await, StatusCode::FORBIDDEN, "forbidden").await;

    assert_eq!(count().await, start + 1, "only open.new was invited");
    assert!(users(&s, &owner, "q=fresh.new").await.is_empty());
    assert_eq!(invitation_mail(&s, &owner).await.len(), 1);
}

#[tokio::test]
async fn too_few_free_seats_refuse_the_whole_invitation_with_the_usage() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let before = org(&s, &owner).await;
    set_seat_limit(&s, &owner, before.seats_used + 1).await;

    let p =
        problem(invite(&s, &owner, json!({"emails": ["s1.new@acme.test", "s2.new@acme.test"]})).await, StatusCode::CONFLICT, "seat_limit_reached")
            .await;
    assert_eq!(p.seats, Some(SeatUsage { used: before.seats_used, limit: before.seats_used + 1 }));
    assert!(p.detail.contains("1 more") && p.detail.contains("needs 2"), "{}", p.detail);
    assert!(list(&s, &owner, "q=.new@acme.test").await.items.is_empty(), "nothing created");
    assert!(users(&s, &owner, "q=.new@acme.test").await.is_empty());
    assert_eq!(org(&s, &owner).await.seats_used, before.seats_used);
    assert!(invitation_mail(&s, &owner).await.is_empty(), "nothing sent");

    // One fits, exactly; then none does.
    let created = invited(&s, &owner, &["s1.new@acme.test"], json!({})).await;
    assert_eq!(created.seats, SeatUsage { used: before.seats_used + 1, limit: before.seats_used + 1 });
    let p = problem(invite(&s, &owner, json!({"emails": ["s2.new@acme.test"]})).await, StatusCode::CONFLICT, "seat_limit_reached").await;
    assert_eq!(p.seats, Some(SeatUsage { used: before.seats_used + 1, limit: before.seats_used + 1 }));
    // Revoking frees the seat for the next one.
    assert_eq!(post(&s, &owner, &format!("/v1/invitations/{}/revoke", created.invitations[0].id), &[]).await.status(), StatusCode::OK);
    invited(&s, &owner, &["s2.new@acme.test"], json!({})).await;
    // The CSV import is held to the same limit.
    let r = report(import(&s, &owner, true, "email\ns3.new@acme.test\ns4.new@acme.test\n").await).await;
    assert_eq!((r.invalid, r.seats_short), (0, 2));
    let p = problem(import(&s, &owner, false, "email\ns3.new@acme.test\ns4.new@acme.test\n").await, StatusCode::CONFLICT, "seat_limit_reached").await;
    assert_eq!(p.seats, Some(SeatUsage { used: before.seats_used + 1, limit: before.seats_used + 1 }));
    assert!(list(&s, &owner, "q=s3.new").await.items.is_empty());
}

#[tokio::test]
async fn a_valid_csv_with_a_bom_crlf_and_quotes_checks_clean_and_a_dry_run_creates_nothing() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let seats = org(&s, &owner).await.seats_used;
    let csv = b"\xEF\xBB\xBFEmail,Role,Department\r\n\
        \"csv.ann.new@acme.test\",\"Manager\",\"Sales\"\r\n\
        \r\n\
        csv.bo.new@acme.test , member;support ,\"Engineering; HR\"\r\n\
        \"csv.cy.new@acme.test\",,\r\n"
        .to_vec();
    let r = report(import(&s, &owner, true, csv.clone()).await).await;
    assert!(r.dry_run);
    assert_eq!(r.invalid, 0, "{:?}", r.rows);
    assert_eq!(r.seats_short, 0);
    assert!(r.invitations.is_empty());
    assert_eq!(r.seats.used, seats);
    let rows: Vec<(u32, &str, &str, &str)> = r.rows.iter().map(|x| (x.line, x.email.as_str(), x.role.as_str(), x.department.as_str())).collect();
    assert_eq!(
        rows,
        [
            (2, "csv.ann.new@acme.test", "Manager", "Sales"),
            (4, "csv.bo.new@acme.test", "member;support", "Engineering; HR"),
            (5, "csv.cy.new@acme.test", "", ""),
        ]
    );
    assert!(r.rows.iter().all(|x| x.errors.is_empty()));
    // Without dry_run it is a dry run too.
    let res = s.http.post(s.at("/v1/invitations/import")).bearer_auth(owner.access_token.expose()).body(csv.clone()).send().await.unwrap();
    assert!(report(res).await.dry_run);
    assert!(list(&s, &owner, "q=csv.").await.items.is_empty(), "nothing created");
    assert_eq!(org(&s, &owner).await.seats_used, seats);
    assert!(invitation_mail(&s, &owner).await.is_empty());

    // The real import invites each row with its roles and departments.
    let r = report(import(&s, &owner, false, csv).await).await;
    assert!(!r.dry_run);
    assert_eq!(r.invitations.len(), 3);
    assert!(r.invitations.iter().all(|i| i.status == InvitationStatus::Pending));
    let bo = &r.invitations[1];
    assert_eq!(bo.roles.iter().map(|x| x.key.as_str()).collect::<Vec<_>>(), ["member", "support"]);
    assert_eq!(bo.departments.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Engineering", "HR"]);
    assert_eq!(r.invitations[2].roles.iter().map(|x| x.key.as_str()).collect::<Vec<_>>(), ["member"], "Member by default");
    assert_eq!(org(&s, &owner).await.seats_used, seats + 3);
    assert_eq!(invitation_mail(&s, &owner).await.len(), 3);
    assert_eq!(list(&s, &owner, "status=pending&q=csv.").await.items.len(), 3);
}

#[tokio::test]
async fn a_csv_with_bad_rows_names_each_problem_and_sends_nothing_until_fixed() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    invited_one(&s, &owner, "open.new@acme.test", json!({})).await;
    let bad = "email,role,department\n\
        not-an-address,,\n\
        dup.new@acme.test,,\n\
        DUP.new@acme.test,,\n\
        member@acme.test,,\n\
        open.new@acme.test,,\n\
        role.new@acme.test,wizard,\n\
        dept.new@acme.test,,Narnia\n\
        ,member,Sales\n\
        wide.new@acme.test,member,Sales,extra\n\
        ok.new@acme.test,manager,Support\n";
    let r = report(import(&s, &owner, true, bad).await).await;
    let codes: Vec<(u32, Vec<(&str, &str)>)> =
        r.rows.iter().map(|x| (x.line, x.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect())).collect();
    assert_eq!(
        codes,
        [
            (2, vec![("email", "invalid")]),
            (3, vec![]),
            (4, vec![("email", "duplicate")]),
            (5, vec![("email", "email_taken")]),
            (6, vec![("email", "already_invited")]),
            (7, vec![("role", "unknown_role")]),
            (8, vec![("department", "unknown_department")]),
            (9, vec![("email", "required")]),
            (10, vec![("row", "too_many_fields")]),
            (11, vec![]),
        ]
    );
    assert_eq!(r.invalid, 8);
    assert!(r.rows[2].errors[0].message.contains("line 3"), "a duplicate names the first line: {}", r.rows[2].errors[0].message);
    assert!(r.rows[5].errors[0].message.contains("Manager"), "an unknown role lists the roles: {}", r.rows[5].errors[0].message);
    assert!(r.rows[6].errors[0].message.contains("Sales"), "an unknown department lists them: {}", r.rows[6].errors[0].message);

    // For real: refused whole, nothing sent.
    let p = problem(import(&s, &owner, false, bad).await, StatusCode::UNPROCESSABLE_ENTITY, "import_invalid").await;
    assert!(p.detail.contains("8 rows") && p.detail.contains("nothing was sent"), "{}", p.detail);
    assert!(list(&s, &owner, "q=dup.new").await.items.is_empty());
    assert!(list(&s, &owner, "q=ok.new").await.items.is_empty());
    assert_eq!(invitation_mail(&s, &owner).await.len(), 1, "only open.new's e-mail");

    // A Manager may not import Admins: the row says so.
    let manager = s.login("manager@acme.test").await;
    let r = report(import(&s, &manager, true, "email,role\nboss.new@acme.test,admin\n").await).await;
    assert_eq!(r.rows[0].errors[0].code, "forbidden");

    let fixed = "email,role,department\ndup.new@acme.test,,\nrole.new@acme.test,support,\ndept.new@acme.test,,Engineering\nok.new@acme.test,manager,Support\n";
    assert_eq!(report(import(&s, &owner, true, fixed).await).await.invalid, 0);
    let r = report(import(&s, &owner, false, fixed).await).await;
    assert_eq!(r.invitations.len(), 4);
    for email in ["dup.new@acme.test", "role.new@acme.test", "dept.new@acme.test", "ok.new@acme.test"] {
        assert_eq!(listed(&s, &owner, email).await.status, InvitationStatus::Pending);
    }
    assert_eq!(invitation_mail(&s, &owner).await.len(), 5);
    // Imported once: the same file again is all already invited.
    let again = report(import(&s, &owner, true, fixed).await).await;
    assert!(again.rows.iter().all(|x| x.errors.iter().any(|e| e.code == "already_invited")), "{:?}", again.rows);
}

#[tokio::test]
async fn hostile_csv_files_get_clear_problems_never_500() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    for (body, code) in [
        (Vec::new(), "invalid_csv"),
        (b" \r\n\r\n".to_vec(), "invalid_csv"),
        (b"name,phone\nx,y\n".to_vec(), "invalid_csv"),
        (b"email,role,department\n".to_vec(), "invalid_csv"),
        (b"email,email\na@x.test,b@x.test\n".to_vec(), "invalid_csv"),
        (b"email,role,department\nok.new@acme.test,,\n\xff\xfe@x.test,,\n".to_vec(), "csv_not_utf8"),
        (b"\xff\xfe\x00e\x00m\x00a\x00i\x00l\x00".to_vec(), "csv_not_utf8"),
        (br#"{"emails": ["json.new@acme.test"]}"#.to_vec(), "invalid_csv"),
        (b"\x00\x01\x02".to_vec(), "invalid_csv"),
    ] {
        for dry_run in [true, false] {
            let res = import(&s, &owner, dry_run, body.clone()).await;
            let p = problem(res, StatusCode::BAD_REQUEST, code).await;
            assert!(!p.detail.is_empty());
        }
    }
    let p = problem(import(&s, &owner, true, b"email\n\xff@x.test\n".to_vec()).await, StatusCode::BAD_REQUEST, "csv_not_utf8").await;
    assert!(p.detail.contains("line 2") && p.detail.contains("UTF-8"), "{}", p.detail);
    // A JSON request to the import is still only a CSV file.
    let res = send(&s, &owner, "POST", "/v1/invitations/import?dry_run=false", Some(json!({"emails": ["json.new@acme.test"]})), &[]).await;
    problem(res, StatusCode::BAD_REQUEST, "invalid_csv").await;
    let res = s
        .http
        .post(s.at("/v1/invitations/import?dry_run=maybe"))
        .bearer_auth(owner.access_token.expose())
        .body("email\na@x.test\n")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;

    // Too large: refused plainly, at 6 MiB and at 50 MB.
    for size in [6 * 1024 * 1024, 50_000_000] {
        let mut big = b"email,role,department\n".to_vec();
        while big.len() < size {
            big.extend_from_slice(b"someone.with.a.long.address@acme.test,member,Sales\n");
        }
        let p = problem(import(&s, &owner, true, big).await, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
        assert!(p.detail.contains("5 MiB"), "{}", p.detail);
    }
    // Too many rows (within the size limit).
    let mut many = String::from("email\n");
    for i in 0..20_001 {
        many.push_str(&format!("r{i}@x.test\n"));
    }
    let p = problem(import(&s, &owner, true, many).await, StatusCode::BAD_REQUEST, "invalid_csv").await;
    assert!(p.detail.contains("20000"), "{}", p.detail);

    // Without permission, or signed out.
    let member = s.login(MEMBER).await;
    problem(import(&s, &member, true, "email\na.new@acme.test\n").await, StatusCode::FORBIDDEN, "forbidden").await;
    let res = s.http.post(s.at("/v1/invitations/import")).body("email\na.new@acme.test\n").send().await.unwrap();
    problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(invitation_mail(&s, &owner).await.is_empty());
    assert!(list(&s, &owner, "q=.new@acme.test").await.items.is_empty());
}

#[tokio::test]
async fn a_ten_thousand_row_file_checks_in_one_dry_run() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    set_seat_limit(&s, &owner, 100_000).await;
    let mut csv = String::from("email,role,department\r\n");
    for i in 0..10_000 {
        let role = ["member", "support", "Manager"][i % 3];
        let dept = ["Sales", "Engineering", "Support;HR", ""][i % 4];
        csv.push_str(&format!("person{i}@bulk.test,{role},{dept}\r\n"));
    }
    let r = report(import(&s, &owner, true, csv).await).await;
    assert_eq!(r.rows.len(), 10_000);
    assert_eq!(r.invalid, 0, "{:?}", r.rows.iter().find(|x| !x.errors.is_empty()));
    assert_eq!(r.seats_short, 0);
    assert_eq!((r.rows[0].line, r.rows[9_999].line), (2, 10_001));
    assert!(list(&s, &owner, "q=bulk.test").await.items.is_empty());
}

#[tokio::test]
async fn the_change_feed_carries_invitations_to_those_who_manage_them_only() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let member = s.login(MEMBER).await;
    let feed = |t: TokenResponse, since: String| {
        let s = &s;
        async move {
            let res = s.get(&format!("/v1/changes?since={since}&limit=1000"), &t).await;
            assert_eq!(res.status(), StatusCode::OK);
            let text = res.text().await.unwrap();
            assert!(!text.contains("ghi_"), "no invitation token in the feed");
            serde_json::from_str::<ChangePage>(&text).unwrap()
        }
    };
    // From the start: the seeded invitations for the owner, none for a member.
    let all = feed(owner.clone(), "0".into()).await;
    let seeded = all.changes.iter().filter(|c| c.kind == ChangeKind::Invitation).count();
    let pending_users = users(&s, &owner, "status=pending&limit=500").await.len();
    assert_eq!(seeded, pending_users, "one per seeded pending user");
    let all = feed(member.clone(), "0".into()).await;
    assert!(all.changes.iter().all(|c| c.kind != ChangeKind::Invitation && c.invitation.is_none()));

    let head = feed(owner.clone(), "0".into()).await.cursor;
    let inv = invited_one(&s, &owner, "feed.new@acme.test", json!({"roles": ["support"]})).await;
    let page = feed(owner.clone(), head.clone()).await;
    let change = page.changes.iter().find(|c| c.kind == ChangeKind::Invitation).expect("an invitation change");
    assert_eq!(change.id, inv.id);
    assert!(!change.deleted);
    let shown = change.invitation.as_ref().unwrap();
    assert_eq!((shown.email.as_str(), shown.status), ("feed.new@acme.test", InvitationStatus::Pending));
    assert!(page.changes.iter().any(|c| c.kind == ChangeKind::User && c.id == *inv.user_id.as_ref().unwrap()), "and its pending user");

    // A member sees the pending user but not the invitation.
    let page = feed(member.clone(), head.clone()).await;
    assert!(page.changes.iter().all(|c| c.kind != ChangeKind::Invitation), "{:?}", page.changes);
    assert!(page.changes.iter().any(|c| c.kind == ChangeKind::User));

    // A revoke is a change of the invitation (and the pending user's tombstone).
    let head = page.cursor;
    assert_eq!(post(&s, &owner, &format!("/v1/invitations/{}/revoke", inv.id), &[]).await.status(), StatusCode::OK);
    let page = feed(owner.clone(), head.clone()).await;
    let change = page.changes.iter().find(|c| c.kind == ChangeKind::Invitation).unwrap();
    assert_eq!(change.invitation.as_ref().unwrap().status, InvitationStatus::Revoked);
    assert!(page.changes.iter().any(|c| c.kind == ChangeKind::User && c.deleted));
    let page = feed(member, head).await;
    assert!(page.changes.iter().all(|c| c.kind != ChangeKind::Invitation));
}

#[tokio::test]
async fn the_copied_link_accepts_and_no_list_or_feed_carries_a_token() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let res = invite(&s, &owner, json!({"emails": ["copy.new@acme.test"]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let text = res.text().await.unwrap();
    assert!(!text.contains("ghi_"), "no token in the created invitations");
    let inv = serde_json::from_str::<InvitationsCreated>(&text).unwrap().invitations.remove(0);

    let link = link_of(&s, &owner, &inv.id).await;
    assert_eq!(link.id, inv.id);
    assert_eq!(link.expires_at, inv.expires_at);
    assert!(link.link.expose().starts_with(&format!("{}/accept-invitation?token=ghi_", s.url)), "{}", link.link.expose());
    assert_eq!(link_of(&s, &owner, &inv.id).await.link, link.link, "copying again gives the same link");
    let mail = invitation_mail(&s, &owner).await;
    assert!(mail[0].text.contains(link.link.expose().as_str()), "the same link as the e-mail's");
    // Only those who manage invitations may copy it.
    let member = s.login(MEMBER).await;
    problem(s.get(&format!("/v1/invitations/{}/link", inv.id), &member).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(s.get("/v1/invitations", &member).await, StatusCode::FORBIDDEN, "forbidden").await;
    problem(s.get("/v1/invitations/01900000-0000-7000-8000-000000000000/link", &owner).await, StatusCode::NOT_FOUND, "not_found").await;

    for path in ["/v1/invitations", "/v1/invitations?status=pending&q=copy", "/v1/changes?since=0&limit=1000"] {
        let body = s.get(path, &owner).await.text().await.unwrap();
        assert!(body.contains("copy.new@acme.test"), "{path} lists it");
        assert!(!body.contains("ghi_"), "{path} carries no token");
    }
    let resent = post(&s, &owner, &format!("/v1/invitations/{}/resend", inv.id), &[]).await.text().await.unwrap();
    assert!(!resent.contains("ghi_"));
    let fresh = link_of(&s, &owner, &inv.id).await;
    let res = accept_with_password(&s, &token_of(fresh.link.expose())).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(s.login_raw("copy.new@acme.test", NEW_PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_retried_invitation_with_an_idempotency_key_sends_one_email_and_answers_the_same() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let body = json!({"emails": ["idem.new@acme.test", "idem2.new@acme.test"], "roles": ["support"]});
    let key = [("Idempotency-Key", "invite-idem-1")];
    let first = send(&s, &owner, "POST", "/v1/invitations", Some(body.clone()), &key).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.bytes().await.unwrap();
    assert_eq!(invitation_mail(&s, &owner).await.len(), 2);
    let seats = org(&s, &owner).await.seats_used;

    s.advance(Duration::minutes(3));
    let retry = send(&s, &owner, "POST", "/v1/invitations", Some(body.clone()), &key).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.bytes().await.unwrap(), first, "the same answer, byte for byte");
    assert_eq!(invitation_mail(&s, &owner).await.len(), 2, "no second e-mail");
    assert_eq!(list(&s, &owner, "q=idem").await.items.len(), 2);
    assert_eq!(org(&s, &owner).await.seats_used, seats);

    // The same key for another request is refused; without a key a repeat is already_invited.
    problem(
        send(&s, &owner, "POST", "/v1/invitations", Some(json!({"emails": ["other.new@acme.test"]})), &key).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await;
    problem(invite(&s, &owner, body).await, StatusCode::CONFLICT, "already_invited").await;

    // A resend retried with its key sends one e-mail too.
    let id = serde_json::from_slice::<InvitationsCreated>(&first).unwrap().invitations[0].id.clone();
    let key = [("Idempotency-Key", "resend-idem-1")];
    let a = post(&s, &owner, &format!("/v1/invitations/{id}/resend"), &key).await.bytes().await.unwrap();
    let b = post(&s, &owner, &format!("/v1/invitations/{id}/resend"), &key).await.bytes().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(invitation_mail(&s, &owner).await.len(), 3);
    assert_eq!(listed(&s, &owner, "idem.new@acme.test").await.send_count, 2);
}

#[tokio::test]
async fn the_accept_page_declines_and_refuses_differing_passwords() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "page.new@acme.test", json!({"message": "<script>alert(1)</script>"})).await;
    let token = token(&s, &owner, &inv.id).await;
    let mail = invitation_mail(&s, &owner).await;
    assert!(!mail[0].html.contains("<script>") && mail[0].html.contains("&lt;script&gt;"), "the message is escaped in the HTML part");
    let page = s.http.get(s.at(&format!("/accept-invitation?token={token}"))).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("page.new@acme.test") && html.contains("Join Acme"));
    assert!(html.contains("name=\"first_name\"") && html.contains("value=\"decline\""));

    let form = |action: &str, p: &str, c: &str| {
        [
            ("token", token.clone()),
            ("action", action.into()),
            ("first_name", "Pa".into()),
            ("last_name", "Ge".into()),
            ("password", p.into()),
            ("confirm", c.into()),
        ]
    };
    let res = s.http.post(s.at("/accept-invitation")).form(&form("accept", NEW_PASSWORD, "something else")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("differ") && html.contains("value=\"Pa\""), "the form comes back filled in");
    let res = s.http.post(s.at("/accept-invitation")).form(&form("accept", "short", "short")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(listed(&s, &owner, "page.new@acme.test").await.status, InvitationStatus::Pending);

    let res = s.http.post(s.at("/accept-invitation")).form(&[("token", token.as_str()), ("action", "decline")]).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Invitation declined"));
    assert_eq!(listed(&s, &owner, "page.new@acme.test").await.status, InvitationStatus::Declined);
    let res = s.http.post(s.at("/accept-invitation")).form(&form("accept", NEW_PASSWORD, NEW_PASSWORD)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
}

#[tokio::test]
async fn the_list_filters_searches_counts_and_pages() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let emails: Vec<String> = (0..5).map(|i| format!("page{i}.new@acme.test")).collect();
    for e in &emails {
        invited_one(&s, &owner, e, json!({})).await;
        s.advance(Duration::seconds(1));
    }
    let first = list(&s, &owner, "q=.new@acme&limit=2").await;
    assert_eq!(first.items.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(), ["page4.new@acme.test", "page3.new@acme.test"], "newest first");
    assert_eq!(first.counts.pending, 5);
    let cursor = first.next_cursor.unwrap();
    let second = list(&s, &owner, &format!("q=.new@acme&limit=2&cursor={cursor}")).await;
    assert_eq!(second.items.iter().map(|i| i.email.as_str()).collect::<Vec<_>>(), ["page2.new@acme.test", "page1.new@acme.test"]);
    let third = list(&s, &owner, &format!("q=.new@acme&limit=2&cursor={}", second.next_cursor.unwrap())).await;
    assert_eq!(third.items.len(), 1);
    assert!(third.next_cursor.is_none());
    // A cursor is for its own query.
    problem(s.get(&format!("/v1/invitations?q=other&cursor={cursor}"), &owner).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    problem(s.get("/v1/invitations?status=lost", &owner).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    // Seeded: every pending user's invitation, some expired; the counts add up.
    let all = list(&s, &owner, "limit=500").await;
    let c = all.counts;
    assert_eq!((c.pending + c.accepted + c.declined + c.expired + c.revoked) as usize, all.items.len());
    assert!(c.expired > 0, "the demo has expired invitations");
}

#[tokio::test]
async fn an_invitee_is_not_deactivated_but_their_invitation_revoked() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    let inv = invited_one(&s, &owner, "gil.new@acme.test", json!({})).await;
    let user = inv.user_id.as_deref().unwrap();
    let res = post(&s, &owner, &format!("/v1/users/{user}/deactivate"), &[]).await;
    problem(res, StatusCode::CONFLICT, "not_joined").await;
    assert_eq!(listed(&s, &owner, "gil.new@acme.test").await.status, InvitationStatus::Pending, "nothing changed");
    // A bulk deactivation says so for that user and goes on with the others.
    let bulk = send(&s, &owner, "POST", "/v1/users/bulk", Some(json!({ "action": "deactivate", "user_ids": [user] })), &[]).await;
    assert_eq!(bulk.status(), StatusCode::OK);
    let body: Value = bulk.json().await.unwrap();
    assert_eq!(body["results"][0]["code"], "not_joined", "{body}");
}

#[tokio::test]
async fn a_file_over_the_default_body_limit_but_under_the_import_limit_is_read_whole() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    // 3 MiB: over the server's 1 MiB default for JSON bodies, under the import's 5 MiB.
    let mut csv = String::from("email,role,department\n");
    let padding = "x".repeat(200);
    let mut rows = 0;
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str(&format!("big{rows}@bulk.test,member,\"{padding}\"\n"));
        rows += 1;
    }
    let r = report(import(&s, &owner, true, csv).await).await;
    assert_eq!(r.rows.len(), rows);
    assert!(r.rows.iter().all(|row| row.errors.iter().any(|e| e.code == "unknown_department")));
}

#[tokio::test]
async fn an_invitee_signing_in_is_refused_alike_and_the_attempt_says_why() {
    let s = demo().await;
    let owner = s.login(OWNER).await;
    invited_one(&s, &owner, "hal.new@acme.test", json!({})).await;
    let reason = || async {
        on!(&s.state.db, |db| sqlx::query_scalar::<_, String>(
            "SELECT reason FROM login_attempts WHERE email = 'hal.new@acme.test' ORDER BY id DESC LIMIT 1"
        )
        .fetch_one(db)
        .await)
        .unwrap()
    };
    let res = s.login_raw("hal.new@acme.test", "any guess at all").await;
    // The same answer as for a wrong password: it tells nobody that the address is invited.
    problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(reason().await, "pending");
    s.clock.advance(Duration::days(8));
    problem(s.login_raw("hal.new@acme.test", "any guess at all").await, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(reason().await, "expired_invite");
}
