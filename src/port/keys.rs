//! Signing keys and their lifecycle (`next` → `current` → `previous` → dropped or `revoked`).
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::StoredKey;
use crate::port::settled::Settle;

/// Signing keys.
pub trait KeyStore {
    /// The keys of `alg` that may sign: the current key and the previous ones, the newest
    /// first, read from the store itself (never a cache).
    async fn signing_keys(&self, alg: &str) -> Result<Vec<StoredKey>, StoreError>;

    /// Stores `key` (in state `current` or `next`) **unless its algorithm already has a key in
    /// that state**, and reports whether it was stored.
    ///
    /// Contract: atomic. Concurrent calls leave exactly one key per (algorithm, state); a
    /// loser reads and uses the winner's key.
    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Rotates `new_next.alg` at `now` in one atomic step: its current key becomes previous,
    /// its next key current, and `new_next` the next key. Reports whether a next key was
    /// promoted; with none, nothing changes but `new_next` is stored as the next key.
    async fn rotate_keys(&self, new_next: &StoredKey, now: u64) -> Result<bool, StoreError>;

    /// Revokes `kid` at `now` if it is a previous key (only those may be revoked: the
    /// current and next keys are rotated out first). Answers the key as it is afterwards, or
    /// `None` if there is no such key.
    async fn revoke_key(&self, kid: &str, now: u64) -> Result<Option<StoredKey>, StoreError>;

    /// Deletes the previous keys that stopped being current before `before`; answers how many.
    async fn drop_previous_keys(&self, before: u64) -> Result<u32, StoreError>;

    /// Every key, revoked ones too, the newest first, from the store itself.
    async fn all_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Replaces `kid`'s sealed private key `old` with `new` (re-encryption under a new
    /// key-encryption key). Does nothing, and answers `false`, if it is no longer `old`.
    async fn reseal_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError>;

    /// Every key whose public half is published in the JWKS (next, current and previous),
    /// newest first. A backend may answer from a cache that lags the store by a bounded time
    /// (the Worker's isolate memory: `CACHE_TTL_SECONDS`).
    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// [`KeyStore::published_keys`] read from the store itself, never a cache: for a cached
    /// set that lacks a key which may have been published since (a token whose `kid` is not
    /// in it, a key just generated). A backend with a cache refreshes it with the answer.
    async fn published_keys_now(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.published_keys().settle().await
    }
}
