// The app manifest makes every command need an explicit `allow-<command>` permission in
// a capability; the list is exported so a test can check it against the commands the
// app registers (src/lib.rs) and the capability file.
const COMMANDS: &[&str] = &[
    "sign_in",
    "sign_out",
    "current_session",
    "list_users",
    "sync_status",
    "sync_now",
    "update_user",
    "outbox",
    "settle_change",
    "discard_change",
    "directory",
    "user_action",
    "create_user",
    "upload_avatar",
    "avatar",
    "bulk_action",
    "organization",
    "update_organization",
    "roles",
    "create_role",
    "update_role",
    "delete_role",
    "groups",
    "create_group",
    "rename_group",
    "delete_group",
    "start_export",
    "export_status",
    "force_logout",
    "logout_status",
    "start_mfa_enrollment",
    "confirm_mfa_enrollment",
    "request_password_reset",
    "reset_password",
    "reset_mfa",
    "list_invitations",
    "invite",
    "resend_invitation",
    "revoke_invitation",
    "invitation_link",
    "validate_invitation_csv",
    "import_invitations",
    "dev_mailbox",
    "list_sessions",
    "user_sessions",
    "revoke_session",
    "login_attempts",
    "api_keys",
    "create_api_key",
    "set_api_key_suspended",
];

fn main() {
    println!("cargo:rustc-env=GATEHOUSE_MANIFEST_COMMANDS={}", COMMANDS.join(","));
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}
