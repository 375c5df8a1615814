//! Generates `ui/src/lib/bindings.ts` from the commands declared in lib.rs: every type
//! they use (through ts-rs) and a typed wrapper per command. The committed file is
//! checked by a test; `cargo xtask bindings` rewrites it.

use std::collections::BTreeMap;
use ts_rs::{Config, TS, TypeVisitor};

/// One command's TypeScript-facing signature.
pub(crate) struct CommandSig {
    pub name: &'static str,
    pub doc: String,
    pub args: Vec<(&'static str, String)>,
    pub ret: String,
}

/// Collects the declarations of a set of types and everything they depend on.
pub(crate) struct Collector {
    cfg: Config,
    decls: BTreeMap<String, String>,
}

impl Collector {
    /// Adds `T`'s declaration (if it has one) and its dependencies'.
    pub fn add<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_some() {
            let name = T::ident(&self.cfg);
            if self.decls.contains_key(&name) {
                return;
            }
            self.decls.insert(name, format!("export {}", T::decl(&self.cfg)));
        }
        T::visit_dependencies(self);
        // `Vec<MailMessage>` is declared nowhere itself: its parameters are.
        T::visit_generics(self);
    }
}

impl TypeVisitor for Collector {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        self.add::<T>();
    }
}

fn camel_case(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The full text of `ui/src/lib/bindings.ts`.
pub fn typescript_bindings() -> String {
    let cfg = Config::new();
    let mut collector = Collector { cfg: Config::new(), decls: BTreeMap::new() };
    crate::command_types(&mut collector);
    let mut out = String::from(
        "// Generated from Rust by `cargo xtask bindings` (src-tauri/src/bindings.rs). Do not edit:\n\
         // `cargo xtask test` fails when this file differs from what the Rust code generates.\n\
         import { invoke } from \"@tauri-apps/api/core\";\n\n",
    );
    for decl in collector.decls.values() {
        out.push_str(decl);
        out.push_str("\n\n");
    }
    out.push_str("/** Every Tauri command of the app; each rejects with an `IpcError`. */\nexport const commands = {\n");
    for sig in crate::command_signatures(&cfg) {
        let params: Vec<String> = sig.args.iter().map(|(n, t)| format!("{}: {t}", camel_case(n))).collect();
        let payload = if sig.args.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = sig.args.iter().map(|(n, _)| camel_case(n)).collect();
            format!(", {{ {} }}", names.join(", "))
        };
        out.push_str(&format!(
            "  /** {} */\n  {}: ({}) => invoke<{}>(\"{}\"{}),\n",
            sig.doc,
            camel_case(sig.name),
            params.join(", "),
            sig.ret,
            sig.name,
            payload
        ));
    }
    out.push_str("};\n");
    out.push_str(&constants());
    out
}

/// The rules the UI checks before it sends anything, from the same constants the server
/// enforces, so the two cannot drift apart.
fn constants() -> String {
    use gatehouse_api as api;
    fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }
    let permissions: Vec<[&str; 2]> = api::PERMISSIONS.iter().map(|(k, d)| [*k, *d]).collect();
    let reasons: Vec<[&str; 2]> = api::LOGIN_FAILURE_REASONS.iter().map(|(k, d)| [*k, *d]).collect();
    let actions: Vec<[&str; 3]> = api::AUDIT_ACTIONS.iter().map(|(a, area, label)| [*a, *area, *label]).collect();
    format!(
        "\n/** The permission catalogue, in the server's order: [key, what it allows]. */\n\
         export const PERMISSIONS: readonly (readonly [string, string])[] = {};\n\n\
         /** Custom attribute keys that name built-in fields. */\n\
         export const RESERVED_ATTRIBUTE_KEYS: readonly string[] = {};\n\n\
         export const MAX_CUSTOM_ATTRIBUTES = {};\n\
         export const MAX_ATTRIBUTE_VALUE_CHARS = {};\n\
         export const MAX_NAME_CHARS = {};\n\
         /** The largest uploaded picture, in bytes. */\n\
         export const MAX_AVATAR_BYTES = {};\n\n\
         /** Why a sign-in failed: [reason, label]. */\n\
         export const LOGIN_FAILURE_REASONS: readonly (readonly [string, string])[] = {};\n\n\
         /** Invitation limits: a CSV import's bytes, addresses per invitation, a message's and a tenant ID's characters. */\n\
         export const MAX_IMPORT_BYTES = {};\n\
         export const MAX_INVITES_PER_REQUEST = {};\n\
         export const MAX_INVITATION_MESSAGE_CHARS = {};\n\
         export const MAX_TENANT_ID_CHARS = {};\n\n\
         /** Every action the server records: [action, area, label]. */\n\
         export const AUDIT_ACTIONS: readonly (readonly [string, string, string])[] = {};\n\
         /** Days of activity a connection keeps for reading offline: the default and the bounds. */\n\
         export const DEFAULT_ACTIVITY_WINDOW_DAYS = {};\n\
         export const MIN_ACTIVITY_WINDOW_DAYS = {};\n\
         export const MAX_ACTIVITY_WINDOW_DAYS = {};\n\n\
         /** Days an organization may keep its audit events. */\n\
         export const MIN_AUDIT_RETENTION_DAYS = {};\n\
         export const MAX_AUDIT_RETENTION_DAYS = {};\n",
        json(&permissions),
        json(&api::RESERVED_ATTRIBUTE_KEYS),
        api::MAX_CUSTOM_ATTRIBUTES,
        api::MAX_ATTRIBUTE_VALUE_CHARS,
        api::MAX_NAME_CHARS,
        api::MAX_AVATAR_BYTES,
        json(&reasons),
        api::MAX_IMPORT_BYTES,
        api::MAX_INVITES_PER_REQUEST,
        api::MAX_INVITATION_MESSAGE_CHARS,
        api::MAX_TENANT_ID_CHARS,
        json(&actions),
        api::DEFAULT_ACTIVITY_WINDOW_DAYS,
        gatehouse_client::ACTIVITY_WINDOW_DAYS.start(),
        gatehouse_client::ACTIVITY_WINDOW_DAYS.end(),
        api::MIN_AUDIT_RETENTION_DAYS,
        api::MAX_AUDIT_RETENTION_DAYS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn manifest_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn committed_bindings_match_the_rust_commands() {
        let generated = typescript_bindings();
        let path = manifest_dir().join("../ui/src/lib/bindings.ts");
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == generated, "ui/src/lib/bindings.ts is out of date: run `cargo xtask bindings`");
    }

    fn command_names() -> Vec<&'static str> {
        crate::command_signatures(&Config::new()).iter().map(|s| s.name).collect()
    }

    #[test]
    fn the_permission_manifest_lists_exactly_the_registered_commands() {
        let manifest: Vec<&str> = env!("GATEHOUSE_MANIFEST_COMMANDS").split(',').collect();
        assert_eq!(manifest, command_names(), "build.rs COMMANDS and app_commands! differ");
    }

    #[test]
    fn the_capability_grants_only_the_apps_commands() {
        let text = std::fs::read_to_string(manifest_dir().join("capabilities/default.json")).unwrap();
        let cap: serde_json::Value = serde_json::from_str(&text).unwrap();
        let granted: Vec<&str> = cap["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let expected: Vec<String> = command_names().iter().map(|n| format!("allow-{}", n.replace('_', "-"))).collect();
        assert_eq!(granted, expected, "no core, plugin or other permission is granted to the UI");
    }

    #[test]
    fn the_csp_is_strict() {
        let text = std::fs::read_to_string(manifest_dir().join("tauri.conf.json")).unwrap();
        let conf: serde_json::Value = serde_json::from_str(&text).unwrap();
        let csp = &conf["app"]["security"]["csp"];
        assert_eq!(csp["default-src"], "'self'");
        assert_eq!(csp["script-src"], "'self'", "no inline or remote scripts");
        assert_eq!(csp["object-src"], "'none'");
        // IPC only (`http://ipc.localhost` is Tauri's IPC origin on Windows): never the network.
        let connect: Vec<&str> = csp["connect-src"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(connect, ["ipc:", "http://ipc.localhost"]);
    }

    #[test]
    fn secrets_in_command_arguments_are_redacted() {
        let args: crate::SignInArgs =
            serde_json::from_str(r#"{"server_url":"http://x","email":"a@b.c","password":"hunter2-secret"}"#).unwrap();
        assert!(!format!("{args:?}").contains("hunter2"));
    }

    #[test]
    fn a_session_cached_by_an_older_version_still_opens_offline() {
        // Written before `mfa_enabled` and `owner` existed: read as neither, and the server
        // still decides (it asks for the code; it refuses what only an Owner may do).
        let old = r#"{"server_url":"http://x","email":"a@b.c","user_id":"u","display_name":"A","organization":{"id":"o","name":"O"},"permissions":[]}"#;
        let info: crate::SessionInfo = serde_json::from_str(old).unwrap();
        assert!(!info.mfa_enabled && !info.owner && !info.mfa_enrollment_required);
    }

    #[test]
    fn camel_case_names() {
        assert_eq!(camel_case("current_session"), "currentSession");
        assert_eq!(camel_case("query"), "query");
    }
}
