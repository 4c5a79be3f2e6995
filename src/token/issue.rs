//! From a validated [`Issuance`] to the token response (RFC 6749 §5.1): access token, ID token
//! when `openid` was granted to a user, refresh token when the plan says so.

use super::access::mint_access_token;
use super::id_token::mint_id_token;
use super::refresh::issue_refresh_token;
use super::Issuance;
use crate::crypto::{Alg, Crypto};
use crate::error::OAuthError;
use crate::issuer::Issuer;
use crate::store::Store;
use serde_json::{json, Value};

/// Mints and stores everything the issuance grants and returns the response body.
pub async fn issue<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    issuance: &Issuance,
) -> Result<Value, OAuthError> {
    let now = issuer.clock.now();
    let keys = issuer.keys()?;
    let at_key = keys.signing_key(Alg::ES256).await?;
    let access = mint_access_token(
        issuer.crypto,
        &at_key,
        issuer.random,
        issuer.config,
        now,
        issuance,
    )
    .await?;

    let mut body = json!({
        "access_token": access.jwt,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "scope": issuance.scope.to_wire(),
    });
    if issuance.user.is_some() && issuance.has_scope("openid") {
        let alg = Alg::parse(&issuance.client.id_token_signed_response_alg).unwrap_or(Alg::ES256);
        let id_key = keys.signing_key(alg).await?;
        let id_token = mint_id_token(
            issuer.crypto,
            &id_key,
            issuer.config,
            now,
            issuance,
            &access.jwt,
        )
        .await?;
        if let Some(id_token) = id_token {
            body["id_token"] = Value::String(id_token);
        }
    }
    if let Some(refresh) = issue_refresh_token(issuer.store, issuer.random, now, issuance).await? {
        body["refresh_token"] = Value::String(refresh);
    }
    Ok(body)
}
