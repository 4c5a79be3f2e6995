//! The protocol core: the grants, tokens, keys, claims pipeline and client authentication,
//! with no HTTP types. It reaches storage and the platform only through [`crate::port`].

pub mod account;
pub mod authorize;
pub mod bearer;
pub mod claims;
pub mod client_auth;
pub mod events;
pub mod exchange;
pub mod facts;
pub mod grant;
pub mod introspection;
pub mod issuer;
pub mod keys;
pub mod logout;
pub mod mail;
pub mod maintenance;
pub mod mfa;
pub mod params;
pub mod password;
pub mod pkce;
pub mod provision;
pub mod response_type;
pub mod revocation;
pub mod session;
pub mod signin;
pub mod token;
pub mod upstream;
pub mod userinfo;
