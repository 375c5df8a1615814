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

/// A SCIM request with a JSON body (sent as `application/scim+json`, as providers do).
async fn write(s: &TestServer, token: &str, method: &str, path: &str, body: &Value, if_match: Option<&str>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = s
        .http
        .request(method, s.at(&format!("/scim/v2{path}")))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("if-match", tag);
    }
    req.send().await.unwrap()
}

fn patch_op(ops: Value) -> Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[tokio::test]
async fn an_identity_provider_creates_updates_deactivates_and_deletes_a_user_through_the_same_operations_as_v1() {
    let s = TestServer::new().await;
    let owner_tokens = s.login(OWNER).await;
    let owner = owner_tokens.access_token.expose().to_owned();
    // Entra's create, as it sends it: both schemas, meta, an empty roles list.
    let created = write(
        &s,
        &owner,
        "POST",
        "/Users",
        &serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "5c1e4b7a-2f0d-4d6b-9a35-0c8f6e2d1b90", "userName": "ada.test@contoso.test", "active": true,
            "emails": [{"primary": true, "type": "work", "value": "ada.test@contoso.test"}], "meta": {"resourceType": "User"},
            "name": {"formatted": "Ada Test", "familyName": "Test", "givenName": "Ada"}, "roles": []
        }),
        None,
    )
    .await;
    let location = created.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let etag = created.headers().get("etag").map(|v| v.to_str().unwrap().to_owned());
    let ada = body(created, StatusCode::CREATED).await;
    let id = ada["id"].as_str().unwrap().to_owned();
    assert_eq!(location.as_deref(), ada["meta"]["location"].as_str(), "Location is meta.location");
    assert_eq!(etag.as_deref(), ada["meta"]["version"].as_str(), "ETag is meta.version");
    assert_eq!((ada["userName"].as_str(), ada["active"].as_bool()), (Some("ada.test@contoso.test"), Some(true)));
    assert_eq!(ada["externalId"], "5c1e4b7a-2f0d-4d6b-9a35-0c8f6e2d1b90");
    assert!(ada.get("displayName").is_none(), "the default display name (the names) is not shown: {ada}");
    assert!(ada.get("roles").is_none(), "the provider gave no roles: none (not /v1's default Member role)");
    // The enterprise extension's department: the person joins it (it is made when new).
    let dept =
        patch_op(serde_json::json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "R&D"}]));
    let in_rd = body(write(&s, &owner, "PATCH", &format!("/Users/{}", ada["id"].as_str().unwrap()), &dept, None).await, StatusCode::OK).await;
    assert_eq!(in_rd["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "R&D", "{in_rd}");
    let v1: Value = s.get(&format!("/v1/users/{id}"), &owner_tokens).await.json().await.unwrap();
    assert_eq!((v1["status"].as_str(), v1["first_name"].as_str()), (Some("active"), Some("Ada")));
    let found =
        body(scim(&s, &owner, &format!("/Users?filter={}", encode(r#"externalId eq "5c1e4b7a-2f0d-4d6b-9a35-0c8f6e2d1b90""#))).await, StatusCode::OK)
            .await;
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // The same address, or the same external id, twice: SCIM's uniqueness.
    let again = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ADA.test@contoso.test"});
    error(write(&s, &owner, "POST", "/Users", &again, None).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    let twin = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "twin@contoso.test", "externalId": "5c1e4b7a-2f0d-4d6b-9a35-0c8f6e2d1b90"});
    error(write(&s, &owner, "POST", "/Users", &twin, None).await, StatusCode::CONFLICT, Some("uniqueness")).await;

    // Entra's update: capitalised ops, a value path that adds, a new address.
    let update = patch_op(serde_json::json!([
        {"op": "Replace", "path": "name.familyName", "value": "Lovelace"},
        {"op": "Replace", "path": "userName", "value": "ada.l@contoso.test"},
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ada.l@contoso.test"},
    ]));
    let patched = body(write(&s, &owner, "PATCH", &format!("/Users/{id}"), &update, None).await, StatusCode::OK).await;
    assert_eq!((patched["userName"].as_str(), patched["name"]["familyName"].as_str()), (Some("ada.l@contoso.test"), Some("Lovelace")));
    assert_ne!(patched["meta"]["version"], ada["meta"]["version"], "the version moved");
    assert!(patched.get("displayName").is_none(), "a default display name follows the names: {patched}");
    let v1: Value = s.get(&format!("/v1/users/{id}"), &owner_tokens).await.json().await.unwrap();
    assert_eq!(v1["display_name"], "Ada Lovelace");

    // Entra disables with a string; the user is deactivated as /v1 does it.
    let off = body(
        write(
            &s,
            &owner,
            "PATCH",
            &format!("/Users/{id}"),
            &patch_op(serde_json::json!([{"op": "Replace", "path": "active", "value": "False"}])),
            None,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["active"], false);
    let v1: Value = s.get(&format!("/v1/users/{id}"), &owner_tokens).await.json().await.unwrap();
    assert_eq!(v1["status"], "deactivated");
    // Okta re-enables with a path-less replace.
    let on = body(
        write(&s, &owner, "PATCH", &format!("/Users/{id}"), &patch_op(serde_json::json!([{"op": "replace", "value": {"active": true}}])), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(on["active"], true);

    // Okta's PUT: the whole user, a new display name; roles not named stay.
    let put = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": "ada.l@contoso.test",
        "name": {"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Countess Lovelace", "externalId": "00u9x8y7", "groups": [], "active": true});
    let stale = ada["meta"]["version"].as_str().unwrap();
    error(write(&s, &owner, "PUT", &format!("/Users/{id}"), &put, Some(stale)).await, StatusCode::PRECONDITION_FAILED, None).await;
    let current = on["meta"]["version"].as_str().unwrap();
    let replaced = body(write(&s, &owner, "PUT", &format!("/Users/{id}"), &put, Some(current)).await, StatusCode::OK).await;
    assert_eq!((replaced["displayName"].as_str(), replaced["externalId"].as_str()), (Some("Countess Lovelace"), Some("00u9x8y7")));
    assert!(replaced.get("roles").is_none(), "a PUT without roles leaves them as they were");
    let relinked =
        events(&s, &id).await.into_iter().filter(|(a, _, _)| a == "user.updated").find(|(_, _, d)| d["after"]["external_id"] == "00u9x8y7");
    let (_, _, details) = relinked.expect("the external id's change is in the audit log");
    assert_eq!(details["before"]["external_id"], "5c1e4b7a-2f0d-4d6b-9a35-0c8f6e2d1b90");
    assert_eq!(replaced["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "R&D", "and the department too");

    // DELETE: deactivated, then removed; the audit trail tells it all.
    let gone = write(&s, &owner, "DELETE", &format!("/Users/{id}"), &Value::Null, None).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert!(gone.bytes().await.unwrap().is_empty(), "204 has no body");
    error(scim(&s, &owner, &format!("/Users/{id}")).await, StatusCode::NOT_FOUND, None).await;
    assert_eq!(s.get(&format!("/v1/users/{id}"), &owner_tokens).await.status(), StatusCode::NOT_FOUND);
    let actions: Vec<String> = events(&s, &id).await.into_iter().map(|(a, _, _)| a).collect();
    for action in ["user.created", "user.deactivated", "user.reactivated", "user.removed"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn scim_writes_ask_the_same_rule_as_v1_and_refuse_bad_input_in_scim_terms() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let admin_id = id_of(&s, &owner, "admin@acme.test").await;
    let member_id = id_of(&s, &owner, "member@acme.test").await;
    let manager = s.login("manager@acme.test").await.access_token.expose().to_owned();
    let rename = patch_op(serde_json::json!([{"op": "replace", "path": "displayName", "value": "Taken Over"}]));
    // A manager reaches neither an admin nor the Owner role.
    error(write(&s, &manager, "PATCH", &format!("/Users/{admin_id}"), &rename, None).await, StatusCode::FORBIDDEN, None).await;
    let owner_role =
        serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "mole@acme.test", "roles": [{"value": "owner"}]});
    error(write(&s, &manager, "POST", "/Users", &owner_role, None).await, StatusCode::FORBIDDEN, None).await;
    let grant = patch_op(serde_json::json!([{"op": "add", "path": "roles", "value": [{"value": "admin"}]}]));
    error(write(&s, &manager, "PATCH", &format!("/Users/{member_id}"), &grant, None).await, StatusCode::FORBIDDEN, None).await;
    // A member cannot write at all.
    let member = s.login("member@acme.test").await.access_token.expose().to_owned();
    let plain = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new@acme.test"});
    error(write(&s, &member, "POST", "/Users", &plain, None).await, StatusCode::FORBIDDEN, None).await;
    // Nothing of that was written.
    let owner_token = owner.access_token.expose().to_owned();
    let none = body(
        scim(&s, &owner_token, &format!("/Users?count=0&filter={}", encode(r#"userName eq "mole@acme.test" or userName eq "new@acme.test""#))).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none["totalResults"], 0);
    let admin = body(scim(&s, &owner_token, &format!("/Users/{admin_id}")).await, StatusCode::OK).await;
    assert_ne!(admin["displayName"], "Taken Over");

    // Bad input: what is wrong, in SCIM's words; nothing written.
    error(
        write(&s, &owner_token, "POST", "/Users", &serde_json::json!({"not": "a scim resource"}), None).await,
        StatusCode::BAD_REQUEST,
        Some("invalidValue"),
    )
    .await;
    let res = s.http.post(s.at("/scim/v2/Users")).bearer_auth(&owner_token).body("{not json").send().await.unwrap();
    error(res, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    let path = format!("/Users/{member_id}");
    error(
        write(&s, &owner_token, "PATCH", &path, &serde_json::json!({"Operations": []}), None).await,
        StatusCode::BAD_REQUEST,
        Some("invalidSyntax"),
    )
    .await;
    let maybe = patch_op(serde_json::json!([{"op": "replace", "path": "active", "value": "maybe"}]));
    error(write(&s, &owner_token, "PATCH", &path, &maybe, None).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let unknown_role = patch_op(serde_json::json!([{"op": "add", "path": "roles", "value": [{"value": "wizard"}]}]));
    error(write(&s, &owner_token, "PATCH", &path, &unknown_role, None).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let bad_address = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "not an address"});
    error(write(&s, &owner_token, "POST", "/Users", &bad_address, None).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    error(write(&s, &owner_token, "DELETE", "/Users/no-such-user", &Value::Null, None).await, StatusCode::NOT_FOUND, None).await;
    let member_now = body(scim(&s, &owner_token, &path).await, StatusCode::OK).await;
    assert_eq!((member_now["active"].as_bool(), member_now["roles"].clone()), (Some(true), serde_json::json!([{"value": "member"}])));
}

#[tokio::test]
async fn groups_are_departments_and_companies_and_each_membership_is_that_persons_edit() {
    let s = TestServer::new().await;
    let owner_tokens = s.login(OWNER).await;
    let owner = owner_tokens.access_token.expose().to_owned();
    let member_id = id_of(&s, &owner_tokens, "member@acme.test").await;
    let admin_id = id_of(&s, &owner_tokens, "admin@acme.test").await;
    let all = body(scim(&s, &owner, "/Groups?excludedAttributes=members").await, StatusCode::OK).await;
    let v1: Value = s.get("/v1/departments", &owner_tokens).await.json().await.unwrap();
    assert_eq!(all["totalResults"].as_u64(), Some(v1.as_array().unwrap().len() as u64));
    assert!(all["Resources"].as_array().unwrap().iter().all(|g| g.get("members").is_none()), "members left out when asked");
    let ext = "urn:gatehouse:params:scim:schemas:extension:2.0:Group";
    let sales = body(scim(&s, &owner, &format!("/Groups?filter={}", encode(r#"displayName eq "sales""#))).await, StatusCode::OK).await;
    assert_eq!(sales["totalResults"], 1);
    assert_eq!(sales["Resources"][0][ext]["kind"], "department");
    let sales_members = sales["Resources"][0]["members"].as_array().unwrap();
    assert!(!sales_members.is_empty());
    let someone = sales_members[0]["value"].as_str().unwrap();
    let their_groups = body(scim(&s, &owner, &format!("/Users/{someone}")).await, StatusCode::OK).await;
    assert!(their_groups["groups"].as_array().unwrap().iter().any(|g| g["display"] == "Sales"), "{their_groups}");

    // Entra's create: a member not provisioned yet is passed over.
    let created = write(
        &s,
        &owner,
        "POST",
        "/Groups",
        &serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "externalId": "8d2c6a41", "displayName": "Pilots",
            "members": [{"value": member_id}, {"value": "fake-member-id"}]}),
        None,
    )
    .await;
    let location = created.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let pilots = body(created, StatusCode::CREATED).await;
    let gid = pilots["id"].as_str().unwrap().to_owned();
    assert_eq!(location.as_deref(), pilots["meta"]["location"].as_str());
    assert_eq!(pilots["externalId"], "8d2c6a41");
    assert_eq!(pilots["members"], serde_json::json!([{"value": member_id, "$ref": s.at(&format!("/scim/v2/Users/{member_id}")), "type": "User"}]));
    let member_v1: Value = s.get(&format!("/v1/users/{member_id}"), &owner_tokens).await.json().await.unwrap();
    assert!(member_v1["departments"].as_array().unwrap().iter().any(|g| g["name"] == "Pilots"), "{member_v1}");
    assert!(events(&s, &member_id).await.iter().any(|(a, _, _)| a.starts_with("user.")), "the member's edit is in the audit log");

    let path = format!("/Groups/{gid}");
    let added = body(
        write(&s, &owner, "PATCH", &path, &patch_op(serde_json::json!([{"op": "Add", "path": "members", "value": [{"value": admin_id}]}])), None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(added["members"].as_array().unwrap().len(), 2);
    assert_ne!(added["meta"]["version"], pilots["meta"]["version"], "a membership moves the group's version");
    // Entra's removal names the member in `value`; Okta's in the path.
    let entra = patch_op(serde_json::json!([{"op": "Remove", "path": "members", "value": [{"value": admin_id}]}]));
    let removed = body(write(&s, &owner, "PATCH", &path, &entra, None).await, StatusCode::OK).await;
    assert_eq!(removed["members"].as_array().unwrap().len(), 1);
    let okta = patch_op(serde_json::json!([{"op": "remove", "path": format!("members[value eq \"{member_id}\"]")}]));
    let empty = body(write(&s, &owner, "PATCH", &path, &okta, None).await, StatusCode::OK).await;
    assert!(empty.get("members").is_none(), "{empty}");
    // Okta renames with a path-less replace that carries the id.
    let rename = patch_op(serde_json::json!([{"op": "replace", "value": {"id": gid, "displayName": "Pilots 2"}}]));
    let renamed = body(write(&s, &owner, "PATCH", &path, &rename, None).await, StatusCode::OK).await;
    assert_eq!(renamed["displayName"], "Pilots 2");
    let stale = pilots["meta"]["version"].as_str().unwrap();
    let put = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Pilots 3"});
    error(write(&s, &owner, "PUT", &path, &put, Some(stale)).await, StatusCode::PRECONDITION_FAILED, None).await;
    // Renaming onto another department's name: SCIM's uniqueness.
    let clash = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales"});
    error(write(&s, &owner, "PUT", &path, &clash, None).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    // A manager may not make or remove departments (org.settings), as on /v1.
    let manager = s.login("manager@acme.test").await.access_token.expose().to_owned();
    error(write(&s, &manager, "POST", "/Groups", &serde_json::json!({"displayName": "Shadow"}), None).await, StatusCode::FORBIDDEN, None).await;
    error(write(&s, &manager, "DELETE", &path, &Value::Null, None).await, StatusCode::FORBIDDEN, None).await;

    let gone = write(&s, &owner, "DELETE", &path, &Value::Null, None).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    error(scim(&s, &owner, &path).await, StatusCode::NOT_FOUND, None).await;
    let v1: Value = s.get("/v1/departments", &owner_tokens).await.json().await.unwrap();
    assert!(!v1.as_array().unwrap().iter().any(|g| g["name"].as_str().unwrap_or_default().starts_with("Pilots")));
}

#[tokio::test]
async fn a_user_name_that_is_not_an_address_is_kept_beside_the_address_and_unique() {
    let s = TestServer::new().await;
    let owner_tokens = s.login(OWNER).await;
    let owner = owner_tokens.access_token.expose().to_owned();
    let jdoe = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe",
        "emails": [{"value": "home@example.test", "type": "home"}, {"value": "j.doe@acme.test", "type": "work"}], "active": true});
    let created = body(write(&s, &owner, "POST", "/Users", &jdoe, None).await, StatusCode::CREATED).await;
    assert_eq!((created["userName"].as_str(), created["emails"][0]["value"].as_str()), (Some("jdoe"), Some("j.doe@acme.test")), "{created}");
    let v1: Value = s.get(&format!("/v1/users/{}", created["id"].as_str().unwrap()), &owner_tokens).await.json().await.unwrap();
    assert_eq!(v1["email"], "j.doe@acme.test", "the work address is the one they sign in with");
    let found = body(scim(&s, &owner, &format!("/Users?filter={}", encode(r#"userName eq "JDOE""#))).await, StatusCode::OK).await;
    assert_eq!(found["totalResults"], 1);
    // The same userName again, or one that is someone's address: taken.
    let again =
        serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "JDoe", "emails": [{"value": "other@acme.test"}]});
    error(write(&s, &owner, "POST", "/Users", &again, None).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    let address = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "admin@acme.test", "emails": [{"value": "third@acme.test"}]});
    error(write(&s, &owner, "POST", "/Users", &address, None).await, StatusCode::CONFLICT, Some("uniqueness")).await;
    // No address anywhere: refused, as every Gatehouse user has one.
    let nameless = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "nobody"});
    let v = error(write(&s, &owner, "POST", "/Users", &nameless, None).await, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(v["detail"].as_str().unwrap().contains("e-mail address is required"), "{v}");
}

#[tokio::test]
async fn a_provisioning_key_made_on_the_command_line_reaches_only_what_provisioning_needs() {
    let s = TestServer::new().await;
    let out = api_key_command(&s, &["--org", "acme", "--role", "scim", "--name", "Okta"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with(gatehouse_api::API_KEY_PREFIX) && !key.contains('\n'), "only the secret on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("shown only now"));

    // It provisions…
    body(scim(&s, &key, "/Users?count=1").await, StatusCode::OK).await;
    let new = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "prov@acme.test", "emails": [{"value": "prov@acme.test"}]});
    body(write(&s, &key, "POST", "/Users", &new, None).await, StatusCode::CREATED).await;
    // …and nothing else its user (the Owner) could do.
    for path in ["/v1/audit-events", "/v1/sessions", "/v1/login-attempts"] {
        let res = s.http.get(s.at(path)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let invite = s.http.post(s.at("/v1/invitations")).bearer_auth(&key).json(&serde_json::json!({"emails": ["x@acme.test"]})).send().await.unwrap();
    assert_eq!(invite.status(), StatusCode::FORBIDDEN);
    // Nor reach an Admin (or a manager): its rank is the role's, which covers neither.
    let owner_tokens = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner_tokens, OWNER).await;
    let off = patch_op(serde_json::json!([{"op": "replace", "path": "active", "value": false}]));
    for who in ["admin@acme.test", "manager@acme.test"] {
        let id = id_of(&s, &owner_tokens, who).await;
        error(write(&s, &key, "PATCH", &format!("/Users/{id}"), &off, None).await, StatusCode::FORBIDDEN, None).await;
    }
    // The audit log says how the key came to be.
    let made = events(&s, &owner_id).await.into_iter().find(|(a, _, _)| a == "api_key.created").expect("the key's creation is in the log");
    assert_eq!(made.2["api_key"]["role"], "scim");

    // Unknown organization or role: a clear refusal, no key.
    for (args, says) in [(["--org", "nowhere", "--role", "scim"], "no organization"), (["--org", "acme", "--role", "wizard"], "no role")] {
        let out = api_key_command(&s, &[args[0], args[1], args[2], args[3], "--name", "x"]).await;
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains(says), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test]
async fn a_provisioning_key_made_in_the_app_is_the_admins_own_key_limited_to_the_scim_role() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    let owner_id = id_of(&s, &owner, OWNER).await;
    step_up(&s, &owner).await;
    let create = |body: Value| {
        let (s, owner, path) = (&s, &owner, format!("/v1/users/{owner_id}/api-keys"));
        async move { send(s, owner, "POST", &path, Some(body), &[]).await }
    };
    let res = create(serde_json::json!({"name": "Entra ID", "role": "scim", "expires_in_days": 365})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let made: gatehouse_api::CreatedApiKey = res.json().await.unwrap();
    assert_eq!(made.key.role.as_deref(), Some("scim"));
    let key = made.secret.expose().clone();
    // Listed with its role, so the app's Settings → Provisioning can tell it apart.
    let listed: Vec<gatehouse_api::ApiKey> = s.get(&format!("/v1/users/{owner_id}/api-keys"), &owner).await.json().await.unwrap();
    assert_eq!(listed.iter().find(|k| k.id == made.key.id).and_then(|k| k.role.as_deref()), Some("scim"));
    // It provisions, and reaches nothing else its Owner could.
    let new = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "entra@acme.test", "emails": [{"value": "entra@acme.test"}]});
    body(write(&s, &key, "POST", "/Users", &new, None).await, StatusCode::CREATED).await;
    for path in ["/v1/audit-events", "/v1/sessions"] {
        assert_eq!(s.http.get(s.at(path)).bearer_auth(&key).send().await.unwrap().status(), StatusCode::FORBIDDEN, "{path}");
    }
    // The audit log names the role.
    let made_event = events(&s, &owner_id).await.into_iter().find(|(a, _, d)| a == "api_key.created" && d["api_key"]["name"] == "Entra ID");
    assert_eq!(made_event.expect("logged").2["api_key"]["role"], "scim");
    // Suspended, it stops at once.
    let res = send(&s, &owner, "POST", &format!("/v1/api-keys/{}/suspend", made.key.id), None, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(scim(&s, &key, "/Users?count=1").await.status(), StatusCode::UNAUTHORIZED);

    // A role that does not exist, or a blank one: a field error, and no key.
    let before = listed.len();
    for bad in ["wizard", ""] {
        let p = problem(create(serde_json::json!({"name": "x", "role": bad})).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(p.errors[0].field, "role", "{bad:?}");
    }
    let after: Vec<gatehouse_api::ApiKey> = s.get(&format!("/v1/users/{owner_id}/api-keys"), &owner).await.json().await.unwrap();
    assert_eq!(after.len(), before, "a refused key is not kept");
}

/// The SCIM endpoints (method, path, body, the permission they need; `None`: anyone
/// signed in). `{none}` is an id that does not exist, so an allowed write answers 404.
fn scim_endpoints(n: usize) -> Vec<(&'static str, &'static str, Option<Value>, Option<&'static str>)> {
    let user = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": format!("matrix{n}@acme.test"),
        "emails": [{"value": format!("matrix{n}@acme.test")}]});
    let group = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("Matrix {n}")});
    let rename = patch_op(serde_json::json!([{"op": "replace", "path": "displayName", "value": "x"}]));
    let search = serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "count": 1});
    vec![
        ("GET", "/ServiceProviderConfig", None, None),
        ("GET", "/ResourceTypes", None, None),
        ("GET", "/Schemas", None, None),
        ("GET", "/Users", None, Some("users.read")),
        ("GET", "/Users/{none}", None, Some("users.read")),
        ("POST", "/Users/.search", Some(search.clone()), Some("users.read")),
        ("POST", "/.search", Some(search.clone()), Some("users.read")),
        ("POST", "/Users", Some(user.clone()), Some("users.manage")),
        ("PUT", "/Users/{none}", Some(user), Some("users.manage")),
        ("PATCH", "/Users/{none}", Some(rename.clone()), Some("users.manage")),
        ("DELETE", "/Users/{none}", None, Some("users.manage")),
        ("GET", "/Groups", None, Some("users.read")),
        ("GET", "/Groups/{none}", None, Some("users.read")),
        ("POST", "/Groups/.search", Some(search), Some("users.read")),
        ("POST", "/Groups", Some(group.clone()), Some("org.settings")),
        ("PUT", "/Groups/{none}", Some(group), Some("org.settings")),
        ("PATCH", "/Groups/{none}", Some(rename), Some("org.settings")),
        ("DELETE", "/Groups/{none}", None, Some("org.settings")),
    ]
}

#[tokio::test]
async fn every_role_and_a_provisioning_key_against_every_scim_endpoint() {
    let s = TestServer::new().await;
    let owner = s.login(OWNER).await;
    // One account per seeded role, each holding only that role, and a provisioning key.
    let mut callers: Vec<(String, Vec<&str>, String)> = Vec::new();
    for (key, _, _, perms) in gatehouse_server::seed::ROLES {
        let email = if *key == "owner" { OWNER.to_owned() } else { format!("scim-{key}@acme.test") };
        if *key != "owner" {
            let body = serde_json::json!({"first_name": "Role", "last_name": key, "email": email, "password": PASSWORD, "roles": [key]});
            assert_eq!(send(&s, &owner, "POST", "/v1/users", Some(body), &[]).await.status(), StatusCode::CREATED);
        }
        callers.push((key.to_string(), perms.to_vec(), s.login(&email).await.access_token.expose().to_owned()));
    }
    let out = api_key_command(&s, &["--org", "Acme", "--role", "scim", "--name", "matrix"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let scim_perms = gatehouse_server::routes::apikeys::SCIM_ROLE.2.to_vec();
    callers.push(("scim key".into(), scim_perms, String::from_utf8(out.stdout).unwrap().trim().to_owned()));
    let mut checked = 0;
    for (i, (who, perms, token)) in callers.iter().enumerate() {
        for (method, path, body, needs) in scim_endpoints(i) {
            let path = path.replace("{none}", "no-such-id");
            let res = write(&s, token, method, &path, body.as_ref().unwrap_or(&Value::Null), None).await;
            let what = format!("{who} {method} {path}");
            if needs.is_none_or(|p| perms.contains(&p)) {
                assert!(![StatusCode::FORBIDDEN, StatusCode::UNAUTHORIZED].contains(&res.status()), "{what}: allowed, got {}", res.status());
                assert!(!res.status().is_server_error(), "{what}: {}", res.status());
            } else {
                let v = error(res, StatusCode::FORBIDDEN, None).await;
                assert!(v["detail"].as_str().unwrap().contains(needs.unwrap_or_default()), "{what}: the refusal names the permission: {v}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, callers.len() * scim_endpoints(0).len());
}
