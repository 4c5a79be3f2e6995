//! The per-isolate memory cache, in front of KV and D1, for what every token request reads and
//! rarely changes: clients (found or not), APIs, each trigger's rules and hooks, whether an
//! origin is registered, and the published signing keys (read from D1: they are not in KV). Entries live `CACHE_TTL_SECONDS` (default 10 s), so an edit made
//! elsewhere shows in this isolate within that bound plus KV's 60 s; a rule saved through this
//! isolate drops its own entry at once. Each kind holds at most [`MAX_ENTRIES`] entries: past
//! that, expired entries go, then all of them. Users, codes, sessions, refresh tokens and
//! attempt counters are never cached: they must be fresh.

use crate::model::mfa::Guardian;
use crate::model::{Api, Client, Connection, Rule, StoredHook, StoredKey};
use std::cell::RefCell;
use std::collections::HashMap;

/// Most entries of one kind.
pub const MAX_ENTRIES: usize = 1_000;

/// Entries of one kind, by key, each with its expiry (Unix milliseconds), and a generation
/// that every [`Shelf::forget`] moves on.
pub struct Shelf<T>(RefCell<HashMap<String, (f64, T)>>, std::cell::Cell<u64>);

impl<T: Clone> Shelf<T> {
    fn new() -> Self {
        Self(RefCell::new(HashMap::new()), std::cell::Cell::new(0))
    }

    /// The generation now: a load started now may keep its answer only while it is unchanged
    /// ([`Shelf::unchanged_since`]), so a read that raced a write never puts back what the
    /// write's [`Shelf::forget`] removed.
    pub fn generation(&self) -> u64 {
        self.1.get()
    }

    /// Whether nothing was forgotten since `generation`.
    pub fn unchanged_since(&self, generation: u64) -> bool {
        self.1.get() == generation
    }

    /// The entry for `key`, unless it expired by `now`.
    pub fn get(&self, key: &str, now: f64) -> Option<T> {
        let entries = self.0.borrow();
        entries
            .get(key)
            .filter(|(expires, _)| now < *expires)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value` for `key` until `expires`.
    pub fn put(&self, key: &str, value: T, now: f64, expires: f64) {
        let mut entries = self.0.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.retain(|_, (e, _)| now < *e);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.to_string(), (expires, value));
    }

    /// Drops the entry for `key`, and makes every load in flight forget its answer.
    pub fn forget(&self, key: &str) {
        self.0.borrow_mut().remove(key);
        self.1.set(self.1.get() + 1);
    }
}

/// Everything this isolate keeps in memory.
pub struct IsolateCache {
    pub clients: Shelf<Option<Client>>,
    pub apis: Shelf<Api>,
    pub pipelines: Shelf<(Vec<Rule>, Vec<StoredHook>)>,
    pub origins: Shelf<bool>,
    /// Every connection with its enabled clients, one entry.
    pub connections: Shelf<Vec<Connection>>,
    /// The published signing keys (public halves, private halves sealed), one entry.
    pub published_keys: Shelf<Vec<StoredKey>>,
    /// The second factors turned on and the MFA policy, one entry.
    pub guardian: Shelf<Guardian>,
}

impl IsolateCache {
    pub fn new() -> Self {
        Self {
            clients: Shelf::new(),
            apis: Shelf::new(),
            pipelines: Shelf::new(),
            origins: Shelf::new(),
            connections: Shelf::new(),
            published_keys: Shelf::new(),
            guardian: Shelf::new(),
        }
    }
}
