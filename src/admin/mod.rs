//! The management API, Auth0-shaped (Management API v2): bearer access tokens issued by this
//! issuer for the audience `<issuer>/api/v2/`, with scopes per operation (`auth`). Errors use
//! Auth0's shape `{"statusCode", "error", "message", "errorCode"}` (`error`); the route table
//! is in `routes`; `list` is what every list shares (query string, paging, fields); one
//! module per resource. The layer answers in its own terms ([`Request`] in, [`Reply`] out);
//! `web` carries them over HTTP.

mod auth;
mod check;
mod client_grants;
mod clients;
pub mod error;
mod explain;
mod hooks;
pub mod list;
mod logs;
mod organizations;
mod resource_servers;
mod roles;
mod routes;
mod rules;
mod users;

pub use auth::Caller;
pub use error::Reply;
pub use routes::{handle, Op, Route, ROUTES};

/// Every path under this prefix is the management API's.
pub const PREFIX: &str = "/api/v2/";

/// A management request as the API needs it: the method, the path and query string, the
/// `Authorization` header and the body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}
