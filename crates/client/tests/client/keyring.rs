//! The refresh token in the real OS keyring (Secret Service on Linux). `cargo xtask test`
//! runs these inside a private D-Bus session with an unlocked gnome-keyring.

use crate::server::{OWNER, PASSWORD, ServerProcess};
use gatehouse_client::api::Secret;
use gatehouse_client::keyring_store::{KEYRING_SERVICE, use_platform_store};
use gatehouse_client::{Client, ClientOptions, ConnectionKey, KeyringTokenStore, TokenStore};
use std::sync::Arc;

fn platform_store() {
    if let Err(e) = use_platform_store() {
        panic!("no OS keyring ({e}); run the tests with `cargo xtask test`, which provides one");
    }
}

#[tokio::test]
async fn refresh_token_lives_in_the_os_keyring_and_sign_out_deletes_it() {
    platform_store();
    let server = ServerProcess::start(&[]);
    let store = Arc::new(KeyringTokenStore);
    let (client, _) = Client::sign_in(&server.url, OWNER, Secret::new(PASSWORD.into()), None, store.clone(), &ClientOptions::default())
        .await
        .unwrap();
    let key = ConnectionKey::new(&server.url, OWNER);
    // Read it back through keyring-core directly, the way any other keyring client would.
    let entry = keyring_core::Entry::new(KEYRING_SERVICE, &format!("{OWNER} on {}", server.url)).unwrap();
    let in_keyring = entry.get_password().unwrap();
    assert!(in_keyring.starts_with("ghr_"));
    assert_eq!(store.load(&key).unwrap().unwrap().expose(), &in_keyring);

    assert!(client.sign_out().await.unwrap());
    assert!(matches!(entry.get_password(), Err(keyring_core::Error::NoEntry)));
    assert!(store.load(&key).unwrap().is_none());
}

#[test]
fn keyring_store_round_trip_and_idempotent_delete() {
    platform_store();
    let store = KeyringTokenStore;
    let key = ConnectionKey::new("http://keyring-test.invalid", &format!("rt-{}@acme.test", std::process::id()));
    store.save(&key, &Secret::new("ghr_first".into())).unwrap();
    store.save(&key, &Secret::new("ghr_second".into())).unwrap();
    assert_eq!(store.load(&key).unwrap().unwrap().expose(), "ghr_second");
    store.delete(&key).unwrap();
    store.delete(&key).unwrap();
    assert!(store.load(&key).unwrap().is_none());
}
