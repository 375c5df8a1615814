//! Password resets (SPEC U10): an admin (or the user, "forgot password") asks; the user
//! gets an e-mail with a single-use link that expires; the link opens a small page on this
//! server (or a client posts to `/v1/auth/password-reset/complete`) to choose a new
//! password. Completing it ends every session of the account.

use super::user_create::password_error;
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, UsersManage, hash_password};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath};
use crate::idempotency::Idempotency;
use crate::mail::{self, Mail, html_escape};
use crate::store::{self, Conn};
use crate::tokens::hash_token;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use gatehouse_api::{PasswordResetComplete, PasswordResetRequest, PasswordResetSent, Problem, Secret, codes};
use serde::Deserialize;
use serde_json::json;

/// Prefix of password-reset tokens.
const TOKEN_PREFIX: &str = "ghp_";
/// A "forgot password" for an account that got a link this recently sends no new one.
const SELF_SERVICE_QUIET_SECONDS: i64 = 60;

fn mail_available(state: &AppState) -> Result<()> {
    if state.config.smtp.is_none() && !state.config.dev_mailbox {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::MAIL_NOT_CONFIGURED,
            "This server has no mail relay, so it cannot send a reset link. Its operator sets one with --smtp-url.",
        ));
    }
    Ok(())
}

struct Account<'a> {
    id: &'a str,
    org_id: &'a str,
    email: &'a str,
    name: &'a str,
}

/// Issues a new link for `account` (older unused ones stop working), queues its e-mail and
/// records the event (with the keys the request suspended, if it did), inside `tx`.
#[allow(clippy::too_many_arguments)]
async fn issue(
    state: &AppState,
    tx: &mut Conn,
    account: &Account<'_>,
    requested_by: Option<(&Principal, &str)>,
    keys_suspended: Option<u32>,
    meta: &ClientMeta,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let token = crate::tokens::new_token(TOKEN_PREFIX).into_inner();
    let expires_at = now + state.config.password_reset_ttl;
    let requester = requested_by.map(|(p, _)| p.user_id.as_str());
    store::password_resets::replace(tx, &hash_token(&token), account.id, account.org_id, requester, now, expires_at).await?;
    let org = store::org::name(tx, account.org_id).await?;
    let link = format!("{}/reset-password?token={token}", state.config.public_url.trim_end_matches('/'));
    let minutes = state.config.password_reset_ttl.num_minutes();
    mail::enqueue(tx, account.org_id, &reset_mail(account, &org, requested_by.map(|(_, name)| name), &link, minutes), now).await?;
    audit::record(
        tx,
        Event {
            org_id: account.org_id,
            actor_id: requested_by.map(|(p, _)| p.user_id.as_str()),
            via: requested_by.and_then(|(p, _)| p.via()),
            target_type: "user",
            target_id: account.id,
            action: "user.password_reset_requested",
            ip: &meta.ip,
            user_agent: &meta.user_agent,
            details: json!({
                "target": { "name": account.name, "email": account.email },
                "self_service": requested_by.is_none(),
                "expires_at": expires_at,
                "api_keys_suspended": keys_suspended,
            }),
        },
        now,
    )
    .await?;
    Ok(expires_at)
}

fn reset_mail(account: &Account<'_>, org: &str, admin: Option<&str>, link: &str, minutes: i64) -> Mail {
    let who = match admin {
        Some(admin) => format!("{admin}, an administrator of {org}, asked"),
        None => "Someone (hopefully you) asked".to_owned(),
    };
    let text = format!(
        "Hello {name},\n\n{who} to reset the password of your {org} account, {email}.\n\n\
         Open this link within {minutes} minutes to choose a new password:\n\n{link}\n\n\
         The link works once. Choosing a new password signs you out everywhere.\n\
         If you did not expect this e-mail, ignore it: your password stays as it is.\n",
        name = account.name,
        email = account.email,
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>Hello {name},</p><p>{who} to reset the password of your {org} account, {email}.</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:8px 16px;background:#2f5bd3;color:#fff;text-decoration:none;border-radius:4px\">Choose a new password</a></p>\
         <p>Or open this address within {minutes} minutes: <br><code>{link}</code></p>\
         <p>The link works once. Choosing a new password signs you out everywhere. \
         If you did not expect this e-mail, ignore it: your password stays as it is.</p></body></html>",
        name = html_escape(account.name),
        who = html_escape(&who),
        org = html_escape(org),
        email = html_escape(account.email),
        link = html_escape(link),
    );
    Mail { kind: "password_reset", to: account.email.to_owned(), subject: format!("Reset your {org} password"), text, html }
}

/// Sends the user an e-mail with a single-use link to choose a new password. Their current
/// password keeps working until they do.
#[utoipa::path(
    post, path = "/v1/users/{id}/reset-password", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer (and send no second e-mail)"),
        ("suspend_api_keys" = Option<bool>, Query, description = "Also suspend the user's working API keys (a leaked password may have leaked them too); an administrator restores them"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The e-mail is queued; the link works until `expires_at`", body = PasswordResetSent),
        (status = 400, description = "`invalid_id`: not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_reset`: the user is not active", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`mail_not_configured`: the server cannot send e-mail", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    query: crate::extract::QueryPairs,
    headers: HeaderMap,
) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    super::paging::check_id("user", &id)?;
    let suspend_keys = super::sessions::suspend_keys_asked(&query)?;
    let org = granted.org_id().to_owned();
    let path = format!("/v1/users/{id}/reset-password");
    Idempotency::handle(&state, &principal, &headers, ("POST", &path), &suspend_keys, async |idem| {
        admin_reset(&state, &principal, &meta, &org, &id, suspend_keys, idem).await
    })
    .await
}

async fn admin_reset(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    id: &str,
    suspend_keys: bool,
    idem: Option<&Idempotency>,
) -> Result<Response> {
    let (user, _) = crate::policy::act_on::<crate::policy::ResetPassword>(&state.db, principal, id).await?.into_user();
    let keys_of = super::apikeys::may_suspend_all(&state.db, principal, id, suspend_keys).await?;
    mail_available(state)?;
    if user.status != gatehouse_api::UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CANNOT_RESET,
            format!("{} is {}, so they cannot sign in; reactivate them (or resend their invitation) first.", user.display_name, user.status.as_str()),
        ));
    }
    let admin = store::users::display_name(&state.db, &principal.user_id).await?;
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let account = Account { id: &user.id, org_id: org, email: &user.email, name: &user.display_name };
    let keys = super::apikeys::suspend_all(&mut tx, keys_of.as_ref(), principal, now).await?;
    let expires_at = issue(state, &mut tx, &account, Some((principal, &admin)), keys, meta, now).await?;
    let sent = PasswordResetSent { user_id: user.id.clone(), sent_to: user.email.clone(), expires_at, api_keys_suspended: keys };
    let body = serde_json::to_vec(&sent).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::OK, None, &body, now).await?;
    }
    tx.commit().await?;
    state.wake_mailer();
    Ok(super::json_body(StatusCode::OK, body))
}

/// "Forgot password": e-mails a reset link to the address if it belongs to an active
/// account. The answer is the same either way, so it tells nobody which addresses exist.
#[utoipa::path(
    post, path = "/v1/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an active account, a link is on its way"),
        (status = 400, description = "`validation_failed`: no e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`mail_not_configured`: the server cannot send e-mail", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_reset(State(state): State<AppState>, meta: ClientMeta, ApiJson(req): ApiJson<PasswordResetRequest>) -> Result<StatusCode> {
    let email = req.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 320 || !email.contains('@') {
        return Err(ApiError::field("email", "invalid", "Enter the e-mail address you sign in with."));
    }
    mail_available(&state)?;
    // The answer goes out before the lookup, so its timing says nothing about whether the
    // address has an account.
    tokio::spawn(async move {
        if let Err(e) = self_service_reset(&state, &meta, &email).await {
            tracing::warn!(error = %e, "a self-service password reset failed");
        }
        state.background_done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    Ok(StatusCode::ACCEPTED)
}

async fn self_service_reset(state: &AppState, meta: &ClientMeta, email: &str) -> Result<()> {
    let Some((id, org_id, email, name)) = store::users::active_by_email(&state.db, email).await? else {
        return Ok(());
    };
    // The quiet check reads inside the write transaction: writers take turns (on every
    // server process sharing the database), so two quick asks cannot both pass it.
    let mut tx = crate::store::write(&state.db).await?;
    let now = state.clock.now();
    let recent = store::password_resets::latest(&mut tx, &id).await?;
    if recent.is_some_and(|t| (now - t).num_seconds() < SELF_SERVICE_QUIET_SECONDS) {
        return Ok(());
    }
    issue(state, &mut tx, &Account { id: &id, org_id: &org_id, email: &email, name: &name }, None, None, meta, now).await?;
    tx.commit().await?;
    state.wake_mailer();
    Ok(())
}

/// Sets the new password from a reset link: the link is spent and every session of the
/// account ends.
async fn complete(state: &AppState, meta: &ClientMeta, token: &str, password: &Secret) -> Result<()> {
    if let Some(error) = password_error(password.expose()) {
        return Err(ApiError::validation(vec![error]));
    }
    let hash = hash_token(token.trim());
    let row = store::password_resets::by_hash(&state.db, &hash).await?;
    let now = state.clock.now();
    let Some(row) = row else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::RESET_TOKEN_INVALID,
            "This reset link is not valid; check that it was copied whole, or ask for a new one.",
        ));
    };
    let used = || {
        ApiError::new(
            StatusCode::GONE,
            codes::RESET_TOKEN_USED,
            "This reset link was already used. Sign in with the new password, or ask for a new link.",
        )
    };
    if row.used_at.is_some() {
        return Err(used());
    }
    if row.superseded_at.is_some() {
        return Err(ApiError::new(StatusCode::GONE, codes::RESET_TOKEN_EXPIRED, "A newer reset link was sent; use the latest e-mail."));
    }
    if row.expires_at <= now {
        return Err(ApiError::new(StatusCode::GONE, codes::RESET_TOKEN_EXPIRED, "This reset link has expired; ask for a new one."));
    }
    if row.status != "active" {
        return Err(ApiError::new(StatusCode::CONFLICT, codes::CANNOT_RESET, "This account is not active; ask an administrator."));
    }
    let password = password.clone();
    let new_hash = state.hashes.run(move || hash_password(password.expose())).await?.map_err(ApiError::Internal)?;
    let mut tx = crate::store::write(&state.db).await?;
    if !store::password_resets::spend(&mut tx, &hash, now).await? {
        return Err(used());
    }
    store::users::set_password_hash(&mut tx, &row.user_id, &new_hash, now).await?;
    let (sessions, trusted) = super::sessions::end_all(&mut tx, &row.user_id, "password_reset", now).await?;
    audit::record(
        &mut tx,
        Event {
            org_id: &row.org_id,
            actor_id: Some(&row.user_id),
            via: None,
            target_type: "user",
            target_id: &row.user_id,
            action: "user.password_reset_completed",
            ip: &meta.ip,
            user_agent: &meta.user_agent,
            details: json!({ "sessions_revoked": sessions, "trusted_devices_revoked": trusted }),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Chooses a new password with the token from a reset link.
#[utoipa::path(
    post, path = "/v1/auth/password-reset/complete", tag = "auth",
    request_body = PasswordResetComplete,
    responses(
        (status = 204, description = "The password is changed; every session of the account has ended"),
        (status = 400, description = "`validation_failed` (the password), or `reset_token_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_reset`: the account is not active", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`reset_token_expired` (also when a newer link replaced it) or `reset_token_used`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn complete_reset(State(state): State<AppState>, meta: ClientMeta, ApiJson(req): ApiJson<PasswordResetComplete>) -> Result<StatusCode> {
    complete(&state, &meta, req.token.expose(), &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /reset-password?token=…` (and `/accept-invitation?token=…`): where an e-mailed
/// link leads.
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    pub(crate) token: String,
}

/// The form the page posts.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The reset page: a plain HTML form, no script, served with a CSP that allows nothing
/// but its own inline style and posting back here.
pub async fn reset_page(Query(q): Query<LinkQuery>) -> Response {
    page(StatusCode::OK, &form(&q.token, None))
}

/// The reset form's submission.
pub async fn reset_page_submit(State(state): State<AppState>, meta: ClientMeta, Form(f): Form<ResetForm>) -> Response {
    if f.password != f.confirm {
        return page(StatusCode::BAD_REQUEST, &form(&f.token, Some("The two passwords differ; type the same one twice.")));
    }
    match complete(&state, &meta, &f.token, &Secret::new(f.password)).await {
        Ok(()) => page(
            StatusCode::OK,
            "<h1>Password changed</h1><p>Your new password works now. You were signed out everywhere: sign in again with it.</p>",
        ),
        Err(e) => {
            let problem = e.problem();
            let message = problem.errors.first().map(|fe| fe.message.clone()).unwrap_or(problem.detail);
            let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
            // A bad password can be corrected; a dead link cannot.
            if problem.code == codes::VALIDATION_FAILED {
                page(status, &form(&f.token, Some(&message)))
            } else {
                page(status, &format!("<h1>This link cannot be used</h1><p role=\"alert\">{}</p>", html_escape(&message)))
            }
        }
    }
}

fn form(token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e))).unwrap_or_default();
    format!(
        "<h1>Choose a new password</h1>{error}\
         <form method=\"post\" action=\"/reset-password\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label for=\"password\">New password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" maxlength=\"{max}\" required autofocus>\
         <label for=\"confirm\">Type it again</label>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Set password</button></form>\
         <p class=\"hint\">At least {min} characters. Setting it signs you out everywhere.</p>",
        token = html_escape(token),
        min = gatehouse_api::MIN_PASSWORD_CHARS,
        max = gatehouse_api::MAX_PASSWORD_CHARS,
    )
}

fn page(status: StatusCode, body: &str) -> Response {
    titled_page("Gatehouse password reset", status, body)
}

/// A script-free HTML page of this server (reset and invitation links lead to these):
/// nothing but its inline style and posting back here is allowed, no referrer, no caching.
pub(crate) fn titled_page(title: &str, status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = html_escape(title),
    );
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    // The URL holds the token: it must not leak to other sites or stay in caches.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f5f6f8;color:#1c1e21;margin:0}\
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}\
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;background:#2f5bd3;color:#fff;border:0;border-radius:4px}\
.error{color:#b00020}.hint{color:#555;font-size:.9rem}button.secondary{background:#fff;color:#2f5bd3;border:1px solid #2f5bd3}\
@media (prefers-color-scheme:dark){body{background:#15171a;color:#e8e8e8}main{background:#202327}.hint{color:#aaa}}";
