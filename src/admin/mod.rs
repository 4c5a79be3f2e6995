//! The management API, Auth0-shaped: bearer access tokens issued by this issuer for the
//! audience `<issuer>/api/v2/` (client_credentials, like any API), with scopes per operation.
//! Errors use Auth0's shape: `{"statusCode", "error", "message"}` ([`error`]); who may call
//! is checked in `auth`. One file per resource. The layer answers in its own terms
//! ([`Request`] in, [`Reply`] out); `web` carries them over HTTP.
//!
//! - `PUT /api/v2/rules/{id}` (`update:rules`): saves a claims rule after validating it.
//! - `POST /api/v2/claims/explain` (`read:claims`): runs the claims pipeline as a dry run and
//!   returns the claims each token would carry, with a trace. Nothing is signed or stored.

mod auth;
pub mod error;
mod explain;
mod rules;

pub use error::Reply;
pub use explain::explain;
pub use rules::put_rule;

/// Every management route: method, path (`{id}` a parameter) and the scope it needs. All of
/// them act on the whole tenant, so all need a machine client's token.
pub const ROUTES: [(&str, &str, &str); 2] = [
    ("PUT", "/api/v2/rules/{id}", "update:rules"),
    ("POST", EXPLAIN, "read:claims"),
];
/// Rules live under this prefix, by id.
pub const RULES: &str = "/api/v2/rules/";
/// The dry run of the claims pipeline.
pub const EXPLAIN: &str = "/api/v2/claims/explain";

/// A management request as the API needs it: the route's method and path, the
/// `Authorization` header and the body.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub authorization: Option<&'a str>,
    pub body: &'a [u8],
}
