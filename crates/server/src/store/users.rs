//! Users: the row with its roles and groups, lists, lookups.

use super::{Backend, Conn, Db};
use crate::error::{ApiError, Result};
use chrono::{DateTime, Utc};
use gatehouse_api::{AuthMethod, GroupKind, GroupRef, RoleRef, User, UserStatus};
use sqlx::QueryBuilder;
use std::collections::HashMap;

#[derive(sqlx::FromRow, serde::Deserialize)]
/// A user as read, before [`hydrate`] makes it a [`User`].
pub struct UserRow {
    pub(crate) id: String,
    email: String,
    first_name: String,
    last_name: String,
    display_name: String,
    pub(crate) sort_name: String,
    status: String,
    mfa_enabled: bool,
    last_active_at: Option<DateTime<Utc>>,
    last_login_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    version: i64,
    attributes: String,
    avatar_url: Option<String>,
    identities: String,
    notifications: String,
    has_password: bool,
    /// `[{id, key, name}]`, Owner first then by name.
    #[serde(deserialize_with = "json_text")]
    roles_json: String,
    /// `[{id, name, kind}]`, by name.
    #[serde(deserialize_with = "json_text")]
    groups_json: String,
}

/// A JSON array as text, whether SQLite's `json_object` nested it as an array (it keeps
/// `json_group_array`'s JSON subtype) or as a string.
fn json_text<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match <serde_json::Value as serde::Deserialize>::deserialize(d)? {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

/// A user's roles as a JSON array `[{id, key, name}]`, Owner first, then by name.
fn roles_json(b: Backend) -> String {
    format!(
        "(SELECT {} FROM (SELECT r.id, r.key, r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
          WHERE ur.user_id = u.id ORDER BY r.builtin DESC, r.name) x)",
        b.json_array_agg(&format!("{}('id', x.id, 'key', x.key, 'name', x.name)", b.json_object()))
    )
}

/// A user's groups as a JSON array `[{id, name, kind}]`, by name.
fn groups_json(b: Backend) -> String {
    format!(
        "(SELECT {} FROM (SELECT g.id, g.name, g.kind FROM user_groups ug JOIN groups g ON g.id = ug.group_id \
          WHERE ug.user_id = u.id ORDER BY g.name) x)",
        b.json_array_agg(&format!("{}('id', x.id, 'name', x.name, 'kind', x.kind)", b.json_object()))
    )
}

/// A user's row with its roles and groups as JSON arrays: one row per user, so a page
/// of a thousand is a thousand rows, not three times as many.
fn user_columns(b: Backend) -> String {
    format!(
        "u.id, u.email, u.first_name, u.last_name, u.display_name, u.sort_name, u.status, \
         u.mfa_enabled, u.last_active_at, u.last_login_at, u.created_at, u.version, u.attributes, \
         u.avatar_url, u.identities, u.notifications, u.password_hash IS NOT NULL AS has_password, \
         {} AS roles_json, {} AS groups_json",
        roles_json(b),
        groups_json(b)
    )
}

/// The same as one JSON object (a [`UserRow`]), for aggregating many users into one value.
fn user_json(b: Backend) -> String {
    // SQLite has no boolean: its 0/1 become JSON booleans by hand.
    let (mfa, has_password) = match b {
        Backend::Sqlite => {
            ("json(CASE WHEN u.mfa_enabled THEN 'true' ELSE 'false' END)", "json(CASE WHEN u.password_hash IS NOT NULL THEN 'true' ELSE 'false' END)")
        }
        Backend::Postgres => ("u.mfa_enabled", "u.password_hash IS NOT NULL"),
    };
    format!(
        "{}('id', u.id, 'email', u.email, 'first_name', u.first_name, 'last_name', u.last_name, \
         'display_name', u.display_name, 'sort_name', u.sort_name, 'status', u.status, 'mfa_enabled', {mfa}, \
         'last_active_at', u.last_active_at, 'last_login_at', u.last_login_at, 'created_at', u.created_at, \
         'version', u.version, 'attributes', u.attributes, 'avatar_url', u.avatar_url, 'identities', u.identities, \
         'notifications', u.notifications, 'has_password', {has_password}, 'roles_json', {}, 'groups_json', {})",
        b.json_object(),
        roles_json(b),
        groups_json(b)
    )
}

/// Which users a list shows: everything but the page size and the cursor's fingerprint.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Lower-case search text.
    pub q: Option<String>,
    /// Only this status (the page, not the counts).
    pub status: Option<UserStatus>,
    /// Only holders of this role (an id once resolved).
    pub role: Option<String>,
    /// Only members of this group (an id once resolved).
    pub department: Option<String>,
    /// Keyset position: (sort name, id) of the last user shown.
    pub after: Option<(String, String)>,
}

impl Filter {
    /// Appends the filters shared by the page and the counts (all but status and cursor);
    /// role and department are already resolved to ids.
    fn push_filters<'a, DB: sqlx::Database>(&self, qb: &mut QueryBuilder<'a, DB>, org_id: &str)
    where
        String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    {
        qb.push(" WHERE u.org_id = ").push_bind(org_id.to_owned());
        if let Some(q) = &self.q {
            qb.push(" AND u.search_text LIKE ").push_bind(gatehouse_api::substring_like_pattern(q)).push(" ESCAPE '\\'");
        }
        // `IN (subquery)` builds the member set once from the (role_id|group_id, user_id)
        // index; a correlated EXISTS would do one lookup per user instead.
        if let Some(role_id) = &self.role {
            qb.push(" AND u.id IN (SELECT user_id FROM user_roles WHERE role_id = ").push_bind(role_id.clone()).push(")");
        }
        if let Some(group_id) = &self.department {
            qb.push(" AND u.id IN (SELECT user_id FROM user_groups WHERE group_id = ").push_bind(group_id.clone()).push(")");
        }
    }

    /// Replaces the role key/id and department name/id by ids of this organization.
    pub async fn resolve(&mut self, db: &Db, org_id: &str) -> Result<()> {
        on!(db, |db| {
            let mut errors = Vec::new();
            if let Some(role) = self.role.take() {
                let id: Option<String> = sqlx::query_scalar("SELECT id FROM roles WHERE org_id = $1 AND (id = $2 OR key = $3)")
                    .bind(org_id)
                    .bind(&role)
                    .bind(&role)
                    .fetch_optional(db)
                    .await?;
                match id {
                    Some(id) => self.role = Some(id),
                    None => errors.push(gatehouse_api::FieldError {
                        field: "role".into(),
                        code: "unknown".into(),
                        message: format!("No role `{role}` in this organization."),
                    }),
                }
            }
            if let Some(dept) = self.department.take() {
                let id: Option<String> =
                    sqlx::query_scalar("SELECT id FROM groups WHERE org_id = $1 AND (id = $2 OR lower(name) = lower($3)) ORDER BY kind LIMIT 1")
                        .bind(org_id)
                        .bind(&dept)
                        .bind(&dept)
                        .fetch_optional(db)
                        .await?;
                match id {
                    Some(id) => self.department = Some(id),
                    None => errors.push(gatehouse_api::FieldError {
                        field: "department".into(),
                        code: "unknown".into(),
                        message: format!("No department or company `{dept}` in this organization."),
                    }),
                }
            }
            if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
        })
    }
}

/// Up to `limit` users matching `filter` after its `after` position, in list order.
pub async fn page(db: &Db, org_id: &str, filter: &Filter, limit: u32) -> Result<Vec<UserRow>> {
    let columns = user_columns(db.backend());
    on!(db, |db| {
        let mut qb = QueryBuilder::new(format!("SELECT {columns} FROM users u"));
        filter.push_filters(&mut qb, org_id);
        if let Some(status) = filter.status {
            qb.push(" AND u.status = ").push_bind(status.as_str());
        }
        if let Some((name, id)) = &filter.after {
            qb.push(" AND (u.sort_name, u.id) > (").push_bind(name.clone()).push(", ").push_bind(id.clone()).push(")");
        }
        qb.push(" ORDER BY u.sort_name, u.id LIMIT ").push_bind(i64::from(limit));
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}

/// How many users match `filter` (its status and position aside), by status.
pub async fn counts(db: &Db, org_id: &str, filter: &Filter) -> Result<Vec<(String, i64)>> {
    on!(db, |db| {
        Ok(if filter.q.is_none() && filter.role.is_none() && filter.department.is_none() {
            // Unfiltered badges come from the trigger-maintained totals (migration 0002).
            sqlx::query_as("SELECT status, n FROM user_status_counts WHERE org_id = $1").bind(org_id).fetch_all(db).await?
        } else {
            let mut cq = QueryBuilder::new("SELECT u.status, COUNT(*) FROM users u");
            filter.push_filters(&mut cq, org_id);
            cq.push(" GROUP BY u.status");
            cq.build_query_as().fetch_all(db).await?
        })
    })
}

/// Loads one user of `org_id` with roles and groups.
pub async fn find_user(db: &Db, org_id: &str, id: &str) -> Result<Option<User>> {
    Ok(find_versioned(db, org_id, id).await?.map(|(user, _)| user))
}

/// Whether `id` is a user of `org_id`.
pub async fn exists(db: &Db, org_id: &str, id: &str) -> Result<bool> {
    on!(db, |db| {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE id = $1 AND org_id = $2").bind(id).bind(org_id).fetch_optional(db).await?;
        Ok(found.is_some())
    })
}

/// Loads one user of `org_id` with its version (the ETag's source), read with the row.
pub async fn find_versioned(db: &Db, org_id: &str, id: &str) -> Result<Option<(User, i64)>> {
    let columns = user_columns(db.backend());
    on!(db, |db| {
        let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {columns} FROM users u WHERE u.id = $1 AND u.org_id = $2"))
            .bind(id)
            .bind(org_id)
            .fetch_optional(db)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(hydrate(vec![row])?.pop())
    })
}

/// Loads the users of `org_id` among `ids`, by id, with their versions; missing ones are
/// simply absent.
pub async fn find_users(db: &Db, org_id: &str, ids: &[&str]) -> Result<HashMap<String, (User, i64)>> {
    let b = db.backend();
    let org_column = if b == Backend::Sqlite { "+u.org_id" } else { "u.org_id" };
    let select = format!("SELECT {} FROM users u WHERE {org_column} = ", b.json_array_agg(&user_json(b)));
    on!(db, |db| {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        // By primary key: `+` keeps the planner off the organization's sort index, which it
        // would otherwise scan whole (every user of the organization) for an `IN` list.
        // One JSON value for all of them: sqlx hands rows one by one from its SQLite thread,
        // and for a feed page of a thousand users that costs more than SQLite's own work.
        // (PostgreSQL has no such trick, nor needs it.)
        let mut qb = QueryBuilder::new(select.clone());
        qb.push_bind(org_id.to_owned()).push(" AND u.id IN ");
        super::push_id_list(&mut qb, ids);
        let json: String = qb.build_query_scalar().fetch_one(db).await?;
        let rows: Vec<UserRow> = serde_json::from_str(&json).map_err(|e| ApiError::Internal(anyhow::anyhow!("reading users: {e}")))?;
        Ok(hydrate(rows)?.into_iter().map(|(u, v)| (u.id.clone(), (u, v))).collect())
    })
}

/// Users from their rows, each with its version.
pub fn hydrate(rows: Vec<UserRow>) -> Result<Vec<(User, i64)>> {
    #[derive(serde::Deserialize)]
    struct Group {
        id: String,
        name: String,
        kind: String,
    }
    rows.into_iter()
        .map(|r| {
            let unreadable = |what: &str, e: serde_json::Error| ApiError::Internal(anyhow::anyhow!("user {} has unreadable {what}: {e}", r.id));
            let status =
                UserStatus::parse(&r.status).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user {} has unknown status {}", r.id, r.status)))?;
            let custom_attributes = serde_json::from_str(&r.attributes).map_err(|e| unreadable("attributes", e))?;
            let roles: Vec<RoleRef> = serde_json::from_str(&r.roles_json).map_err(|e| unreadable("roles", e))?;
            let groups: Vec<Group> = serde_json::from_str(&r.groups_json).map_err(|e| unreadable("groups", e))?;
            let mut auth_methods: Vec<AuthMethod> = serde_json::from_str(&r.identities).map_err(|e| unreadable("identities", e))?;
            if r.has_password {
                auth_methods.push(AuthMethod::Password);
            }
            auth_methods.sort();
            auth_methods.dedup();
            let notification_preferences = serde_json::from_str(&r.notifications).map_err(|e| unreadable("notification preferences", e))?;
            let user = User {
                roles,
                departments: groups.into_iter().map(|g| GroupRef { id: g.id, name: g.name, kind: GroupKind::parse(&g.kind) }).collect(),
                id: r.id,
                email: r.email,
                first_name: r.first_name,
                last_name: r.last_name,
                display_name: r.display_name,
                status,
                mfa_enabled: r.mfa_enabled,
                last_active_at: r.last_active_at,
                last_login_at: r.last_login_at,
                created_at: r.created_at,
                custom_attributes,
                avatar_url: r.avatar_url,
                auth_methods,
                notification_preferences,
            };
            Ok((user, r.version))
        })
        .collect()
}

/// The union of the permissions of a user's roles, sorted.
pub async fn permissions_of(db: &Db, user_id: &str) -> Result<Vec<String>> {
    on!(db, |db| {
        let lists: Vec<String> =
            sqlx::query_scalar("SELECT r.permissions FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1")
                .bind(user_id)
                .fetch_all(db)
                .await?;
        let mut all = Vec::new();
        for list in lists {
            let perms: Vec<String> = serde_json::from_str(&list).map_err(|e| ApiError::Internal(e.into()))?;
            all.extend(perms);
        }
        all.sort();
        all.dedup();
        Ok(all)
    })
}

/// The user's version now (after a write in `conn`).
pub async fn version(conn: &mut Conn, id: &str) -> Result<i64> {
    on!(conn, |conn| { Ok(sqlx::query_scalar("SELECT version FROM users WHERE id = $1").bind(id).fetch_one(conn).await?) })
}

/// What checking the user's password needs: (lower-case e-mail, id, organization, status,
/// password hash).
pub async fn credentials(db: &Db, id: &str) -> Result<(String, String, String, String, Option<String>)> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT email_lower, id, org_id, status, password_hash FROM users WHERE id = $1").bind(id).fetch_one(db).await?)
    })
}

/// Sets the status if the user is still at `version`; false when it moved meanwhile.
pub async fn set_status(conn: &mut Conn, org_id: &str, id: &str, status: UserStatus, version: i64, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let updated = sqlx::query("UPDATE users SET status = $1, updated_at = $2 WHERE id = $3 AND org_id = $4 AND version = $5")
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .bind(org_id)
            .bind(version)
            .execute(conn)
            .await?;
        Ok(updated.rows_affected() == 1)
    })
}

/// Stores the user's uploaded picture and points `avatar_url` at it.
pub async fn set_avatar(conn: &mut Conn, id: &str, content_type: &str, bytes: &[u8], url: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
            "INSERT INTO user_avatars (user_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(content_type)
        .bind(bytes)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE users SET avatar_url = $1, updated_at = $2 WHERE id = $3").bind(url).bind(now).bind(id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// The uploaded picture of a user of the organization: (content type, bytes).
pub async fn avatar(db: &Db, org_id: &str, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    on!(db, |db| {
        Ok(sqlx::query_as(
            "SELECT a.content_type, a.bytes FROM user_avatars a JOIN users u ON u.id = a.user_id WHERE a.user_id = $1 AND u.org_id = $2",
        )
        .bind(id)
        .bind(org_id)
        .fetch_optional(db)
        .await?)
    })
}

/// Where a user's authenticator enrolment stands: (e-mail, organization name, enrolled).
pub async fn totp_state(db: &Db, id: &str) -> Result<(String, String, bool)> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT u.email, o.name, u.totp_secret IS NOT NULL FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = $1")
            .bind(id)
            .fetch_one(db)
            .await?)
    })
}

/// Keeps a new (sealed) secret until a code from it confirms the enrolment.
pub async fn set_pending_totp(db: &Db, id: &str, sealed: &str) -> Result<()> {
    on!(db, |db| {
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2").bind(sealed).bind(id).execute(db).await?;
        Ok(())
    })
}

/// The (sealed) secret waiting for confirmation.
pub async fn pending_totp(db: &Db, id: &str) -> Result<Option<String>> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT totp_pending_secret FROM users WHERE id = $1").bind(id).fetch_one(db).await?) })
}

/// Whether the user has MFA on.
pub async fn mfa_enabled(conn: &mut Conn, id: &str) -> Result<bool> {
    on!(conn, |conn| { Ok(sqlx::query_scalar("SELECT mfa_enabled FROM users WHERE id = $1").bind(id).fetch_one(conn).await?) })
}

/// Makes the pending secret `sealed` the user's secret, its first code spent at `step`;
/// false when another enrolment replaced it meanwhile.
pub async fn confirm_totp(conn: &mut Conn, id: &str, sealed: &str, step: i64, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let done = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, totp_last_step = $1, mfa_enabled = TRUE, updated_at = $2 \
         WHERE id = $3 AND totp_pending_secret = $4",
    )
    .bind(step)
    .bind(now)
    .bind(id)
    .bind(sealed)
    .execute(conn)
    .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Whether the user has an authenticator secret, confirmed or pending.
pub async fn has_totp(conn: &mut Conn, id: &str) -> Result<bool> {
    on!(conn, |conn| {
        Ok(sqlx::query_scalar("SELECT totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?)
    })
}

/// Removes the user's authenticator (MFA reset).
pub async fn clear_totp(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, mfa_enabled = FALSE, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// An account as sign-in sees it.
#[derive(sqlx::FromRow)]
pub struct LoginCandidate {
    /// The user.
    pub id: String,
    /// Its organization.
    pub org_id: String,
    /// Its status.
    pub status: String,
    /// Its password hash, if it has a password.
    pub password_hash: Option<String>,
}

/// The account of a (lower-case) e-mail address.
pub async fn login_candidate(db: &Db, email_lower: &str) -> Result<Option<LoginCandidate>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT id, org_id, status, password_hash FROM users WHERE email_lower = $1").bind(email_lower).fetch_optional(db).await?)
    })
}

/// Records a sign-in.
pub async fn signed_in(conn: &mut Conn, id: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE users SET last_login_at = $1, last_active_at = $1 WHERE id = $2").bind(now).bind(id).execute(conn).await?;
        Ok(())
    })
}

/// What the second factor of a sign-in needs.
#[derive(sqlx::FromRow)]
pub struct MfaState {
    /// The sealed authenticator secret, once enrolled.
    pub totp_secret: Option<String>,
    /// The last time step whose code was used.
    pub totp_last_step: i64,
    /// The organization requires MFA.
    pub mfa_required: bool,
}

/// The user's MFA state.
pub async fn mfa_state(db: &Db, id: &str) -> Result<MfaState> {
    on!(db, |db| {
        Ok(sqlx::query_as(
            "SELECT u.totp_secret, u.totp_last_step, o.mfa_required FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await?)
    })
}

/// Spends the code of time step `step`: false when it (or a later one) was used already,
/// so a code works once even when two sign-ins race with it.
pub async fn spend_totp_step(db: &Db, id: &str, step: i64) -> Result<bool> {
    on!(db, |db| {
        let spent = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1").bind(step).bind(id).execute(db).await?;
        Ok(spent.rows_affected() == 1)
    })
}

/// The user's display name.
pub async fn display_name(db: &Db, id: &str) -> Result<String> {
    on!(db, |db| { Ok(sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1").bind(id).fetch_one(db).await?) })
}

/// The active account of a (lower-case) e-mail address: (id, organization, e-mail, name).
pub async fn active_by_email(db: &Db, email_lower: &str) -> Result<Option<(String, String, String, String)>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT id, org_id, email, display_name FROM users WHERE email_lower = $1 AND status = 'active'")
            .bind(email_lower)
            .fetch_optional(db)
            .await?)
    })
}

/// Sets a new password (its hash).
pub async fn set_password_hash(conn: &mut Conn, id: &str, hash: &str, now: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3").bind(hash).bind(now).bind(id).execute(conn).await?;
        Ok(())
    })
}

/// The id of the organization's account with this (lower-case) e-mail address.
pub async fn id_by_email(db: &Db, org_id: &str, email_lower: &str) -> Result<Option<String>> {
    on!(db, |db| {
        Ok(sqlx::query_scalar("SELECT id FROM users WHERE email_lower = $1 AND org_id = $2")
            .bind(email_lower)
            .bind(org_id)
            .fetch_optional(db)
            .await?)
    })
}

/// Who holds the address `email` (case-insensitively), other than user `except`: their
/// organization and display name.
pub async fn email_holder(db: &Db, email: &str, except: Option<&str>) -> Result<Option<(String, String)>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT org_id, display_name FROM users WHERE email_lower = $1 AND id IS DISTINCT FROM $2")
            .bind(email.to_lowercase())
            .bind(except)
            .fetch_optional(db)
            .await?)
    })
}

/// A user to add: active with a password, or pending an invitation's answer (no name,
/// no password yet).
pub struct NewUser<'a> {
    /// Their id.
    pub id: &'a str,
    /// Their organization.
    pub org_id: &'a str,
    /// Their address, as typed.
    pub email: &'a str,
    /// Their first name (empty while pending).
    pub first_name: &'a str,
    /// Their last name (empty while pending).
    pub last_name: &'a str,
    /// How the directory shows them (their address while pending).
    pub display_name: &'a str,
    /// `active` or `pending`.
    pub status: &'a str,
    /// Their password's hash, when they have one.
    pub password_hash: Option<&'a str>,
    /// When they were added.
    pub at: DateTime<Utc>,
}

/// Adds `user`, deriving the sort and search keys; `false` when the address is taken
/// (by someone who took it since the caller looked).
pub async fn insert(conn: &mut Conn, user: &NewUser<'_>) -> Result<bool> {
    on!(conn, |conn| {
        let email_lower = user.email.to_lowercase();
        let sort_name = user.display_name.to_lowercase();
        let inserted = sqlx::query(
            "INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, \
         status, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(user.id)
        .bind(user.org_id)
        .bind(user.email)
        .bind(&email_lower)
        .bind(user.first_name)
        .bind(user.last_name)
        .bind(user.display_name)
        .bind(&sort_name)
        // A pending user is shown by their address: it is searched once.
        .bind(if sort_name == email_lower { email_lower.clone() } else { format!("{sort_name} {email_lower}") })
        .bind(user.status)
        .bind(user.password_hash)
        .bind(user.at)
        .execute(&mut *conn)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
            Err(e) => Err(e.into()),
        }
    })
}

/// The row version of user `id`, read inside a unit of work (after its writes).
pub async fn version_now(conn: &mut Conn, id: &str) -> Result<i64> {
    on!(conn, |conn| { Ok(sqlx::query_scalar("SELECT version FROM users WHERE id = $1").bind(id).fetch_one(&mut *conn).await?) })
}

/// Removes user `id` of `org` if it is still at `version`; whether it was.
pub async fn delete_at_version(conn: &mut Conn, org: &str, id: &str, version: i64) -> Result<bool> {
    on!(conn, |conn| {
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1 AND org_id = $2 AND version = $3")
            .bind(id)
            .bind(org)
            .bind(version)
            .execute(&mut *conn)
            .await?;
        Ok(deleted.rows_affected() == 1)
    })
}

/// Removes user `id` of `org` if they are still pending (an invitation withdrawn or
/// declined); whether they were.
pub async fn delete_pending(conn: &mut Conn, org: &str, id: &str) -> Result<bool> {
    on!(conn, |conn| {
        let deleted =
            sqlx::query("DELETE FROM users WHERE id = $1 AND org_id = $2 AND status = 'pending'").bind(id).bind(org).execute(&mut *conn).await?;
        Ok(deleted.rows_affected() == 1)
    })
}

/// Gives user `id` role `role_id`. Callers hold [`crate::policy::GrantRoles`] for it.
pub async fn add_role(conn: &mut Conn, id: &str, role_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES ($1, $2)").bind(id).bind(role_id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Takes role `role_id` from user `id`.
pub async fn remove_role(conn: &mut Conn, id: &str, role_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2").bind(id).bind(role_id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Puts user `id` in department or company `group_id`.
pub async fn add_group(conn: &mut Conn, id: &str, group_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO user_groups (user_id, group_id) VALUES ($1, $2)").bind(id).bind(group_id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Takes user `id` out of `group_id`.
pub async fn remove_group(conn: &mut Conn, id: &str, group_id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM user_groups WHERE user_id = $1 AND group_id = $2").bind(id).bind(group_id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// A user's editable fields, as [`update_profile`] writes them.
pub struct Profile<'a> {
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// How the directory shows them.
    pub display_name: &'a str,
    /// Their address, as typed.
    pub email: &'a str,
    /// Custom attributes, as JSON.
    pub attributes: &'a str,
    /// Their picture's address, if any.
    pub avatar_url: Option<&'a str>,
    /// Notification preferences, as JSON.
    pub notifications: &'a str,
}

/// What [`update_profile`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Updated {
    /// Written.
    Saved,
    /// The user is no longer at the version the caller read: another edit came first.
    Stale,
    /// Someone else holds the new address.
    EmailTaken,
}

/// Writes `p` over user `id` of `org` if it is still at `version`, deriving the sort and
/// search keys.
pub async fn update_profile(conn: &mut Conn, org: &str, id: &str, version: i64, p: &Profile<'_>, now: DateTime<Utc>) -> Result<Updated> {
    on!(conn, |conn| {
        let email_lower = p.email.to_lowercase();
        let sort_name = p.display_name.to_lowercase();
        let updated = sqlx::query(
            "UPDATE users SET first_name = $1, last_name = $2, display_name = $3, sort_name = $4, search_text = $5, email = $6, \
         email_lower = $7, attributes = $8, avatar_url = $9, notifications = $10, updated_at = $11 \
         WHERE id = $12 AND org_id = $13 AND version = $14",
        )
        .bind(p.first_name)
        .bind(p.last_name)
        .bind(p.display_name)
        .bind(&sort_name)
        .bind(format!("{sort_name} {email_lower}"))
        .bind(p.email)
        .bind(&email_lower)
        .bind(p.attributes)
        .bind(p.avatar_url)
        .bind(p.notifications)
        .bind(now)
        .bind(id)
        .bind(org)
        .bind(version)
        .execute(&mut *conn)
        .await;
        match updated {
            Ok(r) if r.rows_affected() == 0 => Ok(Updated::Stale),
            Ok(_) => Ok(Updated::Saved),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Updated::EmailTaken),
            Err(e) => Err(e.into()),
        }
    })
}

/// Forgets user `id`'s uploaded picture (replaced by an address, or removed).
pub async fn forget_avatar_upload(conn: &mut Conn, id: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM user_avatars WHERE user_id = $1").bind(id).execute(&mut *conn).await?;
        Ok(())
    })
}

/// The organization's active Owners, as the unit of work sees them (after its writes).
pub async fn active_owners(conn: &mut Conn, org: &str) -> Result<i64> {
    on!(conn, |conn| {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id JOIN users u ON u.id = ur.user_id \
         WHERE r.org_id = $1 AND r.key = 'owner' AND u.status = 'active'",
        )
        .bind(org)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// The organization of each user among these (lower-cased) addresses.
pub async fn orgs_of_addresses(db: &Db, emails: &[&str]) -> Result<HashMap<String, String>> {
    super::email_owners(db, "SELECT email_lower, org_id FROM users WHERE email_lower IN ", emails).await
}

/// User `id`'s organization's name and their own display name.
pub async fn org_name_and_display_name(db: &Db, id: &str) -> Result<(String, String)> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT o.name, u.display_name FROM users u JOIN organizations o ON o.id = u.org_id WHERE u.id = $1")
            .bind(id)
            .fetch_one(db)
            .await?)
    })
}

/// A pending user as accepting their invitation makes them.
pub struct Joining<'a> {
    /// First name.
    pub first_name: &'a str,
    /// Last name.
    pub last_name: &'a str,
    /// Their address (kept; it feeds the search text).
    pub email: &'a str,
    /// Their password's hash (none when they sign in through an identity provider).
    pub password_hash: Option<&'a str>,
    /// The identity providers they may sign in with, as a JSON array.
    pub identities: &'a str,
}

/// Activates pending user `id` with what they gave on accepting; whether they were
/// still pending.
pub async fn activate_pending(conn: &mut Conn, id: &str, j: &Joining<'_>, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let display = format!("{} {}", j.first_name, j.last_name);
        let sort_name = display.to_lowercase();
        let activated = sqlx::query(
            "UPDATE users SET status = 'active', first_name = $1, last_name = $2, display_name = $3, sort_name = $4, search_text = $5, \
         password_hash = $6, identities = $7, updated_at = $8 WHERE id = $9 AND status = 'pending'",
        )
        .bind(j.first_name)
        .bind(j.last_name)
        .bind(&display)
        .bind(&sort_name)
        .bind(format!("{sort_name} {}", j.email.to_lowercase()))
        .bind(j.password_hash)
        .bind(j.identities)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        Ok(activated.rows_affected() == 1)
    })
}
