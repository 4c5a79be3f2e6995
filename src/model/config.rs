//! Issuer configuration, read once per request from the Worker's vars (or built by tests).

use crate::error::OAuthError;
use crate::model::LockoutPolicy;

/// PBKDF2 iterations for new password hashes: the most workerd's WebCrypto accepts.
pub const DEFAULT_ITERATIONS: u32 = 100_000;

/// Default access-token lifetime when an API does not set one (Auth0's default).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: u64 = 86_400;

/// The longest an access token may live (an API's `token_lifetime`; Auth0's bound too). A
/// key that stopped signing stays published at least this long.
pub const MAX_TOKEN_LIFETIME: u64 = 2_592_000;

/// The database connection users log in to when a request names no `realm` (Auth0's name).
pub const DEFAULT_CONNECTION: &str = "Username-Password-Authentication";

/// Path prefix of the management API; `<issuer>` + this is its audience.
pub const MANAGEMENT_PATH: &str = "/api/v2/";

/// The management API's scopes a user-delegated token may hold: the user's own profile and
/// metadata, nothing else (Auth0's self-service scopes). Every other management scope is for
/// machine clients with a client grant.
pub const SELF_SERVICE_SCOPES: [&str; 5] = [
    "read:current_user",
    "update:current_user_metadata",
    "create:current_user_metadata",
    "delete:current_user_metadata",
    "update:current_user_identities",
];

/// What the issuer needs to know about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `iss` value, exactly as configured (RFC 8414 §2, OIDC Discovery §3).
    pub issuer: String,
    /// Connection used by the password grant when no `realm` is given.
    pub default_connection: String,
    /// PBKDF2 iterations for new password hashes; lower stored costs are upgraded at login.
    pub password_iterations: u32,
    /// Brute-force protection of the password grant.
    pub lockout: LockoutPolicy,
    /// Whether the hosted login page offers sign-up into the default connection (on unless
    /// the `SIGNUP` var is `off`).
    pub signup: bool,
    /// Self-service writes a user may make to their own profile per minute (the
    /// `SELF_SERVICE_WRITES_PER_MINUTE` var, default 10); more answer 429.
    pub self_service_writes_per_minute: u32,
    /// Days log events are kept (the `LOG_RETENTION_DAYS` var, default 30).
    pub log_retention_days: u64,
    /// Days a signing key signs before the scheduled rotation replaces it (the
    /// `SIGNING_KEY_ROTATION_DAYS` var, default 30; 0 rotates only when asked).
    pub key_rotation_days: u64,
    /// Seconds a new key is published before it signs (the `SIGNING_KEY_LEAD_SECONDS` var,
    /// default 900; see `oauth::keys::lifecycle` for the least safe value).
    pub key_publish_lead: u64,
    /// Whether a password reset through an email link ends the user's sessions and
    /// refresh-token families (on unless the `PASSWORD_RESET_KEEPS_SESSIONS` var is `1`).
    pub reset_ends_sessions: bool,
}

impl Config {
    /// Whether the issuer itself is served over plain http (local development): the URLs it
    /// calls (hooks) may then be plain-http loopback (`127.0.0.1`, `localhost`) too.
    pub fn is_local(&self) -> bool {
        self.issuer.starts_with("http://")
    }

    /// Validates the issuer identifier: an absolute http(s) URL with no query or fragment.
    /// Plain http is accepted so a local issuer on loopback works; production uses https.
    pub fn new(issuer: &str) -> Result<Self, OAuthError> {
        let ok_scheme = issuer.starts_with("https://") || issuer.starts_with("http://");
        if !ok_scheme || issuer.contains('?') || issuer.contains('#') || issuer.len() < 9 {
            return Err(OAuthError::server(format!(
                "ISSUER must be an absolute http(s) URL without query or fragment, got \"{issuer}\""
            )));
        }
        Ok(Self {
            issuer: issuer.to_string(),
            default_connection: DEFAULT_CONNECTION.to_string(),
            password_iterations: DEFAULT_ITERATIONS,
            lockout: LockoutPolicy::default(),
            signup: true,
            self_service_writes_per_minute: 10,
            log_retention_days: 30,
            key_rotation_days: 30,
            key_publish_lead: 900,
            reset_ends_sessions: true,
        })
    }

    /// Whether the issuer is served over https (HSTS is sent only then).
    pub fn https(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    /// The audience of the management API (`<issuer>/api/v2/`, Auth0's shape).
    pub fn management_audience(&self) -> String {
        self.url(MANAGEMENT_PATH)
    }

    /// An absolute URL on this issuer; joins without doubling or dropping a slash, so an
    /// issuer with or without a trailing slash yields the same endpoint URLs.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer.trim_end_matches('/'), path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_kept_exactly_and_urls_join_cleanly() {
        for issuer in ["https://id.example.com", "https://id.example.com/"] {
            let c = Config::new(issuer).unwrap();
            assert_eq!(c.issuer, issuer);
            assert_eq!(c.url("/oauth/token"), "https://id.example.com/oauth/token");
        }
    }

    #[test]
    fn issuer_with_query_fragment_or_other_scheme_is_refused() {
        for issuer in [
            "https://a.example?x=1",
            "https://a.example#f",
            "ftp://a.example",
            "",
        ] {
            assert!(Config::new(issuer).is_err(), "{issuer}");
        }
    }
}

/// Where the issuer serves each endpoint, in one place so discovery, the route table and the
/// tokens cannot disagree.
pub mod paths {
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const TOKEN: &str = "/oauth/token";
    pub const REVOKE: &str = "/oauth/revoke";
    pub const INTROSPECT: &str = "/oauth/introspect";
    /// The unexpired revoked access tokens, for gateways that verify tokens offline.
    pub const REVOKED_JTIS: &str = "/.well-known/revoked-jtis";
    pub const USERINFO: &str = "/userinfo";
    pub const AUTHORIZE: &str = "/authorize";
    /// Where the hosted login form posts.
    pub const LOGIN: &str = "/u/login";
    /// Where the hosted sign-up form posts.
    pub const SIGNUP: &str = "/u/signup";
    /// Auth0's Authentication API: a sign-up, and a request for a password reset link.
    pub const DB_SIGNUP: &str = "/dbconnections/signup";
    pub const DB_CHANGE_PASSWORD: &str = "/dbconnections/change_password";
    /// An email verification link.
    pub const EMAIL_VERIFICATION: &str = "/u/email-verification";
    /// A password reset link's form, and the "Forgot password?" form.
    pub const RESET_PASSWORD: &str = "/u/reset-password";
    pub const RESET_REQUEST: &str = "/u/reset-password/request";
    /// Auth0's Authentication API: a passwordless code or link sent.
    pub const PASSWORDLESS_START: &str = "/passwordless/start";
    /// A passwordless link (Auth0's path).
    pub const PASSWORDLESS_VERIFY: &str = "/passwordless/verify_redirect";
    /// Where the hosted page's "Email me a code" posts, and where its code form posts.
    pub const CODE_START: &str = "/u/passwordless/start";
    pub const CODE_VERIFY: &str = "/u/passwordless/verify";
    /// Auth0's MFA API, for the holder of an MFA token.
    pub const MFA_ASSOCIATE: &str = "/mfa/associate";
    pub const MFA_AUTHENTICATORS: &str = "/mfa/authenticators";
    pub const MFA_CHALLENGE: &str = "/mfa/challenge";
    /// Where the hosted page asking for a second factor posts.
    pub const MFA_PAGE: &str = "/u/mfa";
    /// Where an upstream provider answers, followed by the connection's name (one redirect
    /// URI per connection).
    pub const LOGIN_CALLBACK: &str = "/login/callback/";
    /// RP-Initiated Logout 1.0.
    pub const END_SESSION: &str = "/oidc/logout";
    /// Auth0's logout.
    pub const AUTH0_LOGOUT: &str = "/v2/logout";
}
