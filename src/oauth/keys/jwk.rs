//! Keys as JWKs: generation, RFC 7638 thumbprints (the key ids), and the JWK Set document.

use super::sealing::Kek;
use crate::error::OAuthError;
use crate::model::{KeyState, StoredKey};
use crate::port::crypto::{Alg, Crypto, PublicKey};
use crate::port::random::Random;
use crate::port::settled::Settle;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

/// RFC 7638 thumbprint of a P-256 public key given its base64url coordinates.
pub fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// RFC 7638 thumbprint of an RSA public key given its base64url modulus and exponent.
pub fn thumbprint_rsa(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Generates a new key for `alg` (through the crypto port: WebCrypto on the Worker) and
/// returns it ready to store, its private half sealed under the KEK and its `kid` the RFC 7638
/// thumbprint of its public half.
pub async fn generate<C: Crypto>(
    crypto: &C,
    alg: Alg,
    rng: &dyn Random,
    kek: &Kek,
    now: u64,
) -> Result<StoredKey, OAuthError> {
    let generated = crypto.generate_key(alg).settle().await?;
    let (kid, public_jwk) = match (&generated.public, alg) {
        (PublicKey::Ec { x, y }, Alg::ES256) => {
            let kid = thumbprint(x, y);
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "x": x, "y": y,
                "kid": kid, "alg": "ES256", "use": "sig",
            });
            (kid, jwk)
        }
        (PublicKey::Rsa { n, e }, Alg::RS256) => {
            let kid = thumbprint_rsa(n, e);
            let jwk = json!({
                "kty": "RSA", "n": n, "e": e,
                "kid": kid, "alg": "RS256", "use": "sig",
            });
            (kid, jwk)
        }
        _ => return Err(OAuthError::server("generated a key of another type")),
    };
    Ok(StoredKey {
        private_key_enc: kek.seal(rng, &kid, generated.pkcs8.expose())?,
        kid,
        alg: alg.as_str().into(),
        public_jwk: public_jwk.to_string(),
        created_at: now,
        state: KeyState::Next,
        current_since: None,
        current_until: None,
        revoked_at: None,
        promotion: None,
    })
}

/// The JWK Set document (RFC 7517 §5) of the published keys.
pub fn jwks(keys: &[StoredKey]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .filter_map(|k| crate::model::strict_json::parse(k.public_jwk.as_bytes()).ok())
        .collect();
    json!({ "keys": keys })
}
