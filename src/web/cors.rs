//! CORS (Fetch standard) for browser code. Discovery and the JWKS are public documents and
//! answer any origin (`*`). The token, userinfo and revocation endpoints, and the management
//! API's self-service routes (a user's own profile), answer the origins some client registered
//! as a web origin, preflight included. Never with credentials (no cookie crosses origins; a
//! bearer token does). Any other origin gets no CORS headers, so the browser keeps the
//! response from the page.

use super::{HttpRequest, HttpResponse};
use crate::model::config::paths::*;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClientStore, Stores};

/// The methods browser code may use across origins on `path`, if it may call it at all
/// (the OAuth endpoints; the management API's self-service routes say theirs themselves).
pub fn methods(path: &str) -> Option<String> {
    let methods = match path {
        TOKEN | REVOKE | DB_SIGNUP | DB_CHANGE_PASSWORD | PASSWORDLESS_START => "POST",
        MFA_ASSOCIATE | MFA_CHALLENGE => "POST",
        MFA_AUTHENTICATORS => "GET",
        USERINFO => "GET, POST",
        OPENID_CONFIGURATION | OAUTH_METADATA | JWKS => "GET",
        _ => return None,
    };
    Some(methods.to_string())
}

/// Headers a browser may send: Auth0's SDKs add `auth0-client` (telemetry).
const ALLOW_HEADERS: &str = "authorization, content-type, auth0-client";

/// Whether `path` is a public document any origin may read (no storage read decides it).
fn public(path: &str) -> bool {
    matches!(path, OPENID_CONFIGURATION | OAUTH_METADATA | JWKS)
}

/// The `Access-Control-Allow-Origin` for the request: `*` for a public document, else the
/// request's `Origin` when it is registered; `None` without one or for any other origin.
pub async fn allowed_origin<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Option<String> {
    if public(&req.path) {
        return Some("*".to_string());
    }
    let origin = req.header("origin")?;
    match issuer
        .stores
        .clients()
        .web_origin_registered(origin)
        .settle()
        .await
    {
        Ok(true) => Some(origin.to_string()),
        Ok(false) => None,
        Err(e) => {
            // No CORS headers: the browser refuses, the issuer goes on.
            issuer.log_error(&e.into());
            None
        }
    }
}

/// Adds the CORS headers for `origin`, if allowed. `Vary: Origin` always, so a cache never
/// serves one origin's answer to another.
pub fn decorate(resp: HttpResponse, origin: Option<&str>) -> HttpResponse {
    let resp = resp.with_header("vary", "Origin");
    match origin {
        Some(origin) => resp.with_header("access-control-allow-origin", origin),
        None => resp,
    }
}

/// The answer to a preflight `OPTIONS` for a path that allows `methods`.
pub fn preflight(origin: Option<&str>, methods: &str) -> HttpResponse {
    let resp = decorate(HttpResponse::empty(204), origin);
    match origin {
        Some(_) => resp
            .with_header("access-control-allow-methods", methods)
            .with_header("access-control-allow-headers", ALLOW_HEADERS)
            .with_header("access-control-max-age", "86400"),
        None => resp,
    }
}
