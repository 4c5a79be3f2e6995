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

/// The key-encryption key: 32 bytes from the `KEY_ENCRYPTION_KEY` secret, and while it is
/// being replaced, the one before it (`KEY_ENCRYPTION_KEY_PREVIOUS`), which still opens what
/// it sealed but seals nothing.
#[derive(Clone)]
pub struct Kek {
    current: Secret<[u8; 32]>,
    previous: Option<Secret<[u8; 32]>>,
}

/// 32 bytes from base64 (standard or url-safe, padding optional).
fn key_bytes(name: &str, text: &str) -> Result<Secret<[u8; 32]>, OAuthError> {
    let t = text.trim().trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(t)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
        .map_err(|_| OAuthError::server(format!("{name} is not base64")))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| OAuthError::server(format!("{name} must be 32 bytes")))?;
    Ok(Secret::new(arr))
}

fn derive_from(key: &[u8; 32], purpose: &str) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Kek {
    /// A key of 32 `byte`s, for unit tests.
    #[cfg(test)]
    pub(crate) fn of_byte(byte: u8) -> Self {
        Self::from_base64(&URL_SAFE_NO_PAD.encode([byte; 32])).expect("32 bytes")
    }

    /// Parses base64 (standard or url-safe, padding optional) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, OAuthError> {
        Ok(Self {
            current: key_bytes("KEY_ENCRYPTION_KEY", text)?,
            previous: None,
        })
    }

    /// This key with `text` (base64 of 32 bytes) as the key it replaces: what that key sealed
    /// still opens until [`Kek::reseal`] has moved it under this one.
    pub fn with_previous(self, text: &str) -> Result<Self, OAuthError> {
        Ok(Self {
            previous: Some(key_bytes("KEY_ENCRYPTION_KEY_PREVIOUS", text)?),
            ..self
        })
    }

    /// A key for `purpose`, derived from this one (HMAC-SHA256 of the purpose's name), so
    /// that one secret serves several jobs without one job's key being another's.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        derive_from(self.current.expose(), purpose)
    }

    /// The same from the previous key, while there is one: what it MACed still checks.
    pub fn derive_previous(&self, purpose: &str) -> Option<[u8; 32]> {
        self.previous
            .as_ref()
            .map(|k| derive_from(k.expose(), purpose))
    }

    fn cipher(key: &Secret<[u8; 32]>) -> Aes256Gcm {
        Aes256Gcm::new(key.expose().into())
    }

    /// Encrypts `plain`, binding it to `kid` as associated data: `v1.<nonce>.<ciphertext>`.
    pub fn seal(&self, rng: &dyn Random, kid: &str, plain: &[u8]) -> Result<String, OAuthError> {
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce)?;
        let ct = Self::cipher(&self.current)
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

    /// Decrypts what [`Kek::seal`] produced for the same `kid`, under this key or the previous.
    pub fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, OAuthError> {
        match Self::open_with(&self.current, kid, sealed) {
            Ok(plain) => Ok(plain),
            Err(e) => match &self.previous {
                Some(previous) => Self::open_with(previous, kid, sealed).map_err(|_| e),
                None => Err(e),
            },
        }
    }

    /// `sealed` sealed again under the current key if only the previous key opens it;
    /// `None` if the current key already opens it.
    pub fn reseal(
        &self,
        rng: &dyn Random,
        kid: &str,
        sealed: &str,
    ) -> Result<Option<String>, OAuthError> {
        if Self::open_with(&self.current, kid, sealed).is_ok() {
            return Ok(None);
        }
        let plain = Secret::new(self.open(kid, sealed)?);
        self.seal(rng, kid, plain.expose()).map(Some)
    }

    /// Seals `plain` under a key derived for `purpose` (so nothing sealed for one purpose
    /// opens as another): `nonce.ciphertext`, base64url, safe in a form, a URL or a cookie.
    pub fn seal_for(
        &self,
        rng: &dyn Random,
        purpose: &str,
        plain: &[u8],
    ) -> Result<String, OAuthError> {
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce)?;
        let key = Secret::new(self.derive(purpose));
        let ct = Self::cipher(&key)
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| OAuthError::server("aes-gcm seal failed"))?;
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ct)
        ))
    }

    /// What [`Kek::seal_for`] sealed for `purpose`, under the current key or the previous
    /// one; `None` for anything else (altered, another purpose, a retired key).
    pub fn open_for(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        let (nonce, ct) = sealed.split_once('.')?;
        let nonce = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let ct = URL_SAFE_NO_PAD.decode(ct).ok()?;
        if nonce.len() != 12 {
            return None;
        }
        let keys = [Some(self.derive(purpose)), self.derive_previous(purpose)];
        keys.into_iter().flatten().find_map(|key| {
            Self::cipher(&Secret::new(key))
                .decrypt(Nonce::from_slice(&nonce), ct.as_slice())
                .ok()
        })
    }

    fn open_with(key: &Secret<[u8; 32]>, kid: &str, sealed: &str) -> Result<Vec<u8>, OAuthError> {
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
        Self::cipher(key)
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
