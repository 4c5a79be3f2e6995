//! Token revocation (RFC 7009). Revoking a refresh token revokes its whole family. Access
//! tokens are self-contained JWTs that stay valid until they expire; presenting one answers
//! 200 like any token this endpoint does not hold (§2.2).

use super::token::client_error_response;
use crate::error::{ErrorCode, OAuthError};
use crate::oauth::client_auth::{authenticate, credentials};
use crate::oauth::issuer::Issuer;
use crate::oauth::token::refresh::hash_refresh_token;
use crate::port::crypto::Crypto;
use crate::port::{RefreshStore, Stores};
use crate::web::{HttpRequest, HttpResponse};

/// `POST /oauth/revoke`.
pub async fn revoke<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match revoke_token(issuer, req).await {
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
    let client = authenticate(
        issuer.stores.clients(),
        &credentials(req.header("authorization"), &params)?,
    )
    .await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // `token_type_hint` is only a hint (§2.1): refresh tokens are the only kind held here,
    // so every token is looked up as one whatever the hint says.
    let unavailable = |e: crate::error::StoreError| {
        // §2.2.1: the client must learn that the token may still be valid.
        OAuthError {
            log_detail: Some(e.to_string()),
            ..OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "revocation failed; try again",
            )
        }
    };
    let refresh = issuer.stores.refresh();
    let record = refresh
        .find_refresh(&hash_refresh_token(token))
        .await
        .map_err(unavailable)?;
    let Some(record) = record else {
        return Ok(());
    };
    if record.client_id != client.client.client_id {
        // §2.1: the token must belong to the requesting client.
        return Err(OAuthError::invalid_request(
            "the token was not issued to this client",
        ));
    }
    refresh
        .revoke_family(&record.family_id, issuer.clock.now())
        .await
        .map_err(unavailable)
}
