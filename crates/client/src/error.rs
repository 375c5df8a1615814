use gatehouse_api::Problem;

/// Result alias of the client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to a Gatehouse server. Transport failures, server answers and
/// an ended session are kept apart: the app retries the first, shows the second, and sends
/// the user back to sign-in on the third.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server URL is not a usable http(s) URL.
    #[error("{0}")]
    InvalidServerUrl(String),
    /// The server URL is plain `http://` to another computer (or the server redirected
    /// there), and `ClientOptions::allow_insecure_http` is off; the message says how to
    /// allow it.
    #[error("{0}")]
    InsecureUrl(String),
    /// The server could not be reached (DNS, refused, TLS, timeout).
    #[error("Cannot reach server at {url}: {reason}")]
    Unreachable {
        /// The server's base URL.
        url: String,
        /// What failed, for a person.
        reason: String,
    },
    /// The server answered with a problem document.
    #[error("{}", .0.detail)]
    Api(Box<Problem>),
    /// The session ended (revoked, expired, or its refresh token was reused); sign in again.
    #[error("{reason}")]
    SessionExpired {
        /// Why, for a person.
        reason: String,
    },
    /// No session is stored for this connection.
    #[error("Not signed in")]
    NotSignedIn,
    /// The OS keyring refused or failed.
    #[error("The system keyring is not available: {0}")]
    Keyring(String),
    /// The local cache failed (disk full, corrupt file, …).
    #[error("The local cache failed: {0}")]
    Cache(String),
    /// A local request that cannot be done as asked (an empty edit, settling a change
    /// that is not in conflict, …).
    #[error("{0}")]
    Invalid(String),
    /// Something asked for is not in the local copy.
    #[error("{0}")]
    NotFound(String),
    /// The server answered something that is not the API.
    #[error("Unexpected answer from the server: {0}")]
    Protocol(String),
}

impl Error {
    /// The server's problem code, if this is a server answer.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(p) => Some(p.code.as_str()),
            _ => None,
        }
    }

    /// No answer from the server (it is down, or something else answered): what the app
    /// reads from its cache instead.
    pub fn is_offline(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Protocol(_))
    }

    pub(crate) fn from_transport(url: &url::Url, e: &reqwest::Error) -> Self {
        if e.is_redirect() {
            let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
            while let Some(cause) = source {
                if let Some(refused) = cause.downcast_ref::<crate::server_url::InsecureRedirect>() {
                    return Self::InsecureUrl(refused.to_string());
                }
                source = cause.source();
            }
        }
        let reason = if e.is_timeout() {
            "the request timed out".to_owned()
        } else if e.is_connect() {
            // The innermost cause says "Connection refused" or the DNS failure.
            let mut source: &dyn std::error::Error = e;
            while let Some(next) = source.source() {
                source = next;
            }
            source.to_string()
        } else {
            e.to_string()
        };
        Self::Unreachable { url: url.as_str().trim_end_matches('/').to_owned(), reason }
    }
}

impl From<keyring_core::Error> for Error {
    fn from(e: keyring_core::Error) -> Self {
        Self::Keyring(e.to_string())
    }
}
