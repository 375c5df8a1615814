//! The change feed the offline cache follows.

use crate::auth::Client;
use crate::error::Result;
use gatehouse_api::ChangePage;

impl Client {
    /// `GET /v1/changes`: the changes after `since` (a page's `cursor`, or "0").
    /// A cursor past the server's retention is `Error::Api` with code `changes_expired`.
    pub async fn changes(&self, since: &str, limit: u32) -> Result<ChangePage> {
        let since: String = url::form_urlencoded::byte_serialize(since.as_bytes()).collect();
        self.get(&format!("v1/changes?since={since}&limit={limit}")).await
    }
}

/// How far a sync got, for progress bars (SPEC C6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncProgress {
    /// Changes applied so far in this sync.
    pub applied: u64,
    /// Whether more pages follow.
    pub more: bool,
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
    pub async fn sync(&self, cache: &crate::Cache, progress: impl Fn(SyncProgress)) -> Result<SyncOutcome> {
        let mut resynced = false;
        let mut applied = 0u64;
        let mut cursor = cache.cursor().await?.unwrap_or_else(|| "0".to_owned());
        loop {
            let page = match self.changes(&cursor, SYNC_PAGE).await {
                Ok(page) => page,
                Err(crate::Error::Api(p)) if p.code == gatehouse_api::codes::CHANGES_EXPIRED && !resynced => {
                    cache.reset().await?;
                    resynced = true;
                    applied = 0;
                    cursor = "0".to_owned();
                    continue;
                }
                Err(e) => return Err(e),
            };
            cache.apply(&page).await?;
            applied += page.changes.len() as u64;
            cursor = page.cursor.clone();
            progress(SyncProgress { applied, more: page.has_more });
            if !page.has_more {
                return Ok(SyncOutcome { applied, resynced, cursor });
            }
        }
    }
}
