//! gatehouse-server integration tests: each test starts the server on port 0 with a fresh
//! SQLite database and a clock it moves by hand, and talks to it over real HTTP.

mod activity;
mod auth;
mod changes;
mod contention;
mod directory;
mod edit;
mod escalation;
mod fault;
mod helpers;
mod hostile;
mod invitations;
mod keys;
mod lifecycle;
mod lifetime;
mod matrix;
mod mfa;
mod openapi;
mod outage;
mod postgres_schema;
mod resets;
mod scim;
mod scim_conformance;
mod sessions;
mod smtp;
mod step_up;
mod throttle;
mod transport;
mod users;
