//! HTTP in the core's own terms: a request and a response with no Cloudflare types, the
//! route table and the endpoints: requests are matched to paths here and in the management
//! API's table (`admin::routes`) only; the endpoint URLs the issuer publishes are built from
//! `model::config`'s names.

pub mod account;
pub mod authorize;
mod cors;
pub mod discovery;
pub mod introspect;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod mfa;
mod pages;
pub mod revoke;
mod routes;
mod screen;
pub mod token;
pub mod userinfo;

pub use routes::handle;
pub use screen::REMEMBER_COOKIE;

use crate::error::OAuthError;
use crate::oauth::params::Params;

pub use crate::oauth::params::MAX_BODY_BYTES;

/// The largest body a request to `path` may carry (the user import takes a file).
pub fn max_body_bytes(path: &str) -> usize {
    crate::admin::max_body_bytes(path)
}

/// An incoming request, already read from the runtime.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of the cookie `name` (RFC 6265 §5.4), if the request carries it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.trim())
    }

    /// The parameters of a page that takes both methods: the body of a `POST`, else the query.
    pub fn params(&self) -> Result<Params, OAuthError> {
        match self.method.as_str() {
            "POST" => self.body_params(),
            _ => Params::from_form(self.query.as_bytes()),
        }
    }

    /// The parameters of a POST body, form or JSON by its content type
    /// ([`Params::from_body`]).
    pub fn body_params(&self) -> Result<Params, OAuthError> {
        Params::from_body(self.header("content-type"), &self.body)
    }
}

/// An outgoing response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An RFC 6749 §5.2 error response.
    pub fn error(e: &OAuthError) -> Self {
        Self::json(e.http_status(), &e.body())
    }

    /// An empty response.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The headers every response carries, HTML or JSON: `X-Content-Type-Options: nosniff` (no
    /// browser reads a JSON error as a script or page), `Referrer-Policy: no-referrer` (no URL
    /// of ours, codes and states included, leaks to another site), and on an https issuer
    /// `Strict-Transport-Security` for a year (not `includeSubDomains`: the issuer's domain may
    /// have siblings it does not speak for).
    pub fn secured(self, https: bool) -> Self {
        let mut r = self;
        for (name, value) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ] {
            if r.header(name).is_none() {
                r = r.with_header(name, value);
            }
        }
        if https && r.header("strict-transport-security").is_none() {
            r = r.with_header("strict-transport-security", "max-age=31536000");
        }
        r
    }

    /// RFC 6749 §5.1: responses carrying tokens or credentials errors are never cached.
    pub fn no_store(self) -> Self {
        self.with_header("cache-control", "no-store")
            .with_header("pragma", "no-cache")
    }

    /// The body parsed as JSON (tests and tools).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}
