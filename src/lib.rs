//! Edge Issuer: an OAuth 2.0 / OpenID Connect token issuer for Cloudflare Workers.
//!
//! Layers, each importing only the ones below it (a test, `tests/layers.rs`, holds them to it):
//!
//! - [`web`]: HTTP requests and responses, the route table, the endpoints; the only layer that
//!   knows paths.
//! - [`admin`]: the management API.
//! - [`oauth`]: the protocol core: grants (check, then commit), tokens, keys, claims pipeline,
//!   client authentication. No HTTP types.
//! - [`port`]: what the core needs from outside, one trait per aggregate, plus the in-memory
//!   store and its conformance suite.
//! - [`model`]: the shared types, no I/O.
//! - [`error`]: the error types every layer shares.
//!
//! `edge` (Worker only) implements the ports on Cloudflare (D1, KV, WebCrypto, fetch) and
//! calls [`web`].

pub mod admin;
pub mod error;
pub mod model;
pub mod oauth;
pub mod port;
pub mod store;
pub mod web;

#[cfg(target_arch = "wasm32")]
mod edge;
