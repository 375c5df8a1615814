//! `cargo xtask bench scim` (issue 20): the same SCIM mix against this server (release
//! build, SQLite, a real API key) and against scim2-server from PyPI (in memory), side by
//! side in one run, as an identity provider would drive them one request at a time:
//! create users, look each up by `userName eq`, deactivate each with a PATCH, add them to
//! a group and take them out again, and list every user a page at a time. Prints p50/p95
//! per operation, requests per second, and our throughput over scim2-server's.
//!
//! `GATEHOUSE_SCIM_TOOLS` names the virtual environment's `bin` (xtask sets it);
//! `GATEHOUSE_BENCH_USERS` (default 200) the users made.

mod common;

use common::{Server, env_u32, ms, percentile, seed};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const OPS: [&str; 6] = ["create user", "filter userName eq", "PATCH active false", "PATCH add member", "PATCH remove member", "list page of 50"];

/// One SCIM service to measure: its base URL and bearer token.
struct Target {
    label: &'static str,
    base: String,
    token: String,
}

#[tokio::main]
async fn main() {
    let tools = std::path::PathBuf::from(
        std::env::var("GATEHOUSE_SCIM_TOOLS").expect("GATEHOUSE_SCIM_TOOLS: the SCIM tools' bin (cargo xtask bench scim sets it)"),
    );
    let users = env_u32("GATEHOUSE_BENCH_USERS", 200) as usize;
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();

    // Ours: the release binary on a demo organization, an owner's API key.
    let bin = env!("CARGO_BIN_EXE_gatehouse-server");
    let db = dir.path().join("scim.db");
    seed(bin, &db, &["--users", "20"]);
    let ours = Server::start(bin, &db);
    let token = ours.login(&http, "owner@acme.test").await;
    let step =
        http.post(format!("{}/v1/auth/step-up", ours.url)).bearer_auth(&token).json(&json!({"password": common::PASSWORD})).send().await.unwrap();
    assert!(step.status().is_success(), "step-up: {}", step.status());
    let me: Value = http.get(format!("{}/v1/me", ours.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let me = me["user"]["id"].as_str().or(me["id"].as_str()).unwrap().to_owned();
    let key: Value = http
        .post(format!("{}/v1/users/{me}/api-keys", ours.url))
        .bearer_auth(&token)
        .json(&json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Room for every user the mix makes.
    let seats = http.patch(format!("{}/v1/org", ours.url)).bearer_auth(&token).json(&json!({"seat_limit": 100_000})).send().await.unwrap();
    assert!(seats.status().is_success(), "seat limit: {}", seats.status());
    let ours_target = Target { label: "gatehouse-server", base: format!("{}/scim/v2", ours.url), token: key["secret"].as_str().unwrap().to_owned() };

    // The peer: scim2-server on a free port.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut peer = std::process::Command::new(tools.join("scim2-server"))
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string(), "--bearer-token", "bench-token"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting scim2-server");
    let peer_target = Target { label: "scim2-server", base: format!("http://127.0.0.1:{port}/v2"), token: "bench-token".into() };
    let mut up = false;
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{}/ServiceProviderConfig", peer_target.base)).bearer_auth(&peer_target.token).send().await
            && r.status().is_success()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "scim2-server did not start");

    let mut rates = Vec::new();
    for target in [&ours_target, &peer_target] {
        rates.push((target.label, run(&http, target, users).await));
    }
    let _ = peer.kill();
    let _ = peer.wait();
    let (ours_rate, peer_rate) = (rates[0].1, rates[1].1);
    println!(
        "scim: summary gatehouse-server {ours_rate:.0} requests/s, scim2-server {peer_rate:.0} requests/s: {:.2}× scim2-server's",
        ours_rate / peer_rate
    );
}

/// The mix against `target`; prints its figures and returns requests per second.
async fn run(http: &reqwest::Client, target: &Target, users: usize) -> f64 {
    println!("scim: --- {} ---", target.label);
    let mut lat: BTreeMap<&str, Vec<Duration>> = BTreeMap::new();
    let started = Instant::now();
    let mut requests = 0usize;
    let send = |req: reqwest::RequestBuilder| req.bearer_auth(&target.token).header("content-type", "application/scim+json");
    let patch_op = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});

    let mut ids = Vec::with_capacity(users);
    for i in 0..users {
        let name = format!("bench-{i}@provisioned.example");
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true,
            "name": {"givenName": "Bench", "familyName": format!("User {i}")}, "emails": [{"value": name, "type": "work"}]});
        let t = Instant::now();
        let res = send(http.post(format!("{}/Users", target.base))).body(body.to_string()).send().await.unwrap();
        lat.entry(OPS[0]).or_default().push(t.elapsed());
        assert_eq!(res.status().as_u16(), 201, "{}: create: {}", target.label, res.text().await.unwrap_or_default());
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    for i in 0..users {
        let filter = format!("userName eq \"bench-{i}@provisioned.example\"").replace(' ', "%20").replace('"', "%22").replace('@', "%40");
        let t = Instant::now();
        let res = send(http.get(format!("{}/Users?filter={filter}", target.base))).send().await.unwrap();
        lat.entry(OPS[1]).or_default().push(t.elapsed());
        let page: Value = res.json().await.unwrap();
        assert_eq!(page["totalResults"], 1, "{}: lookup", target.label);
    }
    for id in &ids {
        let t = Instant::now();
        let res = send(http.patch(format!("{}/Users/{id}", target.base)))
            .body(patch_op(json!([{"op": "replace", "value": {"active": false}}])).to_string())
            .send()
            .await
            .unwrap();
        lat.entry(OPS[2]).or_default().push(t.elapsed());
        assert!(res.status().is_success(), "{}: deactivate: {}", target.label, res.status());
    }
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bench provisioned"});
    let res = send(http.post(format!("{}/Groups", target.base))).body(group.to_string()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}: group", target.label);
    let gid = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    requests += 1;
    for (op, name) in [("add", OPS[3]), ("remove", OPS[4])] {
        for id in &ids {
            let body = match op {
                "add" => patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
                _ => patch_op(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}])),
            };
            let t = Instant::now();
            let res = send(http.patch(format!("{}/Groups/{gid}", target.base))).body(body.to_string()).send().await.unwrap();
            lat.entry(name).or_default().push(t.elapsed());
            assert!(res.status().is_success(), "{}: {op} member: {}", target.label, res.status());
        }
    }
    let mut start = 1;
    loop {
        let t = Instant::now();
        let res = send(http.get(format!("{}/Users?startIndex={start}&count=50", target.base))).send().await.unwrap();
        lat.entry(OPS[5]).or_default().push(t.elapsed());
        let page: Value = res.json().await.unwrap();
        let n = page["Resources"].as_array().map_or(0, Vec::len);
        if n == 0 {
            break;
        }
        start += n;
    }
    let wall = started.elapsed();
    requests += lat.values().map(Vec::len).sum::<usize>();
    for op in OPS {
        let mut l = lat.remove(op).unwrap_or_default();
        l.sort();
        println!("scim: {op:<20} p50 {:>10}  p95 {:>10}  ({} requests)", ms(percentile(&l, 0.5)), ms(percentile(&l, 0.95)), l.len());
    }
    let rate = requests as f64 / wall.as_secs_f64();
    println!("scim: {} requests in {:.2} s = {rate:.0} requests/s", requests, wall.as_secs_f64());
    rate
}
