//! gatehouse-server: the Gatehouse User Management API.
//!
//! Handlers read in one order: authenticate → check permission → validate → act. The
//! router, its OpenAPI document and the database pool are built by [`app::build`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![warn(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod keys;
pub mod mail;
pub mod net;
pub mod openapi;
pub mod policy;
pub mod retention;
pub mod routes;
pub mod scim;
pub mod seed;
pub mod seed_history;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod totp;

pub use app::{AppState, Config, SignInLimits, build};
pub use clock::{Clock, SystemClock};
pub use error::{ApiError, Result};
