//! Connections through the caches: what sign-in reads is one entry (every connection with
//! its enabled clients), kept in the isolate and in KV; every write goes to D1 and then
//! drops it.

use super::EdgeStores;
use crate::error::StoreError;
use crate::model::{Connection, Listed, Paging};
use crate::port::ConnectionStore;

/// The KV key of the connections entry.
const KEY: &str = "v5:connections";
/// The one entry of [`super::IsolateCache::connections`].
const ALL: &str = "";

impl ConnectionStore for EdgeStores<'_> {
    async fn all_connections(&self) -> Result<Vec<Connection>, StoreError> {
        let shelf = &self.memory.connections;
        self.remembered(shelf, ALL, async {
            self.read_through(shelf, KEY.to_string(), async {
                self.d1.all_connections().await.map(Some)
            })
            .await
            .map(Option::unwrap_or_default)
        })
        .await
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        self.d1.connection(id).await
    }

    async fn list_connections(
        &self,
        strategy: Option<&str>,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Connection>, StoreError> {
        self.d1.list_connections(strategy, name, paging).await
    }

    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.d1.create_connection(connection).await?;
        self.forget_connections().await
    }

    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        let updated = self.d1.update_connection(connection).await?;
        self.forget_connections().await?;
        Ok(updated)
    }

    async fn set_connection_clients(
        &self,
        id: &str,
        changes: &[(String, bool)],
    ) -> Result<bool, StoreError> {
        let found = self.d1.set_connection_clients(id, changes).await?;
        self.forget_connections().await?;
        Ok(found)
    }

    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self.d1.delete_connection(id).await?;
        self.forget_connections().await?;
        Ok(deleted)
    }
}

impl EdgeStores<'_> {
    /// Drops the cached connections, here and in KV.
    pub(super) async fn forget_connections(&self) -> Result<(), StoreError> {
        self.memory.connections.forget(ALL);
        if let Some(kv) = &self.kv {
            kv.delete(KEY)
                .await
                .map_err(|e| StoreError::backend("kv", format!("delete: {e}")))?;
        }
        Ok(())
    }
}
