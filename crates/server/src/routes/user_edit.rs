//! `PATCH /v1/users/{id}`: optimistic concurrency with `ETag`/`If-Match`.

use crate::app::AppState;
use crate::auth::{Principal, UsersManage};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiPath};
use crate::idempotency::Idempotency;
use crate::store::roles::Grantable;
use crate::store::users::find_versioned;
use crate::store::{self, Db};
use axum::extract::State;
use axum::http::header::ETAG;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use gatehouse_api::{GroupRef, MAX_CUSTOM_ATTRIBUTES, Problem, RoleRef, User, UserPatch, codes};

/// The ETag of a user at `version`.
pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

/// A user as a JSON response with its ETag header.
pub fn user_response(user: &User, version: i64) -> Result<Response> {
    Ok(with_body(body_of(user)?, version))
}

/// Resolves role ids or keys of `org`, in the order the list shows them; unknown ones
/// are a field error naming them.
pub(crate) async fn resolve_roles(db: &Db, org: &str, wanted: &[String]) -> Result<Vec<Grantable>> {
    let all = store::roles::grantable(db, org).await?;
    let mut out: Vec<Grantable> = Vec::new();
    let mut unknown = Vec::new();
    for w in wanted {
        match all.iter().find(|r| &r.id == w || &r.key == w) {
            Some(r) if !out.iter().any(|o| o.id == r.id) => out.push(r.clone()),
            Some(_) => {}
            None => unknown.push(format!("`{w}`")),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::field("roles", "unknown_role", format!("No role {} in this organization.", unknown.join(", "))));
    }
    out.sort_by(|a, b| b.builtin.cmp(&a.builtin).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// Resolves department/company ids of `org`, sorted by name; unknown ones are a field error.
pub(crate) async fn resolve_groups(db: &Db, org: &str, wanted: &[String]) -> Result<Vec<GroupRef>> {
    let all = store::groups::refs(db, org).await?;
    let mut out: Vec<GroupRef> = Vec::new();
    let mut unknown = Vec::new();
    for w in wanted {
        match all.iter().find(|g| &g.id == w) {
            Some(g) if !out.iter().any(|o| o.id == g.id) => out.push(g.clone()),
            Some(_) => {}
            None => unknown.push(format!("`{w}`")),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::field(
            "departments",
            "unknown_department",
            format!("No department or company {} in this organization.", unknown.join(", ")),
        ));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

impl Grantable {
    /// The role as the grant rule sees it.
    pub(crate) fn as_grant(&self) -> Result<crate::policy::RoleGrant<'_>> {
        let permissions: Vec<String> = serde_json::from_str(&self.permissions).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(crate::policy::RoleGrant { key: &self.key, name: &self.name, permissions })
    }
}

/// Asks the policy whether the caller may grant or take away each of `roles` (SPEC R3, R5).
/// Gives `user_id` the role `role_id`: a membership is access handed out, so it takes the
/// rule's yes to the roles involved.
pub(crate) async fn add_role(conn: &mut store::Conn, user_id: &str, role_id: &str, _grant: &crate::policy::GrantRoles) -> Result<()> {
    store::users::add_role(conn, user_id, role_id).await
}

pub(crate) fn may_grant(principal: &Principal, roles: &[&Grantable]) -> Result<crate::policy::GrantRoles> {
    let grants = roles.iter().map(|r| r.as_grant()).collect::<Result<Vec<_>>>()?;
    crate::policy::grant_roles(principal, &grants)
}

/// The notice sent to the address an account had, when it changes.
fn email_changed_mail(user: &User, new_email: &str) -> crate::mail::Mail {
    use crate::mail::html_escape;
    let text = format!(
        "Hello {name},\n\nThe e-mail address of your Gatehouse account was changed from {old} to {new_email}.\n\n\
         If you did not ask for this, tell your administrator at once: whoever controls the new address can reset your password.\n",
        name = user.display_name,
        old = user.email,
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>Hello {name},</p>\
         <p>The e-mail address of your Gatehouse account was changed from <b>{old}</b> to <b>{new}</b>.</p>\
         <p>If you did not ask for this, tell your administrator at once: whoever controls the new address can reset your password.</p></body></html>",
        name = html_escape(&user.display_name),
        old = html_escape(&user.email),
        new = html_escape(new_email),
    );
    crate::mail::Mail { kind: "email_changed", to: user.email.clone(), subject: "Your Gatehouse e-mail address was changed".into(), text, html }
}

/// Edits a user's name, e-mail, roles, departments or custom attributes. Needs `If-Match` with the ETag of the version edited.
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users",
    params(
        ("id" = String, Path, description = "User id"),
        ("If-Match" = String, Header, description = "The ETag from the GET (or PATCH) this edit is based on"),
    ),
    request_body = UserPatch,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The edited user; the `ETag` header has its new version", body = User),
        (status = 400, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `users.manage`, or a permission of a role granted or removed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`email_taken`: the address belongs to another user, named in the detail; `last_owner`: the edit would leave no Owner", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`precondition_failed`: the user changed; `current` holds it", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`precondition_required`: no `If-Match`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_user(
    State(state): State<AppState>,
    principal: Principal,
    meta: crate::extract::ClientMeta,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Response> {
    let granted = principal.require::<UsersManage>()?;
    let if_match = super::if_match(&headers);
    let fingerprinted = (&if_match, &patch);
    let answer = Idempotency::handle(&state, &principal, &headers, ("PATCH", &format!("/v1/users/{id}")), &fingerprinted, async |idem| {
        apply(&state, &principal, &meta, granted.org_id(), &id, if_match.as_deref(), patch.clone(), idem).await.map(Saved::response)
    })
    .await;
    // An e-mail change queued a notice to the old address.
    state.wake_mailer();
    answer
}

/// The edit itself; with `idem`, its response is stored in the edit's transaction, and so
/// is its audit event.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply(
    state: &AppState,
    principal: &Principal,
    meta: &crate::extract::ClientMeta,
    org: &str,
    id: &str,
    if_match: Option<&str>,
    patch: UserPatch,
    idem: Option<&Idempotency>,
) -> Result<Saved> {
    apply_with(state, principal, meta, org, id, if_match, patch, None, idem).await
}

/// What an identity provider sets beyond a `/v1` edit (SCIM): a display name of its own,
/// an external id, and names that may be empty.
pub(crate) struct Provisioned {
    /// How the directory shows them (else "First Last").
    pub(crate) display_name: String,
    /// The external id from now on.
    pub(crate) external_id: Option<String>,
    /// SCIM's `userName` from now on, when it is not their address.
    pub(crate) user_name: Option<String>,
}

/// [`apply`], with what provisioning sets too.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_with(
    state: &AppState,
    principal: &Principal,
    meta: &crate::extract::ClientMeta,
    org: &str,
    id: &str,
    if_match: Option<&str>,
    patch: UserPatch,
    provisioned: Option<&Provisioned>,
    idem: Option<&Idempotency>,
) -> Result<Saved> {
    let if_match = if_match
        .ok_or_else(|| ApiError::new(StatusCode::PRECONDITION_REQUIRED, codes::PRECONDITION_REQUIRED, "Send `If-Match` with the user's ETag."))?;
    let mut errors = patch.field_errors();
    if provisioned.is_some() {
        // An identity provider may know a person by address alone.
        errors.retain(|e| !(e.code == "required" && (e.field == "first_name" || e.field == "last_name")));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let db = &state.db;
    let not_found = || ApiError::not_found(format!("No user with id `{id}` in this organization."));
    let (current, version) = crate::policy::act_on::<crate::policy::Edit>(db, principal, id).await?.into_user();
    let stale = || async {
        let (now, version) = find_versioned(db, org, id).await?.ok_or_else(not_found)?;
        Err::<Saved, _>(ApiError::stale(serde_json::to_value(&now).map_err(|e| ApiError::Internal(e.into()))?, etag(version)))
    };
    if if_match != "*" && if_match != etag(version) {
        return stale().await;
    }

    let first = patch.first_name.as_deref().map(str::trim).unwrap_or(&current.first_name).to_owned();
    let last = patch.last_name.as_deref().map(str::trim).unwrap_or(&current.last_name).to_owned();
    let email = patch.email.as_deref().map(str::trim).unwrap_or(&current.email).to_owned();
    let roles = match &patch.roles {
        Some(wanted) => Some(resolve_roles(db, org, wanted).await?),
        None => None,
    };
    let departments = match &patch.departments {
        Some(wanted) => Some(resolve_groups(db, org, wanted).await?),
        None => None,
    };
    let mut attributes = current.custom_attributes.clone();
    for (key, value) in patch.custom_attributes.iter().flatten() {
        match value {
            Some(v) => attributes.insert(key.clone(), v.clone()),
            None => attributes.remove(key),
        };
    }
    if attributes.len() > MAX_CUSTOM_ATTRIBUTES {
        return Err(ApiError::field("custom_attributes", "too_many", format!("A user has at most {MAX_CUSTOM_ATTRIBUTES} custom attributes.")));
    }
    let role_ids = |roles: &[RoleRef]| roles.iter().map(|r| r.id.clone()).collect::<std::collections::BTreeSet<_>>();
    let roles_changed = roles.as_ref().filter(|new| role_ids(&refs(new)) != role_ids(&current.roles));
    let group_ids = |groups: &[GroupRef]| groups.iter().map(|g| g.id.clone()).collect::<std::collections::BTreeSet<_>>();
    let groups_changed = departments.as_ref().filter(|new| group_ids(new) != group_ids(&current.departments));
    let grant = match roles_changed {
        Some(new) => {
            let before = role_ids(&current.roles);
            let after = role_ids(&refs(new));
            let all = resolve_roles(db, org, &before.symmetric_difference(&after).cloned().collect::<Vec<_>>()).await?;
            Some(may_grant(principal, &all.iter().collect::<Vec<_>>())?)
        }
        None => None,
    };

    let avatar = match patch.avatar_url.as_deref().map(str::trim) {
        None => current.avatar_url.clone(),
        Some("") => None,
        Some(url) => Some(url.to_owned()),
    };
    let notifications = patch.notification_preferences.unwrap_or(current.notification_preferences);
    let display = match provisioned {
        Some(p) => p.display_name.clone(),
        None => format!("{first} {last}"),
    };
    // What the provider knows them by now, read with the rest of them.
    let was = match provisioned {
        Some(_) => store::scim::user_extras(db, org, &[id]).await?.remove(id),
        None => None,
    };
    let (was_external, was_user_name) = was.map_or((None, None), |w| (w.external_id, w.user_name));
    let external_changed = provisioned.filter(|p| p.external_id != was_external);
    let user_name_changed = provisioned.filter(|p| p.user_name != was_user_name);
    let row_same = (first.as_str(), last.as_str(), email.as_str())
        == (current.first_name.as_str(), current.last_name.as_str(), current.email.as_str())
        && display == current.display_name
        && external_changed.is_none()
        && user_name_changed.is_none()
        && attributes == current.custom_attributes
        && avatar == current.avatar_url
        && notifications == current.notification_preferences;
    if row_same && roles_changed.is_none() && groups_changed.is_none() {
        let response = body_of(&current)?;
        if let Some(idem) = idem {
            let mut tx = crate::store::write(db).await?;
            idem.store(&mut tx, StatusCode::OK, Some(&etag(version)), &response, state.clock.now()).await?;
            tx.commit().await?;
        }
        return Ok(Saved { user: current, body: response, version });
    }
    let email_lower = email.to_lowercase();
    let email_changed = !email_lower.eq_ignore_ascii_case(&current.email);
    if email_changed && id == principal.user_id {
        crate::policy::stepped_up(principal, state.clock.now(), "change your own e-mail address")?;
    }
    if let Some(refusal) = super::user_create::email_refusal(db, org, &email, Some(id)).await? {
        return Err(refusal);
    }
    let now = state.clock.now();
    let attributes_json = serde_json::to_string(&attributes).map_err(|e| ApiError::Internal(e.into()))?;
    let notifications_json = serde_json::to_string(&notifications).map_err(|e| ApiError::Internal(e.into()))?;
    let mut tx = crate::store::write(db).await?;
    // The write comes first: it takes the database's write lock, so the guards below read
    // a state no concurrent edit can change before this one commits.
    // The version moves once per changed thing (the row's values, each membership).
    let profile = store::users::Profile {
        first_name: &first,
        last_name: &last,
        display_name: &display,
        email: &email,
        attributes: &attributes_json,
        avatar_url: avatar.as_deref(),
        notifications: &notifications_json,
    };
    match store::users::update_profile(&mut tx, org, id, version, &profile, now).await? {
        store::users::Updated::Saved => {}
        // Another edit won the race between our read and this write.
        store::users::Updated::Stale => {
            drop(tx);
            return stale().await;
        }
        store::users::Updated::EmailTaken => return Err(email_taken(&email, "another user")),
    }
    if let Some(p) = external_changed {
        if let Some(external) = &p.external_id
            && let Some(holder) = store::scim::external_id_holder(&mut tx, store::scim::Owner::User, org, external, Some(id)).await?
        {
            return Err(super::user_create::external_id_taken(external, &holder));
        }
        store::scim::set_external_id(&mut tx, store::scim::Owner::User, org, id, p.external_id.as_deref()).await?;
    }
    if let Some(p) = user_name_changed {
        if let Some(name) = &p.user_name
            && let Some((holder_org, holder)) = store::scim::user_name_holder(&mut tx, name, Some(id)).await?
        {
            return Err(super::user_create::user_name_taken(name, (holder_org == org).then_some(holder.as_str())));
        }
        store::scim::set_user_name(&mut tx, org, id, p.user_name.as_deref()).await?;
    }
    if email_changed {
        // A reset link sent to the old address must not outlive the address.
        store::password_resets::withdraw_all(&mut tx, id, now).await?;
        // The old address hears of it: if the change was not theirs, they know at once.
        crate::mail::enqueue(&mut tx, org, &email_changed_mail(&current, &email), now).await?;
    }
    if let (Some(new), Some(grant)) = (roles_changed, &grant) {
        let (before, after) = (role_ids(&current.roles), role_ids(&refs(new)));
        for gone in before.difference(&after) {
            store::users::remove_role(&mut tx, id, gone).await?;
        }
        for added in after.difference(&before) {
            add_role(&mut tx, id, added, grant).await?;
        }
        if store::users::active_owners(&mut tx, org).await? == 0 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                codes::LAST_OWNER,
                format!("{} is the organization's last Owner; make someone else an Owner first.", current.display_name),
            ));
        }
    }
    if let Some(new) = groups_changed {
        let (before, after) = (group_ids(&current.departments), group_ids(new));
        for gone in before.difference(&after) {
            store::users::remove_group(&mut tx, id, gone).await?;
        }
        for added in after.difference(&before) {
            store::users::add_group(&mut tx, id, added).await?;
        }
    }
    // Triggers moved the version once per statement; the ETag is the final one.
    let version = store::users::version_now(&mut tx, id).await?;
    let before_edit = current.clone();
    let user = User {
        first_name: first,
        last_name: last,
        display_name: display,
        email,
        roles: roles_changed.map_or(current.roles.clone(), |r| refs(r)),
        departments: groups_changed.cloned().unwrap_or_else(|| current.departments.clone()),
        custom_attributes: attributes,
        avatar_url: avatar,
        notification_preferences: notifications,
        ..current
    };
    if user.avatar_url != before_edit.avatar_url {
        // A replaced upload is not kept.
        store::users::forget_avatar_upload(&mut tx, id).await?;
    }
    let response = body_of(&user)?;
    let mut before = serde_json::to_value(&before_edit).map_err(|e| ApiError::Internal(e.into()))?;
    let mut after = serde_json::to_value(&user).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(p) = provisioned {
        // How the identity provider knows the person is part of the record: a change of
        // it is a profile edit in the log like any other.
        before["external_id"] = serde_json::json!(was_external);
        before["user_name"] = serde_json::json!(was_user_name);
        after["external_id"] = serde_json::json!(p.external_id);
        after["user_name"] = serde_json::json!(p.user_name);
    }
    let target = serde_json::json!({ "name": before_edit.display_name, "email": before_edit.email });
    for (action, mut details) in crate::audit::user_edit_events(&crate::audit::diff(&before, &after)) {
        details["target"] = target.clone();
        let event = crate::audit::Event::by(principal, meta, ("user", id), action, details);
        crate::audit::record(&mut tx, event, now).await?;
    }
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::OK, Some(&etag(version)), &response, now).await?;
    }
    tx.commit().await?;
    Ok(Saved { user, body: response, version })
}

pub(crate) fn refs(roles: &[Grantable]) -> Vec<RoleRef> {
    roles.iter().map(|r| RoleRef { id: r.id.clone(), key: r.key.clone(), name: r.name.clone() }).collect()
}

/// A user as saved: the body answered and the version it has.
pub(crate) struct Saved {
    pub(crate) user: User,
    pub(crate) body: Vec<u8>,
    pub(crate) version: i64,
}

impl Saved {
    /// Ends a change of `user` (already written in `tx`): reads the version the triggers
    /// gave it, stores the answer under the request's Idempotency-Key, commits.
    pub(crate) async fn commit(mut tx: store::Tx, user: User, idem: Option<&Idempotency>, now: chrono::DateTime<chrono::Utc>) -> Result<Self> {
        let version = store::users::version_now(&mut tx, &user.id).await?;
        let body = body_of(&user)?;
        if let Some(idem) = idem {
            idem.store(&mut tx, StatusCode::OK, Some(&etag(version)), &body, now).await?;
        }
        tx.commit().await?;
        Ok(Self { user, body, version })
    }

    /// The JSON response with the ETag.
    pub(crate) fn response(self) -> Response {
        with_body(self.body, self.version)
    }
}

pub(crate) fn body_of(user: &User) -> Result<Vec<u8>> {
    serde_json::to_vec(user).map_err(|e| ApiError::Internal(e.into()))
}

pub(crate) fn with_body(body: Vec<u8>, version: i64) -> Response {
    let mut res = super::json_body(StatusCode::OK, body);
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, v);
    }
    res
}

pub(crate) fn email_taken(email: &str, owner: &str) -> ApiError {
    ApiError::field_conflict(
        codes::EMAIL_TAKEN,
        "email",
        format!("This email is already used by {owner}."),
        format!("{email} is already used by {owner}."),
    )
}
