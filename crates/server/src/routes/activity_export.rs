//! The activity log's export (SPEC A4) and the histogram behind its charts (SPEC A5).

use super::paging::Errors;
use crate::app::AppState;
use crate::auth::{AuditRead, Principal};
use crate::error::{ApiError, Result};
use crate::extract::QueryPairs;
use crate::store::audit::{Bucket, Filter, page};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use chrono::{DateTime, Duration, DurationRound, Utc};
use gatehouse_api::{
    AUDIT_CSV_HEADER, AuditEventQuery, Histogram, HistogramBar, HistogramBucket, MAX_HISTOGRAM_BARS, Problem, audit_csv_record, codes,
};

/// Events per database read while an export streams: what the server holds at once.
pub const EXPORT_CHUNK: u32 = 2000;

fn parse_filter(pairs: &QueryPairs) -> Result<Filter> {
    let mut errors = Errors::default();
    let filter = Filter::parse(pairs, &mut errors);
    if errors.0.is_empty() { Ok(filter) } else { Err(ApiError::validation(errors.0)) }
}

/// The filtered log as CSV (RFC 4180, UTF-8), newest first, streamed a chunk at a time so
/// memory stays flat however many events match. `X-Total-Count` says how many rows follow.
#[utoipa::path(
    get, path = "/v1/audit-events/export.csv", tag = "activity",
    params(AuditEventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "CSV with a header row; `X-Total-Count` holds the number of events", content_type = "text/csv", body = String),
        (status = 400, description = "An invalid filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `audit.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn export_events(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Response> {
    let granted = principal.require::<AuditRead>()?;
    let filter = parse_filter(&pairs)?;
    let org = granted.org_id().to_owned();
    let total = crate::store::audit::count(&state.db, &org, &filter).await?;
    let db = state.db.clone();
    struct Cursor {
        after: Option<(String, String)>,
        header: bool,
        done: bool,
    }
    let start = Cursor { after: None, header: true, done: false };
    let stream = futures_util::stream::unfold((db, org, filter, start), |(db, org, filter, mut cur)| async move {
        if cur.header {
            cur.header = false;
            return Some((Ok::<_, std::io::Error>(AUDIT_CSV_HEADER.to_owned()), (db, org, filter, cur)));
        }
        if cur.done {
            return None;
        }
        match page(&db, &org, &filter, cur.after.as_ref(), EXPORT_CHUNK).await {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                cur.done = rows.len() < EXPORT_CHUNK as usize;
                let mut out = String::with_capacity(rows.len() * 300);
                for row in rows {
                    cur.after = Some(row.key());
                    audit_csv_record(&mut out, &row.into_event());
                }
                Some((Ok(out), (db, org, filter, cur)))
            }
            Err(e) => {
                // The headers are gone already: cutting the body short is the only signal.
                tracing::error!(error = ?e, "activity export failed midway");
                cur.done = true;
                Some((Err(std::io::Error::other("export failed")), (db, org, filter, cur)))
            }
        }
    });
    let mut res = super::export::csv_response(stream, "attachment; filename=\"activity.csv\"");
    res.headers_mut().insert("x-total-count", HeaderValue::from(total));
    Ok(res)
}

fn bucket_of(pairs: &QueryPairs, errors: &mut Errors) -> HistogramBucket {
    match pairs.get("bucket").map(str::trim) {
        None | Some("day") => HistogramBucket::Day,
        Some("hour") => HistogramBucket::Hour,
        Some(other) => {
            let shown: String = other.chars().take(20).collect();
            errors.add("bucket", "invalid", format!("Unknown bucket `{shown}`; use hour or day."));
            HistogramBucket::Day
        }
    }
}

/// The range a histogram covers: `[from, to)` widened to whole buckets; without `from`,
/// the last 30 days (by day) or 48 hours (by hour) before `to` (default: now).
fn range(
    bucket: HistogramBucket,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, Duration) {
    let width = match bucket {
        HistogramBucket::Hour => Duration::hours(1),
        HistogramBucket::Day => Duration::days(1),
    };
    let to = to.unwrap_or(now);
    let from = from.unwrap_or_else(|| to - if bucket == HistogramBucket::Hour { Duration::hours(48) } else { Duration::days(30) });
    let start = from.duration_trunc(width).unwrap_or(from);
    let end = to.duration_trunc(width).unwrap_or(to);
    let end = if end < to { end + width } else { end };
    (start, end, width)
}

/// Matching events counted per hour or per day (UTC), every bucket of the range present.
#[utoipa::path(
    get, path = "/v1/audit-events/histogram", tag = "activity",
    params(("bucket" = Option<String>, Query, description = "`hour` or `day` (default)"), AuditEventQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The bars, oldest first", body = Histogram),
        (status = 400, description = "An invalid filter or bucket, or a range of more bars than allowed (`range_too_large`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `audit.read`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn histogram(State(state): State<AppState>, principal: Principal, pairs: QueryPairs) -> Result<Json<Histogram>> {
    let granted = principal.require::<AuditRead>()?;
    let mut errors = Errors::default();
    let mut filter = Filter::parse(&pairs, &mut errors);
    let bucket = bucket_of(&pairs, &mut errors);
    let (start, end, width) = range(bucket, filter.from, filter.to, state.clock.now());
    let bars = usize::try_from((end - start).num_seconds() / width.num_seconds()).unwrap_or(usize::MAX);
    if errors.0.is_empty() && bars > MAX_HISTOGRAM_BARS {
        errors.add(
            "from",
            codes::RANGE_TOO_LARGE,
            format!("A histogram has at most {MAX_HISTOGRAM_BARS} bars; narrow the range or use bigger buckets."),
        );
    }
    if !errors.0.is_empty() {
        return Err(ApiError::validation(errors.0));
    }
    // Whole buckets: a bar always counts its whole hour or day.
    (filter.from, filter.to) = (Some(start), Some(end));
    let (key_len, bucket_key) = if bucket == HistogramBucket::Hour { (13, Bucket::Hour) } else { (10, Bucket::Day) };
    let counts = crate::store::audit::histogram(&state.db, granted.org_id(), &filter, bucket_key).await?;
    let counts: std::collections::HashMap<String, i64> = counts.into_iter().collect();
    let mut out = Vec::with_capacity(bars);
    let mut t = start;
    while t < end {
        let key: String = t.to_rfc3339().chars().take(key_len).collect();
        out.push(HistogramBar { start: t, count: counts.get(&key).copied().map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)) });
        t += width;
    }
    let total = out.iter().map(|b| b.count).sum();
    Ok(Json(Histogram { bucket, from: start, to: end, bars: out, total }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn ranges_widen_to_whole_buckets() {
        let now = t("2026-03-10T15:20:00Z");
        let (s, e, _) = range(HistogramBucket::Day, Some(t("2026-03-01T09:00:00Z")), Some(t("2026-03-03T00:00:00Z")), now);
        assert_eq!((s, e), (t("2026-03-01T00:00:00Z"), t("2026-03-03T00:00:00Z")));
        let (s, e, _) = range(HistogramBucket::Hour, None, None, now);
        assert_eq!((s, e), (t("2026-03-08T15:00:00Z"), t("2026-03-10T16:00:00Z")));
        let (s, e, _) = range(HistogramBucket::Day, None, None, now);
        assert_eq!(((e - s).num_days()), 31);
    }
}
