//! Edge Issuer: an OAuth 2.0 / OpenID Connect token issuer for Cloudflare Workers.
//!
//! Everything outside [`edge`] is plain Rust, tested natively; [`edge`] is the only code
//! that knows Cloudflare (fetch entry, D1/KV, WebCrypto).

pub mod claims;
pub mod client_auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod endpoint;
pub mod error;
pub mod grant;
pub mod http;
pub mod issuer;
pub mod password;
pub mod random;
pub mod scope;
pub mod secret;
pub mod store;
pub mod token;

#[cfg(target_arch = "wasm32")]
mod edge;
