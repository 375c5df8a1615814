//! gatehouse-client: the Gatehouse API client used by the desktop app (and by anything
//! else: nothing here depends on Tauri).
//!
//! A [`Client`] is one signed-in connection. The refresh token lives only in a
//! [`TokenStore`] (the OS keyring in the app); the access token only in memory. Requests
//! refresh the access token transparently, one refresh at a time, because a refresh token
//! presented twice revokes the session on the server.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

mod activity;
mod activity_cache;
mod auth;
pub mod cache;
mod directory;
mod error;
mod invitations;
mod local_copy;
mod mfa;
pub mod outbox;
pub mod private_files;
pub mod keyring_store;
pub mod sync;
mod search;
mod server_url;
mod sessions;
mod users;

pub use activity::{ActivityPage, ActivityRefresh};
pub use activity_cache::ACTIVITY_WINDOW_DAYS;
pub use cache::Cache;
pub use local_copy::Removal;
pub use auth::{Client, ClientOptions, os_name};
pub use server_url::{ALLOW_INSECURE_HTTP_ENV, check_server_url, insecure_http_allowed_by_env, parse_server_url};
pub use error::{Error, Result};
pub use gatehouse_api as api;
pub use outbox::ReplayOutcome;
pub use sync::{StreamEvent, SyncOutcome, SyncProgress};
pub use users::Versioned;
pub use keyring_store::{ConnectionKey, KeyringTokenStore, MemoryTokenStore, TokenStore};
