//! Edge Issuer: an OAuth 2.0 / OpenID Connect token issuer for Cloudflare Workers.
//!
//! Layers, each importing only the ones below it (a test, `tests/layers.rs`, holds them to it):
//!
//! - [`web`]: HTTP requests and responses, the route table, the endpoints.
//! - [`admin`]: the management API, with its own route table.
//! - [`oauth`]: the protocol core: grants (check, then commit), tokens, keys, claims pipeline,
//!   client authentication. No HTTP types.
//! - [`store`]: every storage port written once, in SQL, over the SQL port; the native SQLite
//!   backend.
//! - [`port`]: what the core needs from outside, one trait per aggregate, plus the conformance
//!   suite every storage backend passes.
//! - [`model`]: the shared types, no I/O.
//! - [`error`]: the error types every layer shares.
//!
//! `edge` (Worker only) backs the SQL port with D1, caches some ports in isolate memory and KV,
//! implements the platform ports on Cloudflare (WebCrypto, fetch) and calls [`web`].

pub mod admin;
pub mod error;
pub mod model;
pub mod oauth;
pub mod port;
pub mod store;
pub mod web;

#[cfg(target_arch = "wasm32")]
mod edge;
