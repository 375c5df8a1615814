//! API keys (SPEC S6): create (the secret shown once), list with last use, suspend and
//! restore. A key acts as its user; it is refused while suspended, and while its user is
//! not active. Deactivating a user suspends their keys; reactivating restores them.

use super::paging;
use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::{ApiJson, ApiPath};
use crate::policy::{self, ManageKeys, OnUser};
use crate::store::{self, Conn};
use crate::tokens::{hash_token, random_bytes};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use gatehouse_api::{API_KEY_PREFIX, ApiKey, CreatedApiKey, NewApiKey, Problem, Secret, User};
use serde_json::json;

/// Lists a user's API keys, newest first.
#[utoipa::path(
    get, path = "/v1/users/{id}/api-keys", tag = "sessions",
    params(("id" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user's keys, without secrets", body = [ApiKey]),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's keys need `users.manage` and every permission they hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_keys(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<String>) -> Result<Json<Vec<ApiKey>>> {
    policy::act_on::<ManageKeys>(&state.db, &principal, &id).await?;
    Ok(Json(store::api_keys::of_user(&state.db, &id).await?))
}

/// Creates an API key for a user; the answer holds its secret, shown only this once.
#[utoipa::path(
    post, path = "/v1/users/{id}/api-keys", tag = "sessions",
    params(("id" = String, Path, description = "User id")),
    request_body = NewApiKey,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The key and its secret (never shown again)", body = CreatedApiKey),
        (status = 400, description = "`invalid_id`, or `validation_failed` for the name, `expires_in_days` or `role` (no such role)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's keys need `users.manage` and every permission they hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_active`: the user is not active", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
    ApiJson(new): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>)> {
    policy::mint_key(&principal, &id)?;
    policy::stepped_up(&principal, state.clock.now(), "create an API key")?;
    let user = policy::act_on::<ManageKeys>(&state.db, &principal, &id).await?.into_user().0;
    let errors = new.field_errors();
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if user.status != gatehouse_api::UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_active",
            format!("{} is {}; only an active user can have a working API key.", user.display_name, user.status.as_str()),
        ));
    }
    let now = state.clock.now();
    let (mut key, secret) = mint(&id, &new.name, new.expires_in_days.map(|days| now + chrono::Duration::days(i64::from(days))), now);
    let mut tx = crate::store::write(&state.db).await?;
    store::api_keys::create(&mut tx, &principal.org_id, &key, &hash_token(secret.expose()), &principal.user_id).await?;
    if let Some(role) = &new.role {
        let Some(role_id) = role_limit(&mut tx, &principal.org_id, role, now).await? else {
            return Err(ApiError::validation(vec![gatehouse_api::FieldError {
                field: "role".into(),
                code: "unknown".into(),
                message: format!("There is no role {role:?} in this organization; `scim` makes a provisioning key."),
            }]));
        };
        store::api_keys::limit_to_role(&mut tx, &key.id, &role_id).await?;
        key.role = Some(role.clone());
    }
    audit_key(&mut tx, &principal, meta, &user, &key, "api_key.created", now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { key, secret })))
}

/// A new key of `user_id` and its secret (random, 256 bits; only its hash is stored).
fn mint(user_id: &str, name: &str, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> (ApiKey, Secret) {
    let secret = Secret::new(format!("{API_KEY_PREFIX}{}", B64.encode(random_bytes::<32>())));
    let prefix: String = secret.expose().chars().take(API_KEY_PREFIX.len() + 6).collect();
    let key = ApiKey {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        name: name.trim().to_owned(),
        prefix,
        created_at: now,
        last_used_at: None,
        suspended_at: None,
        suspended_reason: None,
        expires_at,
        role: None,
    };
    (key, secret)
}

/// The built-in role of provisioning keys (SPEC P2): reading and managing people, and the
/// organization's departments and companies (which today need `org.settings`).
pub const SCIM_ROLE: (&str, &str, &[&str]) = ("scim", "SCIM provisioning", &["org.settings", "users.manage", "users.read"]);

/// The id of the role a new key is limited to: `scim` is the built-in provisioning role,
/// made when missing; any other key names a role of the organization (`None`: no such role).
async fn role_limit(tx: &mut Conn, org_id: &str, role: &str, now: DateTime<Utc>) -> Result<Option<String>> {
    if role == SCIM_ROLE.0 {
        let permissions = serde_json::to_string(SCIM_ROLE.2).map_err(anyhow::Error::from)?;
        return Ok(Some(store::roles::ensure_builtin(tx, org_id, SCIM_ROLE.0, SCIM_ROLE.1, &permissions, now).await?));
    }
    store::roles::id_of_key(tx, org_id, role).await
}

/// `gatehouse-server api-key create` (headless set-up of provisioning): a key of the
/// active user `email` (else the organization's first active Owner) in the organization
/// named `org`, limited to role `role` (`scim`: the built-in provisioning role, made when
/// missing; else a role key of the organization). The event names no actor: the command
/// line is the server operator's.
pub async fn create_from_command_line(
    db: &store::Db,
    org: &str,
    email: Option<&str>,
    name: &str,
    role: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<(ApiKey, Secret)> {
    use anyhow::Context;
    let errors = NewApiKey { name: name.to_owned(), expires_in_days: None, role: role.map(str::to_owned) }.field_errors();
    anyhow::ensure!(errors.is_empty(), "{}", errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "));
    let org_id = store::org::id_by_name(db, org).await?.with_context(|| format!("no organization named {org:?}"))?;
    let user_id = match email {
        Some(email) => store::users::id_by_email(db, &org_id, &email.to_lowercase()).await?.with_context(|| format!("no user {email} in {org}"))?,
        None => store::org::first_active_owner(db, &org_id).await?.with_context(|| format!("{org} has no active Owner; pass --user"))?,
    };
    let user = store::users::find_user(db, &org_id, &user_id).await?.context("the user went away")?;
    anyhow::ensure!(
        user.status == gatehouse_api::UserStatus::Active,
        "{} is {}; only an active user can have a working API key",
        user.email,
        user.status.as_str()
    );
    let (mut key, secret) = mint(&user_id, name, None, now);
    let mut tx = store::write(db).await?;
    store::api_keys::create(&mut tx, &org_id, &key, &hash_token(secret.expose()), &user_id).await?;
    if let Some(r) = role {
        let role_id = role_limit(&mut tx, &org_id, r, now).await?.with_context(|| format!("no role {r:?} in {org}"))?;
        store::api_keys::limit_to_role(&mut tx, &key.id, &role_id).await?;
        key.role = Some(r.to_owned());
    }
    let event = Event {
        org_id: &org_id,
        actor_id: None,
        via: None,
        target_type: "user",
        target_id: &user_id,
        action: "api_key.created",
        ip: "",
        user_agent: "gatehouse-server api-key create",
        details: json!({
            "target": { "name": user.display_name, "email": user.email },
            "api_key": { "id": key.id, "name": key.name, "prefix": key.prefix, "expires_at": key.expires_at, "role": role },
        }),
    };
    audit::record(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok((key, secret))
}

#[allow(clippy::too_many_arguments)]
async fn audit_key(
    tx: &mut Conn,
    principal: &Principal,
    meta: ClientMeta,
    user: &User,
    key: &ApiKey,
    action: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    audit::record(
        tx,
        Event::by(
            principal,
            &meta,
            ("user", &user.id),
            action,
            json!({
                "target": { "name": user.display_name, "email": user.email },
                "api_key": { "id": key.id, "name": key.name, "prefix": key.prefix, "expires_at": key.expires_at, "role": key.role },
            }),
        ),
        now,
    )
    .await
    .map(drop)
}

async fn set_suspended(state: &AppState, principal: &Principal, meta: ClientMeta, key_id: &str, suspend: bool) -> Result<Json<ApiKey>> {
    paging::check_id("API key", key_id)?;
    let row = store::api_keys::find(&state.db, &principal.org_id, key_id).await?;
    let row = row.ok_or_else(|| ApiError::not_found(format!("No API key with id `{key_id}` in this organization.")))?;
    // A key an administrator suspended (a leak, a departure) is not its owner's to restore.
    if !suspend && row.user_id == principal.user_id && row.suspended_by.as_ref().is_some_and(|by| *by != principal.user_id) {
        return Err(ApiError::forbidden("An administrator suspended this key; ask one to restore it."));
    }
    let key = ApiKey::from(row);
    let user = policy::act_on::<ManageKeys>(&state.db, principal, &key.user_id).await?.into_user().0;
    // Already so: nothing changes (idempotent).
    if key.suspended_at.is_some() == suspend {
        return Ok(Json(key));
    }
    if !suspend && user.status != gatehouse_api::UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_active",
            format!("{} is {}; reactivate them first (their keys come back with them).", user.display_name, user.status.as_str()),
        ));
    }
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let (at, reason, action) = if suspend { (Some(now), Some("admin"), "api_key.suspended") } else { (None, None, "api_key.restored") };
    let by = suspend.then_some(principal.user_id.as_str());
    store::api_keys::set_suspension(&mut tx, key_id, at, reason, by).await?;
    let key = ApiKey { suspended_at: at, suspended_reason: reason.map(str::to_owned), ..key };
    audit_key(&mut tx, principal, meta, &user, &key, action, now).await?;
    tx.commit().await?;
    Ok(Json(key))
}

/// Suspends an API key: it is refused from its next request on, until restored.
#[utoipa::path(
    post, path = "/v1/api-keys/{id}/suspend", tag = "sessions",
    params(("id" = String, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The suspended key (already suspended: unchanged)", body = ApiKey),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's keys need `users.manage` and every permission they hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn suspend_key(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApiKey>> {
    set_suspended(&state, &principal, meta, &id, true).await
}

/// Restores a suspended API key.
#[utoipa::path(
    post, path = "/v1/api-keys/{id}/restore", tag = "sessions",
    params(("id" = String, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The working key (already working: unchanged)", body = ApiKey),
        (status = 400, description = "`invalid_id`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Someone else's keys need `users.manage` and every permission they hold", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_active`: the key's user is deactivated", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn restore_key(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApiKey>> {
    set_suspended(&state, &principal, meta, &id, false).await
}

/// The rule's yes to suspending a user's keys along with a force logout or a password
/// reset that asks for it (`suspend_api_keys`); `None` when not asked. The keys are
/// credentials too: it is the same rule as suspending them by hand.
pub(crate) async fn may_suspend_all(db: &store::Db, principal: &Principal, user_id: &str, asked: bool) -> Result<Option<OnUser<ManageKeys>>> {
    if !asked {
        return Ok(None);
    }
    policy::act_on::<ManageKeys>(db, principal, user_id).await.map(Some)
}

/// Suspends the working keys of the user `may` names, as an administrator would by hand
/// (restored by an administrator); returns how many, or `None` when not asked.
pub(crate) async fn suspend_all(tx: &mut Conn, may: Option<&OnUser<ManageKeys>>, by: &Principal, now: DateTime<Utc>) -> Result<Option<u32>> {
    let Some(may) = may else { return Ok(None) };
    // Expired keys work no more already: they are neither touched nor counted.
    let suspended = store::api_keys::suspend_working(tx, may.id(), &by.user_id, now).await?;
    Ok(Some(u32::try_from(suspended).unwrap_or(u32::MAX)))
}

/// Deactivation suspends the user's working keys; returns how many.
pub(crate) async fn suspend_for_deactivation(tx: &mut Conn, user_id: &str, now: DateTime<Utc>) -> Result<u64> {
    store::api_keys::suspend_for_deactivation(tx, user_id, now).await
}

/// Reactivation restores the keys deactivation suspended (not those suspended by hand).
pub(crate) async fn restore_after_reactivation(tx: &mut Conn, user_id: &str) -> Result<u64> {
    store::api_keys::restore_after_reactivation(tx, user_id).await
}
