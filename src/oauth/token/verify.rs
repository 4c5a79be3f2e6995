//! Verification of our own access tokens where we are the resource server (/userinfo), per
//! RFC 9068 §4 and RFC 8725 §3.1: an algorithm we sign with (the key's own), explicit type,
//! key from our JWKS by `kid`,
//! then issuer and expiry; the audience is checked by the caller with [`require_audience`].

use super::jws::{canonical_es256, parse};
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::model::StoredKey;
use crate::port::crypto::{Alg, Crypto};
use crate::port::KeyStore;
use serde_json::{Map, Value};

/// Allowed clock skew for `nbf`, seconds.
const LEEWAY: u64 = 60;

fn invalid(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// Checks `token`'s signature, type, issuer and lifetime and returns its claims, or
/// `invalid_token`.
pub async fn verify_access_token<S: KeyStore, C: Crypto>(
    store: &S,
    crypto: &C,
    config: &Config,
    now: u64,
    token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let jws = parse(token).ok_or_else(|| invalid("the access token is malformed"))?;
    let h = &jws.header;
    // The algorithms this issuer signs access tokens with, and no other (RFC 8725 §3.1).
    let alg = h
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::parse)
        .ok_or_else(|| invalid("the access token's algorithm is not accepted"))?;
    // We never send a key or a key's location in a header, nor extensions a verifier must
    // understand: a token that does was not made here (RFC 8725 §3.10; `crit`, RFC 7515 §4.1.11).
    if ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"]
        .iter()
        .any(|name| h.contains_key(*name))
    {
        return Err(invalid(
            "the access token's header names a key or an extension",
        ));
    }
    if alg == Alg::ES256 && !canonical_es256(&jws.signature) {
        return Err(invalid("the access token's signature is invalid"));
    }
    let typ = h.get("typ").and_then(Value::as_str).unwrap_or("");
    if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(invalid("the token is not an access token"));
    }
    let kid = h.get("kid").and_then(Value::as_str).unwrap_or("");
    let ours = |k: &StoredKey| k.kid == kid && k.alg == alg.as_str();
    let mut keys = store.published_keys().await?;
    if !keys.iter().any(ours) {
        // Maybe a key published since the set was cached: read the store itself.
        keys = store.published_keys_now().await?;
    }
    let key = keys
        .iter()
        .find(|k| ours(k))
        .ok_or_else(|| invalid("the access token was not signed by a key of this issuer"))?;
    if !crypto
        .verify(
            alg,
            &key.kid,
            &key.public_jwk,
            jws.signing_input.as_bytes(),
            &jws.signature,
        )
        .await?
    {
        return Err(invalid("the access token's signature is invalid"));
    }
    let c = &jws.claims;
    if c.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
        return Err(invalid("the access token was issued by another issuer"));
    }
    let exp = c.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if exp <= now {
        return Err(invalid("the access token expired"));
    }
    if c.get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|nbf| nbf > now + LEEWAY)
    {
        return Err(invalid("the access token is not yet valid"));
    }
    Ok(jws.claims)
}

/// `invalid_token` unless the token's `aud` is or contains `required`.
pub fn require_audience(claims: &Map<String, Value>, required: &str) -> Result<(), OAuthError> {
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == required,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(required)),
        _ => false,
    };
    if !aud_ok {
        return Err(invalid("the access token is not meant for this endpoint"));
    }
    Ok(())
}
