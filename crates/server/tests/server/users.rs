use crate::helpers::*;
use gatehouse_api::{User, UserPage, UserStatus};
use gatehouse_server::on;
use reqwest::StatusCode;
use std::collections::HashSet;

async fn page(s: &TestServer, t: &gatehouse_api::TokenResponse, query: &str) -> UserPage {
    let res = s.get(&format!("/v1/users?{query}"), t).await;
    assert_eq!(res.status(), StatusCode::OK, "GET /v1/users?{query}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn cursor_paging_visits_every_user_once_in_name_order() {
    let s = TestServer::with_users(230).await;
    let t = s.login(OWNER).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("limit=50&cursor={c}"),
            None => "limit=50".to_owned(),
        };
        let p = page(&s, &t, &q).await;
        assert!(p.items.len() <= 50);
        assert_eq!(p.counts.all, 235, "230 generated + owner + 4 staff");
        seen.extend(p.items);
        pages += 1;
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen.len(), 235);
    let ids: HashSet<_> = seen.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids.len(), 235, "no user twice");
    let keys: Vec<(String, String)> = seen.iter().map(|u| (u.display_name.to_lowercase(), u.id.clone())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[tokio::test]
async fn paging_works_with_a_role_and_a_department_given_by_key_and_name() {
    let s = TestServer::with_users(230).await;
    let t = s.login(OWNER).await;
    let filters = "status=active&role=member&department=sales&limit=20";
    let first = page(&s, &t, filters).await;
    let mut seen = first.items.len();
    let mut cursor = first.next_cursor.expect("more than one page of active Sales members");
    loop {
        let p = page(&s, &t, &format!("{filters}&cursor={cursor}")).await;
        assert!(p.items.iter().all(|u| u.roles.iter().any(|r| r.key == "member") && u.departments.iter().any(|d| d.name == "Sales")));
        seen += p.items.len();
        match p.next_cursor {
            Some(c) => cursor = c,
            None => break,
        }
    }
    assert_eq!(seen as u32, first.counts.active, "every page reached, the cursor accepted for the same filters");
}

#[tokio::test]
async fn counts_follow_search_and_filters_but_not_status() {
    let s = TestServer::with_users(200).await;
    let t = s.login(OWNER).await;
    let all = page(&s, &t, "limit=500").await;
    let count = |status: UserStatus| all.items.iter().filter(|u| u.status == status).count() as u32;
    assert_eq!(all.counts.active, count(UserStatus::Active));
    assert_eq!(all.counts.pending, count(UserStatus::Pending));
    assert_eq!(all.counts.deactivated, count(UserStatus::Deactivated));
    assert!(all.counts.pending > 0 && all.counts.deactivated > 0);

    let pending = page(&s, &t, "status=pending&limit=500").await;
    assert!(pending.items.iter().all(|u| u.status == UserStatus::Pending));
    assert_eq!(pending.items.len() as u32, all.counts.pending);
    assert_eq!(pending.counts, all.counts, "badges ignore the status filter");

    // The unfiltered totals are kept by triggers: they follow inserts, updates and deletes.
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET status = 'deactivated' WHERE email = 'manager@acme.test'")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    on!(&s.state.db, |db| sqlx::query(
        "DELETE FROM users WHERE status = 'pending' AND id IN (SELECT id FROM users WHERE status = 'pending' LIMIT 2)"
    )
    .execute(db)
    .await
    .map(|r| r.rows_affected()))
    .unwrap();
    let after = page(&s, &t, "limit=1").await.counts;
    assert_eq!(after.active, all.counts.active - 1);
    assert_eq!(after.deactivated, all.counts.deactivated + 1);
    assert_eq!(after.pending, all.counts.pending - 2);
    assert_eq!(after.all, all.counts.all - 2);
    let scanned = page(&s, &t, "limit=500&q=%40").await;
    assert_eq!(scanned.counts, after, "the filtered (scanning) path agrees with the kept totals");

    let managers = page(&s, &t, "role=manager&limit=500").await;
    assert!(!managers.items.is_empty());
    assert!(managers.items.iter().all(|u| u.roles.iter().any(|r| r.key == "manager")));
    assert_eq!(managers.counts.all as usize, managers.items.len());

    let hr = page(&s, &t, "department=hr&limit=500").await;
    assert!(!hr.items.is_empty());
    assert!(hr.items.iter().all(|u| u.departments.iter().any(|d| d.name == "HR")));
    let hr_id = &hr.items[0].departments.iter().find(|d| d.name == "HR").unwrap().id;
    assert_eq!(page(&s, &t, &format!("department={hr_id}&limit=500")).await.items.len(), hr.items.len());

    let both = page(&s, &t, "department=HR&role=member&status=active&limit=500").await;
    assert!(
        both.items
            .iter()
            .all(|u| u.status == UserStatus::Active && u.roles.iter().any(|r| r.key == "member") && u.departments.iter().any(|d| d.name == "HR"))
    );
}

#[tokio::test]
async fn search_is_case_insensitive_over_name_and_email() {
    let s = TestServer::with_users(200).await;
    let t = s.login(OWNER).await;
    let by_name = page(&s, &t, "q=ALEX%20MOR").await;
    assert_eq!(by_name.items.len(), 1);
    assert_eq!(by_name.items[0].email, OWNER);
    let by_email = page(&s, &t, "q=Support%40ACME").await;
    assert_eq!(by_email.items.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["support@acme.test"]);
    assert_eq!(by_email.counts.all, 1);
    // LIKE wildcards in the search are literal.
    assert!(page(&s, &t, "q=%25").await.items.is_empty());
    assert!(page(&s, &t, "q=_").await.items.is_empty());
}

#[tokio::test]
async fn bad_queries_name_the_field() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("status=gone", "status"),
        ("cursor=bm9wZQ", "cursor"),
        ("cursor=%%%", "cursor"),
        ("role=emperor", "role"),
        ("department=Atlantis", "department"),
    ] {
        let p = problem(s.get(&format!("/v1/users?{query}"), &t).await, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(p.errors.len(), 1, "{query}");
        assert_eq!(p.errors[0].field, field, "{query}");
    }
    let first = page(&s, &t, "limit=5&status=active").await;
    let cursor = first.next_cursor.unwrap();
    let p =
        problem(s.get(&format!("/v1/users?limit=5&status=pending&cursor={cursor}"), &t).await, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(p.errors[0].code, "invalid_cursor");
}

#[tokio::test]
async fn one_user_by_id_only_within_the_organization() {
    let s = TestServer::new().await;
    let t = s.login(OWNER).await;
    let listed = page(&s, &t, "q=casey").await.items.remove(0);
    let res = s.get(&format!("/v1/users/{}", listed.id), &t).await;
    let fetched: User = res.json().await.unwrap();
    assert_eq!(fetched, listed);
    problem(s.get("/v1/users/nope", &t).await, StatusCode::NOT_FOUND, "not_found").await;

    on!(&s.state.db, |db| sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ('other', 'Other', '2026-01-01T00:00:00Z')")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    on!(&s.state.db, |db| sqlx::query("UPDATE users SET org_id = 'other' WHERE id = $1")
        .bind(&listed.id)
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    problem(s.get(&format!("/v1/users/{}", listed.id), &t).await, StatusCode::NOT_FOUND, "not_found").await;
    assert!(page(&s, &t, "q=casey").await.items.is_empty(), "another organization's users are not listed");
}

#[tokio::test]
async fn listing_needs_the_users_read_permission() {
    let s = TestServer::new().await;
    let t = s.login("member@acme.test").await;
    assert_eq!(s.get("/v1/users", &t).await.status(), StatusCode::OK, "members may view the list (SPEC R1)");
    on!(&s.state.db, |db| sqlx::query("DELETE FROM user_roles WHERE user_id = (SELECT id FROM users WHERE email = 'member@acme.test')")
        .execute(db)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
    problem(s.get("/v1/users", &t).await, StatusCode::FORBIDDEN, "forbidden").await;
}
