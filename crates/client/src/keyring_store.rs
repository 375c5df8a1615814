//! Where refresh tokens live: the OS keyring (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows), one entry per connection.

use crate::error::{Error, Result};
use gatehouse_api::Secret;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The keyring service name of every Gatehouse entry.
pub const KEYRING_SERVICE: &str = "dev.gatehouse.app";

/// Identifies a connection: a server and the account signed in to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectionKey {
    /// Server base URL, without a trailing slash.
    pub server_url: String,
    /// Account e-mail, lower-cased.
    pub email: String,
}

impl ConnectionKey {
    /// A normalised key, so `https://x/` and `https://x` are the same connection.
    pub fn new(server_url: &str, email: &str) -> Self {
        Self { server_url: server_url.trim().trim_end_matches('/').to_owned(), email: email.trim().to_lowercase() }
    }

    fn account(&self) -> String {
        format!("{} on {}", self.email, self.server_url)
    }
}

/// A place to keep a connection's refresh token.
pub trait TokenStore: Send + Sync + 'static {
    /// The stored token, if any.
    fn load(&self, key: &ConnectionKey) -> Result<Option<Secret>>;
    /// Stores (replaces) the token.
    fn save(&self, key: &ConnectionKey, token: &Secret) -> Result<()>;
    /// Removes the token; absent is fine.
    fn delete(&self, key: &ConnectionKey) -> Result<()>;
}

/// Installs the platform's credential store as keyring-core's default; idempotent.
pub fn use_platform_store() -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| install_platform_store().map_err(|e| e.to_string())).clone().map_err(Error::Keyring)
}

#[cfg(target_os = "linux")]
fn install_platform_store() -> keyring_core::Result<()> {
    keyring_core::set_default_store(dbus_secret_service_keyring_store::Store::new()?);
    Ok(())
}

#[cfg(target_os = "macos")]
fn install_platform_store() -> keyring_core::Result<()> {
    keyring_core::set_default_store(apple_native_keyring_store::keychain::Store::new()?);
    Ok(())
}

#[cfg(target_os = "windows")]
fn install_platform_store() -> keyring_core::Result<()> {
    keyring_core::set_default_store(windows_native_keyring_store::Store::new()?);
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn install_platform_store() -> keyring_core::Result<()> {
    Err(keyring_core::Error::NotSupportedByStore("no keyring on this platform".into()))
}

/// The OS keyring, through keyring-core's default store (see [`use_platform_store`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringTokenStore;

impl KeyringTokenStore {
    fn entry(key: &ConnectionKey) -> Result<keyring_core::Entry> {
        Ok(keyring_core::Entry::new(KEYRING_SERVICE, &key.account())?)
    }
}

impl TokenStore for KeyringTokenStore {
    fn load(&self, key: &ConnectionKey) -> Result<Option<Secret>> {
        match Self::entry(key)?.get_password() {
            Ok(token) => Ok(Some(Secret::new(token))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn save(&self, key: &ConnectionKey, token: &Secret) -> Result<()> {
        Ok(Self::entry(key)?.set_password(token.expose())?)
    }

    fn delete(&self, key: &ConnectionKey) -> Result<()> {
        match Self::entry(key)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A process-memory store, for tools and tests that must not touch the OS keyring.
#[derive(Debug, Default)]
pub struct MemoryTokenStore(Mutex<HashMap<ConnectionKey, Secret>>);

impl MemoryTokenStore {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionKey, Secret>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, key: &ConnectionKey) -> Result<Option<Secret>> {
        Ok(self.map().get(key).cloned())
    }

    fn save(&self, key: &ConnectionKey, token: &Secret) -> Result<()> {
        self.map().insert(key.clone(), token.clone());
        Ok(())
    }

    fn delete(&self, key: &ConnectionKey) -> Result<()> {
        self.map().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalised() {
        assert_eq!(ConnectionKey::new(" https://gh.example/ ", "Ann@Example.COM"), ConnectionKey::new("https://gh.example", "ann@example.com"));
    }

    #[test]
    fn keyring_store_round_trips_through_keyring_core() {
        // keyring-core's in-memory mock store stands in for the OS here; the real Secret
        // Service is exercised by the `client` integration tests.
        keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
        let store = KeyringTokenStore;
        let key = ConnectionKey::new("http://127.0.0.1:1", "a@b.c");
        assert!(store.load(&key).unwrap().is_none());
        store.save(&key, &Secret::new("ghr_one".into())).unwrap();
        store.save(&key, &Secret::new("ghr_two".into())).unwrap();
        assert_eq!(store.load(&key).unwrap().unwrap().expose(), "ghr_two");
        store.delete(&key).unwrap();
        store.delete(&key).unwrap();
        assert!(store.load(&key).unwrap().is_none());
        keyring_core::unset_default_store();
    }
}
