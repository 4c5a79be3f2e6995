//! JWS compact serialization (RFC 7515 §7.1) with ES256 (RFC 7518 §3.4).
#![allow(async_fn_in_trait)]

use crate::error::OAuthError;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::DecodePrivateKey;

/// A decrypted private signing key and its `kid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// PKCS#8 DER of the P-256 private key.
    pub pkcs8: Secret<Vec<u8>>,
}

/// Produces ES256 signatures. In the Worker this is WebCrypto (`edge::webcrypto`); natively,
/// [`P256Signer`].
pub trait Signer {
    /// The 64-byte `r || s` ECDSA P-256 SHA-256 signature of `input` (RFC 7518 §3.4).
    async fn sign_es256(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, OAuthError>;
}

/// Pure-Rust ES256 signer (the `p256` crate), for native tests and tools.
#[derive(Debug, Default, Clone, Copy)]
pub struct P256Signer;

impl Signer for P256Signer {
    async fn sign_es256(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, OAuthError> {
        let sk = p256::ecdsa::SigningKey::from_pkcs8_der(key.pkcs8.expose())
            .map_err(|e| OAuthError::server(format!("pkcs8: {e}")))?;
        let sig: p256::ecdsa::Signature = sk.sign(input);
        Ok(sig.to_bytes().to_vec())
    }
}

/// Signs `claims` under `header` and returns the compact JWS.
pub async fn sign_compact<S: Signer>(
    signer: &S,
    key: &SigningKey,
    header: &serde_json::Value,
    claims: &serde_json::Value,
) -> Result<String, OAuthError> {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = signer.sign_es256(key, input.as_bytes()).await?;
    if sig.len() != 64 {
        return Err(OAuthError::server(format!(
            "signature of {} bytes",
            sig.len()
        )));
    }
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}
