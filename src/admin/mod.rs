//! The management API, Auth0-shaped (Management API v2): bearer access tokens issued by this
//! issuer for the audience `<issuer>/api/v2/`, with scopes per operation (`auth`). Errors use
//! Auth0's shape `{"statusCode", "error", "message", "errorCode"}` (`error`); the route table
//! is in `routes`; `list` is what every list shares (query string, paging, fields); one
//! module per resource. The layer answers in its own terms ([`Request`] in, [`Reply`] out);
//! `web` carries them over HTTP.

/// The value of a `Result<T, Reply>`, or the reply returned from the handler.
macro_rules! attempt {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(reply) => return reply,
        }
    };
}

mod auth;
mod call;
mod check;
mod client_grants;
mod clients;
mod connections;
mod emails;
pub mod error;
mod explain;
mod guardian;
mod hooks;
mod jobs;
mod keys;
pub mod list;
mod logs;
mod multipart;
mod organizations;
mod resource_servers;
mod roles;
mod routes;
mod rules;
mod users;

pub use call::{Caller, Op, Route};
pub use error::Reply;
pub use routes::{browser_methods, handle, ROUTES};

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
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The largest body a request to `path` may carry: the user import takes a file, every
/// other request [`crate::oauth::params::MAX_BODY_BYTES`].
pub fn max_body_bytes(path: &str) -> usize {
    if path == IMPORT_PATH {
        jobs::MAX_IMPORT_BYTES
    } else {
        crate::oauth::params::MAX_BODY_BYTES
    }
}

/// Where user import files are posted.
pub const IMPORT_PATH: &str = "/api/v2/jobs/users-imports";
