//! Connections and the clients each one is enabled for.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Connection, Listed, Paging};

/// Connections. [`ConnectionStore::all_connections`] is what sign-in reads (a backend may cache
/// it, as the Worker does in front of D1); every write here makes the next read of it see
/// the change, within the cache bounds of other isolates (docs/storage.md). The other reads
/// come from the system of record.
pub trait ConnectionStore {
    /// Every connection with its enabled clients, oldest first: what a sign-in chooses from.
    async fn all_connections(&self) -> Result<Vec<Connection>, StoreError>;
    /// The connection with this id, as stored now.
    async fn connection(&self, id: &str) -> Result<Option<Connection>, StoreError>;
    /// A page of connections, oldest first; only those of `strategy` and `name` when given.
    async fn list_connections(
        &self,
        strategy: Option<&str>,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Connection>, StoreError>;
    /// Stores a new connection with its enabled clients (ids of clients that do not exist
    /// are left out). A taken id or name is [`StoreError::Conflict`].
    async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError>;
    /// Replaces the display name, options, metadata and enabled clients of the connection
    /// (its id, name and strategy stay); whether there was one.
    async fn update_connection(&self, connection: &Connection) -> Result<bool, StoreError>;
    /// Enables (`true`) or disables each client for the connection, in one atomic write;
    /// whether there was one.
    async fn set_connection_clients(
        &self,
        id: &str,
        changes: &[(String, bool)],
    ) -> Result<bool, StoreError>;
    /// Deletes the connection with its users and the identities linked through it; whether
    /// there was one.
    async fn delete_connection(&self, id: &str) -> Result<bool, StoreError>;
}
