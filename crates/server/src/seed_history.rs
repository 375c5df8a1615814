//! The demo organization's past (SPEC A, issue 7): some 90 days of audit events, with
//! their login attempts — working-day sign-ins and sign-outs, MFA checks, integrations'
//! API keys, admins editing profiles, roles and departments, password resets, revoked
//! sessions, invitations, a host product's agent interactions, and bursts of failed
//! sign-ins from single addresses. Deterministic, and bulk-inserted: the demo's 40 000
//! events take seconds, the benchmark's million a few minutes.

use crate::audit::search_text;
use crate::store::Conn;
use crate::store::audit::NewEvent;
use crate::store::demo::{self, Attempt};
use chrono::{DateTime, Duration, Utc};

/// Someone who appears in the log.
#[derive(Debug, Clone)]
pub struct Person {
    /// User id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

/// SplitMix64: small, fast, and the same numbers on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Row {
    id: String,
    at: DateTime<Utc>,
    actor: Option<Person>,
    target_type: &'static str,
    target: Person,
    action: &'static str,
    ip: String,
    user_agent: &'static str,
    details: serde_json::Value,
}

const KEYS: &[(&str, &str)] = &[("Nightly HR sync", "ghk_7f3a"), ("Helpdesk bot", "ghk_c21e"), ("Billing export", "ghk_90bd")];
const AGENTS: &[&str] = &["Helpdesk assistant", "Onboarding guide", "Billing agent"];
const COST_CENTERS: &[&str] = &["CC-101", "CC-204", "CC-310", "CC-415"];
const REASONS: &[&str] = &["bad_password", "bad_password", "bad_password", "mfa_failed", "unknown_user"];

/// Writes about `total` events between `days` days ago and two hours ago; returns how many
/// events and login attempts went in. `admins` act on `people`; `roles` and `departments`
/// are `(key or id, name)` pairs for the role and department changes.
#[allow(clippy::too_many_arguments)]
pub async fn insert_history(
    tx: &mut Conn,
    org_id: &str,
    people: &[Person],
    admins: &[Person],
    roles: &[(String, String)],
    departments: &[(String, String)],
    user_agents: &[&'static str],
    total: u32,
    days: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<(u32, u32)> {
    if people.is_empty() || admins.is_empty() || total == 0 || days == 0 {
        return Ok((0, 0));
    }
    let mut rng = Rng(0x6761_7465_686f_7573);
    let end = now - Duration::hours(2);
    let start = end - Duration::days(i64::from(days));
    let per_day = u64::from(total) / u64::from(days);
    let mut rows: Vec<Row> = Vec::with_capacity(total as usize + 1024);
    let mut attempts: Vec<Attempt> = Vec::new();
    let ip_of = |p: &Person| {
        let h = p.id.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        format!("10.{}.{}.{}", h % 200 + 20, h / 256 % 256, h / 65_536 % 250 + 1)
    };
    let party = |p: &Person| Person { id: p.id.clone(), name: p.name.clone(), email: p.email.clone() };
    let ts = |t: DateTime<Utc>| {
        let ctx = uuid::NoContext;
        let stamp = uuid::Timestamp::from_unix(ctx, u64::try_from(t.timestamp()).unwrap_or(0), t.timestamp_subsec_nanos());
        uuid::Uuid::new_v7(stamp).to_string()
    };
    let burst_days = [days.saturating_sub(5), days.saturating_sub(23), days.saturating_sub(61), days.saturating_sub(1)];
    for day in 0..days {
        let midnight = start + Duration::days(i64::from(day));
        let weekday = chrono::Datelike::weekday(&midnight).num_days_from_monday();
        let volume = if weekday >= 5 { per_day * 3 / 10 } else { per_day * 12 / 10 };
        for _ in 0..volume {
            // Mostly working hours, some at night.
            let hour = if rng.chance(85) { 7 + rng.below(12) } else { rng.below(24) };
            let at = midnight + Duration::seconds(i64::try_from(hour * 3600 + rng.below(3600)).unwrap_or(0));
            if at >= end {
                continue;
            }
            let who = rng.pick(people);
            let ua = *rng.pick(user_agents);
            let ip = ip_of(who);
            let session = serde_json::json!({ "id": ts(at), "device": crate::routes::auth::describe_device(ua) });
            let roll = rng.below(1000);
            let mut row = |actor: Option<&Person>, target: &Person, action: &'static str, details: serde_json::Value, ip: String| {
                rows.push(Row {
                    id: ts(at),
                    at,
                    actor: actor.map(party),
                    target_type: "user",
                    target: party(target),
                    action,
                    ip,
                    user_agent: ua,
                    details,
                });
            };
            match roll {
                0..=379 => {
                    if rng.chance(30) {
                        row(Some(who), who, "session.mfa_verified", serde_json::json!({ "session": session, "method": "totp" }), ip.clone());
                    }
                    row(Some(who), who, "session.signed_in", serde_json::json!({ "session": session, "method": "password" }), ip.clone());
                    attempts.push((at, who.email.to_lowercase(), Some(who.id.clone()), ip, ua, "success", None));
                }
                380..=579 => row(Some(who), who, "session.signed_out", serde_json::json!({ "session": session }), ip),
                580..=629 => {
                    let reason = *rng.pick(REASONS);
                    let details = serde_json::json!({ "reason": reason, "email": who.email.to_lowercase() });
                    row(None, who, "session.sign_in_failed", details, ip.clone());
                    attempts.push((at, who.email.to_lowercase(), Some(who.id.clone()), ip, ua, "failure", Some(reason)));
                }
                630..=709 => {
                    let (name, prefix) = *rng.pick(KEYS);
                    let details = serde_json::json!({ "api_key": { "id": ts(at), "name": name, "prefix": prefix }, "path": "/v1/users" });
                    row(Some(who), who, "api_key.used", details, format!("192.0.2.{}", 10 + rng.below(5)));
                }
                710..=859 => {
                    let (name, _) = *rng.pick(KEYS);
                    let agent = *rng.pick(AGENTS);
                    let details =
                        serde_json::json!({ "agent": agent, "conversation_id": ts(at), "messages": 1 + rng.below(12), "api_key": { "name": name } });
                    row(Some(who), who, "app.agent_interaction", details, ip);
                }
                _ => {
                    let admin = rng.pick(admins);
                    let admin_ip = ip_of(admin);
                    let target = serde_json::json!({ "name": who.name, "email": who.email });
                    match roll {
                        860..=909 => {
                            let (a, b) = (*rng.pick(COST_CENTERS), *rng.pick(COST_CENTERS));
                            let details = serde_json::json!({ "before": { "custom_attributes": { "cost_center": a } }, "after": { "custom_attributes": { "cost_center": b } }, "target": target });
                            row(Some(admin), who, "user.updated", details, admin_ip);
                        }
                        910..=929 if !roles.is_empty() => {
                            let (a, b) = (rng.pick(roles), rng.pick(roles));
                            let details = serde_json::json!({ "before": { "roles": [{ "key": a.0, "name": a.1 }] }, "after": { "roles": [{ "key": b.0, "name": b.1 }] }, "target": target });
                            row(Some(admin), who, "user.roles_changed", details, admin_ip);
                        }
                        930..=944 if !departments.is_empty() => {
                            let (a, b) = (rng.pick(departments), rng.pick(departments));
                            let details = serde_json::json!({ "before": { "departments": [{ "id": a.0, "name": a.1 }] }, "after": { "departments": [{ "id": b.0, "name": b.1 }] }, "target": target });
                            row(Some(admin), who, "user.departments_changed", details, admin_ip);
                        }
                        945..=959 => {
                            let details = serde_json::json!({ "target": target, "self_service": false, "expires_at": at + Duration::hours(1) });
                            row(Some(admin), who, "user.password_reset_requested", details, admin_ip);
                        }
                        960..=969 => row(Some(who), who, "user.password_reset_completed", serde_json::json!({ "target": target }), ip),
                        970..=984 => {
                            let details = serde_json::json!({ "session": session, "target": target });
                            row(Some(admin), who, "session.revoked", details, admin_ip);
                        }
                        985..=989 => {
                            let details =
                                serde_json::json!({ "sessions_ended": 1 + rng.below(4), "trusted_devices_ended": rng.below(2), "target": target });
                            row(Some(admin), who, "user.force_logout", details, admin_ip);
                        }
                        990..=995 => {
                            let details = serde_json::json!({ "invitation_id": ts(at), "target": { "email": who.email } });
                            row(Some(admin), who, "invitation.sent", details, admin_ip);
                        }
                        _ => row(Some(who), who, "user.mfa_enrolled", serde_json::json!({ "method": "totp", "target": target }), ip),
                    }
                }
            }
        }
        if burst_days.contains(&day) {
            // Someone works through a list of addresses from one network address.
            let attacker = format!("198.51.100.{}", 20 + day % 200);
            let at0 = midnight + Duration::hours(i64::from(2 + day % 3));
            for k in 0..(per_day / 2).max(40) {
                let at = at0 + Duration::seconds(i64::try_from(k * 9).unwrap_or(0));
                if at >= end {
                    break;
                }
                let who = &people[(k as usize * 7) % people.len()];
                let unknown = k % 6 == 5;
                let email =
                    if unknown { format!("{}{}@acme.test", ["admin", "test", "root", "info"][k as usize % 4], k) } else { who.email.to_lowercase() };
                let reason = if unknown { "unknown_user" } else { "bad_password" };
                let ua = "python-requests/2.31.0";
                let target = if unknown { Person { id: email.clone(), name: String::new(), email: email.clone() } } else { party(who) };
                rows.push(Row {
                    id: ts(at),
                    at,
                    actor: None,
                    target_type: if unknown { "email" } else { "user" },
                    target,
                    action: "session.sign_in_failed",
                    ip: attacker.clone(),
                    user_agent: ua,
                    details: serde_json::json!({ "reason": reason, "email": email }),
                });
                attempts.push((at, email, (!unknown).then(|| who.id.clone()), attacker.clone(), ua, "failure", Some(reason)));
            }
        }
    }
    let written: Vec<(String, String, Option<&str>)> = rows
        .iter()
        .map(|r| {
            let details = r.details.to_string();
            let target_name = (!r.target.name.is_empty()).then_some(r.target.name.as_str());
            let names =
                [r.actor.as_ref().map(|a| a.name.as_str()), r.actor.as_ref().map(|a| a.email.as_str()), target_name, Some(r.target.email.as_str())];
            let search = search_text(r.action, names, &r.ip, &details);
            (details, search, target_name)
        })
        .collect();
    let events: Vec<NewEvent<'_>> = rows
        .iter()
        .zip(&written)
        .map(|(r, (details, search, target_name))| NewEvent {
            id: &r.id,
            org_id,
            at: r.at,
            actor_id: r.actor.as_ref().map(|a| a.id.as_str()),
            target_type: r.target_type,
            target_id: &r.target.id,
            action: r.action,
            ip: &r.ip,
            details,
            user_agent: r.user_agent,
            actor_name: r.actor.as_ref().map(|a| a.name.as_str()),
            actor_email: r.actor.as_ref().map(|a| a.email.as_str()),
            target_name: *target_name,
            target_email: Some(&r.target.email),
            search,
        })
        .collect();
    demo::insert_events(tx, org_id, &events).await?;
    // The hourly counts of these rows (`audit::record` keeps them for the rest).
    let mut hourly: std::collections::BTreeMap<(chrono::DateTime<chrono::Utc>, &str), i64> = std::collections::BTreeMap::new();
    for r in &rows {
        let hour = chrono::DurationRound::duration_trunc(r.at, chrono::Duration::hours(1)).unwrap_or(r.at);
        *hourly.entry((hour, r.action)).or_default() += 1;
    }
    let hourly: Vec<(chrono::DateTime<chrono::Utc>, &str, i64)> = hourly.into_iter().map(|((hour, action), n)| (hour, action, n)).collect();
    demo::add_hourly(tx, org_id, &hourly).await?;
    demo::insert_attempts(tx, org_id, &attempts).await?;
    Ok((written.len() as u32, attempts.len() as u32))
}
