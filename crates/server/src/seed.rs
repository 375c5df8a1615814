//! `gatehouse-server seed --demo`: the "Acme" demo organization (SPEC "Demo organization").
//!
//! Names are deterministic (the i-th user is always the same person); rows go in with
//! multi-row INSERTs inside one transaction, so 100 000 users take seconds.

use crate::auth::hash_password;
use crate::clock::Clock;
use crate::seed_history::{Person, insert_history};
use crate::store::demo::{self, Attempt, DemoSession, DemoUser};
use crate::store::{Conn, Db};
use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use gatehouse_api::GroupKind;
use gatehouse_api::Secret;

/// What to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Number of generated users, besides the named staff accounts.
    pub users: u32,
    /// The owner's e-mail.
    pub owner_email: String,
    /// The owner's password; the named staff accounts share it.
    pub owner_password: Secret,
    /// Sessions to create, spread over active users; 0: one for each of a few hundred.
    pub sessions: u32,
    /// Audit events of history over the last 90 days (see [`crate::seed_history`]).
    pub events: u32,
}

/// The demo's history: tens of thousands of events over 90 days.
pub const DEMO_EVENTS: u32 = 40_000;
/// Days of history the demo has.
pub const HISTORY_DAYS: u32 = 90;

/// What was seeded.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// The organization's id.
    pub org_id: String,
    /// Users created, staff included.
    pub users: u32,
    /// Sessions created.
    pub sessions: u32,
    /// Login attempts created.
    pub login_attempts: u32,
    /// Audit events of history created.
    pub audit_events: u32,
}

/// The built-in roles (SPEC R1) and the demo's custom support role (SPEC R2, A).
pub const ROLES: &[(&str, &str, bool, &[&str])] = &[
    (
        "owner",
        "Owner",
        true,
        &["users.read", "users.manage", "invitations.manage", "sessions.revoke", "audit.read", "audit.write", "roles.manage", "org.settings"],
    ),
    (
        "admin",
        "Admin",
        true,
        &["users.read", "users.manage", "invitations.manage", "sessions.revoke", "audit.read", "audit.write", "roles.manage", "org.settings"],
    ),
    ("manager", "Manager", true, &["users.read", "users.manage", "invitations.manage", "sessions.revoke", "audit.read"]),
    ("member", "Member", true, &["users.read"]),
    ("support", "Support", false, &["users.read", "audit.read"]),
];

const DEPARTMENTS: &[&str] = &["Sales", "Engineering", "Support", "HR"];
const COMPANIES: &[&str] = &["Acme Corp", "Acme Labs"];

/// Named accounts: (e-mail local part, first, last, role keys, department).
const STAFF: &[(&str, &str, &str, &[&str], &str)] = &[
    ("admin", "Sam", "Rivera", &["admin"], "Engineering"),
    ("manager", "Jordan", "Lee", &["manager"], "Sales"),
    ("member", "Casey", "Kim", &["member"], "Engineering"),
    ("support", "Riley", "Chen", &["support", "member"], "Support"),
];

const FIRST: &[&str] = &[
    "Aaliyah",
    "Aarav",
    "Abigail",
    "Adrian",
    "Aisha",
    "Alejandro",
    "Amara",
    "Andrei",
    "Anika",
    "Arjun",
    "Astrid",
    "Beatriz",
    "Benjamin",
    "Bianca",
    "Caleb",
    "Camila",
    "Chen",
    "Chloe",
    "Daniel",
    "Dara",
    "Diego",
    "Elena",
    "Elijah",
    "Emeka",
    "Emma",
    "Farah",
    "Felix",
    "Freya",
    "Gabriel",
    "Hana",
    "Hugo",
    "Ibrahim",
    "Ines",
    "Isaac",
    "Ivy",
    "Jamal",
    "Javier",
    "Jin",
    "Kai",
    "Kavya",
    "Kenji",
    "Lars",
    "Layla",
    "Leo",
    "Lucia",
    "Mads",
    "Maya",
    "Mateo",
    "Mei",
    "Mohammed",
    "Nadia",
    "Noah",
    "Olga",
    "Omar",
    "Priya",
    "Rafael",
    "Rosa",
    "Sanjay",
    "Sofia",
    "Tariq",
    "Thea",
    "Wei",
    "Yara",
    "Zoe",
];
const LAST: &[&str] = &[
    "Abbott",
    "Adeyemi",
    "Andersen",
    "Bauer",
    "Bianchi",
    "Brennan",
    "Castillo",
    "Chowdhury",
    "Costa",
    "Dubois",
    "Eriksson",
    "Fischer",
    "Fujita",
    "Garcia",
    "Gupta",
    "Haddad",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kaur",
    "Kim",
    "Kowalski",
    "Larsen",
    "Lopez",
    "Martin",
    "Meyer",
    "Moreau",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "Olsen",
    "Patel",
    "Petrov",
    "Quinn",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Sato",
    "Tanaka",
    "Torres",
    "Usman",
    "Varga",
    "Walsh",
    "Weber",
    "Xu",
    "Yamamoto",
    "Young",
    "Zhang",
    "Ziegler",
    "Nowak",
    "Murphy",
    "Kelly",
    "Lindqvist",
    "Mensah",
    "Novotny",
    "Oyelaran",
    "Park",
    "Reyes",
    "Suzuki",
    "Tran",
    "Volkov",
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
];

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The `i`-th generated person, always the same one.
fn generated_user(i: u32, now: DateTime<Utc>, role_ids: &dyn Fn(&str) -> String, group_ids: &[String]) -> DemoUser {
    let (nf, nl) = (FIRST.len() as u32, LAST.len() as u32);
    let first = FIRST[(i % nf) as usize];
    let last = LAST[((i / nf) % nl) as usize];
    let round = i / (nf * nl);
    let suffix = if round == 0 { String::new() } else { round.to_string() };
    let email = format!("{}.{}{}@acme.test", first.to_lowercase(), last.to_lowercase(), suffix);
    let status = match i % 100 {
        0..=5 => "pending",
        6..=11 => "deactivated",
        _ => "active",
    };
    let role = match i % 200 {
        1 => "admin",
        r if r % 25 == 0 => "manager",
        _ => "member",
    };
    let mut groups = vec![group_ids[(i % DEPARTMENTS.len() as u32) as usize].clone()];
    if i.is_multiple_of(7) {
        groups.push(group_ids[((i / 7 + 1) % DEPARTMENTS.len() as u32) as usize].clone());
    }
    if i % 10 == 3 {
        groups.push(group_ids[DEPARTMENTS.len() + (i as usize / 10) % COMPANIES.len()].clone());
    }
    groups.dedup();
    let spread = i64::from(i.wrapping_mul(7919) % (90 * 24 * 3600));
    let last_active = (status != "pending" && !i.is_multiple_of(11)).then(|| now - Duration::seconds(spread));
    DemoUser {
        id: new_id(),
        email,
        first: first.to_owned(),
        last: format!("{last}{}", if round == 0 { String::new() } else { format!(" {}", roman(round)) }),
        status,
        password_hash: None,
        mfa: status == "active" && !i.is_multiple_of(3),
        last_active,
        created: now - Duration::days(400) + Duration::seconds(i64::from(i) * 60),
        roles: vec![role_ids(role)],
        groups,
        identities: match i % 20 {
            1 | 2 => r#"["google"]"#,
            3 => r#"["microsoft"]"#,
            4 => r#"["saml"]"#,
            _ => "[]",
        },
    }
}

fn roman(n: u32) -> String {
    // Generational suffixes keep generated names distinct past 4 096 people.
    const NUMERALS: &[(u32, &str)] = &[(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")];
    let mut n = n + 1;
    let mut s = String::new();
    for &(v, r) in NUMERALS {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

/// Seeds the demo organization into an empty database.
pub async fn seed_demo(db: &Db, clock: &dyn Clock, keys: &crate::keys::ServerKeys, opts: &SeedOptions) -> anyhow::Result<SeedReport> {
    if demo::has_organizations(db).await? {
        bail!("this database already holds an organization; seed a new database file instead");
    }
    let owner_email = opts.owner_email.trim().to_owned();
    if !owner_email.contains('@') {
        bail!("--owner-email `{owner_email}` is not an e-mail address");
    }
    if opts.owner_password.expose().chars().count() < 8 {
        bail!("--owner-password must have at least 8 characters");
    }
    let password = opts.owner_password.clone();
    let hash = tokio::task::spawn_blocking(move || hash_password(password.expose())).await??;
    let now = clock.now();
    let org_id = new_id();

    let mut tx = crate::store::write(db).await?;
    demo::insert_organization(&mut tx, &org_id, "Acme", now - Duration::days(400)).await?;
    let mut role_map = std::collections::HashMap::new();
    for (key, name, builtin, perms) in ROLES {
        let id = new_id();
        demo::insert_role(&mut tx, &id, &org_id, key, name, *builtin, &serde_json::to_string(perms)?, now).await?;
        role_map.insert(*key, id);
    }
    let role_id = |key: &str| role_map.get(key).cloned().unwrap_or_default();
    let mut group_ids = Vec::new();
    for (kind, names) in [(GroupKind::Department, DEPARTMENTS), (GroupKind::Company, COMPANIES)] {
        for name in names {
            let id = new_id();
            crate::store::groups::create(&mut tx, &id, &org_id, kind, name, now).await?;
            group_ids.push(id);
        }
    }
    let dept_id = |name: &str| DEPARTMENTS.iter().position(|d| *d == name).map(|i| group_ids[i].clone()).unwrap_or_default();

    let mut staff = vec![DemoUser {
        id: new_id(),
        email: owner_email.clone(),
        first: "Alex".into(),
        last: "Morgan".into(),
        status: "active",
        password_hash: Some(hash.clone()),
        mfa: false,
        last_active: Some(now - Duration::minutes(5)),
        created: now - Duration::days(400),
        roles: vec![role_id("owner")],
        groups: vec![dept_id("Engineering")],
        identities: r#"["google"]"#,
    }];
    for (local, first, last, roles, dept) in STAFF {
        if format!("{local}@acme.test").eq_ignore_ascii_case(&owner_email) {
            continue;
        }
        staff.push(DemoUser {
            id: new_id(),
            email: format!("{local}@acme.test"),
            first: (*first).into(),
            last: (*last).into(),
            status: "active",
            password_hash: Some(hash.clone()),
            mfa: false,
            last_active: Some(now - Duration::hours(3)),
            created: now - Duration::days(399),
            roles: roles.iter().map(|r| role_id(r)).collect(),
            groups: vec![dept_id(dept)],
            identities: "[]",
        });
    }
    // Enrolled users have a secret like real ones, sealed like theirs (nobody holds it: a demo).
    let sealed_secret = |id: &str| keys.seal(id, &crate::totp::new_secret());
    demo::insert_users(&mut tx, &org_id, &staff, &sealed_secret).await?;
    let mut total = staff.len() as u32;
    let active_sample: Vec<(String, DateTime<Utc>)> = staff.iter().filter_map(|u| u.last_active.map(|t| (u.id.clone(), t))).collect();

    const CHUNK: u32 = 400;
    let mut sample = active_sample;
    let mut start = 0;
    while start < opts.users {
        let end = (start + CHUNK).min(opts.users);
        let batch: Vec<DemoUser> = (start..end).map(|i| generated_user(i, now, &role_id, &group_ids)).collect();
        if sample.len() < 400.max(opts.sessions as usize / 3) {
            sample.extend(batch.iter().filter(|u| u.status == "active").filter_map(|u| u.last_active.map(|t| (u.id.clone(), t))));
        }
        demo::insert_users(&mut tx, &org_id, &batch, &sealed_secret).await?;
        total += batch.len() as u32;
        start = end;
    }
    // A demo with a few seats free, so creating users works and the limit is in sight.
    demo::leave_seats_free(&mut tx, &org_id, 25).await?;
    demo::invite_pending_users(
        &mut tx,
        &org_id,
        &staff[0].id,
        (now - Duration::days(10), now - Duration::days(3)),
        (now - Duration::days(2), now + Duration::days(5)),
    )
    .await?;
    let (sessions, mut attempts) = insert_activity(&mut tx, &org_id, &sample, opts.sessions, now).await?;
    let audit_events = if opts.events == 0 {
        0
    } else {
        let people: Vec<Person> =
            demo::active_people(&mut tx, &org_id, 3000).await?.into_iter().map(|(id, name, email)| Person { id, name, email }).collect();
        // The owner, admin and manager accounts do the managing.
        let admins: Vec<Person> =
            people.iter().take(STAFF.len() + 1).filter(|p| !p.email.starts_with("member@") && !p.email.starts_with("support@")).cloned().collect();
        let roles: Vec<(String, String)> = ROLES.iter().filter(|r| r.0 != "owner").map(|(k, n, _, _)| ((*k).to_owned(), (*n).to_owned())).collect();
        let departments: Vec<(String, String)> = DEPARTMENTS.iter().map(|d| (dept_id(d), (*d).to_owned())).collect();
        let (events, history_attempts) =
            insert_history(&mut tx, &org_id, &people, &admins, &roles, &departments, USER_AGENTS, opts.events, HISTORY_DAYS, now).await?;
        attempts += history_attempts;
        events
    };
    // Each user entered the change feed up to three times (row, role, groups); a new
    // organization's feed needs only the latest entry per resource.
    demo::keep_latest_changes(&mut tx, &org_id).await?;
    tx.commit().await.context("committing the demo organization")?;
    demo::analyze(db).await.context("updating the planner's statistics")?;
    Ok(SeedReport { org_id, users: total, sessions, login_attempts: attempts, audit_events })
}

/// Sessions with realistic devices and IPs, and login attempts including failure bursts.
async fn insert_activity(
    tx: &mut Conn,
    org_id: &str,
    sample: &[(String, DateTime<Utc>)],
    target: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<(u32, u32)> {
    let mut sessions = Vec::new();
    let mut attempts = Vec::new();
    let target = if target == 0 { sample.len() as u32 } else { target };
    for n in 0..target {
        let Some((user_id, last_active)) = sample.get(n as usize % sample.len().max(1)) else {
            break;
        };
        // A user's later sessions started a while before their last one.
        let last_active = &(*last_active - Duration::minutes(i64::from(n / sample.len().max(1) as u32) * 37));
        let ua = USER_AGENTS[(n as usize) % USER_AGENTS.len()];
        let ip = if n < 250 { format!("203.0.113.{}", 1 + n % 250) } else { format!("10.{}.{}.{}", n / 65_536 % 256, n / 256 % 256, n % 256) };
        let started = *last_active - Duration::hours(i64::from(1 + n % 48));
        let revoked = (n % 9 == 4).then(|| *last_active + Duration::minutes(30));
        sessions.push(DemoSession {
            id: new_id(),
            user_id: user_id.clone(),
            user_agent: ua,
            device: crate::routes::auth::describe_device(ua),
            ip: ip.clone(),
            started,
            last_active: *last_active,
            revoked,
        });
        attempts.push((started, user_id.clone(), ip.clone(), ua, "success", None::<&str>));
        if n.is_multiple_of(13) {
            attempts.push((started - Duration::minutes(2), user_id.clone(), ip, ua, "failure", Some("bad_password")));
        }
    }
    // A brute-force burst from one address against a handful of accounts.
    for k in 0..40u32 {
        if let Some((user_id, _)) = sample.get((k % 5) as usize) {
            let at = now - Duration::hours(20) + Duration::seconds(i64::from(k) * 7);
            attempts.push((at, user_id.clone(), "198.51.100.66".into(), USER_AGENTS[2], "failure", Some("bad_password")));
        }
    }
    demo::insert_sessions(tx, org_id, &sessions).await?;
    // The address typed is the user's own, filled in below.
    let rows: Vec<Attempt> = attempts
        .iter()
        .map(|(at, user_id, ip, ua, result, reason)| (*at, String::new(), Some(user_id.clone()), ip.clone(), *ua, *result, *reason))
        .collect();
    demo::insert_attempts(tx, org_id, &rows).await?;
    demo::fill_attempt_addresses(tx).await?;
    Ok((sessions.len() as u32, attempts.len() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_people_are_deterministic_and_distinct() {
        let now = Utc::now();
        let groups: Vec<String> = (0..6).map(|i| format!("g{i}")).collect();
        let role = |k: &str| k.to_owned();
        let a = generated_user(42, now, &role, &groups);
        let b = generated_user(42, now, &role, &groups);
        assert_eq!((a.email.clone(), a.first.clone(), a.last.clone()), (b.email, b.first, b.last));
        let mut emails: Vec<String> = (0..10_000).map(|i| generated_user(i, now, &role, &groups).email).collect();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), 10_000, "every generated e-mail is unique");
    }
}
