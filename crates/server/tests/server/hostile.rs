//! Bad input never gets a 500, and every error is a problem document: every endpoint is
//! hit with malformed bodies, wrong types, odd encodings and absurd query strings.

use crate::helpers::*;
use reqwest::{Method, StatusCode};

const BODIES: &[&str] = &[
    "",
    "null",
    "[]",
    "\"string\"",
    "12345678901234567890123456789",
    "{",
    "{\"email\": null, \"password\": null}",
    "{\"email\": [], \"password\": {}}",
    "{\"email\": \"\\u0000@x\", \"password\": \"\\u0000\"}",
    "{\"email\": \"a@b.c\", \"password\": \"p\", \"totp\": 12}",
    "{\"refresh_token\": 7}",
    "{\"refresh_token\": \"\"}",
    "{\"refresh_token\": \"ghr_\"}",
    "{\"refresh_token\": \"gha_x.y\"}",
];

const QUERIES: &[&str] = &[
    "limit=-1",
    "limit=99999999999999999999",
    "limit=1.5",
    "status=ACTIVE",
    "status=",
    "q=%00",
    "q=%FF%FE",
    "q=%25%5F%5C",
    "cursor=",
    "cursor=%00%00",
    "cursor=W10",
    "cursor=WyIiLCIiLCIiXQ",
    "role=%00",
    "department=%27%3B%20DROP%20TABLE%20users%3B--",
    "a=1&a=2&q=x&q=y",
];

async fn assert_problem(res: reqwest::Response, what: &str) {
    let status = res.status();
    assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{what}: 500");
    if !status.is_success() && status != StatusCode::NO_CONTENT {
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        assert_eq!(ct, "application/problem+json", "{what}: {status} without a problem document");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["code"].is_string(), "{what}: problem without a code: {body}");
    }
}

#[tokio::test]
async fn hostile_bodies_get_problems_not_500s() {
    let s = TestServer::new().await;
    for path in ["/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout"] {
        for body in BODIES {
            for ct in ["application/json", "text/plain", "application/json; charset=latin1"] {
                let res = s.http.post(s.at(path)).header("content-type", ct).body(*body).send().await.unwrap();
                assert_problem(res, &format!("POST {path} [{ct}] {body:?}")).await;
            }
        }
        let res = s.http.post(s.at(path)).body(vec![0xff_u8, 0xfe, 0x00, 0x7b]).header("content-type", "application/json").send().await.unwrap();
        assert_problem(res, &format!("POST {path} with invalid UTF-8")).await;
    }
}

#[tokio::test]
async fn hostile_edits_get_problems_not_500s() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let page: serde_json::Value = s.get("/v1/users?q=casey", &t).await.json().await.unwrap();
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let edits = ["{\"first_name\": 5}", "{\"email\": null}", "{\"first_name\": \"\\u0007\"}", "{\"email\": \"a@b.c\", \"x\": 1}"];
    for target in [id.as_str(), "nobody", "%FF"] {
        for body in BODIES.iter().chain(edits.iter()) {
            for if_match in ["*", "\"v1\"", "garbage", ""] {
                let res = s
                    .http
                    .patch(s.at(&format!("/v1/users/{target}")))
                    .bearer_auth(t.access_token.expose())
                    .header("content-type", "application/json")
                    .header("if-match", if_match)
                    .body(*body)
                    .send()
                    .await
                    .unwrap();
                assert_problem(res, &format!("PATCH /v1/users/{target} [If-Match {if_match}] {body:?}")).await;
            }
        }
    }
}

#[tokio::test]
async fn hostile_queries_paths_and_headers_get_problems_not_500s() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    for q in QUERIES {
        let res = s.get(&format!("/v1/users?{q}"), &t).await;
        assert_problem(res, &format!("GET /v1/users?{q}")).await;
    }
    let long_id = "x".repeat(10_000);
    for id in ["%00", "%FF", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", long_id.as_str(), "' OR 1=1 --"] {
        let res = s.get(&format!("/v1/users/{id}"), &t).await;
        assert_problem(res, &format!("GET /v1/users/{{{}…}}", &id[..id.len().min(20)])).await;
    }
    for auth in ["Bearer", "Bearer ", "Bearer gha_", "Bearer gha_%%%.%%%", "Bearer gha_eA.eA", "bearer x", "Bearer \u{7f}"] {
        let res = s.http.get(s.at("/v1/me")).header("authorization", auth).send().await;
        // A header reqwest refuses to send is not our concern; an answer must be a problem.
        if let Ok(res) = res {
            assert_problem(res, &format!("GET /v1/me with {auth:?}")).await;
        }
    }
    for (method, path) in [(Method::DELETE, "/v1/users"), (Method::PUT, "/v1/me"), (Method::GET, "/v1/nope"), (Method::PATCH, "/")] {
        let res = s.http.request(method.clone(), s.at(path)).bearer_auth(t.access_token.expose()).send().await.unwrap();
        assert_problem(res, &format!("{method} {path}")).await;
    }
}

#[tokio::test]
async fn hostile_invitation_requests_get_problems_not_500s() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let long = "x".repeat(10_000);
    let extra = [
        "{\"emails\": \"a@b.c\"}".to_owned(),
        "{\"emails\": [1, null, {}]}".to_owned(),
        "{\"emails\": [\"\\u0000@x.test\", \"a@\\u202ex.test\"]}".to_owned(),
        "{\"emails\": [\"a@b.c\"], \"identity_provider\": \"okta\"}".to_owned(),
        "{\"emails\": [\"a@b.c\"], \"roles\": [null], \"departments\": {}}".to_owned(),
        format!("{{\"emails\": [\"{long}@x.test\"], \"message\": \"{long}\"}}"),
        "{\"token\": 5}".to_owned(),
        "{\"token\": \"ghi_\"}".to_owned(),
        "{\"token\": \"ghi_\\u0000.x\"}".to_owned(),
        "{\"token\": \"ghi_eA.eA\", \"first_name\": 1}".to_owned(),
        "{\"token\": \"ghi_eA.eA\", \"provider\": \"saml\", \"tenant_id\": []}".to_owned(),
    ];
    let paths =
        ["/v1/invitations", "/v1/invitations/accept", "/v1/invitations/decline", "/v1/invitations/import", "/v1/invitations/import?dry_run=false"];
    for path in paths {
        for body in BODIES.iter().copied().chain(extra.iter().map(String::as_str)) {
            for ct in ["application/json", "text/plain", "text/csv", "application/json; charset=latin1"] {
                let res = s
                    .http
                    .post(s.at(path))
                    .bearer_auth(t.access_token.expose())
                    .header("content-type", ct)
                    .body(body.to_owned())
                    .send()
                    .await
                    .unwrap();
                assert_problem(res, &format!("POST {path} [{ct}] {:?}", &body[..body.len().min(60)])).await;
            }
        }
        let res = s.http.post(s.at(path)).bearer_auth(t.access_token.expose()).body(vec![0xff_u8, 0xfe, 0x00, 0x7b]).send().await.unwrap();
        assert_problem(res, &format!("POST {path} with invalid UTF-8")).await;
    }
    for q in QUERIES.iter().copied().chain(["status=expired&q=%25", "status=pending,revoked", "limit=0", "limit=501", "dry_run=1"]) {
        assert_problem(s.get(&format!("/v1/invitations?{q}"), &t).await, &format!("GET /v1/invitations?{q}")).await;
        let res = s
            .http
            .post(s.at(&format!("/v1/invitations/import?{q}")))
            .bearer_auth(t.access_token.expose())
            .body("email\nq.new@acme.test\n")
            .send()
            .await
            .unwrap();
        assert_problem(res, &format!("POST /v1/invitations/import?{q}")).await;
    }
    for id in ["%00", "%FF", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", long.as_str(), "' OR 1=1 --", "01900000-0000-7000-8000-000000000000"] {
        let short = &id[..id.len().min(20)];
        for action in ["resend", "revoke"] {
            let res = post(&s, &t, &format!("/v1/invitations/{id}/{action}"), &[("Idempotency-Key", "k")]).await;
            assert_problem(res, &format!("POST /v1/invitations/{{{short}…}}/{action}")).await;
        }
        assert_problem(s.get(&format!("/v1/invitations/{id}/link"), &t).await, &format!("GET /v1/invitations/{{{short}…}}/link")).await;
    }
    // The invitee's page answers HTML, never a 500.
    for token in ["", "ghi_", "%00", "%FF%FE", "ghi_eA.eA", long.as_str(), "a&token=b"] {
        let res = s.http.get(s.at(&format!("/accept-invitation?token={token}"))).send().await.unwrap();
        assert!(!res.status().is_server_error(), "GET /accept-invitation?token={}: {}", &token[..token.len().min(20)], res.status());
        for action in ["accept", "decline", "", "\u{0}"] {
            let form = [("token", token), ("action", action), ("first_name", "\u{7}"), ("password", "x")];
            let res = s.http.post(s.at("/accept-invitation")).form(&form).send().await.unwrap();
            assert!(!res.status().is_server_error(), "POST /accept-invitation {action:?}: {}", res.status());
        }
    }
    let res = s
        .http
        .post(s.at("/accept-invitation"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff_u8, b'=', 0xfe])
        .send()
        .await
        .unwrap();
    assert!(!res.status().is_server_error(), "{}", res.status());
}
