//! Invitations, the admin side (SPEC I1–I5, I8, I9): inviting, and what the list
//! (`invitation_list.rs`), the actions (`invitation_actions.rs`), the import and the
//! invitee's side share. An invitation holds its seat through a pending user with the invited roles
//! and departments (see migration 0013), so seats, the directory and the feed follow.

use super::org::{ensure_seats, seat_usage, seats_refused};
use super::user_edit::{email_taken, may_grant, refs};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{InvitationsManage, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::extract::ClientMeta;
use crate::idempotency::Idempotency;
use crate::mail::{self, Mail, html_escape};
use crate::policy::{GrantRoles, HandsOutAccess};
use crate::store::invitations::Row;
use crate::store::roles::Grantable;
use crate::store::{self, Db};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use gatehouse_api::{
    FieldError, GroupRef, IdentityProvider, InvitationsCreated, MAX_INVITATION_MESSAGE_CHARS, MAX_INVITES_PER_REQUEST, MAX_TENANT_ID_CHARS,
    NewInvitations, Problem, SeatUsage, Secret, codes, valid_email,
};
use serde_json::json;
use std::collections::HashMap;

/// The link an invitation's e-mail carries.
pub(crate) fn link(state: &AppState, id: &str, generation: i64, _may: &impl HandsOutAccess) -> Secret {
    let token = state.key.invitation_token(id, generation);
    Secret::new(format!("{}/accept-invitation?token={}", state.config.public_url.trim_end_matches('/'), token.expose()))
}

/// What every invitation of one request shares.
pub(crate) struct Terms<'a> {
    pub(crate) message: Option<&'a str>,
    pub(crate) notify_email: Option<&'a str>,
    pub(crate) identity_provider: IdentityProvider,
    pub(crate) tenant_id: Option<&'a str>,
}

/// One address to invite, resolved.
pub(crate) struct Invitee<'a> {
    pub(crate) email: &'a str,
    pub(crate) roles: &'a [Grantable],
    pub(crate) departments: &'a [GroupRef],
}

/// Who invites, and from where.
pub(crate) struct Sender<'a> {
    pub(crate) org_id: &'a str,
    pub(crate) org_name: &'a str,
    pub(crate) user_id: &'a str,
    /// The API key the sender used, if any (named in audit events).
    pub(crate) via: Option<&'a crate::auth::KeyRef>,
    pub(crate) name: &'a str,
    pub(crate) ip: &'a str,
    pub(crate) user_agent: &'a str,
}

impl<'a> Sender<'a> {
    /// The signed-in caller as the sender; `names` from [`sender_of`].
    pub(crate) fn caller(principal: &'a Principal, meta: &'a crate::extract::ClientMeta, org_id: &'a str, names: &'a (String, String)) -> Self {
        let (org_name, name) = names;
        Self { org_id, org_name, user_id: &principal.user_id, via: principal.via(), name, ip: &meta.ip, user_agent: &meta.user_agent }
    }
}

/// Why one of `emails` cannot be invited now, if one cannot (the first in order): a
/// member (any status) or an open invitation already has it.
async fn address_problem(db: &Db, org: &str, emails: &[String]) -> Result<Option<ApiError>> {
    let lowered: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
    let taken = Taken::of(db, &lowered.iter().map(String::as_str).collect::<Vec<_>>()).await?;
    for (email, lower) in emails.iter().zip(&lowered) {
        if taken.invited.get(lower).is_some_and(|o| o == org) {
            return Ok(Some(ApiError::field_conflict(
                codes::ALREADY_INVITED,
                "emails",
                format!("{email} already has an invitation; resend it from the Invitations list instead."),
                format!("{email} already has an invitation."),
            )));
        }
        if taken.invited.contains_key(lower) || taken.members.contains_key(lower) {
            let refusal = super::user_create::email_refusal(db, org, email, None).await?;
            return Ok(Some(refusal.unwrap_or_else(|| super::user_create::email_unavailable(email))));
        }
    }
    Ok(None)
}

/// Which of some (lower-cased) addresses are taken, server-wide: by an account (any
/// status; an open invitation has a pending one) or by an open invitation, each with
/// the organization that has it. One query per 500 addresses of each kind.
pub(crate) struct Taken {
    pub(crate) members: HashMap<String, String>,
    pub(crate) invited: HashMap<String, String>,
}

impl Taken {
    pub(crate) async fn of(db: &Db, emails: &[&str]) -> Result<Self> {
        Ok(Self { members: store::users::orgs_of_addresses(db, emails).await?, invited: store::invitations::orgs_of_addresses(db, emails).await? })
    }
}

/// When an invitation sent at `now` expires: the organization's setting, in days.
pub(crate) async fn expiry(conn: &mut store::Conn, org: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let days = store::org::invitation_expiry_days(conn, org).await?;
    Ok(now + Duration::days(days.max(1)))
}

/// Creates the invitations of `invitees` inside `tx` when the seats suffice: checked
/// before the writes (a refusal with the usage as it is) and again after them, so two
/// requests racing for the last seat cannot both win. Returns them and the seats before.
pub(crate) async fn insert_all(
    state: &AppState,
    tx: &mut store::Tx,
    sender: &Sender<'_>,
    invitees: &[Invitee<'_>],
    terms: &Terms<'_>,
    grant: &GrantRoles,
    now: DateTime<Utc>,
) -> Result<(Vec<Row>, SeatUsage)> {
    let wanted = u32::try_from(invitees.len()).unwrap_or(u32::MAX);
    let before = seat_usage(tx, sender.org_id).await?;
    if before.used.saturating_add(wanted) > before.limit {
        return Err(seats_refused(before, wanted));
    }
    let expires_at = expiry(tx, sender.org_id, now).await?;
    let mut rows = Vec::with_capacity(invitees.len());
    for invitee in invitees {
        rows.push(insert(state, tx, sender, invitee, terms, grant, expires_at, now).await?);
    }
    ensure_seats(tx, sender.org_id, wanted).await?;
    Ok((rows, before))
}

/// Creates one invitation inside `tx`: the pending user with the invited roles and
/// departments, the invitation, its e-mail and its audit event. The caller checks seats
/// after the last one.
#[allow(clippy::too_many_arguments)]
async fn insert(
    state: &AppState,
    tx: &mut store::Tx,
    sender: &Sender<'_>,
    invitee: &Invitee<'_>,
    terms: &Terms<'_>,
    grant: &GrantRoles,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Row> {
    let email = invitee.email.trim();
    let user_id = uuid::Uuid::now_v7().to_string();
    let pending = store::users::NewUser {
        id: &user_id,
        org_id: sender.org_id,
        email,
        first_name: "",
        last_name: "",
        display_name: email,
        status: "pending",
        password_hash: None,
        at: now,
    };
    if !store::users::insert(tx, &pending).await? {
        return Err(email_taken(email, "another account"));
    }
    for role in invitee.roles {
        super::user_edit::add_role(tx, &user_id, &role.id, grant).await?;
    }
    for group in invitee.departments {
        store::users::add_group(tx, &user_id, &group.id).await?;
    }
    let roles = refs(invitee.roles);
    let id = uuid::Uuid::now_v7().to_string();
    let row = Row {
        id: id.clone(),
        user_id: Some(user_id.clone()),
        email: email.to_owned(),
        notify_email: terms.notify_email.map(str::to_owned),
        roles: serde_json::to_string(&roles).map_err(|e| ApiError::Internal(e.into()))?,
        departments: serde_json::to_string(invitee.departments).map_err(|e| ApiError::Internal(e.into()))?,
        message: terms.message.map(str::to_owned),
        identity_provider: terms.identity_provider.as_str().to_owned(),
        tenant_id: terms.tenant_id.map(str::to_owned),
        status: "pending".into(),
        generation: 1,
        invited_by: Some(sender.user_id.to_owned()),
        invited_by_name: Some(sender.name.to_owned()),
        created_at: now,
        sent_at: now,
        send_count: 1,
        expires_at,
        responded_at: None,
    };
    if !store::invitations::insert(tx, sender.org_id, &row).await? {
        // Another organization has an open invitation for the address.
        return Err(email_taken(email, "another account"));
    }
    send(state, tx, sender, &row, grant, now).await?;
    record(tx, sender, &row, "invitation.sent", json!({ "roles": roles, "departments": invitee.departments, "expires_at": row.expires_at }), now)
        .await?;
    Ok(row)
}

/// Queues the invitation e-mail of `row` at its current generation.
pub(crate) async fn send(
    state: &AppState,
    tx: &mut store::Tx,
    sender: &Sender<'_>,
    row: &Row,
    may: &impl HandsOutAccess,
    now: DateTime<Utc>,
) -> Result<()> {
    let link = link(state, &row.id, row.generation, may);
    let mail = invitation_mail(sender, row, link.expose());
    mail::enqueue(tx, sender.org_id, &mail, now).await?;
    Ok(())
}

/// Appends an invitation's audit event (its target is the invited user).
pub(crate) async fn record(
    tx: &mut store::Tx,
    sender: &Sender<'_>,
    row: &Row,
    action: &str,
    extra: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut details = json!({ "invitation_id": row.id, "target": { "email": row.email } });
    if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    let target = row.user_id.clone().unwrap_or_else(|| row.id.clone());
    let actor = (!sender.user_id.is_empty()).then_some(sender.user_id);
    audit::record(
        tx,
        Event {
            org_id: sender.org_id,
            actor_id: actor,
            via: sender.via,
            target_type: "user",
            target_id: &target,
            action,
            ip: sender.ip,
            user_agent: sender.user_agent,
            details,
        },
        now,
    )
    .await
    .map(drop)
}

fn invitation_mail(sender: &Sender<'_>, row: &Row, link: &str) -> Mail {
    let expires = row.expires_at.format("%B %-d, %Y at %H:%M UTC");
    let provider = match IdentityProvider::parse(&row.identity_provider).unwrap_or_default() {
        IdentityProvider::Any => String::new(),
        IdentityProvider::Google => "Accept it by signing in with your Google account.".to_owned(),
        IdentityProvider::Microsoft => "Accept it by signing in with your Microsoft work account.".to_owned(),
    };
    let message = row.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let text = format!(
        "Hello,\n\n{inviter} invited {email} to join {org} on Gatehouse.\n\n{message}\
         Open this link to accept (it works until {expires}):\n\n{link}\n\n{provider}{provider_nl}\
         If you do not want to join, open the link and choose Decline, or ignore this e-mail.\n",
        inviter = sender.name,
        email = row.email,
        org = sender.org_name,
        message = message.map(|m| format!("{} wrote:\n> {}\n\n", sender.name, m.replace('\n', "\n> "))).unwrap_or_default(),
        provider_nl = if provider.is_empty() { "" } else { "\n\n" },
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>Hello,</p><p>{inviter} invited <b>{email}</b> to join <b>{org}</b> on Gatehouse.</p>{message}\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:8px 16px;background:#2f5bd3;color:#fff;text-decoration:none;border-radius:4px\">Accept the invitation</a></p>\
         <p>Or open this address (it works until {expires}):<br><code>{link}</code></p><p>{provider}</p>\
         <p>If you do not want to join, open the link and choose Decline, or ignore this e-mail.</p></body></html>",
        inviter = html_escape(sender.name),
        email = html_escape(&row.email),
        org = html_escape(sender.org_name),
        message = message
            .map(|m| format!(
                "<blockquote style=\"border-left:3px solid #ccc;margin:0;padding-left:1em\">{}</blockquote>",
                html_escape(m).replace('\n', "<br>")
            ))
            .unwrap_or_default(),
        link = html_escape(link),
        provider = html_escape(&provider),
    );
    Mail {
        kind: "invitation",
        to: row.notify_email.clone().unwrap_or_else(|| row.email.clone()),
        subject: format!("{} invited you to join {} on Gatehouse", sender.name, sender.org_name),
        text,
        html,
    }
}

/// The caller as a sender: their organization's name and their own.
pub(crate) async fn sender_of(db: &Db, principal: &Principal) -> Result<(String, String)> {
    store::users::org_name_and_display_name(db, &principal.user_id).await
}

/// The shared terms of a request, checked field by field.
fn check_terms(req: &NewInvitations, errors: &mut Vec<FieldError>) {
    let mut error = |field: &str, code: &str, message: String| errors.push(FieldError { field: field.into(), code: code.into(), message });
    if let Some(m) = &req.message
        && m.chars().count() > MAX_INVITATION_MESSAGE_CHARS
    {
        error("message", "too_long", format!("A message has at most {MAX_INVITATION_MESSAGE_CHARS} characters."));
    }
    if let Some(n) = req.notify_email.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        if !valid_email(n) {
            error("notify_email", "invalid", format!("`{n}` is not an e-mail address."));
        } else if req.emails.len() > 1 {
            error("notify_email", "one_address_only", "A separate notification address works with one invited address at a time.".into());
        }
    }
    match (req.identity_provider, req.tenant_id.as_deref().map(str::trim).filter(|t| !t.is_empty())) {
        (IdentityProvider::Microsoft, Some(t))
            if t.chars().count() > MAX_TENANT_ID_CHARS || t.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            error("tenant_id", "invalid", "A tenant ID is one word, such as a GUID or contoso.onmicrosoft.com.".into());
        }
        (IdentityProvider::Any | IdentityProvider::Google, Some(_)) => {
            error("tenant_id", "not_applicable", "A tenant ID goes with Microsoft Entra ID only.".into());
        }
        _ => {}
    }
}

/// Invites one or many addresses with the same roles, departments and message. Each gets
/// an e-mail with a link; each takes a seat until accepted (or declined or revoked).
#[utoipa::path(
    post, path = "/v1/invitations", tag = "invitations",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer (and send no second e-mail)")),
    request_body = NewInvitations,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The invitations, one per address in order, and seats after them", body = InvitationsCreated),
        (status = 400, description = "`validation_failed`: addresses (each named), roles, departments, message, notification address, tenant", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`, or a permission of a role granted", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken` (already a member), `already_invited`, or `seat_limit_reached` with `seats`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_invitations(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    headers: HeaderMap,
    ApiJson(req): ApiJson<NewInvitations>,
) -> Result<Response> {
    let granted = principal.require::<InvitationsManage>()?;
    let org = granted.org_id().to_owned();
    Idempotency::handle(&state, &principal, &headers, ("POST", "/v1/invitations"), &req, async |idem| {
        create(&state, &principal, &meta, &org, &req, idem).await
    })
    .await
}

async fn create(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    req: &NewInvitations,
    idem: Option<&Idempotency>,
) -> Result<Response> {
    let mut errors = Vec::new();
    let emails: Vec<String> = req.emails.iter().map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
    if emails.is_empty() {
        errors.push(FieldError { field: "emails".into(), code: "required".into(), message: "Enter at least one e-mail address.".into() });
    } else if emails.len() > MAX_INVITES_PER_REQUEST {
        errors.push(FieldError {
            field: "emails".into(),
            code: "too_many".into(),
            message: format!("At most {MAX_INVITES_PER_REQUEST} addresses at a time; use the CSV import for more."),
        });
    }
    let bad: Vec<&str> = emails.iter().map(String::as_str).filter(|e| !valid_email(e)).collect();
    if !bad.is_empty() {
        errors.push(FieldError { field: "emails".into(), code: "invalid".into(), message: format!("Not e-mail addresses: {}.", bad.join(", ")) });
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = emails.iter().find(|e| !seen.insert(e.to_lowercase())) {
        errors.push(FieldError { field: "emails".into(), code: "duplicate".into(), message: format!("{dup} is listed twice.") });
    }
    check_terms(req, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let db = &state.db;
    let wanted = if req.roles.is_empty() { vec!["member".to_owned()] } else { req.roles.clone() };
    let roles = super::user_edit::resolve_roles(db, org, &wanted).await?;
    let departments = resolve_departments(db, org, &req.departments).await?;
    let grant = may_grant(principal, &roles.iter().collect::<Vec<_>>())?;
    if let Some(problem) = address_problem(db, org, &emails).await? {
        return Err(problem);
    }
    let names = sender_of(db, principal).await?;
    let sender = Sender::caller(principal, meta, org, &names);
    let notify = req.notify_email.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let tenant = req.tenant_id.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let message = req.message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let terms = Terms { message, notify_email: notify, identity_provider: req.identity_provider, tenant_id: tenant };
    let now = state.clock.now();
    let mut tx = crate::store::write(db).await?;
    let invitees: Vec<Invitee<'_>> = emails.iter().map(|email| Invitee { email, roles: &roles, departments: &departments }).collect();
    let (rows, _) = insert_all(state, &mut tx, &sender, &invitees, &terms, &grant, now).await?;
    let seats = seat_usage(&mut tx, org).await?;
    let invitations = rows.iter().map(|r| r.to_api(now)).collect::<Result<Vec<_>>>()?;
    let body = serde_json::to_vec(&InvitationsCreated { invitations, seats }).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::CREATED, None, &body, now).await?;
    }
    tx.commit().await?;
    state.wake_mailer();
    Ok(super::json_body(StatusCode::CREATED, body))
}

/// Department ids or names (case-insensitive) of `org`; unknown ones are a field error.
pub(crate) async fn resolve_departments(db: &Db, org: &str, wanted: &[String]) -> Result<Vec<GroupRef>> {
    let all = store::groups::refs(db, org).await?;
    let mut ids = Vec::new();
    for w in wanted {
        let w = w.trim();
        match all.iter().find(|g| g.id == w || g.name.eq_ignore_ascii_case(w)) {
            Some(g) => ids.push(g.id.clone()),
            None => ids.push(w.to_owned()),
        }
    }
    super::user_edit::resolve_groups(db, org, &ids).await
}
