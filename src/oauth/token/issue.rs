//! From a validated [`Issuance`] to the token response (RFC 6749 §5.1): access token, ID token
//! when `openid` was granted to a user, refresh token when the plan says so. Signing only:
//! nothing is stored here; the grant's commit stores the refresh token.

use super::access::{access_alg, mint_access_token};
use super::id_token::{id_token_alg, mint_id_token};
use super::refresh::new_refresh_token;
use crate::error::OAuthError;
use crate::model::Issuance;
use crate::model::{IssuedAccess, RefreshRecord};
use crate::oauth::facts::Facts;
use crate::oauth::keys::KeyRing;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::KeyStore;
use serde_json::{json, Value};

/// The signed response, and the refresh token's record for the commit to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Minted {
    /// The token response body (RFC 6749 §5.1).
    pub body: Value,
    /// The record of the refresh token in `body`, if any.
    pub refresh: Option<RefreshRecord>,
    /// The access token in `body`.
    pub access: IssuedAccess,
}

/// Signs everything the issuance grants; stores nothing.
pub async fn issue<K: KeyStore, C: Crypto>(
    keys: &KeyRing<'_, K, C>,
    facts: &Facts<'_>,
    issuance: &Issuance,
) -> Result<Minted, OAuthError> {
    let (crypto, random, config, now) = (keys.crypto, keys.rng, facts.config, facts.now);
    let at_key = keys.signing_key(access_alg(issuance)).settle().await?;
    let access = mint_access_token(crypto, &at_key, random, config, now, issuance)
        .settle()
        .await?;

    let mut body = json!({
        "access_token": access.jwt,
        "token_type": "Bearer",
        "expires_in": access.expires_in,
        "scope": issuance.scope.to_wire(),
    });
    if issuance.user.is_some() && issuance.has_scope("openid") {
        let id_key = keys.signing_key(id_token_alg(issuance)).settle().await?;
        let id_token = mint_id_token(crypto, &id_key, config, now, issuance, &access.jwt)
            .settle()
            .await?;
        if let Some(id_token) = id_token {
            body["id_token"] = Value::String(id_token);
        }
    }
    let issued = IssuedAccess {
        jti: access.jti,
        expires_at: now + access.expires_in,
    };
    let refresh = match new_refresh_token(random, now, issuance)? {
        Some((token, record)) => {
            body["refresh_token"] = Value::String(token);
            // Revoking the family revokes this access token too.
            Some(RefreshRecord {
                access_jti: Some(issued.jti.clone()),
                access_expires_at: Some(issued.expires_at),
                ..record
            })
        }
        None => None,
    };
    Ok(Minted {
        body,
        refresh,
        access: issued,
    })
}
