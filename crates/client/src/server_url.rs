//! The server address as typed, and whether the app may talk to it: plain `http://` only
//! to this computer, so that a password and the organization's directory never cross a
//! network unencrypted (issue 18), unless the person running the app says otherwise with
//! [`ALLOW_INSECURE_HTTP_ENV`].

use crate::error::{Error, Result};
use url::{Host, Url};

/// Set to `1` to let the app use plain `http://` to a server on another computer (a lab
/// network you trust). Nothing in the app can turn it on.
pub const ALLOW_INSECURE_HTTP_ENV: &str = "GATEHOUSE_ALLOW_INSECURE_HTTP";

/// Whether [`ALLOW_INSECURE_HTTP_ENV`] is set to a yes (`1`, `true`, `yes`).
pub fn insecure_http_allowed_by_env() -> bool {
    std::env::var(ALLOW_INSECURE_HTTP_ENV).is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Parses and checks a server URL as typed by a person.
pub fn parse_server_url(input: &str) -> Result<Url> {
    let input = input.trim();
    let invalid = || Error::InvalidServerUrl("Enter a full server address, like https://gatehouse.example.com".into());
    if input.is_empty() {
        return Err(Error::InvalidServerUrl("Enter the server address.".into()));
    }
    let url = Url::parse(input).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidServerUrl("The server address cannot contain credentials, a query or a fragment.".into()));
    }
    // A base with a path keeps it: https://example.com/gatehouse/ + v1/users.
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// [`parse_server_url`], then refuses plain `http://` to another computer unless
/// `allow_insecure_http` ([`crate::ClientOptions::allow_insecure_http`]).
pub fn check_server_url(input: &str, allow_insecure_http: bool) -> Result<Url> {
    let url = parse_server_url(input)?;
    check_transport(&url, allow_insecure_http)?;
    Ok(url)
}

/// `Error::InsecureUrl` for a plain `http://` URL whose host is not this computer.
pub(crate) fn check_transport(url: &Url, allow_insecure_http: bool) -> Result<()> {
    if url.scheme() == "http" && !allow_insecure_http && !is_loopback(url) {
        return Err(Error::InsecureUrl(insecure_message(url)));
    }
    Ok(())
}

/// `localhost`, 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z): traffic that never
/// leaves this computer. Other names are not trusted to resolve to it.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        None => false,
    }
}

fn insecure_message(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    format!(
        "http://{host} is not encrypted: your password and your organization's data would cross the network readable by anyone on it. \
         Use the server's https:// address. Plain http:// is allowed only to this computer (localhost), unless the app is \
         started with {ALLOW_INSECURE_HTTP_ENV}=1 on a network you trust."
    )
}

/// Follows redirects (at most 10) but never from this check's protection to plain
/// `http://` on another computer: a 307 would resend the sign-in body, password included.
pub(crate) fn redirect_policy(allow_insecure_http: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 10 {
            attempt.error("too many redirects")
        } else if let Err(Error::InsecureUrl(message)) = check_transport(attempt.url(), allow_insecure_http) {
            attempt.error(InsecureRedirect(message))
        } else {
            attempt.follow()
        }
    })
}

/// Why a redirect was refused; found again in the transport error's sources.
#[derive(Debug)]
pub(crate) struct InsecureRedirect(pub(crate) String);

impl std::fmt::Display for InsecureRedirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "The server redirected to another address. {}", self.0)
    }
}

impl std::error::Error for InsecureRedirect {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_normalised() {
        assert_eq!(parse_server_url("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(parse_server_url(" https://gh.example/base ").unwrap().as_str(), "https://gh.example/base/");
        for bad in ["", "gatehouse.example.com", "ftp://x", "http://", "https://u:p@x", "http://x/?a=b", "not a url"] {
            assert!(matches!(parse_server_url(bad), Err(Error::InvalidServerUrl(_))), "{bad:?}");
        }
    }

    #[test]
    fn plain_http_is_refused_unless_it_stays_on_this_computer() {
        for refused in ["http://10.0.0.5", "http://10.0.0.5:8080/base", "http://gatehouse.example.com", "http://localhost.example.com", "http://[2001:db8::1]", "http://128.0.0.1"] {
            match check_server_url(refused, false) {
                Err(Error::InsecureUrl(message)) => {
                    assert!(message.contains("https://") && message.contains(ALLOW_INSECURE_HTTP_ENV), "says why and how: {message}");
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        let message = check_server_url("http://10.0.0.5:8080", false).unwrap_err().to_string();
        assert!(message.starts_with("http://10.0.0.5 is not encrypted"), "{message}");
        for allowed in ["http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:1", "http://localhost", "http://LOCALHOST:9/x", "http://[::ffff:127.0.0.1]:80"] {
            assert!(check_server_url(allowed, false).is_ok(), "{allowed}");
        }
        for tls in ["https://10.0.0.5", "https://gatehouse.example.com/base", "https://localhost"] {
            assert!(check_server_url(tls, false).is_ok(), "{tls}");
        }
        // The explicit setting lets plain http through; a malformed address stays malformed.
        assert!(check_server_url("http://10.0.0.5", true).is_ok());
        assert!(matches!(check_server_url("ftp://10.0.0.5", true), Err(Error::InvalidServerUrl(_))));
    }

    /// A loopback server that answers every request with a 307 to `location`.
    async fn redirecting_to(location: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let answer = format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn the_client_refuses_plain_http_to_another_computer_also_after_a_redirect() {
        use crate::{Client, ClientOptions, MemoryTokenStore};
        use gatehouse_api::Secret;
        let options = |allow_insecure_http| ClientOptions { connect_timeout: std::time::Duration::from_millis(300), allow_insecure_http, ..ClientOptions::default() };
        let sign_in = |url: String, options: ClientOptions| async move {
            Client::sign_in(&url, "a@b.co", Secret::new("pw".into()), None, std::sync::Arc::new(MemoryTokenStore::default()), &options).await.map(drop)
        };
        // Refused before anything is sent, and before any connection is tried.
        let refused = sign_in("http://10.0.0.5:8080".into(), options(false)).await;
        assert!(matches!(refused, Err(Error::InsecureUrl(_))), "{refused:?}");
        // A server on this computer whose 307 would resend the password to another one.
        let local = redirecting_to("http://10.255.255.1:9/v1/auth/login").await;
        let redirected = sign_in(local.clone(), options(false)).await;
        match redirected {
            Err(Error::InsecureUrl(message)) => assert!(message.contains("redirected") && message.contains(ALLOW_INSECURE_HTTP_ENV), "{message}"),
            other => panic!("{other:?}"),
        }
        // With the setting, the redirect is followed (to whatever answers there, if anything).
        let allowed = sign_in(local, options(true)).await;
        assert!(allowed.is_err() && !matches!(allowed, Err(Error::InsecureUrl(_))), "{allowed:?}");
    }
}
