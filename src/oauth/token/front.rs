//! Tokens in the authorization response (OIDC Core §3.2.2.5 implicit, §3.3.2.5 hybrid): an
//! access token for `token`, an ID token for `id_token` with `nonce`, `at_hash` when an access
//! token travels with it and `c_hash` when a code does (§3.3.2.11). Signing only: nothing is
//! stored for them (no refresh token is ever sent through the browser).

use super::access::{access_alg, mint_access_token};
use super::id_token::{at_hash, id_claims, id_token_alg};
use super::jws::sign_compact;
use crate::error::OAuthError;
use crate::model::Issuance;
use crate::oauth::facts::Facts;
use crate::oauth::keys::KeyRing;
use crate::oauth::response_type::ResponseType;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::KeyStore;
use serde_json::Value;

/// The response's token parameters for `response_type` (none for `code` alone), in the
/// order they are sent: `access_token token_type expires_in scope`, then `id_token`.
pub async fn front_channel<K: KeyStore, C: Crypto>(
    keys: &KeyRing<'_, K, C>,
    facts: &Facts<'_>,
    issuance: &Issuance,
    response_type: ResponseType,
    code: Option<&str>,
) -> Result<Vec<(String, String)>, OAuthError> {
    let (crypto, config, now) = (keys.crypto, facts.config, facts.now);
    let mut out = Vec::new();
    let mut access_token = None;
    if response_type.token {
        let key = keys.signing_key(access_alg(issuance)).settle().await?;
        let minted = mint_access_token(crypto, &key, keys.rng, config, now, issuance)
            .settle()
            .await?;
        out.push(("access_token".to_string(), minted.jwt.clone()));
        out.push(("token_type".into(), "Bearer".into()));
        out.push(("expires_in".into(), minted.expires_in.to_string()));
        out.push(("scope".into(), issuance.scope.to_wire()));
        access_token = Some(minted.jwt);
    }
    if response_type.id_token {
        let Some(mut claims) = id_claims(config, now, issuance, access_token.as_deref()) else {
            return Err(OAuthError::invalid_request(
                "an ID token needs the openid scope and a user",
            ));
        };
        if let (Some(code), Value::Object(map)) = (code, &mut claims) {
            map.insert("c_hash".into(), Value::String(at_hash(code)));
        }
        let key = keys.signing_key(id_token_alg(issuance)).settle().await?;
        out.push((
            "id_token".into(),
            sign_compact(crypto, &key, None, &claims).settle().await?,
        ));
    }
    Ok(out)
}
