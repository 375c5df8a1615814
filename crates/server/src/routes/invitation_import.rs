//! `POST /v1/invitations/import` (SPEC I6): a CSV file of `email,role,department`,
//! validated row by row before anything is sent. `dry_run=true` only reports; otherwise
//! the invitations go out only when every row is valid and the seats suffice.

use super::invitations::{self, Invitee, Sender, Terms};
use super::org::seat_usage;
use super::user_edit::may_grant;
use crate::app::AppState;
use crate::auth::{InvitationsManage, Principal};
use crate::error::{ApiError, Result};
use crate::extract::ClientMeta;
use crate::extract::QueryPairs;
use crate::idempotency::Idempotency;
use crate::store::roles::Grantable;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use gatehouse_api::{
    FieldError, GroupKind, GroupRef, IMPORT_CSV_HEADER, IdentityProvider, ImportReport, ImportRow, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, Problem, codes,
    valid_email,
};
use std::collections::{HashMap, HashSet};

fn csv_error(detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, codes::INVALID_CSV, detail)
}

/// The file's text: without a byte-order mark, refused when not UTF-8 (naming the line).
pub(crate) fn decode(bytes: &[u8]) -> Result<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::CSV_NOT_UTF8,
                format!("The file is not UTF-8 text (line {line} has a byte that is not); save it as \"CSV UTF-8\" and try again."),
            ))
        }
    }
}

/// One data row as read, before validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawRow {
    pub(crate) line: u32,
    pub(crate) email: String,
    pub(crate) role: String,
    pub(crate) department: String,
    /// What is wrong with its shape (too many fields).
    pub(crate) shape: Option<String>,
}

/// Parses the CSV text: a header naming `email` and optionally `role` and `department`
/// (any order, any case), then data rows; quoted fields, CRLF and blank lines are fine.
pub(crate) fn parse(text: &str) -> Result<Vec<RawRow>> {
    if text.trim().is_empty() {
        return Err(csv_error(format!("The file is empty; it needs the header `{IMPORT_CSV_HEADER}` and a row per person.")));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(csv_error(format!("The file is not valid CSV: {e}."))),
        None => return Err(csv_error("The file is empty.")),
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let unknown: Vec<&String> = names.iter().filter(|n| !["email", "role", "department"].contains(&n.as_str())).collect();
    let Some(email_col) = col("email") else {
        return Err(csv_error(format!(
            "The first line must be the header `{IMPORT_CSV_HEADER}`; it is `{}`.",
            header.iter().collect::<Vec<_>>().join(",").chars().take(120).collect::<String>()
        )));
    };
    if !unknown.is_empty() || names.len() != names.iter().collect::<HashSet<_>>().len() {
        return Err(csv_error(format!(
            "The header may name only email, role and department, each once; it is `{}`.",
            header.iter().collect::<Vec<_>>().join(",").chars().take(120).collect::<String>()
        )));
    }
    let (role_col, dept_col) = (col("role"), col("department"));
    let mut rows = Vec::new();
    // csv's own line numbers lag behind after CRLF and blank lines, so lines are counted
    // here, up to each record's first byte.
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0_usize, 1_u32);
    for record in records {
        let record = record.map_err(|e| csv_error(format!("The file is not valid CSV: {e}.")))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(csv_error(format!("The file has more than {MAX_IMPORT_ROWS} rows; split it into smaller files.")));
        }
        let mut start = record.position().map_or(counted_to, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX)).clamp(counted_to, bytes.len());
        while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        line = line.saturating_add(line_breaks(&bytes[counted_to..start]));
        counted_to = start;
        let field = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_owned();
        let shape = (record.len() > names.len()).then(|| format!("This row has {} fields; the header has {}.", record.len(), names.len()));
        rows.push(RawRow { line, email: field(Some(email_col)), role: field(role_col), department: field(dept_col), shape });
    }
    if rows.is_empty() {
        return Err(csv_error("The file has a header but no rows."));
    }
    Ok(rows)
}

/// Line breaks in `bytes`: LF, CRLF or a lone CR.
fn line_breaks(bytes: &[u8]) -> u32 {
    let n = bytes.iter().enumerate().filter(|&(i, b)| *b == b'\n' || (*b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A validated row: the report's row and, when valid, what to invite.
struct Checked {
    row: ImportRow,
    roles: Vec<Grantable>,
    departments: Vec<GroupRef>,
}

fn err(field: &str, code: &str, message: String) -> FieldError {
    FieldError { field: field.into(), code: code.into(), message }
}

/// Validates every row against the organization: e-mail syntax, duplicates within the
/// file, existing members and open invitations, roles (and whether the caller may grant
/// them), departments.
async fn validate(db: &crate::store::Db, principal: &Principal, org: &str, raw: Vec<RawRow>) -> Result<Vec<Checked>> {
    let roles = crate::store::roles::grantable(db, org).await?;
    let groups = crate::store::groups::refs(db, org).await?;
    let role_names = roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
    let dept_names = groups.iter().filter(|g| g.kind == GroupKind::Department).map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ");
    let lowered: Vec<String> = raw.iter().map(|r| r.email.to_lowercase()).collect();
    let lookups: Vec<&str> = lowered.iter().map(String::as_str).filter(|e| valid_email(e)).collect();
    let invitations::Taken { members, invited } = invitations::Taken::of(db, &lookups).await?;
    // Whether the caller may grant a role, decided once per role.
    let mut grantable: HashMap<String, Option<String>> = HashMap::new();
    let mut first_line: HashMap<&str, u32> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (r, lower) in raw.into_iter().zip(&lowered) {
        let mut errors = Vec::new();
        if let Some(shape) = &r.shape {
            errors.push(err("row", "too_many_fields", shape.clone()));
        }
        if r.email.is_empty() {
            errors.push(err("email", "required", "The e-mail address is missing.".into()));
        } else if !valid_email(&r.email) {
            errors.push(err("email", "invalid", format!("`{}` is not an e-mail address.", r.email.chars().take(100).collect::<String>())));
        } else if let Some(line) = first_line.get(lower.as_str()) {
            errors.push(err("email", "duplicate", format!("{} is also on line {line}.", r.email)));
        } else {
            first_line.insert(lower, r.line);
            // An open invitation has a pending user too: it is named as the invitation.
            if invited.get(lower).is_some_and(|o| o == org) {
                errors.push(err("email", codes::ALREADY_INVITED, format!("{} already has a pending invitation.", r.email)));
            } else if members.get(lower).is_some_and(|o| o == org) {
                errors.push(err("email", codes::EMAIL_TAKEN, format!("{} is already a member of this organization.", r.email)));
            } else if members.contains_key(lower) || invited.contains_key(lower) {
                // Elsewhere on this server: the same words as create and invite say.
                errors.push(err("email", codes::EMAIL_UNAVAILABLE, super::user_create::email_unavailable(&r.email).problem().detail));
            }
        }
        let mut row_roles: Vec<Grantable> = Vec::new();
        let wanted: Vec<&str> = r.role.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
        for w in if wanted.is_empty() { vec!["member"] } else { wanted } {
            match roles.iter().find(|x| x.id == w || x.key.eq_ignore_ascii_case(w) || x.name.eq_ignore_ascii_case(w)) {
                Some(role) => {
                    if !grantable.contains_key(&role.id) {
                        let refusal = may_grant(principal, &[role]).err().map(|e| e.problem().detail);
                        grantable.insert(role.id.clone(), refusal);
                    }
                    if let Some(Some(refusal)) = grantable.get(&role.id) {
                        errors.push(err("role", codes::FORBIDDEN, refusal.clone()));
                    } else if !row_roles.iter().any(|x| x.id == role.id) {
                        row_roles.push(role.clone());
                    }
                }
                None => errors.push(err("role", "unknown_role", format!("There is no role `{w}`; the roles are {role_names}."))),
            }
        }
        let mut row_departments = Vec::new();
        for w in r.department.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match groups.iter().find(|g| g.id == w || g.name.eq_ignore_ascii_case(w)) {
                Some(group) => {
                    if !row_departments.iter().any(|g: &GroupRef| g.id == group.id) {
                        row_departments.push(group.clone());
                    }
                }
                None => {
                    errors.push(err("department", "unknown_department", format!("There is no department `{w}`; the departments are {dept_names}.")))
                }
            }
        }
        out.push(Checked {
            row: ImportRow { line: r.line, email: r.email, role: r.role, department: r.department, errors },
            roles: row_roles,
            departments: row_departments,
        });
    }
    Ok(out)
}

/// Checks a CSV file of people to invite (`dry_run=true`, the default) or invites them.
/// Nothing is sent unless every row is valid and the seats suffice.
#[utoipa::path(
    post, path = "/v1/invitations/import", tag = "invitations",
    params(
        ("dry_run" = Option<bool>, Query, description = "true (default): only validate; false: validate, then invite every row"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of a real import return the first answer"),
    ),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 (a BOM is fine) CSV with the header `email,role,department`; several roles or departments are separated by `;`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The per-row report (a dry run, or sent: `invitations` holds them)", body = ImportReport),
        (status = 400, description = "`invalid_csv` (empty, wrong header, too many rows, broken CSV) or `csv_not_utf8`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Lacks `invitations.manage`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`seat_limit_reached` with `seats` (nothing sent)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`: over 5 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`import_invalid`: some rows are invalid (nothing sent); a dry run reports them", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_invitations(
    State(state): State<AppState>,
    principal: Principal,
    meta: ClientMeta,
    pairs: QueryPairs,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let granted = principal.require::<InvitationsManage>()?;
    let org = granted.org_id().to_owned();
    let dry_run = match pairs.get("dry_run") {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => {
            return Err(ApiError::field("dry_run", "invalid", "`dry_run` is true or false."));
        }
    };
    let bytes = axum::body::to_bytes(body, MAX_IMPORT_BYTES + 1).await.map_err(|_| too_large())?;
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(too_large());
    }
    let text = decode(&bytes)?;
    let raw = parse(text)?;
    if dry_run {
        let checked = validate(&state.db, &principal, &org, raw).await?;
        let mut tx = crate::store::read(&state.db).await?;
        let seats = seat_usage(&mut tx, &org).await?;
        tx.commit().await?;
        return respond(report(true, checked, seats, Vec::new()));
    }
    let digest = crate::tokens::hash_token(text);
    Idempotency::handle(&state, &principal, &headers, ("POST", "/v1/invitations/import"), &digest, async |idem| {
        let checked = validate(&state.db, &principal, &org, raw.clone()).await?;
        send(&state, &principal, &meta, &org, checked, idem).await
    })
    .await
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        codes::PAYLOAD_TOO_LARGE,
        format!("The file is larger than {} MiB; split it into smaller files.", MAX_IMPORT_BYTES / (1024 * 1024)),
    )
}

fn report(dry_run: bool, checked: Vec<Checked>, seats: gatehouse_api::SeatUsage, invitations: Vec<gatehouse_api::Invitation>) -> ImportReport {
    let rows: Vec<ImportRow> = checked.into_iter().map(|c| c.row).collect();
    let invalid = u32::try_from(rows.iter().filter(|r| !r.errors.is_empty()).count()).unwrap_or(u32::MAX);
    let valid = u32::try_from(rows.len()).unwrap_or(u32::MAX).saturating_sub(invalid);
    let seats_short = if invitations.is_empty() { (seats.used.saturating_add(valid)).saturating_sub(seats.limit) } else { 0 };
    ImportReport { dry_run, rows, invalid, seats, seats_short, invitations }
}

fn respond(report: ImportReport) -> Result<Response> {
    let body = serde_json::to_vec(&report).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(super::json_body(StatusCode::OK, body))
}

async fn send(
    state: &AppState,
    principal: &Principal,
    meta: &ClientMeta,
    org: &str,
    checked: Vec<Checked>,
    idem: Option<&Idempotency>,
) -> Result<Response> {
    let invalid: Vec<String> = checked.iter().filter(|c| !c.row.errors.is_empty()).map(|c| c.row.line.to_string()).collect();
    if !invalid.is_empty() {
        let shown = invalid.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::IMPORT_INVALID,
            format!(
                "{} row{} invalid (line {shown}{}); nothing was sent. Check the file with dry_run=true to see why.",
                invalid.len(),
                if invalid.len() == 1 { " is" } else { "s are" },
                if invalid.len() > 10 { ", …" } else { "" }
            ),
        ));
    }
    let names = invitations::sender_of(&state.db, principal).await?;
    let sender = Sender::caller(principal, meta, org, &names);
    let terms = Terms { message: None, notify_email: None, identity_provider: IdentityProvider::Any, tenant_id: None };
    let now = state.clock.now();
    let mut tx = crate::store::write(&state.db).await?;
    let invitees: Vec<Invitee<'_>> = checked.iter().map(|c| Invitee { email: &c.row.email, roles: &c.roles, departments: &c.departments }).collect();
    // Each row's roles passed the rule above; together they pass it too.
    let grant = may_grant(principal, &checked.iter().flat_map(|c| c.roles.iter()).collect::<Vec<_>>())?;
    let (rows, before) = invitations::insert_all(state, &mut tx, &sender, &invitees, &terms, &grant, now).await?;
    let invitations = rows.iter().map(|r| r.to_api(now)).collect::<Result<Vec<_>>>()?;
    let out = report(false, checked, before, invitations);
    let body = serde_json::to_vec(&out).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(idem) = idem {
        idem.store(&mut tx, StatusCode::OK, None, &body, now).await?;
    }
    tx.commit().await?;
    state.wake_mailer();
    respond(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_crlf_and_quoted_fields_parse() {
        let bytes = b"\xEF\xBB\xBFemail,role,department\r\n\"a@x.test\",\"Admin;Manager\",\"Sales, West\"\r\n\r\nb@x.test,,\r\n";
        let rows = parse(decode(bytes).unwrap()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            RawRow { line: 2, email: "a@x.test".into(), role: "Admin;Manager".into(), department: "Sales, West".into(), shape: None }
        );
        assert_eq!((rows[1].line, rows[1].email.as_str(), rows[1].role.as_str()), (4, "b@x.test", ""));
    }

    #[test]
    fn the_header_may_be_reordered_or_omit_columns() {
        let rows = parse("Department,EMAIL\nSales,a@x.test\n").unwrap();
        assert_eq!((rows[0].email.as_str(), rows[0].department.as_str(), rows[0].role.as_str()), ("a@x.test", "Sales", ""));
    }

    #[test]
    fn wrong_headers_empty_files_and_extra_fields_are_named() {
        let code = |r: Result<Vec<RawRow>>| r.err().map(|e| e.problem().code);
        assert_eq!(code(parse("")), Some(codes::INVALID_CSV.to_owned()));
        assert_eq!(code(parse("  \r\n ")), Some(codes::INVALID_CSV.to_owned()));
        assert_eq!(code(parse("name,phone\nx,y\n")), Some(codes::INVALID_CSV.to_owned()));
        assert_eq!(code(parse("email,role,email\n")), Some(codes::INVALID_CSV.to_owned()));
        assert_eq!(code(parse("email,role,department\n")), Some(codes::INVALID_CSV.to_owned()));
        assert_eq!(code(parse("{\"emails\": [\"a@x.test\"]}")), Some(codes::INVALID_CSV.to_owned()));
        let rows = parse("email,role,department\na@x.test,member,Sales,extra\n").unwrap();
        assert!(rows[0].shape.as_deref().unwrap().contains("4 fields"));
    }

    #[test]
    fn non_utf8_names_its_line() {
        let e = decode(b"email,role,department\na@x.test,,\n\xff\xfe@x.test,,\n").unwrap_err().problem();
        assert_eq!(e.code, codes::CSV_NOT_UTF8);
        assert!(e.detail.contains("line 3"), "{}", e.detail);
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut text = String::from("email\n");
        for i in 0..=MAX_IMPORT_ROWS {
            text.push_str(&format!("u{i}@x.test\n"));
        }
        assert_eq!(parse(&text).unwrap_err().problem().code, codes::INVALID_CSV);
    }
}
