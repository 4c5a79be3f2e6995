//! Signing keys.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::StoredKey;

/// Signing keys.
pub trait KeyStore {
    /// The active key for `alg`, if any.
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError>;

    /// Stores `key` as the active key for its alg **unless one is already active**, and
    /// reports whether it was stored.
    ///
    /// Contract: atomic. Two concurrent calls on a store with no active key leave exactly
    /// one active key; the loser must then read and use the winner's key.
    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Every key whose public half is published in the JWKS: active and retired keys,
    /// newest first. A backend may answer from a cache that lags the store by a bounded time
    /// (the Worker's isolate memory: `CACHE_TTL_SECONDS`).
    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// [`KeyStore::published_keys`] read from the store itself, never a cache: for a cached
    /// set that lacks a key which may have been published since (a token whose `kid` is not
    /// in it, a key just generated). A backend with a cache refreshes it with the answer.
    async fn published_keys_now(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.published_keys().await
    }
}
