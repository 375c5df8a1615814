//! The in-memory index behind the cache's lists (SPEC C5): every user's sort key, search
//! text, status and memberships, in list order, with the search texts laid end to end in
//! one buffer so a search is one SIMD substring scan, not a query per keystroke. It
//! answers a page of ids and the count badges; the rows themselves come from SQLite.
//!
//! SQLite stays the truth: triggers record each committed change to a user in
//! `users_touched`, and the index catches up from there before it answers, reloading
//! whole when much changed (a first sync, a reset).

use crate::error::Result;
use gatehouse_api::{UserCounts, UserStatus};
use memchr::memmem;
use crate::cache::push_list;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Past this many changed users, a full reload is cheaper than patching.
const PATCH_LIMIT: usize = 2000;

/// One user as the list sees it.
#[derive(Debug, Clone)]
struct Item {
    sort: Box<str>,
    id: Box<str>,
    search: Box<str>,
    status: UserStatus,
    roles: Box<[u32]>,
    groups: Box<[u32]>,
}

impl Item {
    fn key(&self) -> (&str, &str) {
        (&self.sort, &self.id)
    }
}

/// What a list asks for, resolved to the index's terms.
#[derive(Debug, Default)]
pub(crate) struct Query<'a> {
    /// Lower-cased search text.
    pub q: Option<&'a str>,
    pub status: Option<UserStatus>,
    /// A role id; an id nobody holds matches nobody.
    pub role: Option<&'a str>,
    /// A group id, likewise.
    pub group: Option<&'a str>,
    /// Start after this (sort key, id).
    pub after: Option<(&'a str, &'a str)>,
    pub limit: usize,
}

/// Items from rows and their memberships, in list order.
fn items(rows: Vec<Row>, mut memberships: HashMap<String, (Vec<u32>, Vec<u32>)>) -> Vec<Item> {
    let mut items: Vec<Item> = rows
        .into_iter()
        .map(|(id, sort, search, status)| {
            let (roles, groups) = memberships.remove(&id).unwrap_or_default();
            Item {
                sort: sort.into(),
                id: id.into(),
                search: search.into(),
                status: UserStatus::parse(&status).unwrap_or(UserStatus::Active),
                roles: roles.into(),
                groups: groups.into(),
            }
        })
        .collect();
    items.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
    items
}

/// A page: ids in list order (at most `limit + 1`: one more says another page follows),
/// with each one's (sort key, id) for the cursor, and the counts ignoring `status`.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub ids: Vec<(String, String)>,
    pub counts: UserCounts,
}

#[derive(Default)]
pub(crate) struct Index {
    loaded: bool,
    /// The last `users_touched` entry taken in.
    through: i64,
    /// In list order: (sort key, id).
    items: Vec<Item>,
    /// The search texts end to end, `\0` after each; `starts[i]` is item i's offset.
    hay: Vec<u8>,
    starts: Vec<usize>,
    roles: Interner,
    groups: Interner,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("users", &self.items.len()).field("through", &self.through).finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Interner(HashMap<String, u32>);

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(n) = self.0.get(s) {
            return *n;
        }
        let n = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        self.0.insert(s.to_owned(), n);
        n
    }
}

type Row = (String, String, String, String);

impl Index {
    /// Brings the index up to what `conn` has committed.
    pub async fn catch_up(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM users_touched").fetch_one(&mut *tx).await?;
        if self.loaded && head == self.through {
            return Ok(());
        }
        let touched: Vec<String> = if self.loaded {
            sqlx::query_scalar("SELECT DISTINCT user_id FROM users_touched WHERE seq > ? AND seq <= ? LIMIT ?")
                .bind(self.through)
                .bind(head)
                .bind(i64::try_from(PATCH_LIMIT + 1).unwrap_or(i64::MAX))
                .fetch_all(&mut *tx)
                .await?
        } else {
            Vec::new()
        };
        if !self.loaded || touched.len() > PATCH_LIMIT {
            self.reload(&mut tx).await?;
        } else {
            self.patch(&mut tx, &touched).await?;
        }
        tx.commit().await?;
        self.through = head;
        self.loaded = true;
        // What is taken in is not needed again (one index per cache file at a time).
        sqlx::query("DELETE FROM users_touched WHERE seq <= ?").bind(head).execute(&mut *conn).await?;
        Ok(())
    }

    async fn reload(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        // One JSON value, not a row per user: sqlx hands rows over one at a time, which
        // for 100 000 users costs far more than reading them.
        let rows: String = sqlx::query_scalar("SELECT json_group_array(json_array(id, sort_name, search_text, status)) FROM users")
            .fetch_one(&mut *conn)
            .await?;
        let rows: Vec<Row> = serde_json::from_str(&rows).map_err(|e| crate::Error::Cache(e.to_string()))?;
        let memberships = self.memberships(conn, None).await?;
        self.items = items(rows, memberships);
        self.rebuild_hay();
        Ok(())
    }

    /// Replaces the items of `ids` with their rows now (none for a deleted user).
    async fn patch(&mut self, conn: &mut SqliteConnection, ids: &[String]) -> Result<()> {
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT id, sort_name, search_text, status FROM users WHERE id IN ");
        push_list(&mut qb, ids.iter().map(String::as_str));
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&mut *conn).await?;
        let memberships = self.memberships(conn, Some(ids)).await?;
        let fresh = items(rows, memberships);
        let gone: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let old = std::mem::take(&mut self.items);
        let mut merged = Vec::with_capacity(old.len() + fresh.len());
        let mut fresh = fresh.into_iter().peekable();
        for item in old.into_iter().filter(|i| !gone.contains(&*i.id)) {
            while let Some(f) = fresh.next_if(|f| f.key() < item.key()) {
                merged.push(f);
            }
            merged.push(item);
        }
        merged.extend(fresh);
        self.items = merged;
        self.rebuild_hay();
        Ok(())
    }

    /// Role and group ids per user (of `ids`, or everyone's).
    async fn memberships(&mut self, conn: &mut SqliteConnection, ids: Option<&[String]>) -> Result<HashMap<String, (Vec<u32>, Vec<u32>)>> {
        let mut out: HashMap<String, (Vec<u32>, Vec<u32>)> = HashMap::new();
        for (table, column, is_role) in [("user_roles", "role_id", true), ("user_groups", "group_id", false)] {
            let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT json_group_array(json_array(user_id, {column})) FROM {table}"));
            if let Some(ids) = ids {
                qb.push(" WHERE user_id IN ");
                push_list(&mut qb, ids.iter().map(String::as_str));
            }
            let pairs: String = qb.build_query_scalar().fetch_one(&mut *conn).await?;
            let pairs: Vec<(String, String)> = serde_json::from_str(&pairs).map_err(|e| crate::Error::Cache(e.to_string()))?;
            for (user, other) in pairs {
                let entry = out.entry(user).or_default();
                if is_role {
                    entry.0.push(self.roles.intern(&other));
                } else {
                    entry.1.push(self.groups.intern(&other));
                }
            }
        }
        Ok(out)
    }

    fn rebuild_hay(&mut self) {
        self.hay.clear();
        self.starts.clear();
        for item in &self.items {
            self.starts.push(self.hay.len());
            self.hay.extend_from_slice(item.search.as_bytes());
            self.hay.push(0);
        }
        self.starts.push(self.hay.len());
    }

    /// One page and the counts.
    pub fn find(&self, query: &Query<'_>) -> Found {
        let mut found = Found::default();
        let role = match query.role {
            Some(r) => match self.roles.0.get(r) {
                Some(n) => Some(*n),
                None => return found,
            },
            None => None,
        };
        let group = match query.group {
            Some(g) => match self.groups.0.get(g) {
                Some(n) => Some(*n),
                None => return found,
            },
            None => None,
        };
        let first = query.after.map_or(0, |after| self.items.partition_point(|i| i.key() <= after));
        let mut visit = |i: usize| {
            let item = &self.items[i];
            if role.is_some_and(|r| !item.roles.contains(&r)) || group.is_some_and(|g| !item.groups.contains(&g)) {
                return;
            }
            let counts = &mut found.counts;
            match item.status {
                UserStatus::Active => counts.active += 1,
                UserStatus::Pending => counts.pending += 1,
                UserStatus::Deactivated => counts.deactivated += 1,
            }
            counts.all += 1;
            if i >= first && query.status.is_none_or(|s| s == item.status) && found.ids.len() <= query.limit {
                found.ids.push((item.sort.to_string(), item.id.to_string()));
            }
        };
        match query.q {
            None => (0..self.items.len()).for_each(&mut visit),
            Some(q) if q.as_bytes().contains(&0) => {}
            Some(q) => {
                // One scan over all texts; after a hit, go on from the next user's text.
                let finder = memmem::Finder::new(q.as_bytes());
                let (mut at, mut i) = (0, 0);
                while let Some(off) = finder.find(&self.hay[at..]) {
                    let hit = at + off;
                    while self.starts[i + 1] <= hit {
                        i += 1;
                    }
                    visit(i);
                    i += 1;
                    if i >= self.items.len() {
                        break;
                    }
                    at = self.starts[i];
                }
            }
        }
        found
    }
}

/// What [`Index::find`] answers, read from SQLite with the cache's indexes instead: for
/// the moments the index is not built yet. Same order, same page, same counts.
pub(crate) async fn find_in_sqlite(conn: &mut SqliteConnection, query: &Query<'_>) -> Result<Found> {
    let mut found = Found::default();
    if query.q.is_some_and(|q| q.contains('\0')) {
        return Ok(found);
    }
    // The filters both the page and the counts obey (the status filter only the page).
    let filters = |qb: &mut QueryBuilder<'_, Sqlite>| {
        qb.push(" WHERE 1 = 1");
        if let Some(q) = query.q {
            qb.push(" AND instr(search_text, ").push_bind(q.to_owned()).push(") > 0");
        }
        if let Some(role) = query.role {
            qb.push(" AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role_id = ").push_bind(role.to_owned()).push(")");
        }
        if let Some(group) = query.group {
            qb.push(" AND EXISTS (SELECT 1 FROM user_groups g WHERE g.user_id = users.id AND g.group_id = ").push_bind(group.to_owned()).push(")");
        }
    };
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*), COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'deactivated'), 0) FROM users");
    filters(&mut qb);
    let (all, pending, deactivated): (i64, i64, i64) = qb.build_query_as().fetch_one(&mut *conn).await?;
    let n = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
    found.counts = UserCounts { active: n(all - pending - deactivated), pending: n(pending), deactivated: n(deactivated), all: n(all) };
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT sort_name, id FROM users");
    filters(&mut qb);
    match query.status {
        // Like the index, which reads a status it does not know as active.
        Some(UserStatus::Active) => qb.push(" AND status NOT IN ('pending', 'deactivated')"),
        Some(status) => qb.push(" AND status = ").push_bind(status.as_str()),
        None => &mut qb,
    };
    if let Some((sort, id)) = query.after {
        qb.push(" AND (sort_name, id) > (").push_bind(sort.to_owned()).push(", ").push_bind(id.to_owned()).push(")");
    }
    qb.push(" ORDER BY sort_name, id LIMIT ").push_bind(i64::try_from(query.limit + 1).unwrap_or(i64::MAX));
    found.ids = qb.build_query_as().fetch_all(&mut *conn).await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(users: &[(&str, &str, UserStatus, &[&str])]) -> Index {
        let mut index = Index::default();
        let mut items: Vec<Item> = users
            .iter()
            .map(|(id, name, status, roles)| Item {
                sort: name.to_lowercase().into(),
                id: (*id).into(),
                search: format!("{} {id}@example.test", name.to_lowercase()).into(),
                status: *status,
                roles: roles.iter().map(|r| index.roles.intern(r)).collect(),
                groups: Box::default(),
            })
            .collect();
        items.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
        index.items = items;
        index.rebuild_hay();
        index
    }

    fn ids(found: &Found) -> Vec<&str> {
        found.ids.iter().map(|(_, id)| id.as_str()).collect()
    }

    #[test]
    fn a_search_counts_each_user_once_however_often_the_text_matches() {
        use UserStatus::*;
        let idx = index(&[("u1", "Anna Banana", Active, &["admin"]), ("u2", "Bob", Pending, &[]), ("u3", "Hannah", Deactivated, &["admin"])]);
        let found = idx.find(&Query { q: Some("an"), limit: 10, ..Default::default() });
        assert_eq!(ids(&found), ["u1", "u3"]);
        assert_eq!((found.counts.active, found.counts.pending, found.counts.deactivated, found.counts.all), (1, 0, 1, 2));
        // A match that would span two users' texts is no match.
        assert!(idx.find(&Query { q: Some("test bob"), limit: 10, ..Default::default() }).ids.is_empty());
        // Status filters the page, not the counts; roles filter both.
        let found = idx.find(&Query { q: Some("an"), status: Some(Deactivated), limit: 10, ..Default::default() });
        assert_eq!((ids(&found), found.counts.all), (vec!["u3"], 2));
        let found = idx.find(&Query { role: Some("admin"), limit: 10, ..Default::default() });
        assert_eq!((ids(&found), found.counts.all), (vec!["u1", "u3"], 2));
        assert_eq!(idx.find(&Query { role: Some("nobody-has-it"), limit: 10, ..Default::default() }).counts.all, 0);
    }

    #[test]
    fn pages_continue_after_the_cursor_and_hold_one_extra() {
        use UserStatus::*;
        let idx = index(&[("a", "Ada", Active, &[]), ("b", "Bea", Active, &[]), ("c", "Cy", Active, &[]), ("d", "Di", Active, &[])]);
        let first = idx.find(&Query { limit: 2, ..Default::default() });
        assert_eq!(ids(&first), ["a", "b", "c"], "limit + 1 says more follow");
        let next = idx.find(&Query { after: Some(("bea", "b")), limit: 2, ..Default::default() });
        assert_eq!(ids(&next), ["c", "d"]);
        assert_eq!(next.counts.all, 4, "counts cover the whole list, not the page");
    }
}
