//! The key ring: which key signs now. One key per algorithm is active (it signs); a retired
//! key stays published, verifying what it signed, until it is removed. Rotation (a next key
//! published ahead of use, then promoted) builds on these states.

use super::cache::{KeyCache, KEY_CACHE_SECONDS};
use super::jwk::generate;
use super::sealing::Kek;
use crate::error::OAuthError;
use crate::model::secret::Secret;
use crate::model::StoredKey;
use crate::port::clock::Clock;
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::random::Random;
use crate::port::KeyStore;

/// Everything key management needs, lent by the issuer.
pub struct KeyRing<'a, S, C> {
    pub store: &'a S,
    pub crypto: &'a C,
    /// `None` when the `KEY_ENCRYPTION_KEY` secret is not configured: signing and key
    /// generation then fail closed with `server_error`.
    pub kek: Option<&'a Kek>,
    pub rng: &'a dyn Random,
    pub clock: &'a dyn Clock,
    pub cache: &'a KeyCache,
}

impl<S: KeyStore, C: Crypto> KeyRing<'_, S, C> {
    fn kek(&self) -> Result<&Kek, OAuthError> {
        self.kek
            .ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))
    }

    /// The key to sign with now for `alg`: cached, else read from the store, else generated
    /// and stored.
    pub async fn signing_key(&self, alg: Alg) -> Result<SigningKey, OAuthError> {
        let now = self.clock.now();
        let kek = self.kek()?;
        if let Some(key) = self.cache.get(alg, now) {
            return Ok(key);
        }
        let stored = self.ensure_active(alg).await?;
        let key = SigningKey {
            pkcs8: Secret::new(kek.open(&stored.kid, &stored.private_key_enc)?),
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
        let kek = self.kek()?;
        if let Some(k) = self.store.active_key(alg.as_str()).await? {
            return Ok(k);
        }
        let fresh = generate(self.crypto, alg, self.rng, kek, self.clock.now()).await?;
        self.store.insert_key_if_none_active(&fresh).await?;
        self.store
            .active_key(alg.as_str())
            .await?
            .ok_or_else(|| OAuthError::server("no active key after insert"))
    }
}
