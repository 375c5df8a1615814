//! The OpenAPI 3.1 document's frame; paths and schemas come from the handlers.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's metadata, security scheme and tags.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse User Management API",
        description = "Users, roles, sessions and sign-in security for one or more organizations. Errors are RFC 9457 problem documents with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, tokens and the current account"),
        (name = "users", description = "The organization's users"),
        (name = "sync", description = "The change feed clients keep their offline cache with"),
        (name = "roles", description = "Built-in and custom roles with their permissions"),
        (name = "departments", description = "Departments and companies"),
        (name = "organization", description = "The organization's settings: seats, invitations, MFA"),
        (name = "sessions", description = "Sessions, force logout and login attempts"),
        (name = "activity", description = "The activity log: audit events, per-user timelines, export and histogram"),
        (name = "invitations", description = "Invitations, CSV import and the invitee's accept or decline"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /v1/auth/login, or an API key `ghk_…`"))
                    .build(),
            ),
        );
    }
}
