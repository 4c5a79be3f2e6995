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
    /// newest first.
    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
}
