//! Token introspection (RFC 7662) and the revoked-token list for gateways, over HTTP; what
//! they answer is [`crate::oauth::introspection`]'s and the refresh store's.

use super::jwks::cacheable;
use super::token::client_error_response;
use crate::error::OAuthError;
use crate::oauth::introspection;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RefreshStore, Stores};
use crate::web::{HttpRequest, HttpResponse};
use serde_json::json;

/// How long a gateway may keep the revoked list before asking again: the longest a revoked
/// access token is still accepted by a gateway that follows `Cache-Control`.
pub const REVOKED_MAX_AGE: u64 = 60;

/// `POST /oauth/introspect`.
pub async fn introspect<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let answer = async {
        let params = req.body_params()?;
        introspection::introspect(
            issuer.stores,
            issuer.crypto,
            issuer.config,
            issuer.clock.now(),
            req.header("authorization"),
            &params,
        )
        .settle()
        .await
    };
    let resp = match answer.settle().await {
        Ok(body) => HttpResponse::json(200, &body),
        Err(e) => client_error_response(issuer, &e),
    };
    resp.no_store()
}

/// `GET /.well-known/revoked-jtis`: the access tokens revoked before their expiry, each with
/// its `exp` (a gateway may forget an entry once it has passed), with an ETag and a short
/// max-age.
pub async fn revoked_jtis<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let now = issuer.clock.now();
    let revoked = issuer
        .stores
        .refresh()
        .revoked_access_tokens(now)
        .settle()
        .await?;
    let list: Vec<_> = revoked
        .iter()
        .map(|r| json!({ "jti": r.jti, "exp": r.expires_at }))
        .collect();
    let body = json!({ "issuer": issuer.config.issuer, "revoked": list });
    Ok(cacheable(req, body.to_string(), REVOKED_MAX_AGE))
}
