//! The activity log (SPEC A1–A5): read live from the server, with the recent window kept
//! in the cache (activity_cache.rs) so it stays readable offline (SPEC C3), the histogram
//! behind the charts, and the CSV export streamed to a file.
//!
//! Cursors handed out here are the client's own: the server's cursor (when the page came
//! from the server) plus the last event's `(at, id)` and a fingerprint of the filters. So
//! a list scrolled online goes on from the cache when the server drops away, and back.

use crate::activity_cache::Coverage;
use crate::auth::Client;
use crate::error::{Error, Result};
use crate::sessions::{encoded, query_string};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use gatehouse_api::{AuditEvent, AuditEventPage, AuditEventQuery, Histogram, HistogramBucket};
use serde::{Deserialize, Serialize};

/// Page size of a refresh of the cached window (the server's largest).
const REFRESH_PAGE: u32 = 500;
/// Default and largest page of `activity` (the server's).
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;
/// A refresh asks again for this much before the newest event it has: an event committed
/// late (a slow transaction, another server node's clock) still gets in.
const REFRESH_OVERLAP: TimeDelta = TimeDelta::minutes(5);

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The filters as query pairs (no paging).
fn filters(q: &AuditEventQuery) -> [(&'static str, Option<String>); 7] {
    [
        ("user_id", q.user_id.clone()),
        ("actor_id", q.actor_id.clone()),
        ("action", q.action.clone()),
        ("from", q.from.map(time)),
        ("to", q.to.map(time)),
        ("ip", q.ip.clone()),
        ("q", q.q.clone()),
    ]
}

fn page_query(q: &AuditEventQuery) -> String {
    query_string(filters(q).into_iter().chain([("limit", q.limit.map(|l| l.to_string())), ("cursor", q.cursor.clone())]))
}

/// One page of the activity log as the app shows it, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ActivityPage {
    /// Events, newest first.
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` with the same filters for the next page; `None` on the last.
    pub next_cursor: Option<String>,
    /// Served from the local cache: the server could not be reached.
    pub offline: bool,
    /// The oldest time the cache covers (events from then on are kept for offline reading).
    pub window_start: DateTime<Utc>,
    /// Offline, and the query reaches before `window_start`: older events need a connection.
    pub beyond_window: bool,
}

/// What a refresh of the cached window did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ActivityRefresh {
    /// Events fetched (new ones and, after the window grew, older ones).
    pub fetched: u64,
    /// Events that fell out of the window and were deleted.
    pub pruned: u64,
}

/// The client's cursor: where the last page ended, and the server's cursor for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    /// The server's `next_cursor`, when the page came from the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The `to` that server cursor was issued for, when the app narrowed the query (the
    /// server refuses its cursor with other filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_to: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
    pub id: String,
    /// Fingerprint of the filters the cursor belongs to.
    pub filters: u64,
}

impl Cursor {
    fn encode(&self) -> String {
        B64.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str, query: &AuditEventQuery) -> Result<Self> {
        let cursor: Self = B64
            .decode(text)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| Error::Invalid("This activity cursor is not one the app handed out; start from the first page.".into()))?;
        if cursor.filters != fingerprint(query) {
            return Err(Error::Invalid("This activity cursor belongs to other filters; start from the first page.".into()));
        }
        Ok(cursor)
    }
}

/// FNV-1a over the filters (paging left out): a cursor is only good for the filters it
/// was issued for. Cursors live only as long as a list on screen, so any stable hash does.
pub(crate) fn fingerprint(q: &AuditEventQuery) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (key, value) in filters(q) {
        for b in key.bytes().chain([0]).chain(value.unwrap_or_default().bytes()).chain([0xff]) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// Counts the records of a CSV stream (RFC 4180) as it passes: a record ends at a line
/// feed outside quotes, so a quoted cell with line breaks (a user agent, the details) is
/// one record however many lines it spans. A doubled quote inside a quoted cell toggles
/// twice, which leaves the state right.
#[derive(Debug, Default, Clone)]
pub(crate) struct CsvRecords {
    in_quotes: bool,
    ended: u64,
    /// Whether the bytes so far end exactly at the end of a record.
    at_boundary: bool,
}

impl CsvRecords {
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => self.ended += 1,
                _ => {}
            }
        }
        if let Some(&last) = bytes.last() {
            self.at_boundary = last == b'\n' && !self.in_quotes;
        }
    }

    /// Records after the header.
    pub fn rows(&self) -> u64 {
        self.ended.saturating_sub(1)
    }

    /// The stream so far is whole records, the header at least.
    pub fn complete(&self) -> bool {
        self.ended >= 1 && self.at_boundary
    }
}

impl Client {
    /// One page of `GET /v1/audit-events`, newest first (live).
    pub async fn audit_events(&self, query: &AuditEventQuery) -> Result<AuditEventPage> {
        self.get(&format!("v1/audit-events{}", page_query(query))).await
    }

    /// One page of `GET /v1/users/{id}/activity`: what the user did and what was done to
    /// them, merged, newest first (`query.user_id` is ignored).
    pub async fn user_activity(&self, user_id: &str, query: &AuditEventQuery) -> Result<AuditEventPage> {
        let query = AuditEventQuery { user_id: None, ..query.clone() };
        self.get(&format!("v1/users/{}/activity{}", encoded(user_id), page_query(&query))).await
    }

    /// `GET /v1/audit-events/histogram`: matching events per hour or day, oldest first.
    pub async fn audit_histogram(&self, query: &AuditEventQuery, bucket: HistogramBucket) -> Result<Histogram> {
        let q = query_string(filters(query).into_iter().chain([("bucket", Some(bucket.as_str().to_owned()))]));
        self.get(&format!("v1/audit-events/histogram{q}")).await
    }

    /// Streams `GET /v1/audit-events/export.csv` (the filters of `query`; its paging
    /// ignored) into `out` as it arrives, calling `progress(rows written, rows announced)`
    /// after each piece; the total is the server's `x-total-count`. Returns the rows
    /// written. A stream cut short is an error (the caller discards the file).
    pub async fn export_audit_csv<W: std::io::Write>(
        &self,
        query: &AuditEventQuery,
        out: &mut W,
        mut progress: impl FnMut(u64, Option<u64>),
    ) -> Result<u64> {
        let io = |e: std::io::Error| Error::Invalid(format!("Could not write the file: {e}"));
        let path = format!("v1/audit-events/export.csv{}", query_string(filters(query)));
        let mut res = self.get_streamed(&path).await?;
        let total = res.headers().get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
        let mut records = CsvRecords::default();
        progress(0, total);
        loop {
            let chunk = tokio::time::timeout(self.read_timeout(), res.chunk())
                .await
                .map_err(|_| Error::Unreachable {
                    url: self.base_url().as_str().trim_end_matches('/').to_owned(),
                    reason: "the export stopped arriving".into(),
                })?
                .map_err(|e| Error::from_transport(self.base_url(), &e))?;
            let Some(chunk) = chunk else { break };
            out.write_all(&chunk).map_err(io)?;
            records.feed(&chunk);
            progress(records.rows(), total);
        }
        out.flush().map_err(io)?;
        if !records.complete() {
            return Err(Error::Protocol("the export ended in the middle of a row".into()));
        }
        Ok(records.rows())
    }

    /// A page from the server: the per-user timeline when a user and no actor is asked
    /// for, else the organization's log.
    async fn activity_page(&self, query: &AuditEventQuery) -> Result<AuditEventPage> {
        match (&query.user_id, &query.actor_id) {
            (Some(user), None) => self.user_activity(user, query).await,
            _ => self.audit_events(query).await,
        }
    }

    /// One page of the activity log: from the server when it answers (its events within
    /// the cached window are kept), else from the cache with the same filters, flagged
    /// `offline` and, where the query reaches past the window, `beyond_window`.
    pub async fn activity(&self, cache: &crate::Cache, query: &AuditEventQuery, now: DateTime<Utc>) -> Result<ActivityPage> {
        let after = query.cursor.as_deref().map(|c| Cursor::decode(c, query)).transpose()?;
        let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let coverage = cache.activity_coverage(now).await?;
        let filters = fingerprint(query);
        // What the server is asked, and the `to` its cursors will be bound to.
        let (ask, server_to) = match &after {
            // A cursor from the cache's page: ask the server from just after that event
            // on (`to` is exclusive, so a little later; what is not older is dropped below).
            Some(Cursor { server: None, at, .. }) => {
                let to = (*at + TimeDelta::milliseconds(1)).min(query.to.unwrap_or(DateTime::<Utc>::MAX_UTC));
                (AuditEventQuery { to: Some(to), cursor: None, ..query.clone() }, Some(to))
            }
            Some(Cursor { server: Some(server), server_to, .. }) => {
                (AuditEventQuery { to: server_to.or(query.to), cursor: Some(server.clone()), ..query.clone() }, *server_to)
            }
            None => (query.clone(), None),
        };
        let online = self.activity_page(&AuditEventQuery { limit: Some(limit), ..ask }).await.map(|mut page| {
            if let Some(c) = after.as_ref().filter(|c| c.server.is_none()) {
                page.items.retain(|e| (e.at, e.id.as_str()) < (c.at, c.id.as_str()));
            }
            page
        });
        match online {
            Ok(page) => {
                let within: Vec<AuditEvent> = page.items.iter().filter(|e| e.at >= coverage.window_start).cloned().collect();
                if let Err(e) = cache.put_activity(&within).await {
                    // The page is shown all the same; only reading it offline later suffers.
                    tracing::warn!(error = %e, "could not keep activity events in the cache");
                }
                let next_cursor = match (page.next_cursor, page.items.last()) {
                    (Some(server), Some(last)) => {
                        Some(Cursor { server: Some(server), server_to, at: last.at, id: last.id.clone(), filters }.encode())
                    }
                    // A page emptied by the drop above still goes on from the same place.
                    (Some(server), None) => after.map(|c| Cursor { server: Some(server), server_to, ..c }.encode()),
                    (None, _) => None,
                };
                Ok(ActivityPage { items: page.items, next_cursor, offline: false, window_start: coverage.window_start, beyond_window: false })
            }
            Err(e) if e.is_offline() => self.activity_offline(cache, query, after, limit, &coverage).await,
            Err(e) => Err(e),
        }
    }

    async fn activity_offline(
        &self,
        cache: &crate::Cache,
        query: &AuditEventQuery,
        after: Option<Cursor>,
        limit: u32,
        coverage: &Coverage,
    ) -> Result<ActivityPage> {
        // What lies before the window's start is not answered for, even while not yet pruned.
        let bounded = AuditEventQuery { from: Some(query.from.map_or(coverage.window_start, |f| f.max(coverage.window_start))), ..query.clone() };
        let (items, more) = cache.find_activity(&bounded, after.as_ref().map(|c| (c.at, c.id.as_str())), limit).await?;
        let next_cursor = if more {
            items.last().map(|last| Cursor { server: None, server_to: None, at: last.at, id: last.id.clone(), filters: fingerprint(query) }.encode())
        } else {
            None
        };
        let beyond_window = next_cursor.is_none() && query.from.is_none_or(|from| from < coverage.window_start);
        Ok(ActivityPage { items, next_cursor, offline: true, window_start: coverage.window_start, beyond_window })
    }

    /// The histogram from the server, or, when it cannot be reached, from the cache for
    /// the part of the range inside the cached window.
    pub async fn activity_histogram(
        &self,
        cache: &crate::Cache,
        query: &AuditEventQuery,
        bucket: HistogramBucket,
        now: DateTime<Utc>,
    ) -> Result<Histogram> {
        match self.audit_histogram(query, bucket).await {
            Err(e) if e.is_offline() => cache.activity_histogram(query, bucket, now).await,
            other => other,
        }
    }

    /// Brings the cached window up to date: deletes what fell out of it, fetches what is
    /// newer than the last refresh saw, and, on the first refresh or after the window
    /// grew, what it now covers further back. Each page is stored as it arrives; how far
    /// the cache covers moves only when a whole range is in, so an interrupted refresh is
    /// simply done again.
    pub async fn refresh_activity_window(&self, cache: &crate::Cache, now: DateTime<Utc>) -> Result<ActivityRefresh> {
        let start = now - TimeDelta::days(i64::from(cache.activity_window_days().await?));
        let pruned = cache.prune_activity(start).await?;
        let stored = cache.activity_coverage(now).await?;
        let mut fetched = 0;
        let mut newest = stored.newest;
        match stored.covered_from {
            None => {
                let (n, top) = self.fetch_range(cache, start, None).await?;
                fetched += n;
                newest = newest.max(top);
            }
            Some(covered_from) => {
                let since = stored.newest.map_or(covered_from, |n| n - REFRESH_OVERLAP).max(start);
                let (n, top) = self.fetch_range(cache, since, None).await?;
                fetched += n;
                newest = newest.max(top);
                if covered_from > start {
                    // The window grew: what lies before the old start.
                    fetched += self.fetch_range(cache, start, Some(covered_from)).await?.0;
                }
            }
        }
        cache.set_activity_coverage(start, newest).await?;
        Ok(ActivityRefresh { fetched, pruned })
    }

    /// Fetches every event in `[from, to)` into the cache, page by page, newest first.
    /// Returns how many and the newest one's time.
    async fn fetch_range(&self, cache: &crate::Cache, from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Result<(u64, Option<DateTime<Utc>>)> {
        let mut query = AuditEventQuery { from: Some(from), to, limit: Some(REFRESH_PAGE), ..Default::default() };
        let (mut fetched, mut newest) = (0u64, None);
        loop {
            let page = self.audit_events(&query).await?;
            if newest.is_none() {
                newest = page.items.first().map(|e| e.at);
            }
            cache.put_activity(&page.items).await?;
            fetched += page.items.len() as u64;
            match page.next_cursor {
                Some(cursor) if !page.items.is_empty() => query.cursor = Some(cursor),
                _ => return Ok((fetched, newest)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_carry_only_what_is_set() {
        assert_eq!(page_query(&AuditEventQuery::default()), "");
        let from = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").unwrap().to_utc();
        let q = AuditEventQuery { action: Some("session.*,user.deactivated".into()), from: Some(from), limit: Some(500), ..Default::default() };
        assert_eq!(page_query(&q), "?action=session.*%2Cuser.deactivated&from=2026-01-02T03%3A04%3A05Z&limit=500");
    }

    #[test]
    fn rows_are_counted_by_record_not_by_line() {
        let csv = "time,action\r\n2026,\"a \"\"quoted\"\"\r\nline, and more\"\r\n2026,b\r\n";
        let mut whole = CsvRecords::default();
        whole.feed(csv.as_bytes());
        assert_eq!((whole.rows(), whole.complete()), (2, true));
        // Split anywhere, the count is the same; mid-record, the stream is not complete.
        for cut in 0..csv.len() {
            let mut parts = CsvRecords::default();
            parts.feed(&csv.as_bytes()[..cut]);
            let early = parts.clone();
            parts.feed(&csv.as_bytes()[cut..]);
            assert_eq!((parts.rows(), parts.complete()), (2, true), "cut at {cut}");
            let whole_records = [13, 50].contains(&cut);
            assert_eq!(early.complete(), whole_records, "cut at {cut}");
        }
        let mut header_only = CsvRecords::default();
        header_only.feed(b"time,action\r\n");
        assert_eq!((header_only.rows(), header_only.complete()), (0, true));
        assert!(!CsvRecords::default().complete(), "nothing is not even a header");
    }

    #[test]
    fn cursors_belong_to_their_filters() {
        let q = AuditEventQuery { user_id: Some("u1".into()), ..Default::default() };
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123Z").unwrap().to_utc();
        let c = Cursor { server: Some("s".into()), server_to: Some(at), at, id: "e1".into(), filters: fingerprint(&q) };
        let text = c.encode();
        // Paging fields do not count; every filter does.
        assert_eq!(Cursor::decode(&text, &AuditEventQuery { limit: Some(9), cursor: Some(text.clone()), ..q.clone() }).unwrap(), c);
        assert!(Cursor::decode(&text, &AuditEventQuery { actor_id: Some("u1".into()), ..Default::default() }).is_err());
        assert!(Cursor::decode(&text, &AuditEventQuery { q: Some("x".into()), ..q.clone() }).is_err());
        assert!(Cursor::decode("not-ours", &q).is_err());
        // A filter's value does not slide into the next one's.
        let a = AuditEventQuery { user_id: Some("ab".into()), ..Default::default() };
        let b = AuditEventQuery { user_id: Some("a".into()), actor_id: Some("b".into()), ..Default::default() };
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
