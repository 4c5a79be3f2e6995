//! Signing keys: [`sealing`] of private halves under the key-encryption key, keys as [`jwk`]s
//! (generation, thumbprints, the JWK Set), the [`lifecycle`]'s timing rules, the [`ring`]
//! that signs and moves keys through their states, and the per-isolate [`cache`].

pub mod cache;
pub mod jwk;
pub mod lifecycle;
pub mod ring;
pub mod sealing;

pub use cache::{KeyCache, KEY_CACHE_SECONDS};
pub use jwk::{generate, jwks, thumbprint, thumbprint_rsa};
pub use lifecycle::JWKS_MAX_AGE;
pub use ring::{KeyRing, Maintenance};
pub use sealing::Kek;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::secret::Secret;
    use crate::port::crypto::{Alg, Crypto, SigningKey};
    use crate::port::native_crypto::NativeCrypto;
    use crate::port::random::OsRandom;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use pollster::block_on;
    use sha2::{Digest, Sha256};

    #[test]
    fn es256_signature_verifies_against_the_published_jwk() {
        let kek = Kek::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let stored = block_on(generate(&NativeCrypto, Alg::ES256, &OsRandom, &kek, 1)).unwrap();
        let key = SigningKey {
            kid: stored.kid.clone(),
            alg: Alg::ES256,
            pkcs8: Secret::new(kek.open(&stored.kid, &stored.private_key_enc).unwrap()),
        };
        let sig = block_on(NativeCrypto.sign(&key, b"input")).unwrap();
        let ok = block_on(NativeCrypto.verify(
            Alg::ES256,
            &stored.kid,
            &stored.public_jwk,
            b"input",
            &sig,
        ));
        assert_eq!(ok, Ok(true));
        let bad = block_on(NativeCrypto.verify(
            Alg::ES256,
            &stored.kid,
            &stored.public_jwk,
            b"other",
            &sig,
        ));
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
        let k = block_on(generate(&NativeCrypto, Alg::ES256, &OsRandom, &kek(), 1)).unwrap();
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
        let k = block_on(generate(&NativeCrypto, Alg::ES256, &OsRandom, &kek(), 1)).unwrap();
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
