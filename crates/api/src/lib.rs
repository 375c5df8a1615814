//! Wire types of the Gatehouse User Management API, shared by server and client.
//!
//! Every type here is what travels as JSON; the server derives its OpenAPI schema from
//! them (feature `openapi`) and the desktop UI its TypeScript types (feature `ts`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

mod activity;
mod apikeys;
mod auth;
mod changes;
mod directory;
mod invitations;
mod outbox;
mod problem;
mod secret;
mod sessions;
mod users;

pub use activity::*;
pub use apikeys::*;
pub use auth::*;
pub use changes::*;
pub use directory::*;
pub use invitations::*;
pub use outbox::*;
pub use problem::*;
pub use secret::Secret;
pub use sessions::*;
pub use users::*;

/// Prefix of every access token, so secret scanners (and our own tests) can spot one.
pub const ACCESS_TOKEN_PREFIX: &str = "gha_";
/// Prefix of every refresh token.
pub const REFRESH_TOKEN_PREFIX: &str = "ghr_";
