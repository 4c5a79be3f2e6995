//! The route table: (method, path) → endpoint, on one screen.

use super::{HttpRequest, HttpResponse};
use crate::endpoint::{discovery, jwks, paths, token};
use crate::error::OAuthError;
use crate::issuer::Issuer;
use crate::store::{ClientStore, KeyStore};
use crate::token::Signer;

/// Answers one request.
pub async fn handle<S: ClientStore + KeyStore, G: Signer>(
    issuer: &Issuer<'_, S, G>,
    req: &HttpRequest,
) -> HttpResponse {
    let method = req.method.as_str();
    match (method, req.path.as_str()) {
        ("GET", paths::OPENID_CONFIGURATION | paths::OAUTH_METADATA) => {
            discovery::discovery(issuer.config)
        }
        ("GET", paths::JWKS) => jwks::jwks(issuer, req).await.unwrap_or_else(|e| {
            issuer.log_error(&e);
            HttpResponse::error(&e)
        }),
        ("POST", paths::TOKEN) => token::token(issuer, req).await,
        (_, paths::OPENID_CONFIGURATION | paths::OAUTH_METADATA | paths::JWKS) => {
            method_not_allowed("GET")
        }
        (_, paths::TOKEN) => method_not_allowed("POST").no_store(),
        _ => HttpResponse::json(404, &serde_json::json!({ "error": "not_found" })),
    }
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    HttpResponse::error(
        &OAuthError::invalid_request(format!("method not allowed; use {allow}")).with_status(405),
    )
    .with_header("allow", allow)
}
