//! SCIM 2.0 at `/scim/v2` (issue 20): discovery, reading users with filters, paging,
//! sorting, projections and ETags, and SCIM's error schema for everything that fails.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn scim(s: &TestServer, token: &str, path: &str) -> reqwest::Response {
    s.http.get(s.at(&format!("/scim/v2{path}"))).bearer_auth(token).send().await.unwrap()
}

/// A SCIM JSON body, checking the media type every SCIM answer carries.
async fn body(res: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "{:?}", res.headers());
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert_eq!(ct, "application/scim+json");
    res.json().await.unwrap()
}

/// A SCIM error with `status` and, when given, `scimType`.
async fn error(res: reqwest::Response, status: StatusCode, scim_type: Option<&str>) -> Value {
    let v = body(res, status).await;
    assert_eq!(v["schemas"], serde_json::json!([ERROR]), "{v}");
    assert_eq!(v["status"], status.as_u16().to_string(), "{v}");
    assert_eq!(v["scimType"].as_str(), scim_type, "{v}");
    assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
    v
}

fn encode(filter: &str) -> String {
    filter.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('[', "%5B").replace(']', "%5D").replace('@', "%40")
}

#[tokio::test]
async fn discovery_describes_users_and_groups_and_the_roles_the_caller_may_give() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await.access_token.expose().to_owned();
    let spc = body(scim(&s, &owner, "/ServiceProviderConfig").await, StatusCode::OK).await;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["meta"]["location"], s.at("/scim/v2/ServiceProviderConfig"));
    let types = body(scim(&s, &owner, "/ResourceTypes").await, StatusCode::OK).await;
    assert_eq!(types["totalResults"], 2);
    let user = body(scim(&s, &owner, "/ResourceTypes/User").await, StatusCode::OK).await;
    assert_eq!(user["endpoint"], "/Users");
    error(scim(&s, &owner, "/ResourceTypes/Printer").await, StatusCode::NOT_FOUND, None).await;

    let schemas = body(scim(&s, &owner, "/Schemas").await, StatusCode::OK).await;
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    for id in ids {
        body(scim(&s, &owner, &format!("/Schemas/{id}")).await, StatusCode::OK).await;
    }
    let roles_of = |schema: &Value| -> Vec<String> {
        let roles = schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "roles").unwrap();
        roles["subAttributes"][0]["canonicalValues"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let user_schema = "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User";
    let by_owner = roles_of(&body(scim(&s, &owner, user_schema).await, StatusCode::OK).await);
    assert!(by_owner.contains(&"owner".to_owned()) && by_owner.contains(&"member".to_owned()), "{by_owner:?}");
    // A manager may give only roles their own reach covers: never Admin or Owner.
    let manager = s.login("manager@acme.test").await.access_token.expose().to_owned();
    let by_manager = roles_of(&body(scim(&s, &manager, user_schema).await, StatusCode::OK).await);
    assert!(by_manager.contains(&"member".to_owned()), "{by_manager:?}");
    assert!(!by_manager.contains(&"owner".to_owned()) && !by_manager.contains(&"admin".to_owned()), "{by_manager:?}");
}

#[tokio::test]
async fn every_failure_is_a_scim_error_never_a_bare_status() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await.access_token.expose().to_owned();
    let anonymous = s.http.get(s.at("/scim/v2/Users")).send().await.unwrap();
    error(anonymous, StatusCode::UNAUTHORIZED, None).await;
    error(scim(&s, "gh_not-a-real-key", "/Users").await, StatusCode::UNAUTHORIZED, None).await;
    error(scim(&s, &owner, "/Printers").await, StatusCode::NOT_FOUND, None).await;
    error(scim(&s, &owner, "/Users/no-such-user").await, StatusCode::NOT_FOUND, None).await;
    for method in [reqwest::Method::POST, reqwest::Method::PUT, reqwest::Method::PATCH, reqwest::Method::DELETE] {
        for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
            let res = s.http.request(method.clone(), s.at(&format!("/scim/v2{path}"))).bearer_auth(&owner).send().await.unwrap();
            error(res, StatusCode::METHOD_NOT_ALLOWED, None).await;
        }
    }
    for (filter, says) in [
        ("userName eq", "does not parse"),
        ("userName eq bjensen", "does not parse"),
        (r#"nickName eq "x""#, "not supported"),
        (r#"active eq "yes""#, "boolean"),
    ] {
        let v = error(scim(&s, &owner, &format!("/Users?filter={}", encode(filter))).await, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
        assert!(v["detail"].as_str().unwrap().contains(says), "{filter}: {v}");
    }
    error(scim(&s, &owner, "/Users?sortBy=roles").await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    error(scim(&s, &owner, "/Users?sortOrder=sideways").await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    error(scim(&s, &owner, "/Users?count=many").await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    // Reading needs `users.read`, as on /v1.
    let no_roles = s.login("member@acme.test").await.access_token.expose().to_owned();
    assert_eq!(scim(&s, &no_roles, "/Users").await.status(), StatusCode::OK, "members read the directory");
}

#[tokio::test]
async fn users_are_found_by_filter_as_identity_providers_look_them_up() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await.access_token.expose().to_owned();
    let admin_id = id_of(&s, &s.login(OWNER).await, "admin@acme.test").await;
    let found = body(scim(&s, &owner, &format!("/Users?filter={}", encode(r#"userName eq "Admin@Acme.test""#))).await, StatusCode::OK).await;
    assert_eq!(found["totalResults"], 1, "{found}");
    let admin = &found["Resources"][0];
    assert_eq!(admin["id"], admin_id.as_str());
    assert_eq!(admin["userName"], "admin@acme.test");
    assert_eq!(admin["emails"][0]["value"], "admin@acme.test");
    assert_eq!(admin["active"], true);
    assert_eq!(admin["roles"], serde_json::json!([{"value": "admin"}]));
    assert_eq!(admin["meta"]["resourceType"], "User");
    assert_eq!(admin["meta"]["location"], s.at(&format!("/scim/v2/Users/{admin_id}")));
    assert!(admin["meta"]["version"].as_str().unwrap().starts_with("W/\""), "{admin}");
    assert_eq!(admin["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Engineering", "{admin}");
    assert_eq!(admin["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:User", "the core schema comes first");

    // Not found is an empty list, never a 404 (Entra and Okta look up before creating).
    let none = body(scim(&s, &owner, &format!("/Users?filter={}", encode(r#"userName eq "nobody@acme.test""#))).await, StatusCode::OK).await;
    assert_eq!((none["totalResults"].as_i64(), none["Resources"].as_array().map(Vec::len)), (Some(0), Some(0)), "{none}");

    // The same filters as the /v1 list's counts.
    let counts = s.get("/v1/users?limit=1", &s.login(OWNER).await).await.json::<Value>().await.unwrap()["counts"].clone();
    let total = |v: &Value| v["totalResults"].as_i64().unwrap();
    let inactive = body(scim(&s, &owner, &format!("/Users?filter={}", encode("active eq false"))).await, StatusCode::OK).await;
    assert_eq!(total(&inactive), counts["pending"].as_i64().unwrap() + counts["deactivated"].as_i64().unwrap());
    let all = body(scim(&s, &owner, "/Users?count=0").await, StatusCode::OK).await;
    assert_eq!(total(&all), counts["all"].as_i64().unwrap());
    assert_eq!(all["Resources"], serde_json::json!([]), "count=0 answers the total only");
    let grouped = format!("/Users?filter={}", encode(r#"emails[type eq "work" and value ew "@acme.test"] and not (roles.value eq "member")"#));
    let not_members = body(scim(&s, &owner, &grouped).await, StatusCode::OK).await;
    assert!(total(&not_members) > 0 && total(&not_members) < total(&all), "{not_members}");
    for u in not_members["Resources"].as_array().unwrap() {
        assert!(!u["roles"].as_array().into_iter().flatten().any(|r| r["value"] == "member"), "{u}");
    }
    // Every user changed after 2020 and none after 2100.
    let since =
        body(scim(&s, &owner, &format!("/Users?count=0&filter={}", encode(r#"meta.lastModified gt "2020-01-01T00:00:00Z""#))).await, StatusCode::OK)
            .await;
    assert_eq!(total(&since), total(&all));
    let later =
        body(scim(&s, &owner, &format!("/Users?count=0&filter={}", encode(r#"meta.lastModified gt "2100-01-01T00:00:00Z""#))).await, StatusCode::OK)
            .await;
    assert_eq!(total(&later), 0);
}

#[tokio::test]
async fn pages_by_index_cover_every_user_once_in_a_stable_order() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await.access_token.expose().to_owned();
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = body(scim(&s, &owner, &format!("/Users?startIndex={start}&count=7&sortBy=userName")).await, StatusCode::OK).await;
        assert_eq!(page["startIndex"], start);
        let items = page["Resources"].as_array().unwrap();
        assert!(items.len() <= 7);
        seen.extend(items.iter().map(|u| u["userName"].as_str().unwrap().to_owned()));
        if items.is_empty() {
            assert_eq!(seen.len() as i64, page["totalResults"].as_i64().unwrap());
            break;
        }
        start += items.len();
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "sortBy=userName orders the pages");
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no user on two pages");
    let down = body(scim(&s, &owner, "/Users?sortBy=userName&sortOrder=descending&count=3").await, StatusCode::OK).await;
    let names: Vec<&str> = down["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
    assert_eq!(names, seen.iter().rev().take(3).map(String::as_str).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_user_has_an_etag_and_answers_only_the_attributes_asked_for() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await.access_token.expose().to_owned();
    let id = id_of(&s, &s.login(OWNER).await, "member@acme.test").await;
    let res = scim(&s, &owner, &format!("/Users/{id}")).await;
    let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let user = body(res, StatusCode::OK).await;
    assert_eq!(user["meta"]["version"], etag.as_str(), "the ETag header is meta.version");
    let again = s.http.get(s.at(&format!("/scim/v2/Users/{id}"))).bearer_auth(&owner).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let only = body(scim(&s, &owner, &format!("/Users/{id}?attributes=userName,name.givenName")).await, StatusCode::OK).await;
    let mut keys: Vec<&str> = only.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["id", "meta", "name", "schemas", "userName"], "{only}");
    assert_eq!(only["name"], serde_json::json!({"givenName": "Casey"}));
    let without = body(scim(&s, &owner, &format!("/Users/{id}?excludedAttributes=emails,name.familyName")).await, StatusCode::OK).await;
    assert!(without.get("emails").is_none() && without["name"].get("familyName").is_none() && without["name"]["givenName"] == "Casey", "{without}");
    let listed =
        body(scim(&s, &owner, &format!("/Users?attributes=userName&filter={}", encode(&format!(r#"id eq "{id}""#)))).await, StatusCode::OK).await;
    assert_eq!(listed["Resources"][0]["userName"], "member@acme.test");
    assert!(listed["Resources"][0].get("emails").is_none(), "{listed}");
}
