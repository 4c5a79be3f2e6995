//! Token revocation (RFC 7009) over HTTP; what it does is [`crate::oauth::revocation`]'s.

use super::token::client_error_response;
use crate::error::OAuthError;
use crate::oauth::issuer::Issuer;
use crate::oauth::revocation;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /oauth/revoke`.
pub async fn revoke<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match revoke_token(issuer, req).settle().await {
        Ok(()) => HttpResponse::empty(200),
        Err(e) => client_error_response(issuer, &e),
    };
    resp.no_store()
}

async fn revoke_token<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<(), OAuthError> {
    let params = req.body_params()?;
    let authorization = req.header("authorization");
    revocation::revoke(issuer.stores, issuer.clock.now(), authorization, &params)
        .settle()
        .await
}
