//! Invitations (SPEC I1–I9): inviting, resending, revoking and the CSV import go to the
//! server at once (each under its own Idempotency-Key, so a retry sends no second
//! e-mail); the invitations themselves come through the change feed into the cache, where
//! they stay readable offline.

use crate::auth::Client;
use crate::cache::to_json;
use crate::error::{Error, Result};
use crate::sessions::{encoded, query_string};
use chrono::{DateTime, Utc};
use gatehouse_api::{
    ImportReport, Invitation, InvitationCounts, InvitationLink, InvitationPage, InvitationQuery, InvitationStatus, InvitationsCreated, NewInvitations,
};
use reqwest::Method;
use sqlx::{Sqlite, Transaction};

impl Client {
    /// `POST /v1/invitations`.
    pub async fn invite(&self, invitations: &NewInvitations, idempotency_key: &str) -> Result<InvitationsCreated> {
        Ok(self.send_authed_with(Method::POST, "v1/invitations", Some(invitations), &[("Idempotency-Key", idempotency_key)]).await?.0)
    }

    /// One page of `GET /v1/invitations` (live, not from the cache).
    pub async fn list_invitations(&self, query: &InvitationQuery) -> Result<InvitationPage> {
        let q = query_string([
            ("status", query.status.map(|s| s.as_str().to_owned())),
            ("q", query.q.clone()),
            ("limit", query.limit.map(|l| l.to_string())),
            ("cursor", query.cursor.clone()),
        ]);
        self.get(&format!("v1/invitations{q}")).await
    }

    /// `POST /v1/invitations/{id}/resend`: a new link and expiry; older links stop working.
    pub async fn resend_invitation(&self, id: &str, idempotency_key: &str) -> Result<Invitation> {
        let path = format!("v1/invitations/{}/resend", encoded(id));
        Ok(self.send_authed_with(Method::POST, &path, None::<&()>, &[("Idempotency-Key", idempotency_key)]).await?.0)
    }

    /// `POST /v1/invitations/{id}/revoke`: the link stops working at once.
    pub async fn revoke_invitation(&self, id: &str, idempotency_key: &str) -> Result<Invitation> {
        let path = format!("v1/invitations/{}/revoke", encoded(id));
        Ok(self.send_authed_with(Method::POST, &path, None::<&()>, &[("Idempotency-Key", idempotency_key)]).await?.0)
    }

    /// `GET /v1/invitations/{id}/link`: the link to share by another channel.
    pub async fn invitation_link(&self, id: &str) -> Result<InvitationLink> {
        self.get(&format!("v1/invitations/{}/link", encoded(id))).await
    }

    /// `POST /v1/invitations/import`: checks `csv` (`dry_run`), or invites every row when
    /// all are valid (then `idempotency_key` makes a retry safe).
    pub async fn import_invitations(&self, csv: &str, dry_run: bool, idempotency_key: Option<&str>) -> Result<ImportReport> {
        let path = format!("v1/invitations/import?dry_run={dry_run}");
        let headers: Vec<(&str, &str)> = idempotency_key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        let (bytes, _) = self.send_authed_raw(Method::POST, &path, Some((csv.as_bytes(), "text/csv; charset=utf-8")), &headers).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol(format!("reading the import report: {e}")))
    }
}

/// Writes one invitation into the cache (from the feed, or an answer of the server).
pub(crate) async fn put(tx: &mut Transaction<'_, Sqlite>, invitation: &Invitation) -> Result<()> {
    sqlx::query(
        "INSERT INTO invitations (id, email_lower, status, expires_at, created_at, json) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET email_lower = excluded.email_lower, status = excluded.status, expires_at = excluded.expires_at, \
         created_at = excluded.created_at, json = excluded.json",
    )
    .bind(&invitation.id)
    .bind(invitation.email.to_lowercase())
    .bind(stored_status(invitation.status))
    .bind(invitation.expires_at.to_rfc3339())
    .bind(invitation.created_at.to_rfc3339())
    .bind(to_json(invitation)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Expired is a pending invitation past its expiry: stored as pending, judged on reading,
/// since an invitation expires without any change reaching the feed.
fn stored_status(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Expired => "pending",
        s => s.as_str(),
    }
}

fn shown(mut invitation: Invitation, now: DateTime<Utc>) -> Invitation {
    if matches!(invitation.status, InvitationStatus::Pending | InvitationStatus::Expired) {
        invitation.status = if invitation.expires_at <= now { InvitationStatus::Expired } else { InvitationStatus::Pending };
    }
    invitation
}

impl crate::Cache {
    /// Stores invitations the server just answered with, so the list shows them before
    /// the feed brings them.
    pub async fn put_invitations(&self, invitations: &[Invitation]) -> Result<()> {
        let mut tx = self.db.begin().await?;
        for invitation in invitations {
            put(&mut tx, invitation).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Invitations from the local copy, newest first: `status` and the address substring
    /// `q` filter them, and the counts (search applied, status not) come along. `now`
    /// decides which pending ones have expired.
    pub async fn list_invitations(&self, status: Option<InvitationStatus>, q: Option<&str>, now: DateTime<Utc>) -> Result<InvitationPage> {
        let like = q.map(str::trim).filter(|q| !q.is_empty()).map(|q| gatehouse_api::substring_like_pattern(&q.to_lowercase()));
        let now_text = now.to_rfc3339();
        // Stored status and "has expired" per row, as `shown` judges them.
        const SHOWN_STATUS: &str = "CASE WHEN status = 'pending' AND expires_at <= ?2 THEN 'expired' ELSE status END";
        let mut counts = InvitationCounts::default();
        let grouped: Vec<(String, i64)> = sqlx::query_as(&format!(
            "SELECT {SHOWN_STATUS}, COUNT(*) FROM invitations WHERE (?1 IS NULL OR email_lower LIKE ?1 ESCAPE '\\') GROUP BY 1"
        ))
        .bind(&like)
        .bind(&now_text)
        .fetch_all(&self.db)
        .await?;
        for (s, n) in grouped {
            if let Some(s) = InvitationStatus::parse(&s) {
                counts.add(s, u32::try_from(n).unwrap_or(0));
            }
        }
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT json FROM invitations WHERE (?1 IS NULL OR email_lower LIKE ?1 ESCAPE '\\') AND (?3 IS NULL OR {SHOWN_STATUS} = ?3) \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(&like)
        .bind(&now_text)
        .bind(status.map(InvitationStatus::as_str))
        .fetch_all(&self.db)
        .await?;
        let items = rows
            .iter()
            .map(|json| serde_json::from_str(json).map(|i| shown(i, now)).map_err(|e| Error::Cache(e.to_string())))
            .collect::<Result<Vec<Invitation>>>()?;
        Ok(InvitationPage { items, next_cursor: None, counts })
    }
}
