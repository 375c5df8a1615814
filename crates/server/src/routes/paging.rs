//! Keyset paging shared by the session and login-attempt lists: a cursor names the last
//! row's sort key and the filters it was issued for, so it cannot page another query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use gatehouse_api::{DEFAULT_USER_PAGE, FieldError, MAX_USER_PAGE, codes};

/// Collects field errors while a query string is parsed.
#[derive(Default)]
pub(crate) struct Errors(pub Vec<FieldError>);

impl Errors {
    /// Records that `field` is wrong.
    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), code: code.into(), message: message.into() });
    }
}

/// `limit` from the query: 1–500, default 50.
pub(crate) fn limit(raw: Option<&str>, errors: &mut Errors) -> u32 {
    match raw {
        None => DEFAULT_USER_PAGE,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_USER_PAGE).contains(&n) => n,
            _ => {
                errors.add("limit", "out_of_range", format!("`limit` must be a whole number from 1 to {MAX_USER_PAGE}."));
                DEFAULT_USER_PAGE
            }
        },
    }
}

/// A short digest of the filters, which a cursor carries.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    crate::tokens::hash_token(&parts.join("\u{1f}"))[..12].to_owned()
}

/// The cursor after the row with sort key `key`.
pub(crate) fn encode(fingerprint: &str, key: &[&str]) -> String {
    B64.encode(serde_json::json!([fingerprint, key]).to_string())
}

/// The sort key a cursor names, if it was issued for `fingerprint` with `n` key parts.
pub(crate) fn decode(raw: Option<&str>, fingerprint: &str, n: usize, errors: &mut Errors) -> Option<Vec<String>> {
    let raw = raw?;
    let parsed = B64.decode(raw).ok().and_then(|b| serde_json::from_slice::<(String, Vec<String>)>(&b).ok()).filter(|(_, key)| key.len() == n);
    match parsed {
        Some((f, key)) if f == fingerprint => Some(key),
        Some(_) => {
            errors.add("cursor", codes::INVALID_CURSOR, "This cursor belongs to a different search or filter.");
            None
        }
        None => {
            errors.add("cursor", codes::INVALID_CURSOR, "This cursor was not issued by this server.");
            None
        }
    }
}

/// Checks that an id in the path has the shape this server issues (a UUID), so a typo is
/// a clear 400 rather than a silent "not found".
pub(crate) fn check_id(what: &str, id: &str) -> crate::error::Result<()> {
    if uuid::Uuid::try_parse(id).is_ok() {
        Ok(())
    } else {
        Err(crate::error::ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            codes::INVALID_ID,
            format!("`{}` is not a {what} id; ids look like 0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a.", id.chars().take(80).collect::<String>()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_page_only_their_own_query() {
        let f = fingerprint(&["q", "active"]);
        let c = encode(&f, &["2026-01-01T00:00:00Z", "abc"]);
        let mut errors = Errors::default();
        assert_eq!(decode(Some(&c), &f, 2, &mut errors), Some(vec!["2026-01-01T00:00:00Z".to_owned(), "abc".to_owned()]));
        assert!(errors.0.is_empty());
        assert_eq!(decode(Some(&c), &fingerprint(&["other"]), 2, &mut errors), None);
        assert_eq!(decode(Some("garbage"), &f, 2, &mut errors), None);
        assert_eq!(decode(Some(&c), &f, 1, &mut errors), None, "a cursor of another list");
        assert_eq!(errors.0.len(), 3);
        assert!(errors.0.iter().all(|e| e.code == codes::INVALID_CURSOR));
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(check_id("session", "0192f4c1-7d3e-7a10-9b1c-2f4e5d6c7b8a").is_ok());
        assert!(check_id("session", "../etc").is_err());
    }
}
