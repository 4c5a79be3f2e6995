//! OIDC Core ID tokens (§2), with `at_hash` (§3.1.3.6) and the standard claims of the scope.

use super::jws::sign_compact;
use crate::error::OAuthError;
use crate::model::config::Config;
use crate::model::{merge_custom, Issuance};
use crate::oauth::claims::standard_claims;
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::settled::Settle;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// ID-token lifetime (Auth0's default, 10 hours).
pub const ID_TOKEN_LIFETIME: u64 = 36_000;

/// OIDC Core §3.1.3.6 (`at_hash`) and §3.3.2.11 (`c_hash`, the same over the code): base64url
/// of the left half of the hash of the token's ASCII. ES256 and RS256 both use SHA-256.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The claims of the ID token of a user issuance: `iss sub aud azp iat exp auth_time`,
/// `amr` when it is known,
/// `at_hash` when there is an access token, `nonce`, the scope's standard claims, the
/// organization and the pipeline's custom claims. `None` without a user or `openid`.
pub fn id_claims(
    config: &Config,
    now: u64,
    issuance: &Issuance,
    access_token: Option<&str>,
) -> Option<Value> {
    let user = issuance
        .user
        .as_ref()
        .filter(|_| issuance.has_scope("openid"))?;
    let mut claims = standard_claims(user, &issuance.scope);
    let client_id = &issuance.client.client_id;
    if let Value::Object(base) = json!({
        "iss": config.issuer,
        "sub": user.user_id,
        "aud": client_id,
        "azp": client_id,
        "iat": now,
        "exp": now + ID_TOKEN_LIFETIME,
        "auth_time": issuance.auth_time.unwrap_or(now),
    }) {
        claims.extend(base);
    }
    if let Some(token) = access_token {
        claims.insert("at_hash".into(), Value::String(at_hash(token)));
    }
    if let Some(nonce) = &issuance.nonce {
        claims.insert("nonce".into(), Value::String(nonce.clone()));
    }
    // RFC 8176: how the user authenticated, as kept with the session, code or refresh token.
    if let Some(a) = issuance
        .authenticated
        .as_ref()
        .filter(|a| !a.methods.is_empty())
    {
        claims.insert("amr".into(), json!(a.methods));
    }
    // What an upstream provider reported; never a class this issuer would have to meet.
    if let Some(acr) = issuance.authenticated.as_ref().and_then(|a| a.acr.as_ref()) {
        claims.insert("acr".into(), Value::String(acr.clone()));
    }
    if let Some(sid) = &issuance.session_id {
        claims.insert("sid".into(), Value::String(sid.clone()));
    }
    claims.extend(issuance.org_claims());
    merge_custom(&mut claims, &issuance.custom.id_token);
    Some(Value::Object(claims))
}

/// The algorithm of the client's ID tokens: RS256 unless it asked for ES256.
pub fn id_token_alg(issuance: &Issuance) -> Alg {
    Alg::parse(&issuance.client.id_token_signed_response_alg).unwrap_or(Alg::RS256)
}

/// Signs the ID token of a user issuance; `None` when [`id_claims`] gives none.
pub async fn mint_id_token<C: Crypto>(
    crypto: &C,
    key: &SigningKey,
    config: &Config,
    now: u64,
    issuance: &Issuance,
    access_token: &str,
) -> Result<Option<String>, OAuthError> {
    match id_claims(config, now, issuance, Some(access_token)) {
        Some(claims) => Ok(Some(
            sign_compact(crypto, key, None, &claims).settle().await?,
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_sha256() {
        // OIDC Core §A.3 example: access token "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        // has at_hash "77QmUPtjPfzWtF2AnpK9RQ".
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
