//! The errors every layer shares. [`OAuthError`], whose codes are the OAuth vocabulary (RFC
//! 6749 §5.2, RFC 8707 §2) with fixed HTTP statuses, is what clients see. The internal
//! failures are typed by where they happen: [`StoreError`] (storage ports), [`CryptoError`]
//! (crypto and random ports), [`OutboundError`] (hooks, upstream providers). Each becomes `server_error` at
//! the protocol edge, its detail logged, never shown.

use std::fmt;

/// Error codes of RFC 6749 §5.2 and RFC 8707 §2, plus the HTTP-level failures we answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    InvalidTarget,
    /// RFC 6750 §3.1.
    InvalidToken,
    /// RFC 7009 §2.2.1: the revocation could not be done now; the token may still be valid.
    TemporarilyUnavailable,
    ServerError,
    /// RFC 6749 §4.1.2.1: the authorization endpoint serves only `code`.
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1: the user or a rule refused.
    AccessDenied,
    /// OIDC Core §3.1.2.6: `prompt=none` and no usable session.
    LoginRequired,
    /// OIDC Core §3.1.2.6, §6: the `request` parameter (a request object) is not supported.
    RequestNotSupported,
    /// OIDC Core §3.1.2.6, §6: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// Auth0's answer (HTTP 429) when an address or IP asked for too many passwordless codes.
    TooManyRequests,
    /// Auth0's MFA API (HTTP 403): the password was right and a second factor is needed; the
    /// answer carries an `mfa_token` for `/mfa/*` and the MFA grants.
    MfaRequired,
}

impl ErrorCode {
    /// The `error` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::ServerError => "server_error",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::MfaRequired => "mfa_required",
        }
    }

    /// The fixed HTTP status of the code (RFC 6749 §5.2: 400, 401 for `invalid_client`).
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::TemporarilyUnavailable => 503,
            ErrorCode::ServerError => 500,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::MfaRequired => 403,
            _ => 400,
        }
    }
}

/// An error answered to the client: RFC 6749 §5.2 JSON body, plus an optional status override
/// (413 for an oversized body, 405 for a wrong method) and log-only detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Option<String>,
    /// HTTP status when it differs from the code's default.
    pub status: Option<u16>,
    /// Internal detail for the log; never sent to the client.
    pub log_detail: Option<String>,
    /// With [`ErrorCode::MfaRequired`]: the sealed MFA token the body carries.
    pub mfa_token: Option<String>,
}

impl OAuthError {
    /// An error with a client-facing description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: Some(description.into()),
            status: None,
            log_detail: None,
            mfa_token: None,
        }
    }

    /// `invalid_request` with a description.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_grant` (RFC 6749 §5.2): the code, refresh token or credentials are not good.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `server_error`: the client sees no detail, the log does.
    pub fn server(detail: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::ServerError,
            description: None,
            status: None,
            log_detail: Some(detail.into()),
            mfa_token: None,
        }
    }

    /// The same error answered with another HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The HTTP status to answer with.
    pub fn http_status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The RFC 6749 §5.2 JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "error": self.code.as_str() });
        if let Some(d) = &self.description {
            body["error_description"] = serde_json::Value::String(sanitize_description(d));
        }
        if let Some(t) = &self.mfa_token {
            body["mfa_token"] = serde_json::Value::String(t.clone());
        }
        body
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code.as_str())?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(d) = &self.log_detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for OAuthError {}

/// RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E; anything
/// else (quotes, backslashes, non-ASCII) is replaced so the value is always legal.
fn sanitize_description(d: &str) -> String {
    d.chars()
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '\'',
        })
        .collect()
}

/// Failures of a storage port; always answered as `server_error`, the detail only logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The backend failed or could not be reached (`backend` names it: `d1`, `kv`).
    Backend {
        backend: &'static str,
        detail: String,
    },
    /// A stored value could not be read into its record.
    Corrupt(String),
    /// A write collided with a unique value the caller generated (a token hash, say).
    Conflict(String),
}

impl StoreError {
    /// A backend failure.
    pub fn backend(backend: &'static str, detail: impl fmt::Display) -> Self {
        StoreError::Backend {
            backend,
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Backend { backend, detail } => write!(f, "{backend}: {detail}"),
            StoreError::Corrupt(detail) => write!(f, "corrupt stored value: {detail}"),
            StoreError::Conflict(detail) => write!(f, "conflict: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        OAuthError::server(format!("store: {e}"))
    }
}

/// A failure of the platform's cryptography or random source; always `server_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoError {
    /// What was being done: `sign`, `importKey`, `getrandom`, ...
    pub operation: &'static str,
    pub detail: String,
}

impl CryptoError {
    pub fn new(operation: &'static str, detail: impl fmt::Display) -> Self {
        Self {
            operation,
            detail: detail.to_string(),
        }
    }
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crypto {}: {}", self.operation, self.detail)
    }
}

impl std::error::Error for CryptoError {}

impl From<CryptoError> for OAuthError {
    fn from(e: CryptoError) -> Self {
        OAuthError::server(e.to_string())
    }
}

/// Why an outbound call (a hook, an upstream provider) gave no usable answer. For a hook, what
/// follows depends on its `on_failure`: skipped, or the grant fails with `server_error` (the
/// outage is the issuer's); an upstream provider's sign-in fails closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// No outbound transport is configured.
    NoTransport,
    /// The other side did not answer within its timeout (milliseconds).
    Timeout(u64),
    /// It could not be reached.
    Unreachable(String),
    /// It answered with a non-2xx status.
    Status(u16),
    /// The answer was over the size limit (bytes).
    TooLarge(usize),
    /// The answer was not the expected JSON.
    BadAnswer(String),
    /// The stored configuration cannot be used (no endpoint, a secret that does not
    /// open).
    Misconfigured(String),
}

impl fmt::Display for OutboundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboundError::NoTransport => write!(f, "no outbound transport is configured"),
            OutboundError::Timeout(ms) => write!(f, "no answer within {ms} ms"),
            OutboundError::Unreachable(why) => write!(f, "unreachable: {why}"),
            OutboundError::Status(status) => write!(f, "answered HTTP {status}"),
            OutboundError::TooLarge(limit) => write!(f, "answer is over {limit} bytes"),
            OutboundError::BadAnswer(why) => write!(f, "answer is not the expected JSON: {why}"),
            OutboundError::Misconfigured(why) => write!(f, "misconfigured: {why}"),
        }
    }
}

impl std::error::Error for OutboundError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc6749_5_2() {
        let table = [
            (ErrorCode::InvalidRequest, 400),
            (ErrorCode::InvalidClient, 401),
            (ErrorCode::InvalidGrant, 400),
            (ErrorCode::UnauthorizedClient, 400),
            (ErrorCode::UnsupportedGrantType, 400),
            (ErrorCode::InvalidScope, 400),
            (ErrorCode::InvalidTarget, 400),
            (ErrorCode::InvalidToken, 401),
            (ErrorCode::TemporarilyUnavailable, 503),
            (ErrorCode::ServerError, 500),
            (ErrorCode::UnsupportedResponseType, 400),
            (ErrorCode::AccessDenied, 400),
            (ErrorCode::LoginRequired, 400),
        ];
        for (code, status) in table {
            assert_eq!(code.status(), status, "{}", code.as_str());
        }
    }

    #[test]
    fn server_error_body_has_no_detail() {
        let e = OAuthError::server("d1 exploded at row 7");
        assert_eq!(e.body(), serde_json::json!({ "error": "server_error" }));
        assert!(e.to_string().contains("row 7"));
    }

    #[test]
    fn description_is_limited_to_the_allowed_characters() {
        let e = OAuthError::invalid_request("bad \"x\" \\ é");
        assert_eq!(e.body()["error_description"], "bad 'x' ' '");
    }
}
