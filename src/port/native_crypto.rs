//! Pure-Rust implementation of the crypto port, for native tests and tools.

use super::crypto::{Alg, Crypto, GeneratedKey, PublicKey, SigningKey};
use crate::error::CryptoError;
use crate::model::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;

/// `p256`, `rsa` and `pbkdf2` crates.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeCrypto;

fn err(what: &'static str) -> impl Fn(String) -> CryptoError {
    move |e| CryptoError::new(what, e)
}

impl Crypto for NativeCrypto {
    async fn sign(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match key.alg {
            Alg::ES256 => {
                let sk = p256::ecdsa::SigningKey::from_pkcs8_der(key.pkcs8.expose())
                    .map_err(|e| err("pkcs8")(e.to_string()))?;
                let sig: p256::ecdsa::Signature = sk.sign(input);
                Ok(sig.to_bytes().to_vec())
            }
            Alg::RS256 => {
                let sk = rsa::RsaPrivateKey::from_pkcs8_der(key.pkcs8.expose())
                    .map_err(|e| err("pkcs8")(e.to_string()))?;
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(sk);
                let sig: rsa::pkcs1v15::Signature = signer.sign(input);
                Ok(Box::<[u8]>::from(sig).to_vec())
            }
        }
    }

    async fn verify(
        &self,
        alg: Alg,
        _kid: &str,
        public_jwk: &str,
        input: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        let jwk: serde_json::Value =
            serde_json::from_str(public_jwk).map_err(|e| err("jwk")(e.to_string()))?;
        if alg == Alg::RS256 {
            let part = |name: &str| -> Result<rsa::BigUint, CryptoError> {
                let bytes = URL_SAFE_NO_PAD
                    .decode(jwk[name].as_str().unwrap_or(""))
                    .map_err(|e| err("jwk")(e.to_string()))?;
                Ok(rsa::BigUint::from_bytes_be(&bytes))
            };
            let pk = rsa::RsaPublicKey::new(part("n")?, part("e")?)
                .map_err(|e| err("jwk")(e.to_string()))?;
            let vk = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk);
            let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
                return Ok(false);
            };
            return Ok(vk.verify(input, &sig).is_ok());
        }
        let coordinate = |name: &str| -> Result<Vec<u8>, CryptoError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(jwk[name].as_str().unwrap_or(""))
                .map_err(|e| err("jwk")(e.to_string()))?;
            if bytes.len() != 32 {
                return Err(err("jwk")(format!("{name} is not 32 bytes")));
            }
            Ok(bytes)
        };
        let (x, y) = (coordinate("x")?, coordinate("y")?);
        let point = p256::EncodedPoint::from_affine_coordinates(
            x.as_slice().into(),
            y.as_slice().into(),
            false,
        );
        let vk = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map_err(|e| err("jwk")(e.to_string()))?;
        let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(vk.verify(input, &sig).is_ok())
    }

    async fn generate_key(&self, alg: Alg) -> Result<GeneratedKey, CryptoError> {
        match alg {
            Alg::ES256 => {
                let sk = p256::SecretKey::random(&mut rsa::rand_core::OsRng);
                let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
                    &sk.public_key(),
                    false,
                );
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(err("p256")("public key has no coordinates".into()));
                };
                let der = sk.to_pkcs8_der().map_err(|e| err("pkcs8")(e.to_string()))?;
                Ok(GeneratedKey {
                    pkcs8: Secret::new(der.as_bytes().to_vec()),
                    public: PublicKey::Ec {
                        x: URL_SAFE_NO_PAD.encode(x),
                        y: URL_SAFE_NO_PAD.encode(y),
                    },
                })
            }
            Alg::RS256 => {
                let sk = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .map_err(|e| err("rsa keygen")(e.to_string()))?;
                let der = sk.to_pkcs8_der().map_err(|e| err("pkcs8")(e.to_string()))?;
                Ok(GeneratedKey {
                    pkcs8: Secret::new(der.as_bytes().to_vec()),
                    public: PublicKey::Rsa {
                        n: URL_SAFE_NO_PAD.encode(sk.n().to_bytes_be()),
                        e: URL_SAFE_NO_PAD.encode(sk.e().to_bytes_be()),
                    },
                })
            }
        }
    }

    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], CryptoError> {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha256>>(password, salt, iterations, &mut out)
            .map_err(|e| err("pbkdf2")(e.to_string()))?;
        Ok(out)
    }
}
