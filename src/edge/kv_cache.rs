//! KV as an edge read cache in front of D1 for what every token request reads and what
//! rarely changes: clients (with their API grants) and APIs. Entries live 60 s (KV's minimum TTL), so
//! an edit in D1 shows everywhere within a minute. Keys carry a schema version (`v1:`) so a
//! change of the cached shape never reads old entries. Signing keys are never cached here.

use super::d1::D1Store;
use crate::error::StoreError;
use crate::store::{Api, Client, ClientStore, KeyStore, StoredKey};
use serde::de::DeserializeOwned;
use serde::Serialize;
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

impl ClientStore for CachedStore<'_> {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.read_through(format!("v1:client:{client_id}"), self.d1.client(client_id))
            .await
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        self.read_through(format!("v1:api:{identifier}"), self.d1.api(identifier))
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
