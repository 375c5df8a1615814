//! TOTP (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the kind every authenticator
//! app reads from an `otpauth://` URI.

use hmac::{Hmac, Mac};

/// Seconds per code.
pub const PERIOD: u32 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that are still accepted: clocks drift and people type slowly.
const SKEW: i64 = 1;

/// A new random 160-bit secret, base32 encoded (RFC 4226's recommended length).
pub fn new_secret() -> String {
    base32(&crate::tokens::random_bytes::<20>())
}

/// RFC 4648 base32 without padding, the alphabet authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` on a bad character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The code for time step `step` (RFC 4226's HOTP over the step counter).
pub fn code_at(key: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else { unreachable!("HMAC takes keys of any length") };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

/// The time step of a Unix time.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(i64::from(PERIOD))
}

/// Checks `code` against the secret at `unix_seconds`, allowing one step of drift, and
/// returns the step it matched. Steps at or before `last_step` are refused, so a code
/// works once. Formatting people add ("123 456") is ignored.
pub fn verify(secret_base32: &str, code: &str, unix_seconds: i64, last_step: i64) -> Option<i64> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let wanted: u32 = digits.parse().ok()?;
    let key = base32_decode(secret_base32)?;
    let now = step_of(unix_seconds);
    ((now - SKEW)..=(now + SKEW)).find(|&step| step > last_step && code_at(&key, step) == wanted)
}

/// The `otpauth://totp/…` URI for an authenticator app.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!("otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}", encode(issuer))
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 vectors (8 digits there; the last 6 here).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let key = b"12345678901234567890";
        for (time, eight) in [(59, 94_287_082), (1_111_111_109, 7_081_804), (1_234_567_890, 89_005_924), (2_000_000_000, 69_279_037)] {
            assert_eq!(code_at(key, step_of(time)), eight % 1_000_000, "t = {time}");
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZ1"), None);
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(base32_decode(&secret).unwrap().len(), 20);
    }

    #[test]
    fn a_code_verifies_once_within_the_drift_window() {
        let secret = base32(b"12345678901234567890");
        let now = 1_111_111_109;
        let code = format!("{:06}", code_at(b"12345678901234567890", step_of(now)));
        let step = verify(&secret, &code, now, 0).unwrap();
        assert_eq!(step, step_of(now));
        assert_eq!(verify(&secret, &code, now, step), None, "replayed");
        assert!(verify(&secret, &code, now + 30, 0).is_some(), "one step late is fine");
        assert_eq!(verify(&secret, &code, now + 90, 0), None, "three steps late is not");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(verify(&secret, &spaced, now, 0).is_some());
        assert_eq!(verify(&secret, "12345", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn uris_are_escaped() {
        let uri = otpauth_uri("Acme Corp", "ada@acme.test", "ABC");
        assert_eq!(uri, "otpauth://totp/Acme%20Corp:ada@acme.test?secret=ABC&issuer=Acme%20Corp&algorithm=SHA1&digits=6&period=30");
    }
}
