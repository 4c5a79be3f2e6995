//! Verification of our own tokens: access tokens where we are the resource server (/userinfo,
//! the management API), per RFC 9068 §4 and RFC 8725 §3.1: an algorithm we sign with (the
//! key's own), explicit type, key from our JWKS by `kid`, then issuer and expiry (the audience
//! is checked by the caller with [`require_audience`]); and ID tokens sent back as hints.

use super::jws::{canonical_es256, parse};
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::model::StoredKey;
use crate::port::crypto::{Alg, Crypto};
use crate::port::settled::Settle;
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
    let (header, claims) = verify_ours(store, crypto, config, token, "access token")
        .settle()
        .await?;
    let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
    if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("application/at+jwt") {
        return Err(invalid("the token is not an access token"));
    }
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    if exp <= now {
        return Err(invalid("the access token expired"));
    }
    if claims
        .get("nbf")
        .and_then(Value::as_u64)
        .is_some_and(|nbf| nbf > now + LEEWAY)
    {
        return Err(invalid("the access token is not yet valid"));
    }
    Ok(claims)
}

/// Checks an `id_token_hint` (RP-Initiated Logout 1.0 §2, OIDC Core §3.1.2.1): an ID token
/// this issuer signed, with our `iss`, a `sub` and an `aud`; expired hints are accepted, as
/// §2 asks. Returns its claims, or `invalid_token`.
pub async fn verify_id_token_hint<S: KeyStore, C: Crypto>(
    store: &S,
    crypto: &C,
    config: &Config,
    token: &str,
) -> Result<Map<String, Value>, OAuthError> {
    let (header, claims) = verify_ours(store, crypto, config, token, "ID token")
        .settle()
        .await?;
    // Our ID tokens carry no `typ`; an access token (at+jwt) is no ID token.
    if header
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
    {
        return Err(invalid("the token is not an ID token"));
    }
    if claims.get("sub").and_then(Value::as_str).is_none() || claims.get("aud").is_none() {
        return Err(invalid("the ID token has no sub or aud"));
    }
    Ok(claims)
}

/// What every token of ours passes: an algorithm we sign with (the key's own, RFC 8725
/// §3.1), no key or extension in the header, a low-S ES256 signature, a published key of
/// ours by `kid`, a valid signature and our `iss`. Returns the header and the claims.
async fn verify_ours<S: KeyStore, C: Crypto>(
    store: &S,
    crypto: &C,
    config: &Config,
    token: &str,
    kind: &str,
) -> Result<(Map<String, Value>, Map<String, Value>), OAuthError> {
    let fail = |what: &str| invalid(&format!("the {kind} {what}"));
    let jws = parse(token).ok_or_else(|| fail("is malformed"))?;
    let h = &jws.header;
    let alg = h
        .get("alg")
        .and_then(Value::as_str)
        .and_then(Alg::parse)
        .ok_or_else(|| fail("has an algorithm that is not accepted"))?;
    // We never send a key or a key's location in a header, nor extensions a verifier must
    // understand: a token that does was not made here (RFC 8725 §3.10; `crit`, RFC 7515 §4.1.11).
    if ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "crit"]
        .iter()
        .any(|name| h.contains_key(*name))
    {
        return Err(fail("names a key or an extension in its header"));
    }
    if alg == Alg::ES256 && !canonical_es256(&jws.signature) {
        return Err(fail("has an invalid signature"));
    }
    let kid = h.get("kid").and_then(Value::as_str).unwrap_or("");
    let ours = |k: &StoredKey| k.kid == kid && k.alg == alg.as_str();
    let mut keys = store.published_keys().settle().await?;
    if !keys.iter().any(ours) {
        // Maybe a key published since the set was cached: read the store itself.
        keys = store.published_keys_now().settle().await?;
    }
    let key = keys
        .iter()
        .find(|k| ours(k))
        .ok_or_else(|| fail("was not signed by a key of this issuer"))?;
    let signed = crypto
        .verify(
            alg,
            &key.kid,
            &key.public_jwk,
            jws.signing_input.as_bytes(),
            &jws.signature,
        )
        .settle()
        .await?;
    if !signed {
        return Err(fail("has an invalid signature"));
    }
    if jws.claims.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
        return Err(fail("was issued by another issuer"));
    }
    Ok((jws.header, jws.claims))
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
