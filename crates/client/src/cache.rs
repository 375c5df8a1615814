//! The local cache of one connection (SPEC C3, C5): a SQLite file, in WAL mode, holding
//! what the change feed delivered. Lists, search, filters and counts read from it, with
//! the server's semantics, so they work offline and never wait on the network.

use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_api::{
    Change, ChangeKind, ChangePage, DEFAULT_USER_PAGE, MAX_USER_PAGE, User, UserListQuery, UserPage,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool, Transaction};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use crate::search::{Index, Query};

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // Pools close only when the copy is removed (`Cache::remove`): at sign-out, or
            // because the server revoked the session. Either way the session is over here.
            sqlx::Error::PoolClosed => Self::NotSignedIn,
            e => Self::Cache(e.to_string()),
        }
    }
}

/// How write transactions start: with the write lock taken at once, so the busy
/// timeout applies. A deferred transaction that reads first and then writes fails at
/// once with "database is locked" if another connection wrote in between.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// One connection's cache.
#[derive(Debug, Clone)]
pub struct Cache {
    pub(crate) db: SqlitePool,
    /// One connection for writing feed pages, without waiting for the disk at each
    /// commit (synchronous=NORMAL): a page lost to a power cut takes the cursor that moved
    /// with it, so the next sync fetches it again. Everything else, the outbox first,
    /// goes through `db`, which waits (FULL).
    pub(crate) feed: SqlitePool,
    /// What lists and search read (see search.rs).
    index: Arc<tokio::sync::Mutex<Index>>,
    /// Whether the index has been built once. Until then lists are answered from SQLite
    /// and the first of them starts building the index in the background: after a
    /// restart with a large cache, the first page does not wait for the whole build.
    index_built: Arc<AtomicBool>,
    /// Whether that background build has been started.
    index_building: Arc<AtomicBool>,
    /// The database file (its `-wal` and `-shm` files sit beside it).
    pub(crate) path: Arc<PathBuf>,
    /// Held while the copy is being removed; says what a finished removal left.
    pub(crate) removal: Arc<tokio::sync::Mutex<Option<crate::local_copy::Removal>>>,
}

impl Cache {
    /// Opens (creating) the cache file at `path`: 0600, in a directory made (or tightened
    /// to) 0700, since it holds the organization's directory.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::private_files::create_private_dir(dir).map_err(|e| Error::Cache(format!("creating {}: {e}", dir.display())))?;
        }
        // Created before SQLite opens it (an empty file is a new database): SQLite's unix
        // VFS gives the -wal, -shm and -journal files it creates the database file's mode.
        // Those of an older version are tightened too.
        crate::private_files::ensure_private_file(path).map_err(|e| Error::Cache(format!("creating {}: {e}", path.display())))?;
        for companion in crate::local_copy::companions(path) {
            crate::private_files::tighten_if_present(&companion).map_err(|e| Error::Cache(format!("securing {}: {e}", companion.display())))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: what the cache says it applied survives a power cut (the outbox needs it).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let db = SqlitePoolOptions::new().max_connections(4).connect_with(options.clone()).await?;
        sqlx::migrate!("./migrations").run(&db).await.map_err(|e| Error::Cache(e.to_string()))?;
        let feed = SqlitePoolOptions::new().max_connections(1).connect_with(options.synchronous(SqliteSynchronous::Normal)).await?;
        Ok(Self {
            db,
            feed,
            index: Arc::default(),
            index_built: Arc::default(),
            index_building: Arc::default(),
            path: Arc::new(path.to_owned()),
            removal: Arc::default(),
        })
    }

    /// The feed cursor the cache is at, if it has synced at all.
    pub async fn cursor(&self) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = 'cursor'").fetch_optional(&self.db).await?)
    }

    /// Applies one page of the feed, and moves the cursor, in one transaction: a crash
    /// leaves the cache at the previous page, never half-way.
    pub async fn apply(&self, page: &ChangePage) -> Result<()> {
        let mut tx = self.feed.begin_with(BEGIN_WRITE).await?;
        // Users come in bulk (a first sync is nearly all users), so they are written a
        // few hundred per statement; the other kinds are few and written one by one.
        let mut users: Vec<(&User, Option<&str>)> = Vec::new();
        let mut gone: Vec<&str> = Vec::new();
        for change in &page.changes {
            match (change.kind, change.deleted) {
                (ChangeKind::User, true) => gone.push(&change.id),
                (ChangeKind::User, false) => {
                    let Some(user) = &change.user else { return Err(Error::Protocol(format!("user change {} without the user", change.seq))) };
                    users.push((user, change.etag.as_deref()));
                }
                _ => apply_change(&mut tx, change).await?,
            }
        }
        apply_users(&mut tx, &users, &gone).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(&page.cursor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A value the app keeps with the cache (last sync time, the account shown offline).
    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?").bind(format!("app.{key}")).fetch_optional(&self.db).await?)
    }

    /// Stores a value with the cache; see [`Self::meta`].
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(format!("app.{key}"))
            .bind(value)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets everything (before a full resync).
    pub async fn reset(&self) -> Result<()> {
        let mut tx = self.db.begin_with(BEGIN_WRITE).await?;
        // The outbox stays: a full resync must not lose the admin's queued edits.
        sqlx::query("DELETE FROM meta WHERE key NOT LIKE 'app.%'").execute(&mut *tx).await?;
        for table in ["users", "user_roles", "user_groups", "roles", "groups", "organization", "invitations"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One page of users, like `GET /v1/users`: search (case-insensitive, in name and
    /// e-mail), status, role (key or id), department (id or name), keyset paging, and
    /// counts that ignore the status filter.
    pub async fn list_users(&self, query: &UserListQuery) -> Result<UserPage> {
        let limit = query.limit.unwrap_or(DEFAULT_USER_PAGE).clamp(1, MAX_USER_PAGE) as usize;
        let q = query.q.as_deref().map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        let role = match &query.role {
            Some(r) => Some(self.resolve("SELECT id FROM roles WHERE id = ? OR key = ?", r).await?),
            None => None,
        };
        let group = match &query.department {
            Some(d) => Some(self.resolve("SELECT id FROM groups WHERE id = ? OR lower(name) = lower(?)", d).await?),
            None => None,
        };
        let after = match &query.cursor {
            Some(cursor) => Some(decode_cursor(cursor).ok_or_else(|| Error::Invalid("this list cursor is not from the cache".into()))?),
            None => None,
        };
        let mut conn = self.db.acquire().await?;
        let asked = Query {
            q: q.as_deref(),
            status: query.status,
            role: role.as_deref(),
            group: group.as_deref(),
            after: after.as_ref().map(|(s, i)| (s.as_str(), i.as_str())),
            limit,
        };
        let found = if self.index_built.load(Ordering::Acquire) {
            let mut index = self.index.lock().await;
            index.catch_up(&mut conn).await?;
            index.find(&asked)
        } else {
            // Not built yet: SQLite answers the same question, more slowly per keystroke
            // but without waiting for the build, which starts now.
            let started = std::time::Instant::now();
            let found = crate::search::find_in_sqlite(&mut conn, &asked).await?;
            tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "list answered from SQLite (index not built yet)");
            self.build_index_in_background();
            found
        };
        let mut ids = found.ids;
        let next_cursor = if ids.len() > limit {
            ids.truncate(limit);
            ids.last().map(|(sort, id)| encode_cursor(sort, id))
        } else {
            None
        };
        let mut json: HashMap<String, String> = HashMap::new();
        if !ids.is_empty() {
            let mut qb = QueryBuilder::<Sqlite>::new("SELECT id, json FROM users WHERE id IN ");
            push_list(&mut qb, ids.iter().map(|(_, id)| id.as_str()));
            json.extend(qb.build_query_as::<(String, String)>().fetch_all(&mut *conn).await?);
        }
        // A user deleted since the index answered is left out.
        let items = ids
            .iter()
            .filter_map(|(_, id)| json.remove(id))
            .map(|j| serde_json::from_str::<User>(&j).map_err(|e| Error::Cache(e.to_string())))
            .collect::<Result<Vec<_>>>()?;
        Ok(UserPage { items, next_cursor, counts: found.counts })
    }

    /// Starts building the list index, once, without waiting for it.
    fn build_index_in_background(&self) {
        if self.index_building.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match cache.build_index().await {
                Ok(()) => tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "list index built"),
                Err(e) => {
                    // The next list tries again; meanwhile SQLite answers.
                    tracing::warn!(error = %e, "building the list index failed");
                    cache.index_building.store(false, Ordering::Release);
                }
            }
        });
    }

    /// Waits until the list index is built and caught up, so the lists that follow come
    /// from memory. The app calls it after a large sync.
    pub async fn build_index(&self) -> Result<()> {
        let mut conn = self.db.acquire().await?;
        self.index.lock().await.catch_up(&mut conn).await?;
        self.index_built.store(true, Ordering::Release);
        Ok(())
    }

    /// Holds the list index as its first build would, so tests can check the answers
    /// given meanwhile (from SQLite). Not for anything else.
    #[doc(hidden)]
    pub async fn hold_index_for_tests(&self) -> IndexHold {
        IndexHold(self.index.clone().lock_owned().await)
    }

    /// A role or group id for a filter; an unknown one matches nothing.
    async fn resolve(&self, sql: &str, value: &str) -> Result<String> {
        let id: Option<String> = sqlx::query_scalar(sql).bind(value).bind(value).fetch_optional(&self.db).await?;
        Ok(id.unwrap_or_else(|| "\u{0}unknown".to_owned()))
    }
}

/// See [`Cache::hold_index_for_tests`]; released when dropped.
#[doc(hidden)]
pub struct IndexHold(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<Index>);

async fn apply_change(tx: &mut Transaction<'_, Sqlite>, change: &Change) -> Result<()> {
    match (change.kind, change.deleted) {
        // Users go through `apply_users`.
        (ChangeKind::User, _) => {}
        (ChangeKind::Role, true) => {
            sqlx::query("DELETE FROM roles WHERE id = ?").bind(&change.id).execute(&mut **tx).await?;
        }
        (ChangeKind::Role, false) => {
            let Some(role) = &change.role else { return Err(Error::Protocol(format!("role change {} without the role", change.seq))) };
            sqlx::query("INSERT INTO roles (id, key, json) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET key = excluded.key, json = excluded.json")
                .bind(&role.id)
                .bind(&role.key)
                .bind(to_json(role)?)
                .execute(&mut **tx)
                .await?;
        }
        (ChangeKind::Group, true) => {
            sqlx::query("DELETE FROM groups WHERE id = ?").bind(&change.id).execute(&mut **tx).await?;
        }
        (ChangeKind::Group, false) => {
            let Some(group) = &change.group else { return Err(Error::Protocol(format!("group change {} without the group", change.seq))) };
            sqlx::query("INSERT INTO groups (id, name, json) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, json = excluded.json")
                .bind(&group.id)
                .bind(&group.name)
                .bind(to_json(group)?)
                .execute(&mut **tx)
                .await?;
        }
        (ChangeKind::Invitation, true) => {
            sqlx::query("DELETE FROM invitations WHERE id = ?").bind(&change.id).execute(&mut **tx).await?;
        }
        (ChangeKind::Invitation, false) => {
            let Some(invitation) = &change.invitation else {
                return Err(Error::Protocol(format!("invitation change {} without the invitation", change.seq)));
            };
            crate::invitations::put(tx, invitation).await?;
        }
        (ChangeKind::Organization, _) => {
            if let Some(org) = &change.organization {
                sqlx::query("INSERT INTO organization (id, json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET json = excluded.json")
                    .bind(&org.id)
                    .bind(to_json(org)?)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}

/// Rows per multi-row statement: 8 parameters a row stays far below SQLite's limit.
const CHUNK: usize = 400;

/// Applies a page's user upserts (each with its ETag) and deletions in a few statements
/// per few hundred users: one read of what the cache holds, then bulk writes. A copy
/// older than the cache's (a confirmed edit got there first) is skipped; users with
/// queued edits get them shown on top of the new copy again.
pub(crate) async fn apply_users(tx: &mut Transaction<'_, Sqlite>, users: &[(&User, Option<&str>)], gone: &[&str]) -> Result<()> {
    for ids in gone.chunks(CHUNK) {
        for table in ["users WHERE id", "user_roles WHERE user_id", "user_groups WHERE user_id"] {
            let mut qb = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} IN "));
            push_list(&mut qb, ids.iter().copied());
            qb.build().execute(&mut **tx).await?;
        }
    }
    let mut stored: HashMap<String, String> = HashMap::new();
    let mut queued: HashSet<String> = HashSet::new();
    for chunk in users.chunks(CHUNK) {
        let ids = chunk.iter().map(|(u, _)| u.id.as_str());
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT id, etag FROM users WHERE etag IS NOT NULL AND id IN ");
        push_list(&mut qb, ids.clone());
        stored.extend(qb.build_query_as::<(String, String)>().fetch_all(&mut **tx).await?);
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT DISTINCT user_id FROM outbox WHERE user_id IN ");
        push_list(&mut qb, ids);
        queued.extend(qb.build_query_scalar::<String>().fetch_all(&mut **tx).await?);
    }
    let fresh: Vec<(&User, Option<&str>)> = users
        .iter()
        .copied()
        .filter(|(user, etag)| match (stored.get(&user.id), etag) {
            // A confirmed edit already gave us a newer copy than this page holds.
            (Some(stored), Some(new)) => crate::outbox::etag_version(stored) <= crate::outbox::etag_version(new),
            _ => true,
        })
        .collect();
    for chunk in fresh.chunks(CHUNK) {
        let rows = chunk
            .iter()
            .map(|(user, etag)| {
                let (sort, search) = list_keys(user);
                Ok((*user, to_json(user)?, sort, search, *etag))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO users (id, json, sort_name, search_text, status, local_state, server_json, etag) ",
        );
        qb.push_values(&rows, |mut row, (user, json, sort, search, etag)| {
            row.push_bind(user.id.as_str())
                .push_bind(json.as_str())
                .push_bind(sort.as_str())
                .push_bind(search.as_str())
                .push_bind(user.status.as_str())
                .push("NULL")
                // NULL: the row's `json` is the server's copy (no edits queued on top).
                .push("NULL")
                .push_bind(*etag);
        });
        qb.push(
            " ON CONFLICT (id) DO UPDATE SET json = excluded.json, sort_name = excluded.sort_name, \
             search_text = excluded.search_text, status = excluded.status, local_state = NULL, \
             server_json = excluded.server_json, etag = excluded.etag",
        );
        qb.build().execute(&mut **tx).await?;
        let ids = || chunk.iter().map(|(u, _)| u.id.as_str());
        for table in ["user_roles", "user_groups"] {
            let mut qb = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE user_id IN "));
            push_list(&mut qb, ids());
            qb.build().execute(&mut **tx).await?;
        }
        let roles: Vec<(&str, &str)> = chunk.iter().flat_map(|(u, _)| u.roles.iter().map(|r| (u.id.as_str(), r.id.as_str()))).collect();
        let groups: Vec<(&str, &str)> = chunk.iter().flat_map(|(u, _)| u.departments.iter().map(|g| (u.id.as_str(), g.id.as_str()))).collect();
        for (table, pairs) in [("user_roles (user_id, role_id)", &roles), ("user_groups (user_id, group_id)", &groups)] {
            for pairs in pairs.chunks(CHUNK * 4) {
                let mut qb = QueryBuilder::<Sqlite>::new(format!("INSERT OR IGNORE INTO {table} "));
                qb.push_values(pairs, |mut row, (user, other)| {
                    row.push_bind(*user).push_bind(*other);
                });
                qb.build().execute(&mut **tx).await?;
            }
        }
    }
    for (user, _) in &fresh {
        if queued.contains(&user.id) {
            // The admin's queued edits stay on top of the server's new copy.
            crate::outbox::recompute_user(tx, &user.id).await?;
        }
    }
    Ok(())
}

/// `(?, ?, …)` with one bound value per item, for `… IN` clauses.
pub(crate) fn push_list<'a>(qb: &mut QueryBuilder<'a, Sqlite>, items: impl IntoIterator<Item = &'a str>) {
    qb.push("(");
    let mut sep = qb.separated(", ");
    for item in items {
        sep.push_bind(item);
    }
    qb.push(")");
}

/// What the list sorts by and what search looks in, for `user`.
fn list_keys(user: &User) -> (String, String) {
    let sort = user.display_name.to_lowercase();
    let search = format!("{sort} {}", user.email.to_lowercase());
    (sort, search)
}

/// Writes what lists show of `user` (its `json` is `json`), with `local_state`, and its
/// role and group memberships; with `server`, also the server's copy and its ETag (else
/// they stay as stored).
pub(crate) async fn write_user(
    tx: &mut Transaction<'_, Sqlite>,
    user: &User,
    json: &str,
    local_state: Option<&str>,
    server: Option<(&str, Option<&str>)>,
) -> Result<()> {
    let (sort, search) = list_keys(user);
    sqlx::query(
        "INSERT INTO users (id, json, sort_name, search_text, status, local_state, server_json, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET json = excluded.json, sort_name = excluded.sort_name, \
         search_text = excluded.search_text, status = excluded.status, local_state = excluded.local_state, \
         server_json = COALESCE(?9, server_json, users.json), etag = CASE WHEN ?9 IS NULL THEN etag ELSE excluded.etag END",
    )
    .bind(&user.id)
    .bind(json)
    .bind(&sort)
    .bind(&search)
    .bind(user.status.as_str())
    .bind(local_state)
    .bind(server.map(|(j, _)| j))
    .bind(server.and_then(|(_, e)| e))
    .bind(server.map(|(j, _)| j))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM user_roles WHERE user_id = ?").bind(&user.id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM user_groups WHERE user_id = ?").bind(&user.id).execute(&mut **tx).await?;
    for role in &user.roles {
        sqlx::query("INSERT INTO user_roles (user_id, role_id) VALUES (?, ?)").bind(&user.id).bind(&role.id).execute(&mut **tx).await?;
    }
    for group in &user.departments {
        sqlx::query("INSERT INTO user_groups (user_id, group_id) VALUES (?, ?)").bind(&user.id).bind(&group.id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A resource as stored in its `json` column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Cache(e.to_string()))
}

fn encode_cursor(sort_name: &str, id: &str) -> String {
    B64.encode(serde_json::json!([sort_name, id]).to_string())
}

fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    serde_json::from_slice(&B64.decode(cursor).ok()?).ok()
}
