//! The outbox (SPEC C3): every edit is stored in the cache database (synchronous=FULL)
//! in the same transaction that shows it optimistically, then replayed in order when the
//! server is reachable, each with its own `Idempotency-Key` and `If-Match`.
//!
//! Exactly once: an entry keeps its key until the server has definitely not applied it
//! (a 412 or another refusal); only then may it be sent again under a new key. A crash
//! between sending and recording the answer resends the same key, and the server answers
//! with the stored response instead of applying it again.
//!
//! On a 412 the edit is compared field by field with the server's current copy: if the
//! server already holds the admin's values it counts as confirmed; if nobody else touched
//! the fields it changes, it is rebased on the current version and sent again; otherwise
//! it becomes a conflict for the admin to settle (keep theirs, reapply mine, or edit).

use crate::auth::Client;
use crate::cache::{Cache, to_json, write_user};
use crate::error::{Error, Result};
use gatehouse_api::{
    FieldConflict, ForcedLogout, GroupRef, OutboxAction, OutboxEntry, OutboxState, Problem, Resolution, Role, RoleRef, User, UserPatch, UserStatus, codes,
};
use sqlx::{Sqlite, Transaction};
use std::collections::{BTreeSet, HashMap};

/// The version number in one of our ETags (`"v12"` → 12), for ordering copies.
pub fn etag_version(etag: &str) -> Option<i64> {
    etag.trim_matches('"').strip_prefix('v')?.parse().ok()
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn new_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Delay before retry number `attempts` (1, 2, 4 … 60 s), with ±20 % jitter so many
/// clients coming back at once do not retry in lockstep.
pub fn backoff_ms(attempts: u32) -> i64 {
    let base = 1000i64.saturating_mul(1i64 << attempts.min(6)).min(60_000);
    let jitter = ((uuid::Uuid::now_v7().as_u128() & 0xffff_ffff) % 401) as i64 - 200; // -200..=200 per mille (v7 ends in random bits)
    base + base * jitter / 1000
}

/// What one replay did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReplayOutcome {
    /// Entries the server confirmed.
    pub confirmed: u32,
    /// Entries that became conflicts.
    pub conflicts: u32,
    /// Entries the server refused.
    pub failed: u32,
    /// Pending entries wait until this time (Unix ms): the server was unreachable or busy.
    pub retry_at: Option<i64>,
    /// Why they wait.
    pub last_error: Option<String>,
    /// The server's answer to the last entry it refused, code included: what sends one
    /// entry on the admin's click shows, and acts on (`step_up_required`).
    pub refusal: Option<Box<Problem>>,
}

#[derive(sqlx::FromRow, Debug, Clone)]
struct Row {
    seq: i64,
    idempotency_key: String,
    user_id: String,
    user_name: String,
    base_etag: String,
    base_json: String,
    patch: String,
    state: String,
    attempts: i64,
    not_before: i64,
    last_error: Option<String>,
    field_errors: String,
    theirs_json: Option<String>,
    theirs_etag: Option<String>,
    created_at: String,
    action: String,
}

/// What a queued force logout does besides ending sessions, kept in the entry's `patch`
/// (`{}` for entries from before options: nothing more).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct LogoutOptions {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    suspend_api_keys: bool,
}

impl Row {
    fn logout_options(&self) -> LogoutOptions {
        serde_json::from_str(&self.patch).unwrap_or_default()
    }

    fn action(&self) -> Result<OutboxAction> {
        OutboxAction::parse(&self.action).ok_or_else(|| Error::Cache(format!("unknown outbox action {}", self.action)))
    }
}

const ROW_COLUMNS: &str = "seq, idempotency_key, user_id, user_name, base_etag, base_json, patch, state, attempts, not_before, \
     last_error, field_errors, theirs_json, theirs_etag, created_at, action";

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::Cache(format!("unreadable outbox data: {e}")))
}

fn rank(state: OutboxState) -> u8 {
    match state {
        OutboxState::Pending => 1,
        OutboxState::Failed => 2,
        OutboxState::Conflict => 3,
    }
}

/// The roles and groups a patch names, as the cache knows them.
async fn lookups(conn: &mut sqlx::SqliteConnection, patch: &UserPatch) -> Result<(Vec<RoleRef>, Vec<GroupRef>)> {
    let mut roles = Vec::new();
    for r in patch.roles.iter().flatten() {
        let json: Option<String> = sqlx::query_scalar("SELECT json FROM roles WHERE id = ? OR key = ?").bind(r).bind(r).fetch_optional(&mut *conn).await?;
        if let Some(json) = json {
            let role: Role = parse(&json)?;
            roles.push(RoleRef { id: role.id, key: role.key, name: role.name });
        }
    }
    let mut groups = Vec::new();
    for g in patch.departments.iter().flatten() {
        let json: Option<String> = sqlx::query_scalar("SELECT json FROM groups WHERE id = ?").bind(g).fetch_optional(&mut *conn).await?;
        if let Some(json) = json {
            groups.push(parse::<GroupRef>(&json)?);
        }
    }
    Ok((roles, groups))
}

/// `user` with `patch` applied the way the server applies it; `roles` and `groups` are
/// the patch's roles and groups resolved (unknown ones are left out: the server will
/// refuse them, and the entry will say so).
pub fn apply_patch(user: &mut User, patch: &UserPatch, roles: &[RoleRef], groups: &[GroupRef]) {
    if let Some(v) = &patch.first_name {
        user.first_name = v.trim().to_owned();
    }
    if let Some(v) = &patch.last_name {
        user.last_name = v.trim().to_owned();
    }
    if patch.first_name.is_some() || patch.last_name.is_some() {
        user.display_name = format!("{} {}", user.first_name, user.last_name);
    }
    if let Some(v) = &patch.email {
        user.email = v.trim().to_owned();
    }
    if patch.roles.is_some() {
        user.roles = roles.to_vec();
    }
    if patch.departments.is_some() {
        let mut groups = groups.to_vec();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        user.departments = groups;
    }
    for (k, v) in patch.custom_attributes.iter().flatten() {
        match v {
            Some(v) => user.custom_attributes.insert(k.clone(), v.clone()),
            None => user.custom_attributes.remove(k),
        };
    }
    if let Some(url) = &patch.avatar_url {
        user.avatar_url = Some(url.trim().to_owned()).filter(|u| !u.is_empty());
    }
    if let Some(prefs) = patch.notification_preferences {
        user.notification_preferences = prefs;
    }
}

/// One field an edit touches, in three versions: (comparable, display) each.
struct Field {
    name: String,
    mine: (String, String),
    theirs: (String, String),
    base: (String, String),
}

/// A set of (id, name) members: compared by ids, shown by names.
fn members_value<'a>(members: impl Iterator<Item = (&'a str, &'a str)>) -> (String, String) {
    let (ids, names): (BTreeSet<&str>, Vec<&str>) = members.unzip();
    (ids.into_iter().collect::<Vec<_>>().join(","), if names.is_empty() { "(none)".into() } else { names.join(", ") })
}

fn text(v: &str) -> (String, String) {
    (v.to_owned(), v.to_owned())
}

fn attribute(user: &User, key: &str) -> (String, String) {
    match user.custom_attributes.get(key) {
        Some(v) => (format!("={v}"), v.clone()),
        None => (String::new(), "(not set)".into()),
    }
}

/// The fields `patch` touches, as `mine` (the base with the patch applied), `theirs` and `base`.
fn fields(patch: &UserPatch, mine: &User, theirs: &User, base: &User) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |name: &str, get: &dyn Fn(&User) -> (String, String)| {
        out.push(Field { name: name.to_owned(), mine: get(mine), theirs: get(theirs), base: get(base) });
    };
    if patch.first_name.is_some() {
        push("first_name", &|u| text(&u.first_name));
    }
    if patch.last_name.is_some() {
        push("last_name", &|u| text(&u.last_name));
    }
    if patch.email.is_some() {
        // E-mail addresses compare case-insensitively, as the server does for uniqueness.
        push("email", &|u| (u.email.to_lowercase(), u.email.clone()));
    }
    if patch.roles.is_some() {
        push("roles", &|u| members_value(u.roles.iter().map(|r| (r.id.as_str(), r.name.as_str()))));
    }
    if patch.departments.is_some() {
        push("departments", &|u| members_value(u.departments.iter().map(|g| (g.id.as_str(), g.name.as_str()))));
    }
    for key in patch.custom_attributes.iter().flatten().map(|(k, _)| k) {
        push(&format!("custom_attributes.{key}"), &|u| attribute(u, key));
    }
    if patch.avatar_url.is_some() {
        push("avatar_url", &|u| text(u.avatar_url.as_deref().unwrap_or("")));
    }
    if patch.notification_preferences.is_some() {
        push("notification_preferences", &|u| {
            let p = u.notification_preferences;
            let on: Vec<&str> = [(p.security_alerts, "security alerts"), (p.account_changes, "account changes"), (p.weekly_digest, "weekly digest")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
            (format!("{p:?}"), if on.is_empty() { "(none)".into() } else { on.join(", ") })
        });
    }
    out
}

/// What a 412 means for an entry.
#[derive(Debug, PartialEq, Eq)]
enum Stale {
    /// The server already holds every value of the edit.
    AlreadyApplied,
    /// Nobody else changed the edit's fields: send it again on the current version.
    Rebase,
    /// Someone else changed a field the edit changes too.
    Conflict,
    /// The 412 did not say what the server holds: kept as a refusal to look at.
    Refused,
}

fn judge(fields: &[Field]) -> Stale {
    if fields.iter().all(|f| f.theirs.0 == f.mine.0) {
        Stale::AlreadyApplied
    } else if fields.iter().all(|f| f.theirs.0 == f.base.0 || f.theirs.0 == f.mine.0) {
        Stale::Rebase
    } else {
        Stale::Conflict
    }
}

/// Shows the pending edits of `user_id` on top of the server's copy, and marks the row
/// with the worst state of its entries. Runs inside the caller's transaction.
pub(crate) async fn recompute_user(tx: &mut Transaction<'_, Sqlite>, user_id: &str) -> Result<()> {
    let server_json: Option<Option<String>> = sqlx::query_scalar("SELECT COALESCE(server_json, json) FROM users WHERE id = ?").bind(user_id).fetch_optional(&mut **tx).await?;
    let Some(Some(server_json)) = server_json else { return Ok(()) };
    let mut user: User = parse(&server_json)?;
    let entries: Vec<(String, String, String)> =
        sqlx::query_as("SELECT state, patch, action FROM outbox WHERE user_id = ? ORDER BY seq").bind(user_id).fetch_all(&mut **tx).await?;
    let mut worst: Option<OutboxState> = None;
    for (state, patch, action) in entries {
        let state = OutboxState::parse(&state).ok_or_else(|| Error::Cache(format!("unknown outbox state {state}")))?;
        if worst.is_none_or(|w| rank(state) > rank(w)) {
            worst = Some(state);
        }
        if state != OutboxState::Pending {
            continue;
        }
        match OutboxAction::parse(&action) {
            Some(OutboxAction::Edit) => {
                let patch: UserPatch = parse(&patch)?;
                let (roles, groups) = lookups(tx, &patch).await?;
                apply_patch(&mut user, &patch, &roles, &groups);
            }
            Some(OutboxAction::Deactivate) => user.status = UserStatus::Deactivated,
            Some(OutboxAction::Reactivate) => user.status = UserStatus::Active,
            // Shown until the server confirms; then the user leaves the cache.
            Some(OutboxAction::Remove) => {}
            // Changes nothing shown about the user; the pending mark says "not yet effective".
            Some(OutboxAction::Logout) => {}
            None => return Err(Error::Cache(format!("unknown outbox action {action}"))),
        }
    }
    let json = to_json(&user)?;
    write_user(tx, &user, &json, worst.map(OutboxState::as_str), None).await
}

async fn record_logout(tx: &mut Transaction<'_, Sqlite>, done: &ForcedLogout) -> Result<()> {
    // Fixed-width nanoseconds: the exact server time, and times compare as text.
    sqlx::query(
        "INSERT INTO logout_confirmations (user_id, confirmed_at, sessions_revoked) VALUES (?, ?, ?) \
         ON CONFLICT (user_id) DO UPDATE SET confirmed_at = excluded.confirmed_at, sessions_revoked = excluded.sessions_revoked \
         WHERE excluded.confirmed_at >= logout_confirmations.confirmed_at",
    )
    .bind(&done.user_id)
    .bind(done.confirmed_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
    .bind(i64::from(done.sessions_revoked))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records the server's copy of a user if it is newer than the one the cache holds.
async fn store_server_copy(tx: &mut Transaction<'_, Sqlite>, user: &User, etag: &str) -> Result<()> {
    let stored: Option<Option<String>> = sqlx::query_scalar("SELECT etag FROM users WHERE id = ?").bind(&user.id).fetch_optional(&mut **tx).await?;
    let newer = match &stored {
        None => return Ok(()), // gone from the cache (deleted since): nothing to show
        Some(Some(stored)) => etag_version(stored) <= etag_version(etag),
        Some(None) => true,
    };
    if newer {
        sqlx::query("UPDATE users SET server_json = ?, etag = ? WHERE id = ?").bind(to_json(user)?).bind(etag).bind(&user.id).execute(&mut **tx).await?;
    }
    Ok(())
}

impl Cache {
    /// Queues an edit of a user: stored durably and shown at once, marked pending.
    pub async fn enqueue_user_edit(&self, user_id: &str, patch: &UserPatch) -> Result<OutboxEntry> {
        if patch.is_empty() {
            return Err(Error::Invalid("The edit changes nothing.".into()));
        }
        // Refused now, with the server's field errors, rather than failing at replay.
        let errors = patch.field_errors();
        if !errors.is_empty() {
            return Err(Error::Api(Box::new(Problem::validation_failed(errors))));
        }
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        let row: Option<(String, Option<String>)> = sqlx::query_as("SELECT json, etag FROM users WHERE id = ?").bind(user_id).fetch_optional(&mut *tx).await?;
        let (json, etag) = row.ok_or_else(|| Error::NotFound(format!("No user with id `{user_id}` in the local copy; sync first.")))?;
        let etag = etag.ok_or_else(|| Error::Invalid("This user's version is not known yet; sync, then edit again.".into()))?;
        let shown: User = parse(&json)?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (idempotency_key, user_id, user_name, base_etag, base_json, patch, state, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING seq",
        )
        .bind(new_key())
        .bind(user_id)
        .bind(&shown.display_name)
        .bind(&etag)
        .bind(&json)
        .bind(to_json(patch)?)
        .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .fetch_one(&mut *tx)
        .await?;
        recompute_user(&mut tx, user_id).await?;
        tx.commit().await?;
        self.entry(seq).await
    }

    /// Queues a deactivation, reactivation or removal of a user: stored durably and shown
    /// at once, marked pending. Refuses what the server would refuse for sure (removing a
    /// user who is not deactivated).
    pub async fn enqueue_user_action(&self, user_id: &str, action: OutboxAction) -> Result<OutboxEntry> {
        self.enqueue_action(user_id, action, &LogoutOptions::default()).await
    }

    /// Queues a force logout of `user_id`; with `suspend_api_keys` it suspends their
    /// working API keys too. The option is stored with the entry, so a replay does the same.
    pub async fn enqueue_logout(&self, user_id: &str, suspend_api_keys: bool) -> Result<OutboxEntry> {
        self.enqueue_action(user_id, OutboxAction::Logout, &LogoutOptions { suspend_api_keys }).await
    }

    async fn enqueue_action(&self, user_id: &str, action: OutboxAction, options: &LogoutOptions) -> Result<OutboxEntry> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        let row: Option<(String, Option<String>)> = sqlx::query_as("SELECT json, etag FROM users WHERE id = ?").bind(user_id).fetch_optional(&mut *tx).await?;
        let (json, etag) = row.ok_or_else(|| Error::NotFound(format!("No user with id `{user_id}` in the local copy; sync first.")))?;
        let shown: User = parse(&json)?;
        match (action, shown.status) {
            (OutboxAction::Edit, _) => return Err(Error::Invalid("Edits are queued with their changes.".into())),
            (OutboxAction::Remove, status) if status != UserStatus::Deactivated => {
                return Err(Error::Invalid(format!("{} is {}; deactivate them before removing them.", shown.display_name, status.as_str())));
            }
            (OutboxAction::Deactivate, UserStatus::Pending) => {
                return Err(Error::Invalid(format!("{} is invited and has not joined yet; revoke their invitation instead.", shown.display_name)));
            }
            (OutboxAction::Reactivate, UserStatus::Pending) => {
                return Err(Error::Invalid(format!("{} is invited and has not joined yet; there is nothing to reactivate.", shown.display_name)));
            }
            _ => {}
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (idempotency_key, user_id, user_name, base_etag, base_json, patch, state, created_at, action) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING seq",
        )
        .bind(new_key())
        .bind(user_id)
        .bind(&shown.display_name)
        .bind(etag.unwrap_or_default())
        .bind(&json)
        .bind(serde_json::to_string(options).map_err(|e| Error::Invalid(e.to_string()))?)
        .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .bind(action.as_str())
        .fetch_one(&mut *tx)
        .await?;
        recompute_user(&mut tx, user_id).await?;
        tx.commit().await?;
        self.entry(seq).await
    }

    /// The server confirmed the force logout in `row`: the entry goes, the confirmation
    /// time stays for the app to show.
    async fn confirm_logout(&self, row: &Row, done: &ForcedLogout) -> Result<()> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM outbox WHERE seq = ?").bind(row.seq).execute(&mut *tx).await?;
        record_logout(&mut tx, done).await?;
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The last confirmed force logout of `user_id`, if any.
    pub async fn logout_confirmation(&self, user_id: &str) -> Result<Option<ForcedLogout>> {
        let row: Option<(String, i64)> = sqlx::query_as("SELECT confirmed_at, sessions_revoked FROM logout_confirmations WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&self.db)
            .await?;
        row.map(|(at, n)| {
            let confirmed_at = chrono::DateTime::parse_from_rfc3339(&at).map_err(|e| Error::Cache(format!("a stored confirmation time: {e}")))?.to_utc();
            Ok(ForcedLogout { user_id: user_id.to_owned(), sessions_revoked: u32::try_from(n).unwrap_or(0), trusted_devices_revoked: 0, api_keys_suspended: None, confirmed_at })
        })
        .transpose()
    }

    /// Records a force logout the server confirmed outside the outbox (sent directly).
    pub async fn remember_logout(&self, done: &ForcedLogout) -> Result<()> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        record_logout(&mut tx, done).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server confirmed the removal in `row`: the user leaves the cache.
    async fn confirm_removed(&self, row: &Row) -> Result<()> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM outbox WHERE user_id = ?").bind(&row.user_id).execute(&mut *tx).await?;
        crate::cache::apply_users(&mut tx, &[], &[row.user_id.as_str()]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn row(&self, seq: i64) -> Result<Row> {
        sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM outbox WHERE seq = ?"))
            .bind(seq)
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("No queued change #{seq}; it may have been sent already.")))
    }

    /// One entry, for the drawer.
    pub async fn entry(&self, seq: i64) -> Result<OutboxEntry> {
        let row = self.row(seq).await?;
        self.to_entry(row).await
    }

    async fn to_entry(&self, row: Row) -> Result<OutboxEntry> {
        let state = OutboxState::parse(&row.state).ok_or_else(|| Error::Cache(format!("unknown outbox state {}", row.state)))?;
        // Only an edit's `patch` is a patch; a force logout keeps its options there.
        let patch: UserPatch = if row.action()? == OutboxAction::Edit { parse(&row.patch)? } else { UserPatch::default() };
        let conflicts = match (&row.theirs_json, state) {
            (Some(theirs), OutboxState::Conflict) => {
                let theirs: User = parse(theirs)?;
                let base: User = parse(&row.base_json)?;
                let mut mine = base.clone();
                let (roles, groups) = lookups(&mut *self.db.acquire().await?, &patch).await?;
                apply_patch(&mut mine, &patch, &roles, &groups);
                fields(&patch, &mine, &theirs, &base)
                    .into_iter()
                    .map(|f| FieldConflict { clashes: f.theirs.0 != f.base.0 && f.theirs.0 != f.mine.0, field: f.name, mine: f.mine.1, theirs: f.theirs.1, base: f.base.1 })
                    .collect()
            }
            _ => Vec::new(),
        };
        Ok(OutboxEntry {
            action: row.action()?,
            seq: row.seq,
            user_id: row.user_id,
            user_name: row.user_name,
            patch,
            state,
            attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
            last_error: row.last_error,
            field_errors: parse(&row.field_errors)?,
            conflicts,
            created_at: row.created_at,
        })
    }

    /// The latest queued (pending or refused) force logout of `user_id`, if any.
    pub async fn queued_logout(&self, user_id: &str) -> Result<Option<OutboxEntry>> {
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM outbox WHERE user_id = ? AND action = 'logout' ORDER BY seq DESC LIMIT 1"))
            .bind(user_id)
            .fetch_optional(&self.db)
            .await?;
        match row {
            Some(row) => Ok(Some(self.to_entry(row).await?)),
            None => Ok(None),
        }
    }

    /// Every entry, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM outbox ORDER BY seq")).fetch_all(&self.db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.to_entry(row).await?);
        }
        Ok(out)
    }

    /// Entries per state: (pending, conflict, failed).
    pub async fn outbox_counts(&self) -> Result<(u32, u32, u32)> {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetch_all(&self.db).await?;
        let mut counts = (0, 0, 0);
        for (state, n) in rows {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match OutboxState::parse(&state) {
                Some(OutboxState::Pending) => counts.0 = n,
                Some(OutboxState::Conflict) => counts.1 = n,
                Some(OutboxState::Failed) => counts.2 = n,
                None => {}
            }
        }
        Ok(counts)
    }

    /// The outbox state of each of `ids` that has entries.
    pub async fn local_states(&self, ids: &[&str]) -> Result<HashMap<String, OutboxState>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(400) {
            let mut qb = sqlx::QueryBuilder::<Sqlite>::new("SELECT id, local_state FROM users WHERE local_state IS NOT NULL AND id IN ");
            crate::cache::push_list(&mut qb, chunk.iter().copied());
            let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&self.db).await?;
            out.extend(rows.into_iter().filter_map(|(id, s)| OutboxState::parse(&s).map(|s| (id, s))));
        }
        Ok(out)
    }

    async fn next_pending(&self) -> Result<Option<Row>> {
        Ok(sqlx::query_as(&format!("SELECT {ROW_COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1")).fetch_optional(&self.db).await?)
    }

    /// The server confirmed `row` with `user` at `etag`.
    async fn confirm(&self, row: &Row, user: &User, etag: &str) -> Result<()> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM outbox WHERE seq = ?").bind(row.seq).execute(&mut *tx).await?;
        // Later edits of this user were made on top of this one: they now build on its version.
        sqlx::query("UPDATE outbox SET base_etag = ? WHERE user_id = ? AND base_etag = ? AND seq > ? AND state = 'pending'")
            .bind(etag)
            .bind(&row.user_id)
            .bind(&row.base_etag)
            .bind(row.seq)
            .execute(&mut *tx)
            .await?;
        store_server_copy(&mut tx, user, etag).await?;
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The server refused `row` with a 412; decides between confirmed, rebase and conflict.
    async fn on_stale(&self, row: &Row, problem: &Problem) -> Result<Stale> {
        let (Some(current), Some(theirs_etag)) = (&problem.current, &problem.current_etag) else {
            self.fail(row, problem).await?;
            return Ok(Stale::Refused);
        };
        let theirs: User = serde_json::from_value(current.clone()).map_err(|e| Error::Protocol(format!("a 412 without a readable user: {e}")))?;
        let base: User = parse(&row.base_json)?;
        let patch: UserPatch = parse(&row.patch)?;
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        let (roles, groups) = lookups(&mut tx, &patch).await?;
        let mut mine = base.clone();
        apply_patch(&mut mine, &patch, &roles, &groups);
        let verdict = judge(&fields(&patch, &mine, &theirs, &base));
        store_server_copy(&mut tx, &theirs, theirs_etag).await?;
        match verdict {
            Stale::AlreadyApplied => {
                sqlx::query("DELETE FROM outbox WHERE seq = ?").bind(row.seq).execute(&mut *tx).await?;
            }
            Stale::Rebase => {
                // The old key's request was definitely not applied (412), so a new key is safe.
                sqlx::query("UPDATE outbox SET idempotency_key = ?, base_etag = ?, base_json = ?, attempts = attempts + 1 WHERE seq = ?")
                    .bind(new_key())
                    .bind(theirs_etag)
                    .bind(to_json(&theirs)?)
                    .bind(row.seq)
                    .execute(&mut *tx)
                    .await?;
            }
            // `judge` never refuses; that verdict comes only from the missing-body case above.
            Stale::Refused => {}
            Stale::Conflict => {
                sqlx::query(
                    "UPDATE outbox SET state = 'conflict', theirs_json = ?, theirs_etag = ?, attempts = attempts + 1, \
                     last_error = 'Someone changed this user on the server in the meantime.' WHERE seq = ?",
                )
                .bind(to_json(&theirs)?)
                .bind(theirs_etag)
                .bind(row.seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(verdict)
    }

    /// The server refused `row` for good (until the admin edits or retries it).
    async fn fail(&self, row: &Row, problem: &Problem) -> Result<()> {
        let field_errors: Vec<String> = problem.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        sqlx::query("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, field_errors = ? WHERE seq = ?")
            .bind(&problem.detail)
            .bind(to_json(&field_errors)?)
            .bind(row.seq)
            .execute(&mut *tx)
            .await?;
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `row` could not be sent now; it waits with backoff. Returns when to retry.
    async fn postpone(&self, row: &Row, why: &str) -> Result<i64> {
        let attempts = u32::try_from(row.attempts + 1).unwrap_or(u32::MAX);
        let at = now_ms() + backoff_ms(attempts);
        sqlx::query("UPDATE outbox SET attempts = ?, not_before = ?, last_error = ? WHERE seq = ?")
            .bind(i64::from(attempts))
            .bind(at)
            .bind(why)
            .bind(row.seq)
            .execute(&self.db)
            .await?;
        Ok(at)
    }

    /// Makes every pending entry due now (the app came back online; retry at once).
    pub async fn retry_now(&self) -> Result<()> {
        sqlx::query("UPDATE outbox SET not_before = 0 WHERE state = 'pending'").execute(&self.db).await?;
        Ok(())
    }

    /// Settles a conflicted or failed entry.
    pub async fn settle(&self, seq: i64, resolution: &Resolution) -> Result<()> {
        let row = self.row(seq).await?;
        if row.state == OutboxState::Pending.as_str() {
            return Err(Error::Invalid("This change is still waiting to be sent; only conflicts and refusals need settling.".into()));
        }
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        match resolution {
            Resolution::KeepTheirs => {
                sqlx::query("DELETE FROM outbox WHERE seq = ?").bind(seq).execute(&mut *tx).await?;
            }
            Resolution::Edit { .. } if row.action()? != OutboxAction::Edit => {
                return Err(Error::Invalid("Only an edit can be changed; retry or drop this one.".into()));
            }
            Resolution::ReapplyMine | Resolution::Edit { .. } => {
                let patch = match resolution {
                    Resolution::Edit { patch } if patch.is_empty() => return Err(Error::Invalid("The edit changes nothing.".into())),
                    Resolution::Edit { patch } => to_json(patch)?,
                    _ => row.patch.clone(),
                };
                // On top of the server's copy now: the conflict's, or the latest synced.
                let (base_json, base_etag) = match (&row.theirs_json, &row.theirs_etag) {
                    (Some(j), Some(e)) => (j.clone(), e.clone()),
                    _ => {
                        let current: Option<(Option<String>, Option<String>)> =
                            sqlx::query_as("SELECT COALESCE(server_json, json), etag FROM users WHERE id = ?").bind(&row.user_id).fetch_optional(&mut *tx).await?;
                        match current {
                            Some((Some(j), Some(e))) => (j, e),
                            _ => (row.base_json.clone(), row.base_etag.clone()),
                        }
                    }
                };
                // The old key's request was refused (412 or 4xx): a new key cannot apply twice.
                sqlx::query(
                    "UPDATE outbox SET idempotency_key = ?, base_etag = ?, base_json = ?, patch = ?, state = 'pending', attempts = 0, \
                     not_before = 0, last_error = NULL, field_errors = '[]', theirs_json = NULL, theirs_etag = NULL WHERE seq = ?",
                )
                .bind(new_key())
                .bind(base_etag)
                .bind(base_json)
                .bind(patch)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Drops one entry, whatever its state (the admin chose to).
    pub async fn discard(&self, seq: i64) -> Result<()> {
        let row = self.row(seq).await?;
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        sqlx::query("DELETE FROM outbox WHERE seq = ?").bind(seq).execute(&mut *tx).await?;
        recompute_user(&mut tx, &row.user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Drops every entry (sign-out with "discard"). Returns how many.
    pub async fn discard_all(&self) -> Result<u64> {
        let mut tx = self.db.begin_with(crate::cache::BEGIN_WRITE).await?;
        let users: Vec<String> = sqlx::query_scalar("SELECT DISTINCT user_id FROM outbox").fetch_all(&mut *tx).await?;
        let n = sqlx::query("DELETE FROM outbox").execute(&mut *tx).await?.rows_affected();
        for user in users {
            recompute_user(&mut tx, &user).await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Answers worth retrying as they are: the server is failing or busy, not refusing.
fn transient(p: &Problem) -> bool {
    p.status >= 500 || p.status == 408 || p.status == 429 || p.code == "idempotency_key_in_flight"
}

impl Client {
    /// Sends the pending entries of `cache`'s outbox in order until it is empty, the server
    /// is unreachable (entries wait with backoff), or the session ends (an error).
    pub async fn replay(&self, cache: &Cache) -> Result<ReplayOutcome> {
        let mut out = ReplayOutcome::default();
        while let Some(row) = cache.next_pending().await? {
            if row.not_before > now_ms() {
                out.retry_at = Some(row.not_before);
                out.last_error = row.last_error;
                return Ok(out);
            }
            if self.send_row(cache, row, &mut out).await?.is_break() {
                return Ok(out);
            }
        }
        Ok(out)
    }

    /// Sends the pending entry `seq` now, ahead of the queue (a force logout does not wait
    /// behind edits). Nothing happens if it is no longer pending.
    pub async fn send_entry(&self, cache: &Cache, seq: i64) -> Result<ReplayOutcome> {
        let mut out = ReplayOutcome::default();
        if let Ok(row) = cache.row(seq).await
            && row.state == OutboxState::Pending.as_str()
        {
            // Sent or postponed, only this entry is concerned: there is no queue to stop.
            let _sent_or_postponed = self.send_row(cache, row, &mut out).await?;
        }
        Ok(out)
    }

    /// Sends one entry and settles it; `Break` when the server cannot be reached or is
    /// busy (the entry waits with backoff and so does the rest of the queue).
    async fn send_row(&self, cache: &Cache, row: Row, out: &mut ReplayOutcome) -> Result<std::ops::ControlFlow<()>> {
        use std::ops::ControlFlow::{Break, Continue};
        let sent = match row.action()? {
            OutboxAction::Edit => {
                let patch: UserPatch = parse(&row.patch)?;
                self.update_user(&row.user_id, &row.base_etag, &patch, &row.idempotency_key).await.map(Some)
            }
            // Status changes state their intent; they need no If-Match.
            OutboxAction::Deactivate => self.deactivate_user(&row.user_id, &row.idempotency_key).await.map(Some),
            OutboxAction::Reactivate => self.reactivate_user(&row.user_id, &row.idempotency_key).await.map(Some),
            OutboxAction::Remove => self.remove_user(&row.user_id, &row.idempotency_key).await.map(|()| None),
            OutboxAction::Logout => match self.force_logout(&row.user_id, &row.idempotency_key, row.logout_options().suspend_api_keys).await {
                Ok(done) => {
                    cache.confirm_logout(&row, &done).await?;
                    out.confirmed += 1;
                    return Ok(Continue(()));
                }
                Err(e) => Err(e),
            },
        };
        match sent {
            Ok(Some(v)) => {
                cache.confirm(&row, &v.value, &v.etag).await?;
                out.confirmed += 1;
            }
            Ok(None) => {
                cache.confirm_removed(&row).await?;
                out.confirmed += 1;
            }
            // Already gone: the removal's purpose is met, and a removed user has no sessions.
            Err(Error::Api(p)) if p.status == 404 && matches!(row.action()?, OutboxAction::Remove | OutboxAction::Logout) => {
                cache.confirm_removed(&row).await?;
                out.confirmed += 1;
            }
            Err(Error::Api(p)) if p.code == codes::PRECONDITION_FAILED => match cache.on_stale(&row, &p).await? {
                Stale::AlreadyApplied => out.confirmed += 1,
                Stale::Rebase => {}
                Stale::Conflict => out.conflicts += 1,
                Stale::Refused => {
                    out.failed += 1;
                    out.refusal = Some(p);
                }
            },
            Err(Error::Api(p)) if transient(&p) => {
                out.retry_at = Some(cache.postpone(&row, &p.detail).await?);
                out.last_error = Some(p.detail);
                return Ok(Break(()));
            }
            Err(Error::Api(p)) => {
                cache.fail(&row, &p).await?;
                out.failed += 1;
                out.refusal = Some(p);
            }
            Err(e @ (Error::Unreachable { .. } | Error::Protocol(_))) => {
                let why = e.to_string();
                out.retry_at = Some(cache.postpone(&row, &why).await?);
                out.last_error = Some(why);
                return Ok(Break(()));
            }
            Err(e) => return Err(e),
        }
        Ok(Continue(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_api::UserStatus;

    fn user() -> User {
        User {
            id: "u1".into(),
            email: "a@b.co".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            display_name: "Ann Lee".into(),
            status: UserStatus::Active,
            roles: vec![RoleRef { id: "r1".into(), key: "member".into(), name: "Member".into() }],
            departments: vec![],
            mfa_enabled: false,
            last_active_at: None,
            last_login_at: None,
            created_at: chrono::Utc::now(),
            custom_attributes: Default::default(),
            avatar_url: None,
            auth_methods: vec![],
            notification_preferences: Default::default(),
        }
    }

    fn verdict(patch: &UserPatch, theirs: &User) -> Stale {
        let base = user();
        let mut mine = base.clone();
        apply_patch(&mut mine, patch, &[], &[]);
        judge(&fields(patch, &mine, theirs, &base))
    }

    #[test]
    fn patches_apply_like_the_server() {
        let mut u = user();
        let patch = UserPatch {
            first_name: Some(" Anna ".into()),
            custom_attributes: Some([("cc".to_owned(), Some("42".to_owned()))].into()),
            ..Default::default()
        };
        apply_patch(&mut u, &patch, &[], &[]);
        assert_eq!((u.display_name.as_str(), u.custom_attributes["cc"].as_str()), ("Anna Lee", "42"));
        let remove = UserPatch { custom_attributes: Some([("cc".to_owned(), None)].into()), ..Default::default() };
        apply_patch(&mut u, &remove, &[], &[]);
        assert!(u.custom_attributes.is_empty());
    }

    #[test]
    fn a_stale_edit_is_judged_field_by_field() {
        let rename = UserPatch { first_name: Some("Anna".into()), ..Default::default() };
        // Someone else changed another field: no clash, rebase.
        let mut theirs = user();
        theirs.last_name = "Park".into();
        assert_eq!(verdict(&rename, &theirs), Stale::Rebase);
        // The server already has my value (an earlier attempt applied, or the same edit).
        theirs.first_name = "Anna".into();
        assert_eq!(verdict(&rename, &theirs), Stale::AlreadyApplied);
        // Someone else changed the same field to something else: a conflict.
        theirs.first_name = "Annie".into();
        assert_eq!(verdict(&rename, &theirs), Stale::Conflict);
        // E-mail compares case-insensitively.
        let email = UserPatch { email: Some("NEW@b.co".into()), ..Default::default() };
        let mut theirs = user();
        theirs.email = "new@B.co".into();
        assert_eq!(verdict(&email, &theirs), Stale::AlreadyApplied);
    }

    #[test]
    fn etag_versions_order_copies() {
        assert!(etag_version("\"v10\"") > etag_version("\"v9\""));
        assert_eq!(etag_version("W/nonsense"), None);
    }

    #[test]
    fn backoff_grows_to_a_minute_with_jitter() {
        for (attempt, base) in [(0, 1000), (1, 2000), (3, 8000), (9, 60_000)] {
            let d = backoff_ms(attempt);
            assert!((base * 8 / 10..=base * 12 / 10).contains(&d), "{attempt}: {d}");
        }
    }
}
