//! The served OpenAPI document is generated from the handlers; `docs/openapi.json` is
//! its committed copy, and this test fails when they drift. Regenerate with
//! `UPDATE_SNAPSHOTS=1 cargo test -p gatehouse-server --test server openapi`.

use crate::helpers::TestServer;

#[tokio::test]
async fn openapi_document_is_served_and_committed_copy_is_current() {
    let s = TestServer::new().await;
    let served: serde_json::Value = s.http.get(s.at("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(served["openapi"].as_str().unwrap().chars().next(), Some('3'));
    for path in ["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout", "/v1/me", "/v1/users", "/v1/users/{id}"] {
        assert!(served["paths"].get(path).is_some(), "{path} is documented");
    }
    let generated = serde_json::to_string_pretty(&gatehouse_server::app::openapi_document()).unwrap() + "\n";
    let committed_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(committed == generated, "docs/openapi.json is out of date; run UPDATE_SNAPSHOTS=1 cargo test -p gatehouse-server --test server openapi");
}
