//! Signing keys: generation, RFC 7638 thumbprints, public JWKs, and encryption of the
//! private half (AES-256-GCM under the key-encryption key) for storage.

use crate::error::OAuthError;
use crate::model::secret::Secret;
use crate::model::StoredKey;
use crate::port::clock::Clock;
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::random::Random;
use crate::port::KeyStore;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::pkcs8::EncodePrivateKey;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// How long an isolate keeps the active key before reading the store again.
pub const KEY_CACHE_SECONDS: u64 = 300;

/// The key-encryption key: 32 bytes from the `KEY_ENCRYPTION_KEY` secret.
#[derive(Clone)]
pub struct Kek(Secret<[u8; 32]>);

impl Kek {
    /// Parses base64 (standard or url-safe, padding optional) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, OAuthError> {
        let t = text.trim().trim_end_matches('=');
        let bytes = URL_SAFE_NO_PAD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .map_err(|_| OAuthError::server("KEY_ENCRYPTION_KEY is not base64"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| OAuthError::server("KEY_ENCRYPTION_KEY must be 32 bytes"))?;
        Ok(Self(Secret::new(arr)))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.expose().into())
    }

    /// Encrypts `plain`, binding it to `kid` as associated data: `v1.<nonce>.<ciphertext>`.
    pub fn seal(&self, rng: &dyn Random, kid: &str, plain: &[u8]) -> Result<String, OAuthError> {
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce)?;
        let ct = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| OAuthError::server("aes-gcm seal failed"))?;
        Ok(format!(
            "v1.{}.{}",
            STANDARD.encode(nonce),
            STANDARD.encode(ct)
        ))
    }

    /// Decrypts what [`Kek::seal`] produced for the same `kid`.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, OAuthError> {
        let bad = || OAuthError::server(format!("signing key {kid} cannot be decrypted"));
        let mut parts = sealed.split('.');
        let (Some("v1"), Some(nonce), Some(ct), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let nonce = STANDARD.decode(nonce).map_err(|_| bad())?;
        let ct = STANDARD.decode(ct).map_err(|_| bad())?;
        if nonce.len() != 12 {
            return Err(bad());
        }
        self.cipher()
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| bad())
    }
}

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
    })
}

/// The active keys kept per isolate so the hot path neither reads storage nor decrypts.
#[derive(Debug, Default)]
pub struct KeyCache(RefCell<Vec<(u64, SigningKey)>>);

impl KeyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn get(&self, alg: Alg, now: u64) -> Option<SigningKey> {
        let entries = self.0.borrow();
        entries
            .iter()
            .find(|(expires, k)| k.alg == alg && now < *expires)
            .map(|(_, k)| k.clone())
    }

    fn put(&self, expires: u64, key: SigningKey) {
        let mut entries = self.0.borrow_mut();
        entries.retain(|(_, k)| k.alg != key.alg);
        entries.push((expires, key));
    }
}

/// Everything key management needs, lent by the issuer.
pub struct KeyRing<'a, S, C> {
    pub store: &'a S,
    pub crypto: &'a C,
    pub kek: &'a Kek,
    pub rng: &'a dyn Random,
    pub clock: &'a dyn Clock,
    pub cache: &'a KeyCache,
}

impl<S: KeyStore, C: Crypto> KeyRing<'_, S, C> {
    /// The key to sign with now for `alg`: cached, else read from the store, else generated
    /// and stored.
    pub async fn signing_key(&self, alg: Alg) -> Result<SigningKey, OAuthError> {
        let now = self.clock.now();
        if let Some(key) = self.cache.get(alg, now) {
            return Ok(key);
        }
        let stored = self.ensure_active(alg).await?;
        let key = SigningKey {
            pkcs8: Secret::new(self.kek.open(&stored.kid, &stored.private_key_enc)?),
            kid: stored.kid,
            alg,
        };
        self.cache.put(now + KEY_CACHE_SECONDS, key.clone());
        Ok(key)
    }

    /// The stored active key for `alg`, generating one when none exists yet.
    ///
    /// Two isolates generating at once is safe: the store keeps the first active key
    /// ([`KeyStore::insert_key_if_none_active`]) and the loser reads and uses it.
    pub async fn ensure_active(&self, alg: Alg) -> Result<StoredKey, OAuthError> {
        if let Some(k) = self.store.active_key(alg.as_str()).await? {
            return Ok(k);
        }
        let fresh = generate(self.crypto, alg, self.rng, self.kek, self.clock.now()).await?;
        self.store.insert_key_if_none_active(&fresh).await?;
        self.store
            .active_key(alg.as_str())
            .await?
            .ok_or_else(|| OAuthError::server("no active key after insert"))
    }
}

/// The JWK Set document (RFC 7517 §5) of the published keys.
pub fn jwks(keys: &[StoredKey]) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    json!({ "keys": keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::native_crypto::NativeCrypto;
    use crate::port::random::OsRandom;
    use pollster::block_on;

    #[test]
    fn es256_signature_verifies_against_the_published_jwk() {
        let kek = Kek::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let stored = generate_es256(&OsRandom, &kek, 1).unwrap();
        let key = SigningKey {
            kid: stored.kid.clone(),
            alg: Alg::ES256,
            pkcs8: Secret::new(kek.open(&stored.kid, &stored.private_key_enc).unwrap()),
        };
        let sig = block_on(NativeCrypto.sign(&key, b"input")).unwrap();
        let ok =
            block_on(NativeCrypto.verify_es256(&stored.kid, &stored.public_jwk, b"input", &sig));
        assert_eq!(ok, Ok(true));
        let bad =
            block_on(NativeCrypto.verify_es256(&stored.kid, &stored.public_jwk, b"other", &sig));
        assert_eq!(bad, Ok(false));
    }

    fn kek() -> Kek {
        Kek::from_base64(&STANDARD.encode([7u8; 32])).unwrap()
    }

    #[test]
    fn thumbprint_matches_rfc7638_example_shape() {
        // RFC 7638 §3.1 uses RSA; this checks the EC member order and encoding instead:
        // the digest is over {"crv","kty","x","y"} in that order with no spaces.
        let t = thumbprint("AAAA", "BBBB");
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}"#,
        ));
        assert_eq!(t, expected);
        assert_eq!(t.len(), 43);
    }

    #[test]
    fn generated_key_kid_is_the_thumbprint_of_its_public_jwk() {
        let k = generate_es256(&OsRandom, &kek(), 1).unwrap();
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk).unwrap();
        let x = jwk["x"].as_str().unwrap();
        let y = jwk["y"].as_str().unwrap();
        assert_eq!(k.kid, thumbprint(x, y));
        assert_eq!(jwk["kid"], k.kid.as_str());
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("P-256"))
        );
        assert_eq!(
            (jwk["alg"].as_str(), jwk["use"].as_str()),
            (Some("ES256"), Some("sig"))
        );
        assert!(
            jwk.get("d").is_none(),
            "private scalar must not be published"
        );
    }

    #[test]
    fn sealed_key_opens_only_with_the_same_kek_and_kid() {
        let k = generate_es256(&OsRandom, &kek(), 1).unwrap();
        assert!(kek().open(&k.kid, &k.private_key_enc).is_ok());
        assert!(kek().open("other-kid", &k.private_key_enc).is_err());
        let other = Kek::from_base64(&STANDARD.encode([8u8; 32])).unwrap();
        assert!(other.open(&k.kid, &k.private_key_enc).is_err());
    }

    #[test]
    fn kek_must_be_32_bytes_of_base64() {
        assert!(Kek::from_base64(&STANDARD.encode([1u8; 16])).is_err());
        assert!(Kek::from_base64("not base64 at all!").is_err());
        assert!(Kek::from_base64(&URL_SAFE_NO_PAD.encode([1u8; 32])).is_ok());
    }
}
