//! `POST /v1/users` (SPEC U5: create a user directly, active at once) and
//! `DELETE /v1/users/{id}` (U9: remove, only after deactivation; the audit trail stays).

use super::user_edit::{Saved, add_role, body_of, email_taken, etag, may_grant, refs, resolve_groups, resolve_roles};
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Principal, UsersManage, hash_password};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath};
use crate::idempotency::Idempotency;
use crate::store;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_api::{
    FieldError, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, NewUser, NotificationPreferences, Problem, User, UserPatch, UserStatus, codes,
};
use serde_json::json;

/// What identifies a creation for `Idempotency-Key`: everything but the password, which
/// is not kept in any form outside its hash.
#[derive(serde::Serialize)]
struct Fingerprint<'a> {
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    roles: &'a [String],
    departments: &'a [String],
}

/// Why `email` cannot be used, if it cannot: `email_taken` naming the user when they are
/// in the caller's organization, the generic [`email_unavailable`] when they are not
/// (another organization's members are not disclosed).
pub(crate) async fn email_refusal(db: &store::Db, org: &str, email: &str, except: Option<&str>) -> Result<Option<ApiError>> {
    let row = store::users::email_holder(db, email, except).await?;
    Ok(row.map(|(owner_org, name)| if owner_org == org { email_taken(email, &name) } else { email_unavailable(email) }))
}

/// A userName someone else is known by; named when they are in the organization.
pub(crate) fn user_name_taken(name: &str, holder: Option<&str>) -> ApiError {
    let message = match holder {
        Some(holder) => format!("The userName `{name}` is already {holder}'s."),
        None => format!("The userName `{name}` cannot be used in this organization; use another."),
    };
    ApiError::field_conflict(codes::USER_NAME_TAKEN, "user_name", message.clone(), message)
}

/// An external id already given to another user of the organization.
pub(crate) fn external_id_taken(external: &str, holder: &str) -> ApiError {
    ApiError::field_conflict(
        codes::EXTERNAL_ID_TAKEN,
        "external_id",
        format!("The external id `{external}` is already {holder}'s."),
        format!("The external id `{external}` is already {holder}'s."),
    )
}

/// The one refusal for an address taken in another organization: the same words in
/// create, edit, invite and the CSV check, naming nobody and no organization.
pub(crate) fn email_unavailable(email: &str) -> ApiError {
    let message = format!("{email} cannot be used in this organization; use another address.");
    ApiError::field_conflict(codes::EMAIL_UNAVAILABLE, "email", message.clone(), message)
}

fn validate(new: &NewUser) -> Result<()> {
    // Names and e-mail follow the edit's rules; missing ones are reported with the rest.
    let as_patch = UserPatch {
        first_name: Some(new.first_name.clone()),
        last_name: Some(new.last_name.clone()),
        email: Some(new.email.clone()),
        ..UserPatch::default()
    };
    let mut errors = as_patch.field_errors();
    errors.extend(password_error(new.password.expose()));
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

/// What is wrong with a new password, if anything.
pub(crate) fn password_error(password: &str) -> Option<FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Some(FieldError {
            field: "password".into(),
            code: "too_short".into(),
            message: format!("A password has at least {MIN_PASSWORD_CHARS} characters."),
        })
    } else if n > MAX_PASSWORD_CHARS {
        Some(FieldError {
            field: "password".into(),
            code: "too_long".into(),
            message: format!("A password has at most {MAX_PASSWORD_CHARS} characters."),
        })
    } else {
        None
    }
}

/// Creates a user who can sign in at once with the initial password. Takes a seat.
#[utoipa::path(
    post, path = "/v1/users", tag = "users",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = NewUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new user; `Location` is its URL and `ETag` its version", body = User),
        (status = 400, description = "Invalid fields, unknown roles or departments", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or a permission of a role granted", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken` (the detail names who has it) or `seat_limit_reached`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    let org = granted.org_id().to_owned();
    let fingerprint =
        Fingerprint { first_name: &new.first_name, last_name: &new.last_name, email: &new.email, roles: &new.roles, departments: &new.departments };
    Idempotency::handle(&state, &principal, &headers, ("POST", "/v1/users"), &fingerprint, async |idem| {
        create(&state, &principal, &meta, &org, new.clone(), idem).await.map(created)
    })
    .await
}

fn created(saved: Saved) -> Response {
    let location = format!("/v1/users/{}", saved.user.id);
    let mut res = saved.response();
    *res.status_mut() = StatusCode::CREATED;
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

async fn create(state: &AppState, principal: &Principal, meta: &ClientMeta, org: &str, new: NewUser, idem: Option<&Idempotency>) -> Result<Saved> {
    validate(&new)?;
    let (first, last) = (new.first_name.trim().to_owned(), new.last_name.trim().to_owned());
    let account = Account {
        display_name: format!("{first} {last}"),
        first_name: first,
        last_name: last,
        email: new.email.trim().to_owned(),
        roles: new.roles.clone(),
        default_role: true,
        departments: new.departments.clone(),
        password: Some(new.password.clone()),
        active: true,
        external_id: None,
        user_name: None,
    };
    add_account(state, principal, meta, org, account, idem).await
}

/// A user to add, as `POST /v1/users` and SCIM's `POST /Users` ask for one.
pub(crate) struct Account {
    /// Their address.
    pub(crate) email: String,
    /// Their first name (may be empty when provisioned without one).
    pub(crate) first_name: String,
    /// Their last name (likewise).
    pub(crate) last_name: String,
    /// How the directory shows them.
    pub(crate) display_name: String,
    /// Role ids or keys.
    pub(crate) roles: Vec<String>,
    /// Whether no roles means the Member role (`/v1`), or none (SCIM: the identity
    /// provider says which roles a person has).
    pub(crate) default_role: bool,
    /// Department and company ids.
    pub(crate) departments: Vec<String>,
    /// Their initial password; without one they sign in after a password reset.
    pub(crate) password: Option<gatehouse_api::Secret>,
    /// Active (takes a seat) or deactivated from the start.
    pub(crate) active: bool,
    /// The identity provider's id for them (SCIM `externalId`).
    pub(crate) external_id: Option<String>,
    /// SCIM's `userName`, when it is not their address.
    pub(crate) user_name: Option<String>,
}

/// Adds `account` to `org`: the rule's yes to every role given, the address free, a seat
/// (when active), the audit event, the Idempotency-Key's answer, in one transaction.
pub(crate) async fn add_account(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    account: Account,
    idem: Option<&Idempotency>,
) -> Result<Saved> {
    let db = &state.db;
    let wanted = if account.roles.is_empty() && account.default_role { vec!["member".to_owned()] } else { account.roles.clone() };
    let roles = resolve_roles(db, org, &wanted).await?;
    let departments = resolve_groups(db, org, &account.departments).await?;
    let grant = may_grant(principal, &roles.iter().collect::<Vec<_>>())?;
    let Account { first_name: first, last_name: last, email, display_name: display, .. } = account;
    if let Some(refusal) = email_refusal(db, org, &email, None).await? {
        return Err(refusal);
    }
    let hash = match account.password {
        Some(password) => Some(state.hashes.run(move || hash_password(password.expose())).await?.map_err(ApiError::Internal)?),
        None => None,
    };

    let id = uuid::Uuid::now_v7().to_string();
    let now = state.clock.now();
    let status = if account.active { UserStatus::Active } else { UserStatus::Deactivated };
    let mut tx = crate::store::write(db).await?;
    if let Some(external) = &account.external_id
        && let Some(holder) = store::scim::external_id_holder(&mut tx, store::scim::Owner::User, org, external, None).await?
    {
        return Err(external_id_taken(external, &holder));
    }
    let new_user = store::users::NewUser {
        id: &id,
        org_id: org,
        email: &email,
        first_name: &first,
        last_name: &last,
        display_name: &display,
        status: status.as_str(),
        password_hash: hash.as_deref(),
        at: now,
    };
    if !store::users::insert(&mut tx, &new_user).await? {
        // Someone took the address between the check and the insert.
        drop(tx);
        return Err(email_refusal(db, org, &email, None).await?.unwrap_or_else(|| email_taken(&email, "another user")));
    }
    if let Some(name) = &account.user_name {
        if let Some((holder_org, holder)) = store::scim::user_name_holder(&mut tx, name, Some(&id)).await? {
            return Err(user_name_taken(name, (holder_org == org).then_some(holder.as_str())));
        }
        store::scim::set_user_name(&mut tx, org, &id, Some(name)).await?;
    }
    if let Some(external) = &account.external_id {
        store::scim::set_external_id(&mut tx, store::scim::Owner::User, org, &id, Some(external)).await?;
    }
    if account.active {
        super::org::ensure_seats(&mut tx, org, 1).await?;
    }
    for role in &roles {
        add_role(&mut tx, &id, &role.id, &grant).await?;
    }
    for group in &departments {
        store::users::add_group(&mut tx, &id, &group.id).await?;
    }
    let version = store::users::version_now(&mut tx, &id).await?;
    let user = User {
        id: id.clone(),
        email,
        first_name: first,
        last_name: last,
        display_name: display,
        status,
        roles: refs(&roles),
        departments,
        mfa_enabled: false,
        last_active_at: None,
        last_login_at: None,
        created_at: now,
        custom_attributes: Default::default(),
        avatar_url: None,
        auth_methods: if hash.is_some() { vec![gatehouse_api::AuthMethod::Password] } else { Vec::new() },
        notification_preferences: NotificationPreferences::default(),
    };
    let after = serde_json::to_value(&user).map_err(|e| ApiError::Internal(e.into()))?;
    let event = Event::by(
        principal,
        meta,
        ("user", &id),
        "user.created",
        json!({ "target": { "name": user.display_name, "email": user.email }, "before": null, "after": after }),
    );
    audit::record(&mut tx, event, now).await?;
    let body = body_of(&user)?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::CREATED, Some(&etag(version)), &body, now).await?;
    }
    tx.commit().await?;
    Ok(Saved { user, body, version })
}

/// Removes a deactivated user from the organization. Their audit events, login attempts
/// and the events they caused stay (each names them as they were).
#[utoipa::path(
    delete, path = "/v1/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the admin saw; a stale one gets 412"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or the user holds a permission the caller lacks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_removable`: deactivate the user first", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the user changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_user(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    let org = granted.org_id().to_owned();
    let if_match = super::if_match(&headers);
    Idempotency::handle(&state, &principal, &headers, ("DELETE", &format!("/v1/users/{id}")), &if_match, async |idem| {
        remove(&state, &principal, &meta, &org, &id, if_match.as_deref(), idem).await
    })
    .await
}

pub(crate) async fn remove(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    id: &str,
    if_match: Option<&str>,
    idem: Option<&Idempotency>,
) -> Result<Response> {
    let db = &state.db;
    let (user, version) = crate::policy::act_on::<crate::policy::Remove>(db, principal, id).await?.into_user();
    super::check_if_match(if_match, &user, version)?;
    if user.status != UserStatus::Deactivated {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::NOT_REMOVABLE,
            format!("{} is {}; deactivate them before removing them.", user.display_name, user.status.as_str()),
        ));
    }
    let now = state.clock.now();
    let mut tx = crate::store::write(db).await?;
    write_removal(&mut tx, principal, meta, org, &user, version, now).await?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::NO_CONTENT, None, b"", now).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The writes of removing `user` (deactivated, read at `version`), in the caller's
/// transaction: the row (its sessions, keys and memberships go with it) and the
/// `user.removed` event, which keeps what the user was. 412 when it changed since.
pub(crate) async fn write_removal(
    tx: &mut crate::store::Conn,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    user: &User,
    version: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    if !store::users::delete_at_version(tx, org, &user.id, version).await? {
        return Err(ApiError::new(StatusCode::PRECONDITION_FAILED, codes::PRECONDITION_FAILED, "The user changed while being removed; look again."));
    }
    let before = serde_json::to_value(user).map_err(|e| ApiError::Internal(e.into()))?;
    let event = Event::by(
        principal,
        meta,
        ("user", &user.id),
        "user.removed",
        json!({ "target": { "name": user.display_name, "email": user.email }, "before": before, "after": null }),
    );
    audit::record(tx, event, now).await.map(drop)
}
