//! The change feed the offline cache follows.

use crate::auth::Client;
use crate::error::Result;
use gatehouse_api::ChangePage;

impl Client {
    /// `GET /v1/changes`: the changes after `since` (a page's `cursor`, or "0").
    /// A cursor past the server's retention is `Error::Api` with code `changes_expired`.
    pub async fn changes(&self, since: &str, limit: u32) -> Result<ChangePage> {
        self.changes_page(since, limit, true).await
    }

    /// [`Self::changes`], with `remaining` counted or not (then 0).
    async fn changes_page(&self, since: &str, limit: u32, count: bool) -> Result<ChangePage> {
        let since: String = url::form_urlencoded::byte_serialize(since.as_bytes()).collect();
        self.get(&format!("v1/changes?since={since}&limit={limit}&count={count}")).await
    }
}

/// How far a sync got, for progress bars (SPEC C6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Changes applied so far in this sync.
    pub applied: u64,
    /// Whether more pages follow.
    pub more: bool,
    /// Feed entries still to fetch (the server's count when the page was read).
    pub remaining: u64,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Changes applied.
    pub applied: u64,
    /// The cache was emptied and filled again because its cursor had expired.
    pub resynced: bool,
    /// The cursor the cache is at now.
    pub cursor: String,
}

/// Page size of a sync.
const SYNC_PAGE: u32 = 1000;

impl Client {
    /// Brings `cache` up to date with the feed: from its cursor, or from the start on the
    /// first sync; an expired cursor empties the cache and syncs everything again. Each
    /// page is applied in one transaction, so an interrupted sync resumes where it stopped.
    ///
    /// When the server has revoked the session (seen by this sync or by any earlier
    /// request of this client), the sync removes `cache` ([`crate::Cache::remove`]: queued
    /// changes stay) before it returns the error: a computer shut out of the organization
    /// does not keep its directory.
    pub async fn sync(&self, cache: &crate::Cache, progress: impl Fn(SyncProgress)) -> Result<SyncOutcome> {
        let synced = self.sync_feed(cache, progress).await;
        if synced.is_err() && self.session_revoked() {
            match cache.remove().await {
                Ok(removal) => tracing::info!(?removal, "session revoked: this computer's copy removed"),
                Err(e) => tracing::warn!(error = %e, "session revoked, but the local copy could not be removed"),
            }
        }
        synced
    }

    async fn sync_feed(&self, cache: &crate::Cache, progress: impl Fn(SyncProgress)) -> Result<SyncOutcome> {
        let mut resynced = false;
        let mut applied = 0u64;
        let mut cursor = cache.cursor().await?.unwrap_or_else(|| "0".to_owned());
        let mut fetched = self.changes(&cursor, SYNC_PAGE).await;
        // The first page's count, plus what it holds: this sync's total. Later pages skip
        // the count; changes made meanwhile only make the estimate a little short.
        let mut total: Option<u64> = None;
        loop {
            let page = match fetched {
                Ok(page) => page,
                Err(crate::Error::Api(p)) if p.code == gatehouse_api::codes::CHANGES_EXPIRED && !resynced => {
                    cache.reset().await?;
                    resynced = true;
                    applied = 0;
                    cursor = "0".to_owned();
                    total = None;
                    fetched = self.changes(&cursor, SYNC_PAGE).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let total = *total.get_or_insert(applied + page.changes.len() as u64 + page.remaining);
            // The next page is fetched while this one is written: the server's and the
            // network's time overlaps the cache's.
            let next = async {
                if page.has_more { Some(self.changes_page(&page.cursor, SYNC_PAGE, false).await) } else { None }
            };
            let (written, next) = tokio::join!(cache.apply(&page), next);
            written?;
            applied += page.changes.len() as u64;
            cursor = page.cursor.clone();
            let remaining = if page.has_more { total.saturating_sub(applied).max(1) } else { 0 };
            progress(SyncProgress { applied, more: page.has_more, remaining });
            match next {
                Some(next) => fetched = next,
                None => return Ok(SyncOutcome { applied, resynced, cursor }),
            }
        }
    }
}

/// What the change stream said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEvent {
    /// The feed moved to this cursor: sync.
    Changed(i64),
}

impl Client {
    /// Follows `GET /v1/changes/stream`, calling `on_event` for each `changed` event, until
    /// the stream ends: `Ok(())` when the server closed it, `Error::SessionExpired` when it
    /// said the session was revoked, `Error::Unreachable` when the connection failed.
    pub async fn watch_changes(&self, mut on_event: impl FnMut(StreamEvent)) -> Result<()> {
        let token = self.access_token(false).await?;
        let req = self
            .request(reqwest::Method::GET, "v1/changes/stream")?
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            // The stream is long-lived; the server's keep-alives come every 15 s.
            .timeout(std::time::Duration::from_secs(3600));
        let mut res = req.send().await.map_err(|e| crate::Error::from_transport(self.base_url(), &e))?;
        if !res.status().is_success() {
            // Problem documents (expired token, revoked session) come as JSON.
            let bytes = res.bytes().await.map_err(|e| crate::Error::from_transport(self.base_url(), &e))?;
            return Err(match serde_json::from_slice::<gatehouse_api::Problem>(&bytes) {
                Ok(p) if p.code == gatehouse_api::codes::SESSION_REVOKED => self.session_ended(&p).await,
                Ok(p) => crate::Error::Api(Box::new(p)),
                Err(_) => crate::Error::Protocol("the change stream answered something else".into()),
            });
        }
        let mut buf = String::new();
        let mut event = String::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| crate::Error::from_transport(self.base_url(), &e))? {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find('\n') {
                let line: String = buf.drain(..=end).collect();
                let line = line.trim_end_matches(['\r', '\n']);
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(data) = line.strip_prefix("data:") {
                    match event.as_str() {
                        "changed" => {
                            if let Ok(cursor) = data.trim().parse() {
                                on_event(StreamEvent::Changed(cursor));
                            }
                        }
                        "session_revoked" => {
                            let problem = gatehouse_api::Problem {
                                type_: gatehouse_api::problem_type(gatehouse_api::codes::SESSION_REVOKED),
                                title: "Unauthorized".into(),
                                status: 401,
                                detail: "The session was revoked.".into(),
                                code: gatehouse_api::codes::SESSION_REVOKED.into(),
                                errors: Vec::new(),
                                current: None,
                                current_etag: None,
                                seats: None,
                            };
                            return Err(self.session_ended(&problem).await);
                        }
                        _ => {}
                    }
                } else if line.is_empty() {
                    event.clear();
                }
            }
        }
        Ok(())
    }
}
