//! In-memory store for native tests, with the same semantics as the D1 store: exact-match
//! lookups, one active key per alg enforced at insert.

use super::{Api, ApiGrant, Client, ClientGrant, ClientStore, KeyStore, StoredKey};
use crate::error::StoreError;
use std::cell::RefCell;

/// Everything in `RefCell`s: the core is single-threaded, like a Worker isolate.
#[derive(Debug, Default)]
pub struct MemoryStore {
    clients: RefCell<Vec<Client>>,
    apis: RefCell<Vec<Api>>,
    grants: RefCell<Vec<ClientGrant>>,
    keys: RefCell<Vec<StoredKey>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces a client (upsert by `client_id`).
    pub fn put_client(&self, client: Client) {
        let mut clients = self.clients.borrow_mut();
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
    }

    /// Inserts or replaces an API (upsert by identifier).
    pub fn put_api(&self, api: Api) {
        let mut apis = self.apis.borrow_mut();
        apis.retain(|a| a.identifier != api.identifier);
        apis.push(api);
    }

    /// Inserts or replaces a client grant (upsert by client and audience).
    pub fn put_grant(&self, grant: ClientGrant) {
        let mut grants = self.grants.borrow_mut();
        grants.retain(|g| !(g.client_id == grant.client_id && g.audience == grant.audience));
        grants.push(grant);
    }

    /// How many keys are stored, active or not.
    pub fn key_count(&self) -> usize {
        self.keys.borrow().len()
    }
}

impl ClientStore for MemoryStore {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let clients = self.clients.borrow();
        let Some(mut client) = clients.iter().find(|c| c.client_id == client_id).cloned() else {
            return Ok(None);
        };
        // Joined like D1's query: grants whose API exists, in API order.
        let apis = self.apis.borrow();
        let grants = self.grants.borrow();
        client.grants = grants
            .iter()
            .filter(|g| g.client_id == client_id)
            .filter_map(|g| {
                let api = apis.iter().find(|a| a.identifier == g.audience)?;
                Some(ApiGrant {
                    api: api.clone(),
                    scopes: g.scopes.clone(),
                })
            })
            .collect();
        Ok(Some(client))
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        let apis = self.apis.borrow();
        Ok(apis.iter().find(|a| a.identifier == identifier).cloned())
    }
}

impl KeyStore for MemoryStore {
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError> {
        // Every stored key is active until rotation exists; newest wins like D1's ORDER BY.
        let keys = self.keys.borrow();
        Ok(keys.iter().rev().find(|k| k.alg == alg).cloned())
    }

    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let mut keys = self.keys.borrow_mut();
        if keys.iter().any(|k| k.alg == key.alg) {
            return Ok(false);
        }
        keys.push(key.clone());
        Ok(true)
    }

    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let mut keys = self.keys.borrow().clone();
        keys.reverse();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: "ES256".into(),
            public_jwk: "{}".into(),
            private_key_enc: "v1..".into(),
            created_at: 1,
        }
    }

    #[test]
    fn a_second_active_key_for_the_same_alg_is_not_inserted() {
        let store = MemoryStore::new();
        pollster::block_on(async {
            assert!(store.insert_key_if_none_active(&key("a")).await.unwrap());
            assert!(!store.insert_key_if_none_active(&key("b")).await.unwrap());
            assert_eq!(store.active_key("ES256").await.unwrap().unwrap().kid, "a");
        });
        assert_eq!(store.key_count(), 1);
    }
}
