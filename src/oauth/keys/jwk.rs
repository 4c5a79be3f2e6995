//! Keys as JWKs: generation, RFC 7638 thumbprints (the key ids), and the JWK Set document.

use super::sealing::Kek;
use crate::error::OAuthError;
use crate::model::{KeyState, StoredKey};
use crate::port::crypto::{Alg, Crypto};
use crate::port::random::Random;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::pkcs8::EncodePrivateKey;
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

/// Generates a new key for `alg`, ready to store (private half sealed).
pub async fn generate<C: Crypto>(
    crypto: &C,
    alg: Alg,
    rng: &dyn Random,
    kek: &Kek,
    now: u64,
) -> Result<StoredKey, OAuthError> {
    match alg {
        Alg::ES256 => generate_es256(rng, kek, now),
        Alg::RS256 => {
            let generated = crypto.generate_rs256().await?;
            let kid = thumbprint_rsa(&generated.n, &generated.e);
            let public_jwk = json!({
                "kty": "RSA", "n": generated.n, "e": generated.e,
                "kid": kid, "alg": "RS256", "use": "sig",
            });
            Ok(StoredKey {
                private_key_enc: kek.seal(rng, &kid, generated.pkcs8.expose())?,
                kid,
                alg: "RS256".into(),
                public_jwk: public_jwk.to_string(),
                created_at: now,
                state: KeyState::Active,
            })
        }
    }
}

/// Generates a new ES256 key and returns it ready to store (private half sealed).
pub fn generate_es256(rng: &dyn Random, kek: &Kek, now: u64) -> Result<StoredKey, OAuthError> {
    let secret = loop {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes)?;
        // Out-of-range scalars (probability ~2^-32) are simply drawn again.
        if let Ok(sk) = p256::SecretKey::from_slice(&bytes) {
            break sk;
        }
    };
    let point =
        p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&secret.public_key(), false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(OAuthError::server("public key has no coordinates"));
    };
    let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
    let kid = thumbprint(&x, &y);
    let public_jwk = json!({
        "kty": "EC", "crv": "P-256", "x": x, "y": y,
        "kid": kid, "alg": "ES256", "use": "sig",
    });
    let der = secret
        .to_pkcs8_der()
        .map_err(|e| OAuthError::server(format!("pkcs8 encode: {e}")))?;
    let private_key_enc = kek.seal(rng, &kid, der.as_bytes())?;
    Ok(StoredKey {
        kid,
        alg: "ES256".to_string(),
        public_jwk: public_jwk.to_string(),
        private_key_enc,
        created_at: now,
        state: KeyState::Active,
    })
}

/// The JWK Set document (RFC 7517 §5) of the published keys.
pub fn jwks(keys: &[StoredKey]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    json!({ "keys": keys })
}
