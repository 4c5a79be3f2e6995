//! Sealing under the key-encryption key: AES-256-GCM, the key id as associated data, so a
//! sealed private key (or hook secret) opens only under the id it was sealed for.

use crate::error::OAuthError;
use crate::model::secret::Secret;
use crate::port::random::Random;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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

    /// A key for `purpose`, derived from this one (HMAC-SHA256 of the purpose's name), so
    /// that one secret serves several jobs without one job's key being another's.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose())
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
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
