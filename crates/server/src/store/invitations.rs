//! Invitations.

use super::{Conn, Db};
use crate::error::{ApiError, Result};
use chrono::{DateTime, Utc};
use gatehouse_api::{GroupRef, IdentityProvider, Invitation, InvitationCounts, InvitationStatus, Inviter, RoleRef};
use sqlx::QueryBuilder;
use std::collections::HashMap;

/// Columns of an invitation, as [`Row`] reads them.
pub const COLUMNS: &str = "id, user_id, email, notify_email, roles, departments, message, identity_provider, tenant_id, status, \
     generation, invited_by, invited_by_name, created_at, sent_at, send_count, expires_at, responded_at";

/// An invitation as stored.
#[derive(sqlx::FromRow, Clone)]
pub struct Row {
    /// Its id.
    pub id: String,
    /// The pending (then accepted) user holding its seat.
    pub user_id: Option<String>,
    /// The address invited.
    pub email: String,
    /// Where its e-mail goes instead, if elsewhere.
    pub notify_email: Option<String>,
    /// The roles to grant, as JSON `RoleRef`s.
    pub roles: String,
    /// The departments to join, as JSON `GroupRef`s.
    pub departments: String,
    /// The inviter's note.
    pub message: Option<String>,
    /// How the invitee signs in.
    pub identity_provider: String,
    /// The identity provider's tenant.
    pub tenant_id: Option<String>,
    /// `pending`, `accepted`, `declined` or `revoked` (expiry is read from `expires_at`).
    pub status: String,
    /// Bumped by each resend: older links stop working.
    pub generation: i64,
    /// Who sent it.
    pub invited_by: Option<String>,
    /// Their name then.
    pub invited_by_name: Option<String>,
    /// When it was first sent.
    pub created_at: DateTime<Utc>,
    /// When it was last sent.
    pub sent_at: DateTime<Utc>,
    /// How many times it was sent.
    pub send_count: i64,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was answered.
    pub responded_at: Option<DateTime<Utc>>,
}

impl Row {
    /// Its status at `now`: a pending invitation past its expiry is Expired.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match InvitationStatus::parse(&self.status) {
            Some(InvitationStatus::Pending) if self.expires_at <= now => InvitationStatus::Expired,
            Some(s) => s,
            None => InvitationStatus::Revoked,
        }
    }

    /// The wire form at `now`.
    pub fn to_api(&self, now: DateTime<Utc>) -> Result<Invitation> {
        let roles: Vec<RoleRef> = serde_json::from_str(&self.roles).map_err(|e| ApiError::Internal(e.into()))?;
        let departments: Vec<GroupRef> = serde_json::from_str(&self.departments).map_err(|e| ApiError::Internal(e.into()))?;
        Ok(Invitation {
            id: self.id.clone(),
            email: self.email.clone(),
            notify_email: self.notify_email.clone(),
            user_id: self.user_id.clone(),
            roles,
            departments,
            message: self.message.clone(),
            identity_provider: IdentityProvider::parse(&self.identity_provider).unwrap_or_default(),
            tenant_id: self.tenant_id.clone(),
            status: self.status_at(now),
            invited_by: self.invited_by.clone().map(|id| Inviter { id, name: self.invited_by_name.clone().unwrap_or_default() }),
            created_at: self.created_at,
            sent_at: self.sent_at,
            send_count: u32::try_from(self.send_count).unwrap_or(0),
            expires_at: self.expires_at,
            responded_at: self.responded_at,
        })
    }
}

/// The invitation `id` of `org`.
pub async fn find(conn: &mut Conn, org: &str, id: &str) -> Result<Option<Row>> {
    on!(conn, |conn| {
        Ok(sqlx::query_as(&format!("SELECT {COLUMNS} FROM invitations WHERE id = $1 AND org_id = $2"))
            .bind(id)
            .bind(org)
            .fetch_optional(conn)
            .await?)
    })
}

/// The invitations of `org` with these ids, for the change feed.
pub async fn find_many(db: &Db, org: &str, ids: &[&str], now: DateTime<Utc>) -> Result<HashMap<String, Invitation>> {
    on!(db, |db| {
        let mut out = HashMap::new();
        for chunk in ids.chunks(400) {
            let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM invitations WHERE org_id = "));
            qb.push_bind(org.to_owned()).push(" AND id IN ");
            super::push_id_list(&mut qb, chunk);
            for row in qb.build_query_as::<Row>().fetch_all(db).await? {
                out.insert(row.id.clone(), row.to_api(now)?);
            }
        }
        Ok(out)
    })
}

/// When the user's open invitation expires, if they have one.
pub async fn open_expiry(db: &Db, user_id: &str) -> Result<Option<DateTime<Utc>>> {
    on!(db, |db| {
        Ok(sqlx::query_scalar("SELECT expires_at FROM invitations WHERE user_id = $1 AND status = 'pending'")
            .bind(user_id)
            .fetch_optional(db)
            .await?)
    })
}

/// Opens invitation `row` of `org`; `false` when the address already has an open
/// invitation (of another organization: callers check their own first).
pub async fn insert(conn: &mut Conn, org: &str, row: &Row) -> Result<bool> {
    on!(conn, |conn| {
        let open = sqlx::query(
        "INSERT INTO invitations (id, org_id, user_id, email, email_lower, notify_email, roles, departments, message, identity_provider, tenant_id, \
         status, generation, invited_by, invited_by_name, created_at, sent_at, send_count, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT DO NOTHING",
    )
    .bind(&row.id)
    .bind(org)
    .bind(&row.user_id)
    .bind(&row.email)
    .bind(row.email.to_lowercase())
    .bind(&row.notify_email)
    .bind(&row.roles)
    .bind(&row.departments)
    .bind(&row.message)
    .bind(&row.identity_provider)
    .bind(&row.tenant_id)
    .bind(&row.status)
    .bind(row.generation)
    .bind(&row.invited_by)
    .bind(&row.invited_by_name)
    .bind(row.created_at)
    .bind(row.sent_at)
    .bind(row.send_count)
    .bind(row.expires_at)
    .execute(&mut *conn)
    .await?;
        // Not an error caught: on PostgreSQL a failed statement ends the transaction.
        Ok(open.rows_affected() == 1)
    })
}

/// The organization of each open invitation among these (lower-cased) addresses.
pub async fn orgs_of_addresses(db: &Db, emails: &[&str]) -> Result<HashMap<String, String>> {
    super::email_owners(db, "SELECT email_lower, org_id FROM invitations WHERE status = 'pending' AND email_lower IN ", emails).await
}

/// ` AND` the address search, when there is one.
fn push_search<'a, DB: sqlx::Database>(qb: &mut QueryBuilder<'a, DB>, like: Option<&str>)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(like) = like {
        qb.push(" AND email_lower LIKE ").push_bind(like.to_owned()).push(" ESCAPE '\\'");
    }
}

fn status_sql<'a, DB: sqlx::Database>(qb: &mut QueryBuilder<'a, DB>, status: InvitationStatus, now: DateTime<Utc>)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match status {
        InvitationStatus::Pending => {
            qb.push(" AND status = 'pending' AND expires_at > ").push_bind(now);
        }
        InvitationStatus::Expired => {
            qb.push(" AND status = 'pending' AND expires_at <= ").push_bind(now);
        }
        other => {
            qb.push(" AND status = ").push_bind(other.as_str().to_owned());
        }
    }
}

/// Up to `limit` invitations of `org`, newest first, after `after` (the `created_at` and
/// id of the previous page's last), narrowed to a status at `now` and an address search.
#[allow(clippy::too_many_arguments)]
pub async fn page(
    db: &Db,
    org: &str,
    status: Option<InvitationStatus>,
    q: Option<&str>,
    after: Option<&(DateTime<Utc>, String)>,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Row>> {
    on!(db, |db| {
        let like = q.map(gatehouse_api::substring_like_pattern);
        let mut qb = QueryBuilder::new(format!("SELECT {COLUMNS} FROM invitations WHERE org_id = "));
        qb.push_bind(org.to_owned());
        push_search(&mut qb, like.as_deref());
        if let Some(status) = status {
            status_sql(&mut qb, status, now);
        }
        // Bound as the time it was stored as, so the row itself compares equal.
        if let Some((created, id)) = after {
            qb.push(" AND (created_at, id) < (").push_bind(*created).push(", ").push_bind(id.clone()).push(")");
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT ").push_bind(i64::from(limit));
        Ok(qb.build_query_as().fetch_all(db).await?)
    })
}

/// How many invitations of `org` (matching the address search) have each status at `now`.
pub async fn counts(db: &Db, org: &str, q: Option<&str>, now: DateTime<Utc>) -> Result<InvitationCounts> {
    on!(db, |db| {
        let like = q.map(gatehouse_api::substring_like_pattern);
        let mut cq = QueryBuilder::new("SELECT status, expires_at <= ");
        cq.push_bind(now).push(", COUNT(*) FROM invitations WHERE org_id = ").push_bind(org.to_owned());
        push_search(&mut cq, like.as_deref());
        cq.push(" GROUP BY 1, 2");
        let mut counts = InvitationCounts::default();
        for (status, expired, n) in cq.build_query_as::<(String, bool, i64)>().fetch_all(db).await? {
            let status = match InvitationStatus::parse(&status) {
                Some(InvitationStatus::Pending) if expired => InvitationStatus::Expired,
                Some(s) => s,
                None => continue,
            };
            counts.add(status, u32::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    })
}

/// The organization (id, name) of invitation `id`.
pub async fn org_of(db: &Db, id: &str) -> Result<Option<(String, String)>> {
    on!(db, |db| {
        Ok(sqlx::query_as("SELECT o.id, o.name FROM invitations i JOIN organizations o ON o.id = i.org_id WHERE i.id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?)
    })
}

/// Marks invitation `id` accepted if it is still pending at `generation` and unexpired at
/// `now`; whether it was.
pub async fn accept(conn: &mut Conn, id: &str, generation: i64, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let taken = sqlx::query(
        "UPDATE invitations SET status = 'accepted', responded_at = $1 WHERE id = $2 AND status = 'pending' AND generation = $3 AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .bind(generation)
    .execute(&mut *conn)
    .await?;
        Ok(taken.rows_affected() == 1)
    })
}

/// Sends invitation `id` again if it is still pending at `generation`: a new generation
/// (older links stop working) that expires at `expires_at`. Whether it was.
pub async fn renew(conn: &mut Conn, id: &str, generation: i64, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let moved = sqlx::query(
            "UPDATE invitations SET generation = generation + 1, sent_at = $1, send_count = send_count + 1, expires_at = $2 \
         WHERE id = $3 AND status = 'pending' AND generation = $4",
        )
        .bind(now)
        .bind(expires_at)
        .bind(id)
        .bind(generation)
        .execute(&mut *conn)
        .await?;
        Ok(moved.rows_affected() == 1)
    })
}

/// Ends invitation `id` as `status` (`revoked` or `declined`) if it is still pending;
/// whether it was.
pub async fn close(conn: &mut Conn, id: &str, status: &str, now: DateTime<Utc>) -> Result<bool> {
    on!(conn, |conn| {
        let done = sqlx::query("UPDATE invitations SET status = $1, responded_at = $2 WHERE id = $3 AND status = 'pending'")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}
