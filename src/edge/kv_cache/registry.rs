//! Writes to clients, grants and APIs go to D1, then, once the write has committed, drop what
//! the isolate's memory and KV hold of them (never before: a read in between would cache the
//! old row again), so the next read here sees the write; other isolates see it when their
//! memory entry ends (`CACHE_TTL_SECONDS`), and KV's deletion reaches every location within
//! its propagation delay (about 60 s).

use super::EdgeStores;
use crate::error::StoreError;
use crate::model::{Api, Client, ClientGrant, Listed, Paging};
use crate::port::settled::Settle;
use crate::port::RegistryStore;

/// Every grant on one API, for dropping the cached clients that embed it.
const ALL: Paging = Paging {
    offset: 0,
    limit: 10_000,
};

impl EdgeStores<'_> {
    /// Drops a KV entry; a failure is reported (the write is done; the entry would serve a
    /// stale value until its TTL).
    async fn forget_kv(&self, key: String) -> Result<(), StoreError> {
        if let Some(kv) = &self.kv {
            kv.delete(&key)
                .settle()
                .await
                .map_err(|e| StoreError::backend("kv", format!("delete {key}: {e}")))?;
        }
        Ok(())
    }

    async fn forget_client(&self, client_id: &str) -> Result<(), StoreError> {
        self.memory.clients.forget(client_id);
        self.forget_kv(format!("v5:client:{client_id}"))
            .settle()
            .await
    }

    async fn forget_origins(&self, origins: &[String]) -> Result<(), StoreError> {
        for origin in origins {
            self.memory.origins.forget(origin);
            self.forget_kv(format!("v5:origin:{origin}"))
                .settle()
                .await?;
        }
        Ok(())
    }

    /// The clients holding a grant on an API, read from D1 (a client's cached entry carries
    /// its grants' APIs).
    async fn grant_holders(&self, identifier: &str) -> Result<Vec<String>, StoreError> {
        let grants = self
            .d1
            .list_client_grants(None, Some(identifier), ALL)
            .settle()
            .await?;
        Ok(grants.items.into_iter().map(|g| g.client_id).collect())
    }

    /// Drops the API and the cached clients in `holders`.
    async fn forget_api(&self, identifier: &str, holders: &[String]) -> Result<(), StoreError> {
        self.memory.apis.forget(identifier);
        self.forget_kv(format!("v5:api:{identifier}"))
            .settle()
            .await?;
        for client_id in holders {
            self.forget_client(client_id).settle().await?;
        }
        Ok(())
    }

    /// The origins a client lists now, read from D1 (not the cache).
    async fn origins_of(&self, client_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .d1
            .registered_client(client_id)
            .settle()
            .await?
            .map(|c| c.web_origins)
            .unwrap_or_default())
    }
}

impl RegistryStore for EdgeStores<'_> {
    async fn registered_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        self.d1.registered_client(client_id).settle().await
    }

    async fn registered_api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        self.d1.registered_api(identifier).settle().await
    }

    async fn list_clients(&self, paging: Paging) -> Result<Listed<Client>, StoreError> {
        self.d1.list_clients(paging).settle().await
    }

    async fn create_client(&self, client: &Client) -> Result<(), StoreError> {
        self.d1.create_client(client).settle().await?;
        // An unknown id is cached as absent; so is an origin nobody listed.
        self.forget_client(&client.client_id).settle().await?;
        // It is enabled on every connection.
        self.forget_connections().settle().await?;
        self.forget_origins(&client.web_origins).settle().await
    }

    async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
        let before = self.origins_of(&client.client_id).settle().await?;
        let updated = self.d1.update_client(client).settle().await?;
        self.forget_client(&client.client_id).settle().await?;
        self.forget_origins(&before).settle().await?;
        self.forget_origins(&client.web_origins).settle().await?;
        Ok(updated)
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let before = self.origins_of(client_id).settle().await?;
        let deleted = self.d1.delete_client(client_id).settle().await?;
        self.forget_client(client_id).settle().await?;
        self.forget_origins(&before).settle().await?;
        Ok(deleted)
    }

    async fn list_client_grants(
        &self,
        client_id: Option<&str>,
        audience: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<ClientGrant>, StoreError> {
        self.d1
            .list_client_grants(client_id, audience, paging)
            .settle()
            .await
    }

    async fn create_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError> {
        let created = self.d1.create_client_grant(grant).settle().await?;
        self.forget_client(&grant.client_id).settle().await?;
        Ok(created)
    }

    async fn update_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError> {
        let updated = self.d1.update_client_grant(grant).settle().await?;
        self.forget_client(&grant.client_id).settle().await?;
        Ok(updated)
    }

    async fn delete_client_grant(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<bool, StoreError> {
        let deleted = self
            .d1
            .delete_client_grant(client_id, audience)
            .settle()
            .await?;
        self.forget_client(client_id).settle().await?;
        Ok(deleted)
    }

    async fn list_apis(&self, paging: Paging) -> Result<Listed<Api>, StoreError> {
        self.d1.list_apis(paging).settle().await
    }

    async fn create_api(&self, api: &Api) -> Result<(), StoreError> {
        self.d1.create_api(api).settle().await?;
        let holders = self.grant_holders(&api.identifier).settle().await?;
        self.forget_api(&api.identifier, &holders).settle().await
    }

    async fn update_api(&self, api: &Api) -> Result<bool, StoreError> {
        let updated = self.d1.update_api(api).settle().await?;
        let holders = self.grant_holders(&api.identifier).settle().await?;
        self.forget_api(&api.identifier, &holders).settle().await?;
        Ok(updated)
    }

    async fn delete_api(&self, identifier: &str) -> Result<bool, StoreError> {
        // The clients that hold grants on it are found before the cascade removes them, and
        // nothing is forgotten before the delete commits: a read in between would cache the
        // API again, until the entry's TTL.
        let holders = self.grant_holders(identifier).settle().await?;
        let deleted = self.d1.delete_api(identifier).settle().await?;
        self.forget_api(identifier, &holders).settle().await?;
        Ok(deleted)
    }
}
