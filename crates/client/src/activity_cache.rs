//! The cached window of the activity log (cache migration 0007): the last N days of audit
//! events (default 30, 1–365 per connection), so the log, the per-user timeline and the
//! charts stay readable offline with the server's filters. `meta` says how far back the
//! cache is complete (`covered_from`) and the newest event a refresh saw (`newest`, where
//! the next refresh starts).

use crate::error::{Error, Result};
use crate::cache::{BEGIN_WRITE, to_json};
use chrono::{DateTime, DurationRound, SecondsFormat, TimeDelta, Utc};
use gatehouse_api::{AuditEvent, AuditEventQuery, DEFAULT_ACTIVITY_WINDOW_DAYS, Histogram, HistogramBar, HistogramBucket, MAX_HISTOGRAM_BARS};
use sqlx::{QueryBuilder, Sqlite};

/// Days of activity a connection may keep.
pub const ACTIVITY_WINDOW_DAYS: std::ops::RangeInclusive<u32> = 1..=365;

const WINDOW_KEY: &str = "activity.window_days";
const COVERED_KEY: &str = "activity.covered_from";
const NEWEST_KEY: &str = "activity.newest";

/// How far the cached window reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// Every event from here on (up to the last refresh) is cached; `None` before the
    /// first complete refresh.
    pub covered_from: Option<DateTime<Utc>>,
    /// The newest event a refresh fetched.
    pub newest: Option<DateTime<Utc>>,
    /// The oldest time the cache answers for: `covered_from`, no earlier than the window
    /// allows now; `now` itself when nothing is covered yet.
    pub window_start: DateTime<Utc>,
}

/// Times as stored: fixed width, so text order is time order.
fn stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.to_utc())
}

/// One entry of an `action` filter: an action, or every action under `area.` (`area.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionFilter<'a> {
    Exact(&'a str),
    Prefix(&'a str),
}

/// The `action` filter's entries; an empty list means no filter.
pub(crate) fn action_filters(action: Option<&str>) -> Vec<ActionFilter<'_>> {
    action
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| match a.strip_suffix('*') {
            Some(prefix) => ActionFilter::Prefix(prefix),
            None => ActionFilter::Exact(a),
        })
        .collect()
}

/// `WHERE …` of the filters (not the cursor).
fn push_filters<'a>(qb: &mut QueryBuilder<'a, Sqlite>, q: &'a AuditEventQuery, needle: Option<String>) {
    qb.push(" WHERE 1 = 1");
    if let Some(user) = &q.user_id {
        qb.push(" AND (actor_id = ").push_bind(user.as_str()).push(" OR target_id = ").push_bind(user.as_str()).push(")");
    }
    if let Some(actor) = &q.actor_id {
        qb.push(" AND actor_id = ").push_bind(actor.as_str());
    }
    if let Some(from) = q.from {
        qb.push(" AND at >= ").push_bind(stored(from));
    }
    if let Some(to) = q.to {
        qb.push(" AND at < ").push_bind(stored(to));
    }
    if let Some(ip) = &q.ip {
        qb.push(" AND ip = ").push_bind(ip.as_str());
    }
    if let Some(needle) = needle {
        qb.push(" AND instr(search, ").push_bind(needle).push(") > 0");
    }
    let actions = action_filters(q.action.as_deref());
    if !actions.is_empty() {
        qb.push(" AND (");
        let mut sep = qb.separated(" OR ");
        for a in actions {
            match a {
                ActionFilter::Exact(a) => {
                    sep.push("action = ").push_bind_unseparated(a);
                }
                // substr, not LIKE: `_` in `api_key.*` is a LIKE wildcard.
                ActionFilter::Prefix(p) => {
                    sep.push("substr(action, 1, ").push_bind_unseparated(p.chars().count() as i64).push_unseparated(") = ").push_bind_unseparated(p);
                }
            }
        }
        qb.push(")");
    }
}

fn decode(json: &str) -> Result<AuditEvent> {
    serde_json::from_str(json).map_err(|e| Error::Cache(e.to_string()))
}

impl crate::Cache {
    /// Days of activity this connection keeps for offline reading.
    pub async fn activity_window_days(&self) -> Result<u32> {
        let days = self.meta(WINDOW_KEY).await?.and_then(|d| d.parse().ok());
        Ok(days.filter(|d| ACTIVITY_WINDOW_DAYS.contains(d)).unwrap_or(DEFAULT_ACTIVITY_WINDOW_DAYS))
    }

    /// Keeps `days` of activity (1–365) from now on. A smaller window deletes what falls
    /// out of it at once; a larger one is filled by the next refresh.
    pub async fn set_activity_window_days(&self, days: u32, now: DateTime<Utc>) -> Result<()> {
        if !ACTIVITY_WINDOW_DAYS.contains(&days) {
            return Err(Error::Invalid(format!(
                "Keep between {} and {} days of activity (asked for {days}).",
                ACTIVITY_WINDOW_DAYS.start(),
                ACTIVITY_WINDOW_DAYS.end()
            )));
        }
        self.set_meta(WINDOW_KEY, &days.to_string()).await?;
        self.prune_activity(now - TimeDelta::days(i64::from(days))).await?;
        Ok(())
    }

    /// How many events are cached, and the oldest one's time.
    pub async fn activity_stats(&self) -> Result<(u32, Option<DateTime<Utc>>)> {
        let (n, oldest): (i64, Option<String>) = sqlx::query_as("SELECT COUNT(*), MIN(at) FROM activity").fetch_one(&self.db).await?;
        Ok((u32::try_from(n).unwrap_or(u32::MAX), oldest.as_deref().and_then(parse)))
    }

    /// How far the cache covers, as of `now`.
    pub(crate) async fn activity_coverage(&self, now: DateTime<Utc>) -> Result<Coverage> {
        let covered_from = self.meta(COVERED_KEY).await?.as_deref().and_then(parse);
        let newest = self.meta(NEWEST_KEY).await?.as_deref().and_then(parse);
        let start = now - TimeDelta::days(i64::from(self.activity_window_days().await?));
        let window_start = covered_from.map_or(now, |c| c.max(start));
        Ok(Coverage { covered_from, newest, window_start })
    }

    /// A refresh completed: everything from `covered_from` on is in, up to `newest`.
    pub(crate) async fn set_activity_coverage(&self, covered_from: DateTime<Utc>, newest: Option<DateTime<Utc>>) -> Result<()> {
        self.set_meta(COVERED_KEY, &stored(covered_from)).await?;
        if let Some(newest) = newest {
            self.set_meta(NEWEST_KEY, &stored(newest)).await?;
        }
        Ok(())
    }

    /// Stores events (a refresh's page, or what the server just answered); one
    /// transaction per call.
    pub(crate) async fn put_activity(&self, events: &[AuditEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin_with(BEGIN_WRITE).await?;
        // 7 parameters a row: 100 rows a statement stays far below SQLite's limit.
        for chunk in events.chunks(100) {
            let rows = chunk.iter().map(|e| Ok((e, stored(e.at), e.search_text(), to_json(e)?))).collect::<Result<Vec<_>>>()?;
            let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO activity (id, at, action, actor_id, target_id, ip, search, json) ");
            qb.push_values(&rows, |mut row, (e, at, search, json)| {
                row.push_bind(e.id.as_str())
                    .push_bind(at.as_str())
                    .push_bind(e.action.as_str())
                    .push_bind(e.actor.as_ref().map(|a| a.id.as_str()))
                    .push_bind(e.target.id.as_str())
                    .push_bind(e.ip.as_str())
                    .push_bind(search.as_str())
                    .push_bind(json.as_str());
            });
            // Events never change on the server; a repeat is the same event.
            qb.push(" ON CONFLICT (id) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes events older than `start` and no longer claims to cover before it.
    /// Returns how many were deleted.
    pub(crate) async fn prune_activity(&self, start: DateTime<Utc>) -> Result<u64> {
        let start = stored(start);
        let mut tx = self.db.begin_with(BEGIN_WRITE).await?;
        let deleted = sqlx::query("DELETE FROM activity WHERE at < ?").bind(&start).execute(&mut *tx).await?.rows_affected();
        // Fixed-width times: the larger text is the later time.
        sqlx::query("UPDATE meta SET value = ?1 WHERE key = ?2 AND value < ?1").bind(&start).bind(format!("app.{COVERED_KEY}")).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    /// Cached events matching `query`'s filters after `after` (the last `(at, id)` of the
    /// previous page), newest first, at most `limit`; and whether more follow.
    pub(crate) async fn find_activity(&self, query: &AuditEventQuery, after: Option<(DateTime<Utc>, &str)>, limit: u32) -> Result<(Vec<AuditEvent>, bool)> {
        let needle = query.q.as_deref().map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT json FROM activity");
        push_filters(&mut qb, query, needle);
        if let Some((at, id)) = after {
            let at = stored(at);
            qb.push(" AND (at < ").push_bind(at.clone()).push(" OR (at = ").push_bind(at).push(" AND id < ").push_bind(id).push("))");
        }
        qb.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows: Vec<String> = qb.build_query_scalar().fetch_all(&self.db).await?;
        let more = rows.len() > limit as usize;
        let items = rows.iter().take(limit as usize).map(|j| decode(j)).collect::<Result<Vec<_>>>()?;
        Ok((items, more))
    }

    /// The histogram of `query` from the cache, over the server's range (`[from, to)`
    /// widened to whole buckets; without `from`, the last 30 days by day or 48 hours by
    /// hour) but only the part inside the cached window: the bars start at its bucket,
    /// and the first bar counts from the window's start.
    pub async fn activity_histogram(&self, query: &AuditEventQuery, bucket: HistogramBucket, now: DateTime<Utc>) -> Result<Histogram> {
        let window_start = self.activity_coverage(now).await?.window_start;
        let (width, prefix, span) = match bucket {
            HistogramBucket::Hour => (TimeDelta::hours(1), 13, TimeDelta::hours(48)), // 2026-03-01T09
            HistogramBucket::Day => (TimeDelta::days(1), 10, TimeDelta::days(30)),    // 2026-03-01
        };
        let floor = |t: DateTime<Utc>| t.duration_trunc(width).unwrap_or(t);
        let end = query.to.unwrap_or(now);
        let to = if floor(end) == end { end } else { floor(end) + width };
        let mut lower = floor(query.from.unwrap_or(end - span)).max(window_start).min(to);
        let mut from = floor(lower);
        // No more bars than the server answers: the latest ones.
        let bars = usize::try_from((to - from).num_seconds() / width.num_seconds()).unwrap_or(0);
        if bars > MAX_HISTOGRAM_BARS {
            from = to - width * MAX_HISTOGRAM_BARS as i32;
            lower = lower.max(from);
        }
        let needle = query.q.as_deref().map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        let ranged = AuditEventQuery { from: Some(lower), to: Some(to), ..query.clone() };
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT substr(at, 1, {prefix}), COUNT(*) FROM activity"));
        push_filters(&mut qb, &ranged, needle);
        qb.push(" GROUP BY 1");
        let counts: std::collections::HashMap<String, i64> = qb.build_query_as::<(String, i64)>().fetch_all(&self.db).await?.into_iter().collect();
        let mut bars = Vec::new();
        let mut start = from;
        while start < to {
            let key = &stored(start)[..prefix];
            bars.push(HistogramBar { start, count: counts.get(key).map_or(0, |&n| u32::try_from(n).unwrap_or(u32::MAX)) });
            start += width;
        }
        let total = bars.iter().map(|b| b.count).sum();
        Ok(Histogram { bucket, from, to, bars, total })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_api::AuditParty;

    fn at(t: &str) -> DateTime<Utc> {
        parse(t).unwrap()
    }

    fn party(kind: &str, id: &str, name: &str, email: Option<&str>) -> AuditParty {
        AuditParty { kind: kind.into(), id: id.into(), name: Some(name.into()), email: email.map(Into::into) }
    }

    fn event(id: &str, when: &str, action: &str, actor: Option<&str>, target: &str, ip: &str) -> AuditEvent {
        AuditEvent {
            id: id.into(),
            at: at(when),
            action: action.into(),
            actor: actor.map(|a| party("user", a, &format!("Name {a}"), Some(&format!("{a}@acme.test")))),
            target: party("user", target, &format!("Name {target}"), Some(&format!("{target}@acme.test"))),
            ip: ip.into(),
            user_agent: "ua".into(),
            details: serde_json::json!({"reason": format!("Because of {id}")}),
        }
    }

    async fn cache_with(events: &[AuditEvent]) -> (crate::Cache, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let cache = crate::Cache::open(&dir.path().join("c.db")).await.unwrap();
        cache.put_activity(events).await.unwrap();
        (cache, dir)
    }

    fn sample() -> Vec<AuditEvent> {
        vec![
            event("e1", "2026-03-01T09:00:00Z", "session.signed_in", Some("ann"), "ann", "10.0.0.1"),
            event("e2", "2026-03-01T09:30:00.5Z", "user.deactivated", Some("ann"), "bob", "10.0.0.1"),
            event("e3", "2026-03-01T10:15:00Z", "api_key.used", Some("bob"), "key1", "10.0.0.2"),
            event("e4", "2026-03-02T08:00:00Z", "session.sign_in_failed", None, "bob", "192.168.1.9"),
            // Same time as e4: the id breaks the tie, as on the server.
            event("e5", "2026-03-02T08:00:00Z", "apixkey.used", Some("cy"), "cy", "10.0.0.3"),
        ]
    }

    async fn ids(cache: &crate::Cache, q: AuditEventQuery) -> Vec<String> {
        cache.find_activity(&q, None, 500).await.unwrap().0.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn action_filters_take_prefixes() {
        assert_eq!(action_filters(None), []);
        assert_eq!(action_filters(Some(" , ")), []);
        assert_eq!(
            action_filters(Some("session.*, user.deactivated")),
            [ActionFilter::Prefix("session."), ActionFilter::Exact("user.deactivated")]
        );
    }

    #[tokio::test]
    async fn offline_filters_match_the_servers() {
        let (cache, _dir) = cache_with(&sample()).await;
        let q = AuditEventQuery::default;
        assert_eq!(ids(&cache, q()).await, ["e5", "e4", "e3", "e2", "e1"], "newest first, id breaks ties");
        assert_eq!(ids(&cache, AuditEventQuery { user_id: Some("bob".into()), ..q() }).await, ["e4", "e3", "e2"], "as actor or target");
        assert_eq!(ids(&cache, AuditEventQuery { actor_id: Some("ann".into()), ..q() }).await, ["e2", "e1"]);
        assert_eq!(ids(&cache, AuditEventQuery { action: Some("session.*".into()), ..q() }).await, ["e4", "e1"]);
        // `_` is no wildcard: api_key.* does not take apixkey.used.
        assert_eq!(ids(&cache, AuditEventQuery { action: Some("api_key.*,user.deactivated".into()), ..q() }).await, ["e3", "e2"]);
        assert_eq!(ids(&cache, AuditEventQuery { action: Some("user.nonsense".into()), ..q() }).await, Vec::<String>::new());
        let (from, to) = (Some(at("2026-03-01T09:30:00.5Z")), Some(at("2026-03-02T08:00:00Z")));
        assert_eq!(ids(&cache, AuditEventQuery { from, to, ..q() }).await, ["e3", "e2"], "from inclusive, to exclusive");
        assert_eq!(ids(&cache, AuditEventQuery { ip: Some("10.0.0.1".into()), ..q() }).await, ["e2", "e1"]);
        for (needle, want) in [("NAME BOB", vec!["e4", "e3", "e2"]), ("because of e3", vec!["e3"]), ("192.168", vec!["e4"]), ("SESSION.SIGN", vec!["e4", "e1"]), ("sign_in", vec!["e4"])] {
            assert_eq!(ids(&cache, AuditEventQuery { q: Some(needle.into()), ..q() }).await, want, "{needle}");
        }
        assert_eq!(ids(&cache, AuditEventQuery { user_id: Some("bob".into()), action: Some("session.*".into()), ..q() }).await, ["e4"], "filters combine");
    }

    #[tokio::test]
    async fn keyset_pages_visit_every_event_once() {
        let (cache, _dir) = cache_with(&sample()).await;
        let q = AuditEventQuery::default();
        let (first, more) = cache.find_activity(&q, None, 2).await.unwrap();
        assert_eq!((first.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), more), (vec!["e5", "e4"], true));
        let last = first.last().unwrap();
        let (second, more) = cache.find_activity(&q, Some((last.at, &last.id)), 2).await.unwrap();
        assert_eq!((second.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), more), (vec!["e3", "e2"], true));
        let last = second.last().unwrap();
        let (third, more) = cache.find_activity(&q, Some((last.at, &last.id)), 2).await.unwrap();
        assert_eq!((third.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), more), (vec!["e1"], false));
        assert_eq!(third[0], sample()[0], "stored whole");
    }

    #[tokio::test]
    async fn the_window_prunes_and_bounds_what_is_covered() {
        let (cache, _dir) = cache_with(&sample()).await;
        let now = at("2026-03-02T12:00:00Z");
        assert_eq!(cache.activity_window_days().await.unwrap(), DEFAULT_ACTIVITY_WINDOW_DAYS);
        assert_eq!(cache.activity_coverage(now).await.unwrap().window_start, now, "nothing covered before a refresh");
        cache.set_activity_coverage(at("2026-02-01T00:00:00Z"), Some(at("2026-03-02T08:00:00Z"))).await.unwrap();
        assert_eq!(cache.activity_coverage(now).await.unwrap().window_start, at("2026-02-01T00:00:00Z"));
        for bad in [0, 366] {
            assert!(matches!(cache.set_activity_window_days(bad, now).await, Err(Error::Invalid(_))), "{bad}");
        }
        // One day: what is older goes, and the cache no longer claims to cover it.
        cache.set_activity_window_days(1, now).await.unwrap();
        assert_eq!(cache.activity_window_days().await.unwrap(), 1);
        assert_eq!(ids(&cache, AuditEventQuery::default()).await, ["e5", "e4"]);
        assert_eq!(cache.activity_coverage(now).await.unwrap().window_start, at("2026-03-01T12:00:00Z"));
        assert_eq!(cache.activity_stats().await.unwrap(), (2, Some(at("2026-03-02T08:00:00Z"))));
        // Widening again does not bring back a claim over what was deleted.
        cache.set_activity_window_days(30, now).await.unwrap();
        assert_eq!(cache.activity_coverage(now).await.unwrap().covered_from, Some(at("2026-03-01T12:00:00Z")));
    }

    #[tokio::test]
    async fn offline_histograms_count_inside_the_window() {
        let (cache, _dir) = cache_with(&sample()).await;
        let now = at("2026-03-02T12:00:00Z");
        cache.set_activity_coverage(at("2026-03-01T09:15:00Z"), None).await.unwrap();
        let h = cache.activity_histogram(&AuditEventQuery::default(), HistogramBucket::Hour, now).await.unwrap();
        assert_eq!((h.from, h.to), (at("2026-03-01T09:00:00Z"), now));
        assert_eq!(h.bars.len(), 27, "every hour present");
        let counts: Vec<u32> = h.bars.iter().map(|b| b.count).collect();
        // e1 (09:00) is before the window's start: the 09:00 bar has e2 only.
        assert_eq!((counts[0], counts[1], counts[23], h.total), (1, 1, 2, 4));
        let days = cache
            .activity_histogram(&AuditEventQuery { action: Some("session.*".into()), ..Default::default() }, HistogramBucket::Day, now)
            .await
            .unwrap();
        assert_eq!(days.bars.iter().map(|b| (b.start, b.count)).collect::<Vec<_>>(), [(at("2026-03-01T00:00:00Z"), 0), (at("2026-03-02T00:00:00Z"), 1)]);
    }
}
