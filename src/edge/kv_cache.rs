//! KV as an edge read cache in front of D1 for what every token request reads and what
//! rarely changes: clients (with their API grants), APIs, and the rules and hooks of each trigger. Entries live 60 s (KV's minimum TTL), so
//! an edit in D1 shows everywhere within a minute. Keys carry a schema version (`v4:`) so a
//! change of the cached shape never reads old entries. Signing keys, users, login counters and
//! refresh tokens are never cached here: they go straight to D1.

use super::d1::D1Store;
use crate::error::StoreError;
use crate::model::Rule;
use crate::model::{
    Api, Client, LockoutPolicy, Organization, RefreshRecord, StoredHook, StoredKey, User,
    UserAccess,
};
use crate::port::{
    AttemptStore, ClaimsStore, ClientStore, DirectoryStore, ExchangeStore, KeyStore, Login,
    RefreshStore, UserStore,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use worker::{console_error, Context, KvStore};

/// Seconds a cached row lives.
const TTL_SECONDS: u64 = 60;
/// KV refuses keys over 512 bytes; longer lookups go straight to D1.
const MAX_KEY_BYTES: usize = 512;

/// D1 behind an optional KV read-through cache.
pub struct CachedStore<'a> {
    d1: D1Store,
    kv: Option<KvStore>,
    ctx: &'a Context,
}

impl<'a> CachedStore<'a> {
    pub fn new(d1: D1Store, kv: Option<KvStore>, ctx: &'a Context) -> Self {
        Self { d1, kv, ctx }
    }

    /// Reads `key` from KV, else loads it and writes it back after the response.
    async fn read_through<T, F>(&self, key: String, load: F) -> Result<Option<T>, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<Option<T>, StoreError>>,
    {
        let Some(kv) = self.kv.as_ref().filter(|_| key.len() <= MAX_KEY_BYTES) else {
            return load.await;
        };
        match kv.get(&key).json::<T>().await {
            Ok(Some(hit)) => return Ok(Some(hit)),
            Ok(None) => {}
            Err(e) => console_error!("kv get {key}: {e}"),
        }
        let loaded = load.await?;
        if let Some(value) = &loaded {
            if let Ok(text) = serde_json::to_string(value) {
                let kv = kv.clone();
                self.ctx.wait_until(async move {
                    let put = kv.put(&key, text).map(|p| p.expiration_ttl(TTL_SECONDS));
                    if let Ok(put) = put {
                        if let Err(e) = put.execute().await {
                            console_error!("kv put {key}: {e}");
                        }
                    }
                });
            }
        }
        Ok(loaded)
    }
}

/// The cached form of a client lookup, found or not.
#[derive(Serialize, Deserialize)]
struct ClientEntry {
    client: Option<Client>,
}

impl ClientStore for CachedStore<'_> {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        // Absent clients are cached too (`{"client":null}`; a bare `null` would read back as
        // a miss): an unknown client_id then takes the same path as a known one, one KV
        // read, so response times do not tell which ids exist.
        let cached = self
            .read_through(format!("v4:client:{client_id}"), async {
                let client = self.d1.client(client_id).await?;
                Ok(Some(ClientEntry { client }))
            })
            .await?;
        Ok(cached.and_then(|entry| entry.client))
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        self.read_through(format!("v4:api:{identifier}"), self.d1.api(identifier))
            .await
    }
}

impl KeyStore for CachedStore<'_> {
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError> {
        self.d1.active_key(alg).await
    }

    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError> {
        self.d1.insert_key_if_none_active(key).await
    }

    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.d1.published_keys().await
    }
}

impl UserStore for CachedStore<'_> {
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        self.d1.user(user_id).await
    }

    async fn user_by_email(
        &self,
        connection: &str,
        email_lower: &str,
    ) -> Result<Option<User>, StoreError> {
        self.d1.user_by_email(connection, email_lower).await
    }
}

impl AttemptStore for CachedStore<'_> {
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError> {
        self.d1.count_attempt(user_key, ip, now, policy).await
    }
}

impl RefreshStore for CachedStore<'_> {
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<bool, StoreError> {
        self.d1.insert_refresh(record).await
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        self.d1.find_refresh(token_hash).await
    }

    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError> {
        self.d1.revoke_family(family_id, now).await
    }
}

impl ExchangeStore for CachedStore<'_> {
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        self.d1.commit_login(login, now, refresh).await
    }

    async fn commit_rotation(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
        next: &RefreshRecord,
    ) -> Result<bool, StoreError> {
        self.d1
            .commit_rotation(token_hash, client_id, now, next)
            .await
    }
}

impl ClaimsStore for CachedStore<'_> {
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError> {
        // Rules and hooks are read on every token request and change rarely: one KV entry.
        self.read_through(format!("v4:pipeline:{trigger}"), async {
            self.d1.pipeline(trigger).await.map(Some)
        })
        .await
        .map(Option::unwrap_or_default)
    }

    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        self.d1.put_rule(rule).await?;
        // Write-through: drop the cached pipeline so the next request reads the new rule.
        if let Some(kv) = &self.kv {
            kv.delete(&format!("v4:pipeline:{}", rule.trigger.as_str()))
                .await
                .map_err(|e| StoreError(format!("kv delete: {e}")))?;
        }
        Ok(())
    }
}

impl DirectoryStore for CachedStore<'_> {
    async fn organization(&self, id_or_name: &str) -> Result<Option<Organization>, StoreError> {
        self.d1.organization(id_or_name).await
    }

    async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
        self.d1.is_member(org_id, user_id).await
    }

    async fn user_access(
        &self,
        user_id: &str,
        org: Option<&Organization>,
        api: Option<&Api>,
    ) -> Result<UserAccess, StoreError> {
        self.d1.user_access(user_id, org, api).await
    }
}
