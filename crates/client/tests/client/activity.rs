//! The activity log through the client, against a real server seeded with 90 days of
//! history: keyset pages, the per-user timeline, the histogram, the streamed CSV export,
//! and the cached window answering offline with the server's filters.

use crate::outbox::sign_in;
use crate::server::{OWNER, PASSWORD, ServerProcess};
use chrono::{DateTime, TimeDelta, Utc};
use gatehouse_client::api::{AUDIT_CSV_HEADER, AuditEvent, AuditEventQuery, HistogramBucket, Secret, UserListQuery, UserPatch, audit_csv_record};
use gatehouse_client::{Cache, Client, ClientOptions, Error, MemoryTokenStore};
use std::sync::Arc;

/// Enough history for several pages and export chunks, small enough to seed in a moment.
fn server() -> ServerProcess {
    ServerProcess::start_seeded(&["--events", "3000"], &[])
}

/// Every event the server lists for `query`, following its cursors.
async fn listing(client: &Client, query: &AuditEventQuery) -> Vec<AuditEvent> {
    let mut query = AuditEventQuery { limit: Some(500), cursor: None, ..query.clone() };
    let mut all = Vec::new();
    loop {
        let page = client.audit_events(&query).await.unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return all,
        }
    }
}

fn ids(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

fn newest_first(events: &[AuditEvent]) {
    for pair in events.windows(2) {
        assert!((pair[0].at, &pair[0].id) > (pair[1].at, &pair[1].id), "newest first, no repeats: {} then {}", pair[0].id, pair[1].id);
    }
}

async fn user_id(client: &Client, email: &str) -> String {
    client.list_users(&UserListQuery { q: Some(email.into()), ..Default::default() }).await.unwrap().items.remove(0).id
}

fn concerns(e: &AuditEvent, user: &str) -> bool {
    e.actor.as_ref().is_some_and(|a| a.id == user) || e.target.id == user
}

#[tokio::test]
async fn the_log_pages_by_cursor_and_a_users_timeline_merges_their_events() {
    let server = server();
    let t0 = Utc::now();
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    let member_id = user_id(&admin, "member@acme.test").await;
    let admin_id = user_id(&admin, OWNER).await;
    let wrong = Client::sign_in(&server.url, "member@acme.test", Secret::new("wrong".into()), None, Arc::new(MemoryTokenStore::default()), &ClientOptions::default()).await;
    assert!(wrong.is_err());
    let read = admin.get_user_versioned(&member_id).await.unwrap();
    admin.update_user(&member_id, &read.etag, &UserPatch { first_name: Some("Mem".into()), ..Default::default() }, "activity-k1").await.unwrap();
    member.me().await.unwrap();

    // The whole log, a page of 500 at a time, and the test's own events two at a time.
    let everything = listing(&admin, &AuditEventQuery::default()).await;
    assert!(everything.len() > 1000, "the seeded history spans several pages: {}", everything.len());
    newest_first(&everything);
    let recent = AuditEventQuery { from: Some(t0), ..Default::default() };
    let mine = listing(&admin, &recent).await;
    let mut paged = Vec::new();
    let mut query = AuditEventQuery { limit: Some(2), ..recent.clone() };
    loop {
        let page = admin.audit_events(&query).await.unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids(&paged), ids(&mine));
    let actions: Vec<&str> = mine.iter().map(|e| e.action.as_str()).collect();
    for action in ["session.signed_in", "session.sign_in_failed", "user.updated"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    // A cursor is good only for the filters it was issued for.
    let first = admin.audit_events(&AuditEventQuery { limit: Some(2), ..recent.clone() }).await.unwrap();
    let reused = AuditEventQuery { action: Some("session.*".into()), cursor: first.next_cursor, ..recent.clone() };
    match admin.audit_events(&reused).await.unwrap_err() {
        Error::Api(p) => assert_eq!((p.code.as_str(), p.errors[0].code.as_str()), ("validation_failed", "invalid_cursor")),
        other => panic!("{other:?}"),
    }

    // The member's timeline: what they did and what was done to them, nothing else.
    let timeline = admin.user_activity(&member_id, &AuditEventQuery { from: Some(t0), limit: Some(500), ..Default::default() }).await.unwrap();
    let expected: Vec<&AuditEvent> = mine.iter().filter(|e| concerns(e, &member_id)).collect();
    assert_eq!(ids(&timeline.items), expected.iter().map(|e| e.id.as_str()).collect::<Vec<_>>());
    assert!(timeline.items.iter().any(|e| e.action == "session.signed_in" && e.actor.as_ref().is_some_and(|a| a.id == member_id)), "their own");
    assert!(timeline.items.iter().any(|e| e.action == "user.updated" && e.actor.as_ref().is_some_and(|a| a.id == admin_id)), "an admin's on them");
    // The app's read takes a user alone as the timeline, and pages it with its own cursors.
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    let mut query = AuditEventQuery { user_id: Some(member_id.clone()), from: Some(t0), limit: Some(1), ..Default::default() };
    let mut read = Vec::new();
    loop {
        let page = admin.activity(&cache, &query, Utc::now()).await.unwrap();
        assert!(!page.offline && !page.beyond_window);
        read.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(ids(&read), ids(&timeline.items));
}

#[tokio::test]
async fn the_histogram_counts_what_the_log_lists() {
    let server = server();
    let admin = sign_in(&server.url, OWNER).await;
    let now = Utc::now();
    let filter = AuditEventQuery { action: Some("session.*".into()), from: Some(now - TimeDelta::days(7)), ..Default::default() };
    let days = admin.audit_histogram(&filter, HistogramBucket::Day).await.unwrap();
    assert!((7..=8).contains(&days.bars.len()), "{} bars", days.bars.len());
    assert_eq!(days.bars[0].start, days.from);
    for pair in days.bars.windows(2) {
        assert_eq!(pair[1].start - pair[0].start, TimeDelta::days(1), "every day, oldest first");
    }
    // Whole days: the first bar counts from its midnight, not from `from`.
    let listed = listing(&admin, &AuditEventQuery { from: Some(days.from), to: Some(days.to), ..filter.clone() }).await;
    assert!(!listed.is_empty());
    assert_eq!(days.total as usize, listed.len());
    assert_eq!(days.bars.iter().map(|b| b.count).sum::<u32>(), days.total);
    // Each bar holds exactly the listed events of its day.
    for bar in &days.bars {
        let n = listed.iter().filter(|e| e.at >= bar.start && e.at < bar.start + TimeDelta::days(1)).count();
        assert_eq!(bar.count as usize, n, "{}", bar.start);
    }
    let hours = admin.audit_histogram(&AuditEventQuery::default(), HistogramBucket::Hour).await.unwrap();
    assert!((48..=49).contains(&hours.bars.len()), "the last 48 hours by default");
    let listed = listing(&admin, &AuditEventQuery { from: Some(hours.from), to: Some(hours.to), ..Default::default() }).await;
    assert_eq!(hours.total as usize, listed.len());
}

#[tokio::test]
async fn the_export_streams_every_row_the_server_counts_with_quoted_details_intact() {
    let server = server();
    let t0 = Utc::now();
    let admin = sign_in(&server.url, OWNER).await;
    let admin_id = user_id(&admin, OWNER).await;
    let member_id = user_id(&admin, "member@acme.test").await;
    // A host product's event whose details need quoting: quotes, commas, line breaks, a formula.
    admin.step_up(Secret::new(PASSWORD.into()), None).await.unwrap();
    let key = admin.create_api_key(&admin_id, &gatehouse_api::NewApiKey { name: "Agent".into(), expires_in_days: None, role: None }).await.unwrap();
    let details = serde_json::json!({"note": "line one\r\nline \"two\", three\nfour", "cell": "=1+2"});
    let posted = reqwest::Client::new()
        .post(format!("{}/v1/audit-events", server.url))
        .bearer_auth(key.secret.expose())
        .json(&serde_json::json!({"action": "app.agent_interaction", "user_id": member_id, "details": details}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 201);

    let recent = AuditEventQuery { from: Some(t0), ..Default::default() };
    let listed = listing(&admin, &recent).await;
    let hosted = listed.iter().find(|e| e.action == "app.agent_interaction").expect("the host product's event");
    assert_eq!((&hosted.details["note"], &hosted.details["cell"]), (&details["note"], &details["cell"]));
    let mut out: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    let rows = admin.export_audit_csv(&recent, &mut out, |done, total| seen.push((done, total))).await.unwrap();
    assert_eq!(rows as usize, listed.len());
    assert_eq!(seen.last(), Some(&(rows, Some(rows))), "the count the server announced, reached");
    // Byte for byte the server's records of the listed events, in the list's order.
    let mut expected = AUDIT_CSV_HEADER.to_owned();
    for event in &listed {
        audit_csv_record(&mut expected, event);
    }
    assert_eq!(String::from_utf8(out).unwrap(), expected);

    // The whole log: several of the server's chunks, streamed, every row counted.
    let all = listing(&admin, &AuditEventQuery::default()).await;
    let mut out: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    let rows = admin.export_audit_csv(&AuditEventQuery::default(), &mut out, |done, total| seen.push((done, total))).await.unwrap();
    assert_eq!(rows as usize, all.len());
    assert!(rows > 2000, "more than one chunk of the server's: {rows}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
    assert!(seen.iter().all(|(_, total)| *total == Some(rows)));
    assert!(out.starts_with(AUDIT_CSV_HEADER.as_bytes()));
}

/// The cache's answer to `query`, every page, and whether its last page said the query
/// reaches past the window.
async fn offline_listing(client: &Client, cache: &Cache, query: &AuditEventQuery) -> (Vec<AuditEvent>, bool) {
    let mut query = AuditEventQuery { limit: Some(40), cursor: None, ..query.clone() };
    let mut all = Vec::new();
    loop {
        let page = client.activity(cache, &query, Utc::now()).await.unwrap();
        assert!(page.offline, "from the cache");
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => {
                assert!(!page.beyond_window, "only the last page says it");
                query.cursor = Some(c);
            }
            None => return (all, page.beyond_window),
        }
    }
}

#[tokio::test]
async fn offline_the_cached_window_answers_with_the_same_filters() {
    let mut server = server();
    let admin = sign_in(&server.url, OWNER).await;
    let member = sign_in(&server.url, "member@acme.test").await;
    member.me().await.unwrap();
    let member_id = user_id(&admin, "member@acme.test").await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();

    let now = Utc::now();
    let start = now - TimeDelta::days(30);
    let first = admin.refresh_activity_window(&cache, now).await.unwrap();
    let window = listing(&admin, &AuditEventQuery { from: Some(start), ..Default::default() }).await;
    assert_eq!(first.fetched as usize, window.len());
    assert_eq!(cache.activity_stats().await.unwrap().0 as usize, window.len());
    // Incremental: a new event comes in, only the latest few minutes are asked again.
    sign_in(&server.url, "member@acme.test").await;
    let again = admin.refresh_activity_window(&cache, now).await.unwrap();
    assert!(again.fetched >= 1 && (again.fetched as usize) < window.len() / 4, "{again:?}");
    let window = listing(&admin, &AuditEventQuery { from: Some(start), ..Default::default() }).await;
    assert_eq!(cache.activity_stats().await.unwrap().0 as usize, window.len());

    let some_ip = window.iter().find(|e| e.action == "session.signed_in").unwrap().ip.clone();
    let queries = [
        AuditEventQuery::default(),
        AuditEventQuery { user_id: Some(member_id.clone()), ..Default::default() },
        AuditEventQuery { actor_id: Some(member_id.clone()), ..Default::default() },
        AuditEventQuery { action: Some("session.*".into()), ..Default::default() },
        AuditEventQuery { action: Some("user.updated, api_key.*".into()), ..Default::default() },
        AuditEventQuery { q: Some("MEMBER@ACME".into()), ..Default::default() },
        AuditEventQuery { ip: Some(some_ip), ..Default::default() },
        AuditEventQuery { from: Some(now - TimeDelta::days(3)), to: Some(now - TimeDelta::days(1)), ..Default::default() },
    ];
    // What the server answers for each, within the window.
    let mut online = Vec::new();
    for q in &queries {
        let from = q.from.unwrap_or(start).max(start);
        online.push(listing(&admin, &AuditEventQuery { from: Some(from), ..q.clone() }).await);
    }
    let sessions = AuditEventQuery { action: Some("session.*".into()), limit: Some(5), ..Default::default() };
    let page1 = admin.activity(&cache, &sessions, Utc::now()).await.unwrap();
    assert!(!page1.offline);
    assert_eq!(ids(&page1.items), ids(&online[3][..5]));

    // The chart of a range inside the window, as the server draws it.
    let charted = AuditEventQuery { from: Some(now - TimeDelta::days(10)), to: Some(now), action: Some("user.*,session.*".into()), ..Default::default() };
    let online_chart = admin.audit_histogram(&charted, HistogramBucket::Day).await.unwrap();
    assert!(online_chart.total > 0);

    server.kill();
    // Scrolling on where the online page stopped.
    let page2 = admin.activity(&cache, &AuditEventQuery { cursor: page1.next_cursor.clone(), ..sessions.clone() }, Utc::now()).await.unwrap();
    assert!(page2.offline);
    assert_eq!(ids(&page2.items), ids(&online[3][5..10]));
    for (q, expected) in queries.iter().zip(&online) {
        let (found, beyond) = offline_listing(&admin, &cache, q).await;
        let window_start = admin.activity(&cache, &AuditEventQuery { limit: Some(1), ..q.clone() }, Utc::now()).await.unwrap().window_start;
        let expected: Vec<&str> = expected.iter().filter(|e| e.at >= window_start).map(|e| e.id.as_str()).collect();
        assert!(!expected.is_empty(), "{q:?} matches something");
        assert_eq!(ids(&found), expected, "{q:?}");
        assert_eq!(beyond, q.from.is_none(), "older events need a connection: {q:?}");
        assert_eq!(found.iter().find(|e| e.id == expected[0]), window.iter().find(|e| e.id == expected[0]), "stored whole");
    }
    let older = AuditEventQuery { from: Some(now - TimeDelta::days(60)), ..Default::default() };
    assert!(offline_listing(&admin, &cache, &older).await.1, "a range older than the window");
    let inside = AuditEventQuery { from: Some(now - TimeDelta::days(10)), action: Some("session.*".into()), ..Default::default() };
    assert!(!offline_listing(&admin, &cache, &inside).await.1);
    // The same chart, offline, from the cache.
    assert_eq!(admin.activity_histogram(&cache, &charted, HistogramBucket::Day, Utc::now()).await.unwrap(), online_chart);

    // Back online, the cache's cursor goes on from the server.
    server.restart();
    let mut query = AuditEventQuery { cursor: page2.next_cursor.clone(), ..sessions.clone() };
    let mut rest = Vec::new();
    loop {
        let page = admin.activity(&cache, &query, Utc::now()).await.unwrap();
        assert!(!page.offline);
        rest.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    let all_sessions = listing(&admin, &AuditEventQuery { action: Some("session.*".into()), ..Default::default() }).await;
    assert_eq!(ids(&rest), ids(&all_sessions[10..]));
}

#[tokio::test]
async fn the_window_prunes_as_time_passes_and_fills_when_it_grows() {
    let server = server();
    let admin = sign_in(&server.url, OWNER).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    let now = Utc::now();
    let count_from = |from: DateTime<Utc>| {
        let admin = &admin;
        async move { listing(admin, &AuditEventQuery { from: Some(from), ..Default::default() }).await.len() }
    };
    let (days30, days20, days7) = (count_from(now - TimeDelta::days(30)).await, count_from(now - TimeDelta::days(20)).await, count_from(now - TimeDelta::days(7)).await);
    assert!(days30 > days20 && days20 > days7 && days7 > 0, "history to prune: {days30} {days20} {days7}");

    admin.refresh_activity_window(&cache, now).await.unwrap();
    assert_eq!(cache.activity_stats().await.unwrap().0 as usize, days30);
    // A smaller window deletes at once what falls out of it.
    cache.set_activity_window_days(7, now).await.unwrap();
    let (n, oldest) = cache.activity_stats().await.unwrap();
    assert_eq!(n as usize, days7);
    assert!(oldest.unwrap() >= now - TimeDelta::days(7));
    assert_eq!(cache.activity_window_days().await.unwrap(), 7);
    // Growing it again fetches what it now covers, once.
    cache.set_activity_window_days(30, now).await.unwrap();
    let refill = admin.refresh_activity_window(&cache, now).await.unwrap();
    assert_eq!(cache.activity_stats().await.unwrap().0 as usize, days30);
    assert!(refill.fetched as usize >= days30 - days7);
    assert!(matches!(cache.set_activity_window_days(366, now).await, Err(Error::Invalid(_))));
    // Ten days on, the ten oldest days of the window are gone.
    let later = admin.refresh_activity_window(&cache, now + TimeDelta::days(10)).await.unwrap();
    assert_eq!(later.pruned as usize, days30 - days20);
    assert_eq!(cache.activity_stats().await.unwrap().0 as usize, days20);
}

#[tokio::test]
async fn without_audit_read_nothing_is_cached() {
    let server = server();
    let member = Client::sign_in(&server.url, "member@acme.test", Secret::new(PASSWORD.into()), None, Arc::new(MemoryTokenStore::default()), &ClientOptions::default())
        .await
        .unwrap()
        .0;
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("cache.db")).await.unwrap();
    let refused = member.refresh_activity_window(&cache, Utc::now()).await.unwrap_err();
    assert_eq!(refused.code(), Some("forbidden"));
    assert_eq!(cache.activity_stats().await.unwrap(), (0, None));
}
