//! Token revocation (RFC 7009). Revoking a refresh token revokes its whole family. Access
//! tokens are self-contained JWTs that stay valid until they expire; presenting one answers
//! 200 like any token this endpoint does not hold (§2.2).

use super::client_auth::{authenticate, credentials};
use super::params::Params;
use super::token::refresh::hash_refresh_token;
use crate::error::{ErrorCode, OAuthError, StoreError};
use crate::port::settled::Settle;
use crate::port::{HasClients, HasRefresh, RefreshStore};

/// Authenticates the client (`authorization` is its `Authorization` header, if any) and
/// revokes the family of the refresh token `token`, if the client holds it.
pub async fn revoke<P: HasClients + HasRefresh>(
    ports: &P,
    now: u64,
    authorization: Option<&str>,
    params: &Params,
) -> Result<(), OAuthError> {
    let client = authenticate(ports.clients(), &credentials(authorization, params)?)
        .settle()
        .await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // `token_type_hint` is only a hint (§2.1): refresh tokens are the only kind held here,
    // so every token is looked up as one whatever the hint says.
    let unavailable = |e: StoreError| {
        // §2.2.1: the client must learn that the token may still be valid.
        OAuthError {
            log_detail: Some(e.to_string()),
            ..OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "revocation failed; try again",
            )
        }
    };
    let refresh = ports.refresh();
    let record = refresh
        .find_refresh(&hash_refresh_token(token))
        .settle()
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
        .revoke_family(&record.family_id, now)
        .settle()
        .await
        .map_err(unavailable)
}
