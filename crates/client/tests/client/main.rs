//! gatehouse-client against a real `gatehouse-server` process (and, in `keyring`, the
//! real OS keyring).

mod activity;
mod cache;
mod directory;
mod fault;
mod invitations;
mod flows;
mod keyring;
#[cfg(unix)]
mod local_copy;
mod mfa;
mod outbox;
mod server;
mod sessions;
