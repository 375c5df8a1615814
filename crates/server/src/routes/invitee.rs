//! The invitee's side (SPEC I7): accept (name and password, or the identity provider the
//! invitation requires) or decline, through the API or the page the e-mailed link opens.

use super::invitations::{self, Sender};
use super::resets::{LinkQuery, titled_page};
use super::user_create::password_error;
use crate::app::AppState;
use crate::auth::hash_password;
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use crate::mail::html_escape;
use crate::store::invitations::Row;
use axum::Form;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use gatehouse_api::{
    AcceptInvitation, AcceptedInvitation, DeclineInvitation, IdentityProvider, InvitationStatus, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, Problem,
    Secret, UserPatch, codes,
};
use serde::Deserialize;
use serde_json::json;

fn gone(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::GONE, code, detail)
}

/// An invitation that can still be answered, with its organization. Made only by
/// [`open_invitation`] from a verified token: holding one is what lets the invitee decline.
pub(crate) struct Open {
    row: Row,
    org_id: String,
    org_name: String,
}

impl super::invitation_actions::MayClose for Open {}

/// The invitation a token names, if it can still be answered: each dead end has its code.
async fn open_invitation(state: &AppState, token: &str, now: DateTime<Utc>) -> Result<Open> {
    let invalid =
        || ApiError::new(StatusCode::BAD_REQUEST, codes::INVITATION_INVALID, "This invitation link is not valid; check that it was copied whole.");
    let (id, generation) = state.key.verify_invitation(token).ok_or_else(invalid)?;
    let org = crate::store::invitations::org_of(&state.db, &id).await?;
    let (org_id, org_name) = org.ok_or_else(invalid)?;
    let mut tx = crate::store::read(&state.db).await?;
    let row = crate::store::invitations::find(&mut tx, &org_id, &id).await?.ok_or_else(invalid)?;
    tx.commit().await?;
    match row.status_at(now) {
        InvitationStatus::Revoked => Err(gone(codes::INVITATION_REVOKED, "This invitation was withdrawn; ask whoever invited you for a new one.")),
        InvitationStatus::Accepted => Err(gone(codes::INVITATION_USED, "This invitation was already accepted; sign in instead.")),
        InvitationStatus::Declined => Err(gone(codes::INVITATION_USED, "This invitation was declined; ask whoever invited you for a new one.")),
        _ if row.generation != generation => {
            Err(gone(codes::INVITATION_SUPERSEDED, "A newer invitation e-mail replaced this link; use the link in the latest one."))
        }
        InvitationStatus::Expired => Err(gone(codes::INVITATION_EXPIRED, "This invitation has expired; ask whoever invited you to resend it.")),
        InvitationStatus::Pending => Ok(Open { row, org_id, org_name }),
    }
}

/// Checks the sign-in the invitee states against the invitation's restriction (SPEC I2).
fn check_provider(row: &Row, provider: IdentityProvider, tenant: Option<&str>) -> Result<()> {
    let required = IdentityProvider::parse(&row.identity_provider).unwrap_or_default();
    let mismatch = |detail: String| ApiError::new(StatusCode::FORBIDDEN, codes::IDENTITY_PROVIDER_MISMATCH, detail);
    match required {
        IdentityProvider::Any => Ok(()),
        r if provider != r => Err(mismatch(format!(
            "This invitation must be accepted by signing in with {}.",
            if r == IdentityProvider::Google { "a Google account" } else { "a Microsoft Entra ID account" }
        ))),
        _ => match row.tenant_id.as_deref() {
            Some(want) if !tenant.is_some_and(|t| t.trim().eq_ignore_ascii_case(want)) => {
                Err(mismatch(format!("This invitation must be accepted with an account of the Microsoft Entra ID tenant {want}.")))
            }
            _ => Ok(()),
        },
    }
}

async fn accept(state: &AppState, meta: &ClientMeta, req: &AcceptInvitation) -> Result<AcceptedInvitation> {
    let now = state.clock.now();
    let Open { row, org_id: org, org_name } = open_invitation(state, req.token.expose(), now).await?;
    let provider = req.provider.unwrap_or_default();
    check_provider(&row, provider, req.tenant_id.as_deref())?;
    let names = UserPatch { first_name: Some(req.first_name.clone()), last_name: Some(req.last_name.clone()), ..UserPatch::default() };
    let mut errors = names.field_errors();
    let password = match (provider, &req.password) {
        (IdentityProvider::Any, None) => {
            errors.push(gatehouse_api::FieldError { field: "password".into(), code: "required".into(), message: "Choose a password.".into() });
            None
        }
        (IdentityProvider::Any, Some(p)) => {
            errors.extend(password_error(p.expose()));
            Some(p.clone())
        }
        // Signing in with a provider sets no password.
        (_, _) => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let hash = match password {
        Some(p) => Some(state.hashes.run(move || hash_password(p.expose())).await?.map_err(ApiError::Internal)?),
        None => None,
    };
    let identities = match provider {
        IdentityProvider::Any => json!([]),
        p => json!([p.as_str()]),
    };
    let (first, last) = (req.first_name.trim(), req.last_name.trim());
    let display = format!("{first} {last}");
    let user_id =
        row.user_id.clone().ok_or_else(|| gone(codes::INVITATION_REVOKED, "This invitation no longer holds a place; ask for a new one."))?;
    let mut tx = crate::store::write(&state.db).await?;
    if !crate::store::invitations::accept(&mut tx, &row.id, row.generation, now).await? {
        return Err(gone(codes::INVITATION_USED, "This invitation was answered meanwhile."));
    }
    let identities = identities.to_string();
    let joining = crate::store::users::Joining {
        first_name: first,
        last_name: last,
        email: &row.email,
        password_hash: hash.as_deref(),
        identities: &identities,
    };
    if !crate::store::users::activate_pending(&mut tx, &user_id, &joining, now).await? {
        return Err(gone(codes::INVITATION_REVOKED, "This invitation no longer holds a place; ask for a new one."));
    }
    let sender =
        Sender { org_id: &org, org_name: &org_name, user_id: &user_id, via: None, name: &display, ip: &meta.ip, user_agent: &meta.user_agent };
    invitations::record(&mut tx, &sender, &row, "invitation.accepted", json!({ "provider": provider.as_str(), "name": display }), now).await?;
    tx.commit().await?;
    Ok(AcceptedInvitation { user_id, email: row.email, organization: org_name })
}

async fn decline(state: &AppState, meta: &ClientMeta, token: &str) -> Result<()> {
    let now = state.clock.now();
    let open = open_invitation(state, token, now).await?;
    let (row, org) = (&open.row, open.org_id.as_str());
    let mut tx = crate::store::write(&state.db).await?;
    // The event names the pending user it held the seat for, as before the close.
    super::invitation_actions::close(&mut tx, org, row, "declined", &open, now).await?;
    let sender = Sender { org_id: org, org_name: "", user_id: "", via: None, name: "", ip: &meta.ip, user_agent: &meta.user_agent };
    invitations::record(&mut tx, &sender, row, "invitation.declined", json!({}), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts an invitation: the invitee becomes an active member with the invited roles and
/// departments, and can sign in.
#[utoipa::path(
    post, path = "/v1/invitations/accept", tag = "invitations",
    request_body = AcceptInvitation,
    responses(
        (status = 200, description = "Joined", body = AcceptedInvitation),
        (status = 400, description = "`invitation_invalid` (not a token of this server) or `validation_failed` (names, password)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`identity_provider_mismatch`: the invitation requires another provider or tenant", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked`, `invitation_used` or `invitation_superseded`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept_invitation(
    State(state): State<AppState>,
    meta: ClientMeta,
    ApiJson(req): ApiJson<AcceptInvitation>,
) -> Result<Json<AcceptedInvitation>> {
    Ok(Json(accept(&state, &meta, &req).await?))
}

/// Declines an invitation: its seat is freed and the link stops working.
#[utoipa::path(
    post, path = "/v1/invitations/decline", tag = "invitations",
    request_body = DeclineInvitation,
    responses(
        (status = 204, description = "Declined"),
        (status = 400, description = "`invitation_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "`invitation_expired`, `invitation_revoked`, `invitation_used` or `invitation_superseded`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline_invitation(State(state): State<AppState>, meta: ClientMeta, ApiJson(req): ApiJson<DeclineInvitation>) -> Result<StatusCode> {
    decline(&state, &meta, req.token.expose()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the page posts.
#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

const TITLE: &str = "Gatehouse invitation";

fn dead_end(e: &ApiError) -> Response {
    let problem = e.problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::BAD_REQUEST);
    titled_page(TITLE, status, &format!("<h1>This invitation cannot be used</h1><p role=\"alert\">{}</p>", html_escape(&problem.detail)))
}

/// The page the e-mailed link opens: who invited whom to what, and the accept form.
pub async fn accept_page(State(state): State<AppState>, Query(q): Query<LinkQuery>) -> Response {
    match open_invitation(&state, &q.token, state.clock.now()).await {
        Ok(open) => titled_page(TITLE, StatusCode::OK, &form(&q.token, &open.row, &open.org_name, None, "", "")),
        Err(e) => dead_end(&e),
    }
}

/// The page's form: accept with a name and password, or decline.
pub async fn accept_page_submit(State(state): State<AppState>, meta: ClientMeta, Form(f): Form<AcceptForm>) -> Response {
    let now = state.clock.now();
    let Open { row, org_name, .. } = match open_invitation(&state, &f.token, now).await {
        Ok(found) => found,
        Err(e) => return dead_end(&e),
    };
    if f.action == "decline" {
        return match decline(&state, &meta, &f.token).await {
            Ok(()) => titled_page(
                TITLE,
                StatusCode::OK,
                &format!("<h1>Invitation declined</h1><p>You will not join {}. You can close this page.</p>", html_escape(&org_name)),
            ),
            Err(e) => dead_end(&e),
        };
    }
    let again =
        |message: &str| titled_page(TITLE, StatusCode::BAD_REQUEST, &form(&f.token, &row, &org_name, Some(message), &f.first_name, &f.last_name));
    if IdentityProvider::parse(&row.identity_provider).unwrap_or_default() != IdentityProvider::Any {
        return again(
            "This invitation must be accepted by signing in with its identity provider, which this server does not offer yet; ask whoever invited you.",
        );
    }
    if f.password != f.confirm {
        return again("The two passwords differ; type the same one twice.");
    }
    let req = AcceptInvitation {
        token: Secret::new(f.token.clone()),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        password: Some(Secret::new(f.password.clone())),
        provider: None,
        tenant_id: None,
    };
    match accept(&state, &meta, &req).await {
        Ok(done) => titled_page(
            TITLE,
            StatusCode::OK,
            &format!(
                "<h1>Welcome to {}</h1><p>Your account is ready. Sign in with <b>{}</b> and the password you chose.</p>",
                html_escape(&done.organization),
                html_escape(&done.email)
            ),
        ),
        Err(e) => {
            let problem = e.problem();
            if problem.code == codes::VALIDATION_FAILED {
                let message = problem.errors.iter().map(|fe| fe.message.clone()).collect::<Vec<_>>().join(" ");
                again(&message)
            } else {
                dead_end(&e)
            }
        }
    }
}

fn form(token: &str, row: &Row, org: &str, error: Option<&str>, first: &str, last: &str) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e))).unwrap_or_default();
    let provider_note = match IdentityProvider::parse(&row.identity_provider).unwrap_or_default() {
        IdentityProvider::Any => String::new(),
        IdentityProvider::Google => "<p class=\"hint\">This invitation is accepted by signing in with Google.</p>".into(),
        IdentityProvider::Microsoft => "<p class=\"hint\">This invitation is accepted by signing in with Microsoft Entra ID.</p>".into(),
    };
    format!(
        "<h1>Join {org}</h1><p>You were invited as <b>{email}</b>. The invitation works until {expires}.</p>{provider_note}{error}\
         <form method=\"post\" action=\"/accept-invitation\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label for=\"first_name\">First name</label><input id=\"first_name\" name=\"first_name\" value=\"{first}\" autocomplete=\"given-name\" required autofocus>\
         <label for=\"last_name\">Last name</label><input id=\"last_name\" name=\"last_name\" value=\"{last}\" autocomplete=\"family-name\" required>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"{min}\" maxlength=\"{max}\" required>\
         <label for=\"confirm\">Type it again</label><input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\" name=\"action\" value=\"accept\">Accept and join</button></form>\
         <form method=\"post\" action=\"/accept-invitation\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <button type=\"submit\" name=\"action\" value=\"decline\" class=\"secondary\">Decline</button></form>\
         <p class=\"hint\">A password has at least {min} characters.</p>",
        org = html_escape(org),
        email = html_escape(&row.email),
        expires = row.expires_at.format("%B %-d, %Y %H:%M UTC"),
        token = html_escape(token),
        first = html_escape(first),
        last = html_escape(last),
        min = MIN_PASSWORD_CHARS,
        max = MAX_PASSWORD_CHARS,
    )
}
