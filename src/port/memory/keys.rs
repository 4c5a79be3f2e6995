//! Signing keys in memory, with D1's rules: one current and one next key per algorithm,
//! rotation as one step, only previous keys revocable.

use super::MemoryStore;
use crate::error::StoreError;
use crate::model::{KeyState, StoredKey};
use crate::port::KeyStore;

impl MemoryStore {
    /// How many keys are stored, in any state.
    pub fn key_count(&self) -> usize {
        self.keys.borrow().len()
    }

    fn newest_first(&self, keep: impl Fn(&StoredKey) -> bool) -> Vec<StoredKey> {
        let keys = self.keys.borrow();
        keys.iter().rev().filter(|k| keep(k)).cloned().collect()
    }
}

/// The promotion number the next key of `alg` to become current takes.
fn next_promotion(keys: &[StoredKey], alg: &str) -> u64 {
    let last = keys
        .iter()
        .filter(|k| k.alg == alg)
        .filter_map(|k| k.promotion);
    last.max().unwrap_or(0) + 1
}

impl KeyStore for MemoryStore {
    async fn signing_keys(&self, alg: &str) -> Result<Vec<StoredKey>, StoreError> {
        let _trip = self.round_trip()?;
        let signs = |k: &StoredKey| {
            k.alg == alg && matches!(k.state, KeyState::Current | KeyState::Previous)
        };
        Ok(self.newest_first(signs))
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut keys = self.keys.borrow_mut();
        if keys.iter().any(|k| k.kid == key.kid)
            || !matches!(key.state, KeyState::Current | KeyState::Next)
            || keys
                .iter()
                .any(|k| k.alg == key.alg && k.state == key.state)
        {
            return Ok(false);
        }
        let promotion = (key.state == KeyState::Current).then(|| next_promotion(&keys, &key.alg));
        keys.push(StoredKey {
            promotion,
            ..key.clone()
        });
        Ok(true)
    }

    async fn rotate_keys(&self, new_next: &StoredKey, now: u64) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut keys = self.keys.borrow_mut();
        let alg = new_next.alg.as_str();
        let has_next = keys
            .iter()
            .any(|k| k.alg == alg && k.state == KeyState::Next);
        if has_next {
            let promotion = next_promotion(&keys, alg);
            for k in keys.iter_mut().filter(|k| k.alg == alg) {
                match k.state {
                    KeyState::Current => {
                        k.state = KeyState::Previous;
                        k.current_until = Some(now);
                    }
                    KeyState::Next => {
                        k.state = KeyState::Current;
                        k.current_since = Some(now);
                        k.promotion = Some(promotion);
                    }
                    _ => {}
                }
            }
        }
        if !keys.iter().any(|k| k.kid == new_next.kid) {
            keys.push(StoredKey {
                state: KeyState::Next,
                ..new_next.clone()
            });
        }
        Ok(has_next)
    }

    async fn revoke_key(&self, kid: &str, now: u64) -> Result<Option<StoredKey>, StoreError> {
        let _trip = self.round_trip()?;
        let mut keys = self.keys.borrow_mut();
        let Some(k) = keys.iter_mut().find(|k| k.kid == kid) else {
            return Ok(None);
        };
        if k.state == KeyState::Previous {
            k.state = KeyState::Revoked;
            k.revoked_at = Some(now);
        }
        Ok(Some(k.clone()))
    }

    async fn drop_previous_keys(&self, before: u64) -> Result<u32, StoreError> {
        let _trip = self.round_trip()?;
        let mut keys = self.keys.borrow_mut();
        let n = keys.len();
        keys.retain(|k| {
            k.state != KeyState::Previous || k.current_until.is_none_or(|until| until >= before)
        });
        Ok((n - keys.len()) as u32)
    }

    async fn all_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self.newest_first(|_| true))
    }

    async fn reseal_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut keys = self.keys.borrow_mut();
        match keys
            .iter_mut()
            .find(|k| k.kid == kid && k.private_key_enc == old)
        {
            Some(k) => {
                k.private_key_enc = new.to_string();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let _trip = self.cached_read()?;
        Ok(self.newest_first(StoredKey::published))
    }

    async fn published_keys_now(&self) -> Result<Vec<StoredKey>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self.newest_first(StoredKey::published))
    }
}
