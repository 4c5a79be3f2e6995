//! The per-isolate cache of signing keys, so the hot path neither reads storage nor decrypts.

use crate::port::crypto::{Alg, SigningKey};
use std::cell::RefCell;

/// How long an isolate keeps the active key before reading the store again.
pub const KEY_CACHE_SECONDS: u64 = 300;

/// The active keys kept per isolate so the hot path neither reads storage nor decrypts.
#[derive(Debug, Default)]
pub struct KeyCache(RefCell<Vec<(u64, SigningKey)>>);

impl KeyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn get(&self, alg: Alg, now: u64) -> Option<SigningKey> {
        let entries = self.0.borrow();
        entries
            .iter()
            .find(|(expires, k)| k.alg == alg && now < *expires)
            .map(|(_, k)| k.clone())
    }

    /// Forgets `alg`'s key: the next signing reads the store.
    pub(super) fn forget(&self, alg: Alg) {
        self.0.borrow_mut().retain(|(_, k)| k.alg != alg);
    }

    pub(super) fn put(&self, expires: u64, key: SigningKey) {
        let mut entries = self.0.borrow_mut();
        entries.retain(|(_, k)| k.alg != key.alg);
        entries.push((expires, key));
    }
}
