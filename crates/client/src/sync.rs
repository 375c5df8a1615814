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
