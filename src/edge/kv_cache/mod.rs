//! The isolate's memory ([`super::isolate_cache`]) in front of KV, and KV as an edge read
//! cache in front of D1, for what every token request reads and what rarely changes: clients (with their API grants), APIs, and the rules and hooks of each trigger. Entries live 60 s (KV's minimum TTL), so
//! an edit in D1 shows everywhere within a minute. Keys carry a schema version (`v5:`) so a
//! change of the cached shape never reads old entries. Users, login counters and refresh
//! tokens are never cached: they go straight to D1; the published signing keys are kept in the
//! isolate's memory only, never in KV.

mod connections;
mod mfa;
mod registry;

use super::d1::D1Store;
use super::isolate_cache::{IsolateCache, Shelf};
use super::kv::Kv;
use crate::error::StoreError;
use crate::model::json::{FromJson, Members};
use crate::model::{Api, Client, StoredHook, StoredKey};
use crate::model::{Rule, Trigger};
use crate::port::settled::Settle;
use crate::port::{
    AttemptStore, ClaimsStore, ClientStore, CodeStore, ConnectionStore, ExchangeStore, HasAttempts,
    HasClaims, HasClients, HasCodes, HasConnections, HasExchange, HasKeys, HasLogs, HasMail,
    HasMfa, HasOrganizations, HasRefresh, HasRegistry, HasRoles, HasSessions, HasSubjects,
    HasUsers, KeyStore, LogStore, MailStore, MfaStore, OrganizationStore, RefreshStore,
    RegistryStore, RoleStore, SessionStore, SubjectStore, UserStore,
};
use serde::Serialize;
use std::sync::atomic::{AtomicU32, Ordering};
use worker::{console_error, Context};

/// Seconds a cached row lives.
const TTL_SECONDS: u64 = 60;
/// KV refuses keys over 512 bytes; longer lookups go straight to D1.
const MAX_KEY_BYTES: usize = 512;

/// The Worker's storage: D1, with an optional KV read-through cache in front of the two
/// ports it caches (clients and APIs; the claims pipeline). Every other port is D1's own.
pub struct EdgeStores<'a> {
    d1: D1Store,
    kv: Option<Kv>,
    /// Where a KV write goes on after the response; `None` (the Cron Trigger) writes none.
    ctx: Option<&'a Context>,
    /// The isolate's memory, in front of KV.
    memory: &'static IsolateCache,
    /// How long a memory entry lives, milliseconds.
    memory_ttl_ms: f64,
}

/// KV reads made by this isolate, for `/__bench/counters`.
pub static KV_READS: AtomicU32 = AtomicU32::new(0);

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl<'a> EdgeStores<'a> {
    pub fn new(
        d1: D1Store,
        kv: Option<Kv>,
        ctx: Option<&'a Context>,
        memory: &'static IsolateCache,
        memory_ttl_seconds: u64,
    ) -> Self {
        Self {
            d1,
            kv,
            ctx,
            memory,
            memory_ttl_ms: memory_ttl_seconds as f64 * 1000.0,
        }
    }

    /// Reads `key` from the isolate's `shelf`, else through KV (and D1), keeping the answer
    /// unless a write in this isolate forgot an entry of the shelf meanwhile.
    async fn remembered<T, F>(&self, shelf: &Shelf<T>, key: &str, load: F) -> Result<T, StoreError>
    where
        T: Clone,
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        if let Some(hit) = shelf.get(key, now_ms()) {
            return Ok(hit);
        }
        let generation = shelf.generation();
        let loaded = load.settle().await?;
        if shelf.unchanged_since(generation) {
            self.keep(shelf, key, loaded.clone());
        }
        Ok(loaded)
    }

    /// Keeps `value` for `key` on the isolate's `shelf` for `CACHE_TTL_SECONDS`.
    fn keep<T: Clone>(&self, shelf: &Shelf<T>, key: &str, value: T) {
        let now = now_ms();
        shelf.put(key, value, now, now + self.memory_ttl_ms);
    }

    /// Reads `key` from KV, else loads it and writes it back after the response, unless a
    /// write in this isolate forgot an entry of `shelf` (the same kind's) meanwhile.
    async fn read_through<T, F, K>(
        &self,
        shelf: &Shelf<K>,
        key: String,
        load: F,
    ) -> Result<Option<T>, StoreError>
    where
        T: Serialize + FromJson,
        F: std::future::Future<Output = Result<Option<T>, StoreError>>,
        K: Clone,
    {
        let generation = shelf.generation();
        let Some(kv) = self.kv.as_ref().filter(|_| key.len() <= MAX_KEY_BYTES) else {
            return load.settle().await;
        };
        if let Some(hit) = Self::kv_value(kv, &key).settle().await {
            match T::from_json(hit) {
                Ok(hit) => return Ok(Some(hit)),
                Err(e) => console_error!("kv get {key}: {e}"),
            }
        }
        let loaded = load.settle().await?;
        if let Some(value) = loaded
            .as_ref()
            .filter(|_| shelf.unchanged_since(generation))
        {
            if let Ok(text) = serde_json::to_string(value) {
                self.put_later(kv, key, text);
            }
        }
        Ok(loaded)
    }

    /// The JSON value under `key`, if KV has one. Not generic: one copy of the read for every
    /// cached type.
    async fn kv_value(kv: &Kv, key: &str) -> Option<serde_json::Value> {
        KV_READS.fetch_add(1, Ordering::Relaxed);
        // Read as text and parsed here: KV's own JSON reading would decode through a second
        // serde layer (and its code).
        let text = match kv.text(key).settle().await {
            Ok(text) => text?,
            Err(e) => {
                console_error!("kv get {key}: {e}");
                return None;
            }
        };
        match crate::model::strict_json::parse(text.as_bytes()) {
            Ok(value) => Some(value),
            Err(e) => {
                console_error!("kv get {key}: {e}");
                None
            }
        }
    }

    /// Writes `text` under `key` after the response (the Cron Trigger writes none). Not
    /// generic: one copy of the write for every cached type.
    fn put_later(&self, kv: &Kv, key: String, text: String) {
        let Some(ctx) = self.ctx else {
            return;
        };
        let kv = kv.clone();
        ctx.wait_until(async move {
            if let Err(e) = kv.put(&key, &text, TTL_SECONDS).settle().await {
                console_error!("kv put {key}: {e}");
            }
        });
    }
}

/// The cached form of a client lookup, found or not.
#[derive(Serialize)]
struct ClientEntry {
    client: Option<Client>,
}

impl FromJson for ClientEntry {
    fn from_json(v: serde_json::Value) -> Result<Self, String> {
        Ok(Self {
            client: Members::of(v)?.take("client")?,
        })
    }
}

impl ClientStore for EdgeStores<'_> {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        // Absent clients are cached too (`{"client":null}`; a bare `null` would read back as
        // a miss): an unknown client_id then takes the same path as a known one, one KV
        // read, so response times do not tell which ids exist.
        self.remembered(&self.memory.clients, client_id, async {
            let cached = self
                .read_through(
                    &self.memory.clients,
                    format!("v5:client:{client_id}"),
                    async {
                        let client = self.d1.client(client_id).settle().await?;
                        Ok(Some(ClientEntry { client }))
                    },
                )
                .settle()
                .await?;
            Ok(cached.and_then(|entry| entry.client))
        })
        .settle()
        .await
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        // Kept only when found, like the KV entry.
        if let Some(hit) = self.memory.apis.get(identifier, now_ms()) {
            return Ok(Some(hit));
        }
        let generation = self.memory.apis.generation();
        let api = self
            .read_through(
                &self.memory.apis,
                format!("v5:api:{identifier}"),
                self.d1.api(identifier),
            )
            .settle()
            .await?;
        if let Some(api) = api
            .as_ref()
            .filter(|_| self.memory.apis.unchanged_since(generation))
        {
            self.keep(&self.memory.apis, identifier, api.clone());
        }
        Ok(api)
    }

    async fn web_origin_registered(&self, origin: &str) -> Result<bool, StoreError> {
        // Every browser request with an Origin asks this: cached, found or not.
        self.remembered(&self.memory.origins, origin, async {
            let cached = self
                .read_through(&self.memory.origins, format!("v5:origin:{origin}"), async {
                    let registered = self.d1.web_origin_registered(origin).settle().await?;
                    Ok(Some(OriginEntry { registered }))
                })
                .settle()
                .await?;
            Ok(cached.is_some_and(|entry| entry.registered))
        })
        .settle()
        .await
    }
}

/// The cached answer of an origin lookup.
#[derive(Serialize)]
struct OriginEntry {
    registered: bool,
}

impl FromJson for OriginEntry {
    fn from_json(v: serde_json::Value) -> Result<Self, String> {
        Ok(Self {
            registered: Members::of(v)?.take("registered")?,
        })
    }
}

impl ClaimsStore for EdgeStores<'_> {
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError> {
        // Rules and hooks are read on every token request and change rarely: one KV entry.
        self.remembered(&self.memory.pipelines, trigger, async {
            self.read_through(
                &self.memory.pipelines,
                format!("v5:pipeline:{trigger}"),
                async { self.d1.pipeline(trigger).settle().await.map(Some) },
            )
            .settle()
            .await
            .map(Option::unwrap_or_default)
        })
        .settle()
        .await
    }

    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        self.d1.put_rule(rule).settle().await?;
        self.forget_pipelines().settle().await
    }

    async fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        self.d1.rules().settle().await
    }

    async fn delete_rule(&self, rule_id: &str) -> Result<bool, StoreError> {
        let deleted = self.d1.delete_rule(rule_id).settle().await?;
        self.forget_pipelines().settle().await?;
        Ok(deleted)
    }

    async fn hooks(&self) -> Result<Vec<StoredHook>, StoreError> {
        self.d1.hooks().settle().await
    }

    async fn put_hook(&self, hook: &StoredHook) -> Result<(), StoreError> {
        self.d1.put_hook(hook).settle().await?;
        self.forget_pipelines().settle().await
    }

    async fn delete_hook(&self, hook_id: &str) -> Result<bool, StoreError> {
        let deleted = self.d1.delete_hook(hook_id).settle().await?;
        self.forget_pipelines().settle().await?;
        Ok(deleted)
    }
}

impl EdgeStores<'_> {
    /// Write-through for the claims pipeline: drops both triggers' cached pipelines (a write
    /// may move a rule or hook from one trigger to the other), so the next request here
    /// reads the new one.
    async fn forget_pipelines(&self) -> Result<(), StoreError> {
        for trigger in Trigger::ALL {
            self.memory.pipelines.forget(trigger.as_str());
            if let Some(kv) = &self.kv {
                kv.delete(&format!("v5:pipeline:{}", trigger.as_str()))
                    .settle()
                    .await
                    .map_err(|e| StoreError::backend("kv", format!("delete: {e}")))?;
            }
        }
        Ok(())
    }
}

/// The cached ports are this type's; the others are D1's, unwrapped.
impl HasClients for EdgeStores<'_> {
    fn clients(&self) -> &impl ClientStore {
        self
    }
}

impl HasClaims for EdgeStores<'_> {
    fn claims(&self) -> &impl ClaimsStore {
        self
    }
}

impl HasConnections for EdgeStores<'_> {
    fn connections(&self) -> &impl ConnectionStore {
        self
    }
}

impl HasKeys for EdgeStores<'_> {
    fn keys(&self) -> &impl KeyStore {
        self
    }
}

/// The one entry of [`IsolateCache::published_keys`].
const PUBLISHED: &str = "";

/// The published keys are kept in the isolate's memory (from D1; never in KV). A key this
/// isolate reads to sign with, or a change it makes, that the kept set does not show drops the
/// set, so this isolate never signs with a key its own JWKS does not show.
impl KeyStore for EdgeStores<'_> {
    async fn signing_keys(&self, alg: &str) -> Result<Vec<StoredKey>, StoreError> {
        let keys = self.d1.signing_keys(alg).settle().await?;
        let kept = self.memory.published_keys.get(PUBLISHED, now_ms());
        if kept.is_some_and(|set| keys.iter().any(|k| !set.iter().any(|p| p.kid == k.kid))) {
            self.memory.published_keys.forget(PUBLISHED);
        }
        Ok(keys)
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let stored = self.d1.insert_key(key).settle().await?;
        self.memory.published_keys.forget(PUBLISHED);
        Ok(stored)
    }

    async fn rotate_keys(&self, new_next: &StoredKey, now: u64) -> Result<bool, StoreError> {
        let rotated = self.d1.rotate_keys(new_next, now).settle().await?;
        self.memory.published_keys.forget(PUBLISHED);
        Ok(rotated)
    }

    async fn revoke_key(&self, kid: &str, now: u64) -> Result<Option<StoredKey>, StoreError> {
        let key = self.d1.revoke_key(kid, now).settle().await?;
        self.memory.published_keys.forget(PUBLISHED);
        Ok(key)
    }

    async fn drop_previous_keys(&self, before: u64) -> Result<u32, StoreError> {
        let dropped = self.d1.drop_previous_keys(before).settle().await?;
        self.memory.published_keys.forget(PUBLISHED);
        Ok(dropped)
    }

    async fn all_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.d1.all_keys().settle().await
    }

    async fn reseal_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        self.d1.reseal_key(kid, old, new).settle().await
    }

    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let shelf = &self.memory.published_keys;
        self.remembered(shelf, PUBLISHED, self.d1.published_keys())
            .settle()
            .await
    }

    async fn published_keys_now(&self) -> Result<Vec<StoredKey>, StoreError> {
        let keys = self.d1.published_keys_now().settle().await?;
        self.keep(&self.memory.published_keys, PUBLISHED, keys.clone());
        Ok(keys)
    }
}

impl HasUsers for EdgeStores<'_> {
    fn users(&self) -> &impl UserStore {
        &self.d1
    }
}

impl HasAttempts for EdgeStores<'_> {
    fn attempts(&self) -> &impl AttemptStore {
        &self.d1
    }
}

impl HasRefresh for EdgeStores<'_> {
    fn refresh(&self) -> &impl RefreshStore {
        &self.d1
    }
}

impl HasExchange for EdgeStores<'_> {
    fn exchange(&self) -> &impl ExchangeStore {
        &self.d1
    }
}

impl HasCodes for EdgeStores<'_> {
    fn codes(&self) -> &impl CodeStore {
        &self.d1
    }
}

impl HasSessions for EdgeStores<'_> {
    fn sessions(&self) -> &impl SessionStore {
        &self.d1
    }
}

impl HasRoles for EdgeStores<'_> {
    fn roles(&self) -> &impl RoleStore {
        &self.d1
    }
}

impl HasOrganizations for EdgeStores<'_> {
    fn organizations(&self) -> &impl OrganizationStore {
        &self.d1
    }
}

impl HasLogs for EdgeStores<'_> {
    fn logs(&self) -> &impl LogStore {
        &self.d1
    }
}

impl HasMail for EdgeStores<'_> {
    fn mail(&self) -> &impl MailStore {
        &self.d1
    }
}

impl HasMfa for EdgeStores<'_> {
    fn mfa(&self) -> &impl MfaStore {
        &self.d1
    }

    async fn guardian(&self) -> Result<crate::model::mfa::Guardian, StoreError> {
        self.remembered_guardian().settle().await
    }

    fn forget_guardian(&self) {
        self.forget_guardian_now();
    }
}

impl HasRegistry for EdgeStores<'_> {
    fn registry(&self) -> &impl RegistryStore {
        self
    }
}

impl HasSubjects for EdgeStores<'_> {
    fn subjects(&self) -> &impl SubjectStore {
        &self.d1
    }
}
