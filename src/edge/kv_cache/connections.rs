//! Connections through the isolate's memory: what sign-in reads is one entry (every
//! connection with its enabled clients), kept for `CACHE_TTL_SECONDS`; every write goes to D1
//! and then drops it. Not in KV: a cold isolate reads it from D1 (one read a TTL per isolate),
//! which kept the Worker under its size budget (KV's JSON reader for the type cost ~3 KiB gzip).

use super::EdgeStores;
use crate::error::StoreError;
use crate::model::{Connection, Listed, Paging};
use crate::port::settled::Settle;
use crate::port::ConnectionStore;

/// The one entry of [`super::IsolateCache::connections`].
const ALL: &str = "";

impl ConnectionStore for EdgeStores<'_> {
    async fn all_connections(&self) -> Result<Vec<Connection>, StoreError> {
        let shelf = &self.memory.connections;
        self.remembered(shelf, ALL, self.d1.all_connections())
            .settle()
            .await
    }

    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError> {
        self.d1.connection(id).settle().await
    }

    async fn list_connections(
        &self,
        strategy: Option<&str>,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Connection>, StoreError> {
        self.d1
            .list_connections(strategy, name, paging)
            .settle()
            .await
    }

    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.d1.create_connection(connection).settle().await?;
        self.forget_connections().settle().await
    }

    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError> {
        let updated = self.d1.update_connection(connection).settle().await?;
        self.forget_connections().settle().await?;
        Ok(updated)
    }

    async fn set_connection_clients(
        &self,
        id: &str,
        changes: &[(String, bool)],
    ) -> Result<bool, StoreError> {
        let found = self.d1.set_connection_clients(id, changes).settle().await?;
        self.forget_connections().settle().await?;
        Ok(found)
    }

    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError> {
        let deleted = self.d1.delete_connection(id).settle().await?;
        self.forget_connections().settle().await?;
        Ok(deleted)
    }
}

impl EdgeStores<'_> {
    /// Drops the cached connections of this isolate.
    pub(super) async fn forget_connections(&self) -> Result<(), StoreError> {
        self.memory.connections.forget(ALL);
        Ok(())
    }
}
