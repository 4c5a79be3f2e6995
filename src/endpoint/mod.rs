//! One file per endpoint.

pub mod discovery;
pub mod jwks;
pub mod management;
pub mod revoke;
pub mod token;
pub mod userinfo;

/// Paths, in one place so discovery and the route table cannot disagree.
pub mod paths {
    pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
    pub const OAUTH_METADATA: &str = "/.well-known/oauth-authorization-server";
    pub const JWKS: &str = "/.well-known/jwks.json";
    pub const TOKEN: &str = "/oauth/token";
    pub const REVOKE: &str = "/oauth/revoke";
    pub const USERINFO: &str = "/userinfo";
}
