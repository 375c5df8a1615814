//! The demo organization's rows (`gatehouse-server seed --demo`, [`crate::seed`]), written
//! in bulk: multi-row `INSERT`s of a few hundred rows each inside the seed's one
//! transaction, so 100 000 users or a million events take seconds to minutes.

use super::audit::NewEvent;
use super::{Backend, Conn, Db};
use crate::error::Result;
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

/// A login attempt to seed: when, the address typed (empty: the user's own, filled in by
/// [`fill_attempt_addresses`]), the user, IP, user agent, result and failure reason.
pub type Attempt = (DateTime<Utc>, String, Option<String>, String, &'static str, &'static str, Option<&'static str>);

/// A user to seed.
pub struct DemoUser {
    /// Their id.
    pub id: String,
    /// Their address.
    pub email: String,
    /// First name.
    pub first: String,
    /// Last name.
    pub last: String,
    /// `active`, `pending` or `deactivated`.
    pub status: &'static str,
    /// Their password's hash.
    pub password_hash: Option<String>,
    /// Whether they are enrolled in MFA.
    pub mfa: bool,
    /// When they were last active (and last signed in).
    pub last_active: Option<DateTime<Utc>>,
    /// When they were added.
    pub created: DateTime<Utc>,
    /// Their roles' ids.
    pub roles: Vec<String>,
    /// Their departments' and companies' ids.
    pub groups: Vec<String>,
    /// External sign-in methods, as stored (a JSON array).
    pub identities: &'static str,
}

/// A session to seed.
pub struct DemoSession {
    /// Its id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// The client's User-Agent.
    pub user_agent: &'static str,
    /// The device it names.
    pub device: String,
    /// The client address.
    pub ip: String,
    /// When it began.
    pub started: DateTime<Utc>,
    /// When it was last used.
    pub last_active: DateTime<Utc>,
    /// When it was signed out, if it was.
    pub revoked: Option<DateTime<Utc>>,
}

/// Whether the database holds any organization.
pub async fn has_organizations(db: &Db) -> Result<bool> {
    on!(db, |db| {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(db).await?;
        Ok(n > 0)
    })
}

/// Adds organization `id` named `name`.
pub async fn insert_organization(conn: &mut Conn, id: &str, name: &str, created: DateTime<Utc>) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(created)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Adds a built-in (or custom) role.
#[allow(clippy::too_many_arguments)]
pub async fn insert_role(
    conn: &mut Conn,
    id: &str,
    org: &str,
    key: &str,
    name: &str,
    builtin: bool,
    permissions_json: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("INSERT INTO roles (id, org_id, key, name, builtin, permissions, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(org)
            .bind(key)
            .bind(name)
            .bind(builtin)
            .bind(permissions_json)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Adds `users` of `org` with their roles and groups; `sealed_secret` gives an enrolled
/// user's TOTP secret as stored.
pub async fn insert_users(conn: &mut Conn, org: &str, users: &[DemoUser], sealed_secret: &dyn Fn(&str) -> String) -> Result<()> {
    on!(conn, |conn| {
        if users.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::new(
            "INSERT INTO users (id, org_id, email, email_lower, first_name, last_name, display_name, sort_name, search_text, \
         status, password_hash, mfa_enabled, totp_secret, last_active_at, last_login_at, created_at, updated_at, identities) ",
        );
        qb.push_values(users, |mut b, u| {
            let display = format!("{} {}", u.first, u.last);
            b.push_bind(u.id.clone())
                .push_bind(org.to_owned())
                .push_bind(u.email.clone())
                .push_bind(u.email.to_lowercase())
                .push_bind(u.first.clone())
                .push_bind(u.last.clone())
                .push_bind(display.clone())
                .push_bind(display.to_lowercase())
                .push_bind(format!("{} {}", display.to_lowercase(), u.email.to_lowercase()))
                .push_bind(u.status)
                .push_bind(u.password_hash.clone())
                .push_bind(u.mfa)
                .push_bind(u.mfa.then(|| sealed_secret(&u.id)))
                .push_bind(u.last_active)
                .push_bind(u.last_active)
                .push_bind(u.created)
                .push_bind(u.created)
                .push_bind(u.identities);
        });
        qb.build().execute(&mut *conn).await?;

        let memberships: Vec<(&str, &str)> = users.iter().flat_map(|u| u.roles.iter().map(move |r| (u.id.as_str(), r.as_str()))).collect();
        if !memberships.is_empty() {
            let mut qb = QueryBuilder::new("INSERT INTO user_roles (user_id, role_id) ");
            qb.push_values(&memberships, |mut b, (u, r)| {
                b.push_bind(*u).push_bind(*r);
            });
            qb.build().execute(&mut *conn).await?;
        }
        let groups: Vec<(&str, &str)> = users.iter().flat_map(|u| u.groups.iter().map(move |g| (u.id.as_str(), g.as_str()))).collect();
        if !groups.is_empty() {
            let mut qb = QueryBuilder::new("INSERT INTO user_groups (user_id, group_id) ");
            qb.push_values(&groups, |mut b, (u, g)| {
                b.push_bind(*u).push_bind(*g);
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// Sets `org`'s seat limit to its seats in use plus `spare`.
pub async fn leave_seats_free(conn: &mut Conn, org: &str, spare: i64) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query(
        "UPDATE organizations SET seat_limit = $2 + (SELECT COUNT(*) FROM users WHERE org_id = $1 AND status IN ('active', 'pending')) WHERE id = $1",
    )
    .bind(org)
    .bind(spare)
    .execute(&mut *conn)
    .await?;
        Ok(())
    })
}

/// An invitation for every pending user of `org`, sent by `owner_id` with the user's roles
/// and departments: one in four was sent at `old_sent` and expired at `old_expiry`, the
/// rest were sent at `sent` and expire at `expiry`.
pub async fn invite_pending_users(
    conn: &mut Conn,
    org: &str,
    owner_id: &str,
    (old_sent, old_expiry): (DateTime<Utc>, DateTime<Utc>),
    (sent, expiry): (DateTime<Utc>, DateTime<Utc>),
) -> Result<()> {
    // A random (version 4) id, a JSON array of objects, and the users in the order added.
    let b = conn.backend();
    let (id, users) = match b {
        Backend::Sqlite => (
            "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' \
             || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))",
            "(SELECT rowid AS n, * FROM users WHERE org_id = $1 AND status = 'pending')",
        ),
        Backend::Postgres => (
            "gen_random_uuid()::text",
            "(SELECT row_number() OVER (ORDER BY created_at, id) AS n, * FROM users WHERE org_id = $1 AND status = 'pending')",
        ),
    };
    let roles = b.json_array_agg(&format!("{}('id', r.id, 'key', r.key, 'name', r.name)", b.json_object()));
    let departments = b.json_array_agg(&format!("{}('id', g.id, 'name', g.name, 'kind', g.kind)", b.json_object()));
    let sql = format!(
        "INSERT INTO invitations (id, org_id, user_id, email, email_lower, roles, departments, status, invited_by, invited_by_name, \
         created_at, sent_at, expires_at) \
         SELECT {id}, u.org_id, u.id, u.email, u.email_lower, \
           (SELECT {roles} FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id), \
           (SELECT {departments} FROM user_groups ug JOIN groups g ON g.id = ug.group_id \
            WHERE ug.user_id = u.id AND g.kind = 'department'), \
           'pending', $2, (SELECT display_name FROM users WHERE id = $2), \
           CASE WHEN u.n % 4 = 0 THEN $3 ELSE $4 END, CASE WHEN u.n % 4 = 0 THEN $3 ELSE $4 END, \
           CASE WHEN u.n % 4 = 0 THEN $5 ELSE $6 END \
         FROM {users} AS u"
    );
    on!(conn, |conn| {
        sqlx::query(&sql).bind(org).bind(owner_id).bind(old_sent).bind(sent).bind(old_expiry).bind(expiry).execute(&mut *conn).await?;
        Ok(())
    })
}

/// Up to `limit` active users of `org` in the order they were added: (id, name, address).
pub async fn active_people(conn: &mut Conn, org: &str, limit: i64) -> Result<Vec<(String, String, String)>> {
    let order = match conn.backend() {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "created_at, id",
    };
    let sql = format!("SELECT id, display_name, email FROM users WHERE org_id = $1 AND status = 'active' ORDER BY {order} LIMIT $2");
    on!(conn, |conn| { Ok(sqlx::query_as(&sql).bind(org).bind(limit).fetch_all(&mut *conn).await?) })
}

/// Keeps only the latest change per resource of `org`'s feed: a new organization's feed
/// needs no history.
pub async fn keep_latest_changes(conn: &mut Conn, org: &str) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("DELETE FROM changes WHERE org_id = $1 AND seq NOT IN (SELECT MAX(seq) FROM changes WHERE org_id = $1 GROUP BY kind, entity_id)")
            .bind(org)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Adds `sessions` of `org`.
pub async fn insert_sessions(conn: &mut Conn, org: &str, sessions: &[DemoSession]) -> Result<()> {
    on!(conn, |conn| {
        for chunk in sessions.chunks(500) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO sessions (id, user_id, org_id, user_agent, device, ip, created_at, last_active_at, revoked_at, revoked_reason) ",
            );
            qb.push_values(chunk, |mut b, s| {
                b.push_bind(s.id.clone())
                    .push_bind(s.user_id.clone())
                    .push_bind(org.to_owned())
                    .push_bind(s.user_agent)
                    .push_bind(s.device.clone())
                    .push_bind(s.ip.clone())
                    .push_bind(s.started)
                    .push_bind(s.last_active)
                    .push_bind(s.revoked)
                    .push_bind(s.revoked.map(|_| "logout"));
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// Adds login attempts of `org`.
pub async fn insert_attempts(conn: &mut Conn, org: &str, attempts: &[Attempt]) -> Result<()> {
    on!(conn, |conn| {
        for chunk in attempts.chunks(500) {
            let mut qb = QueryBuilder::new("INSERT INTO login_attempts (at, email, user_id, org_id, ip, user_agent, result, reason) ");
            qb.push_values(chunk, |mut b, (at, email, user_id, ip, ua, result, reason)| {
                b.push_bind(*at)
                    .push_bind(email.clone())
                    .push_bind(user_id.clone())
                    .push_bind(org.to_owned())
                    .push_bind(ip.clone())
                    .push_bind(*ua)
                    .push_bind(*result)
                    .push_bind(*reason);
            });
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// Gives every seeded attempt with no address typed its user's own address.
pub async fn fill_attempt_addresses(conn: &mut Conn) -> Result<()> {
    on!(conn, |conn| {
        sqlx::query("UPDATE login_attempts SET email = (SELECT email_lower FROM users WHERE users.id = login_attempts.user_id) WHERE email = ''")
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// Adds audit `events` of `org` (their hourly counts are [`add_hourly`]'s) and notes their
/// actions among the organization's.
pub async fn insert_events(conn: &mut Conn, org: &str, events: &[NewEvent<'_>]) -> Result<()> {
    on!(conn, |conn| {
        for chunk in events.chunks(500) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO audit_events (id, org_id, at, actor_id, target_type, target_id, action, ip, details, user_agent, \
             actor_name, actor_email, target_name, target_email, search) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(e.id)
                    .push_bind(e.org_id)
                    .push_bind(e.at)
                    .push_bind(e.actor_id)
                    .push_bind(e.target_type)
                    .push_bind(e.target_id)
                    .push_bind(e.action)
                    .push_bind(e.ip)
                    .push_bind(e.details)
                    .push_bind(e.user_agent)
                    .push_bind(e.actor_name)
                    .push_bind(e.actor_email)
                    .push_bind(e.target_name)
                    .push_bind(e.target_email)
                    .push_bind(e.search);
            });
            qb.build().execute(&mut *conn).await?;
        }
        sqlx::query(
            "INSERT INTO audit_actions (org_id, action) SELECT DISTINCT org_id, action FROM audit_events WHERE org_id = $1 ON CONFLICT DO NOTHING",
        )
        .bind(org)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}

/// Adds `(hour, action, count)` to `org`'s hourly counts.
pub async fn add_hourly(conn: &mut Conn, org: &str, hourly: &[(DateTime<Utc>, &str, i64)]) -> Result<()> {
    let (open, close) = conn.backend().hour_of();
    on!(conn, |conn| {
        for chunk in hourly.chunks(1000) {
            let mut qb = QueryBuilder::new("INSERT INTO audit_hourly (org_id, hour, action, count) ");
            qb.push_values(chunk, |mut b, (hour, action, n)| {
                b.push_bind(org.to_owned()).push(open).push_bind_unseparated(*hour).push_unseparated(close).push_bind(*action).push_bind(*n);
            });
            qb.push(" ON CONFLICT (org_id, hour, action) DO UPDATE SET count = audit_hourly.count + excluded.count");
            qb.build().execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// After a bulk load, PostgreSQL's planner has no statistics yet (autovacuum gathers them
/// later): gather them now, so the first requests get the plans the indexes are for.
/// SQLite's planner needs none (the store names its indexes where it matters).
pub async fn analyze(db: &Db) -> Result<()> {
    if let Db::Postgres(pool) = db {
        sqlx::raw_sql("ANALYZE").execute(pool).await?;
    }
    Ok(())
}
