//! The key ring: which key signs now, and the steps of the lifecycle (first keys, rotation,
//! revocation, dropping keys whose tokens have expired, re-encryption under a new KEK). The
//! timing rules are [`super::lifecycle`]'s.

use super::cache::{KeyCache, KEY_CACHE_SECONDS};
use super::jwk::generate;
use super::lifecycle::{previous_retention, rotation_due, signer};
use super::sealing::Kek;
use crate::error::OAuthError;
use crate::model::config::Config;
use crate::model::secret::Secret;
use crate::model::{KeyState, StoredKey};
use crate::port::clock::Clock;
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::random::Random;
use crate::port::settled::Settle;
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
    pub config: &'a Config,
}

/// What one run of [`KeyRing::maintain`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Maintenance {
    /// The algorithms rotated.
    pub rotated: Vec<&'static str>,
    /// Previous keys dropped because every token they signed has expired.
    pub dropped: u32,
    /// Keys moved from the previous key-encryption key to the current one.
    pub resealed: u32,
    /// Revoked access tokens forgotten because they have expired.
    pub revocations_pruned: u32,
    /// Users from before email keys given theirs.
    pub email_keys: u32,
}

impl<S: KeyStore, C: Crypto> KeyRing<'_, S, C> {
    fn kek(&self) -> Result<&Kek, OAuthError> {
        self.kek
            .ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))
    }

    /// The key to sign with now for `alg`: cached, else chosen from the store by
    /// [`signer`] (generating the first key of `alg` if there is none).
    pub async fn signing_key(&self, alg: Alg) -> Result<SigningKey, OAuthError> {
        let now = self.clock.now();
        let kek = self.kek()?;
        if let Some(key) = self.cache.get(alg, now) {
            return Ok(key);
        }
        let mut keys = self.store.signing_keys(alg.as_str()).settle().await?;
        if !keys.iter().any(|k| k.state == KeyState::Current) {
            self.ensure(alg, KeyState::Current).settle().await?;
            keys = self.store.signing_keys(alg.as_str()).settle().await?;
        }
        let lead = self.config.key_publish_lead;
        let (stored, changes_at) =
            signer(&keys, lead, now).ok_or_else(|| OAuthError::server("no signing key"))?;
        let key = SigningKey {
            pkcs8: Secret::new(kek.open(&stored.kid, &stored.private_key_enc)?),
            kid: stored.kid.clone(),
            alg,
        };
        let until = (now + KEY_CACHE_SECONDS).min(changes_at.unwrap_or(u64::MAX));
        self.cache.put(until, key.clone());
        Ok(key)
    }

    /// A new key of `alg` in `state` (current or next), made and sealed now.
    async fn fresh(&self, alg: Alg, state: KeyState) -> Result<StoredKey, OAuthError> {
        let now = self.clock.now();
        let mut key = generate(self.crypto, alg, self.rng, self.kek()?, now)
            .settle()
            .await?;
        key.state = state;
        key.current_since = (state == KeyState::Current).then_some(now);
        Ok(key)
    }

    /// Makes `alg`'s key in `state` (current or next) if it has none. Two isolates doing it
    /// at once is safe: the store keeps the first ([`KeyStore::insert_key`]).
    pub async fn ensure(&self, alg: Alg, state: KeyState) -> Result<(), OAuthError> {
        let fresh = self.fresh(alg, state).settle().await?;
        self.store.insert_key(&fresh).settle().await?;
        Ok(())
    }

    /// Makes whatever current and next keys are missing, for every algorithm, given the
    /// published set; answers whether it made any.
    pub async fn complete(&self, published: &[StoredKey]) -> Result<bool, OAuthError> {
        let mut made = false;
        for alg in Alg::ALL {
            for state in [KeyState::Current, KeyState::Next] {
                let has = |k: &StoredKey| k.alg == alg.as_str() && k.state == state;
                if !published.iter().any(has) {
                    self.ensure(alg, state).settle().await?;
                    made = true;
                }
            }
        }
        Ok(made)
    }

    /// Rotates `alg`: next → current, current → previous, and a new next key. The promoted
    /// key signs once it has been published for the lead time ([`signer`]); until then the
    /// key it replaced still signs, so a verifier caching the JWKS is never stranded.
    pub async fn rotate(&self, alg: Alg) -> Result<(), OAuthError> {
        let next = self.fresh(alg, KeyState::Next).settle().await?;
        if !self
            .store
            .rotate_keys(&next, self.clock.now())
            .settle()
            .await?
        {
            // There was no next key (an issuer from before the lifecycle): the one just stored
            // is it now, and this rotation promotes it.
            let newer = self.fresh(alg, KeyState::Next).settle().await?;
            self.store
                .rotate_keys(&newer, self.clock.now())
                .settle()
                .await?;
        }
        self.cache.forget(alg);
        Ok(())
    }

    /// Revokes a previous key: out of the JWKS at once. Answers the key as it is afterwards
    /// (its state unchanged if it was not a previous key), or `None` if there is no such key.
    pub async fn revoke(&self, kid: &str) -> Result<Option<StoredKey>, OAuthError> {
        let key = self
            .store
            .revoke_key(kid, self.clock.now())
            .settle()
            .await?;
        if let Some(k) = key.as_ref().filter(|k| k.state == KeyState::Revoked) {
            if let Some(alg) = Alg::parse(&k.alg) {
                self.cache.forget(alg);
            }
        }
        Ok(key)
    }

    /// The scheduled work: first keys where missing, rotation where due, previous keys
    /// dropped once every token they signed has expired, keys re-sealed under a new KEK.
    pub async fn maintain(&self) -> Result<Maintenance, OAuthError> {
        let mut done = Maintenance::default();
        let keys = self.store.all_keys().settle().await?;
        // Keys made now are not in `keys`: an algorithm missing one is not rotated this run,
        // and a key made now is sealed under the current KEK already.
        self.complete(&keys).settle().await?;
        let now = self.clock.now();
        for alg in Alg::ALL {
            let of = |state| {
                keys.iter()
                    .find(|k| k.alg == alg.as_str() && k.state == state)
            };
            if let (Some(current), Some(next)) = (of(KeyState::Current), of(KeyState::Next)) {
                if rotation_due(current, next, self.config, now) {
                    self.rotate(alg).settle().await?;
                    done.rotated.push(alg.as_str());
                }
            }
        }
        let retention = previous_retention(self.config, KEY_CACHE_SECONDS);
        done.dropped = self
            .store
            .drop_previous_keys(now.saturating_sub(retention))
            .settle()
            .await?;
        done.resealed = self.reseal(&keys).settle().await?;
        Ok(done)
    }

    /// Re-seals under the current KEK every key only the previous KEK opens; answers how many.
    pub async fn reseal(&self, keys: &[StoredKey]) -> Result<u32, OAuthError> {
        let kek = self.kek()?;
        let mut moved = 0;
        for k in keys {
            if let Some(sealed) = kek.reseal(self.rng, &k.kid, &k.private_key_enc)? {
                moved += u32::from(
                    self.store
                        .reseal_key(&k.kid, &k.private_key_enc, &sealed)
                        .settle()
                        .await?,
                );
            }
        }
        Ok(moved)
    }
}
