//! The tenant's registrations, as the management API edits them: clients, their grants on
//! APIs, and the APIs (resource servers). The token endpoint reads them through
//! [`crate::port::ClientStore`], which a backend may cache: every write here makes the next
//! read of what it changed see it (the Worker drops its cached entries), within the cache
//! bounds of other isolates (docs/storage.md).
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Api, Client, ClientGrant, Listed, Paging};

/// Registrations. Lists are in insertion order; every write is one atomic operation. Reads
/// here come from the system of record, never a cache: an edit starts from what is stored.
pub trait RegistryStore {
    /// The client with this id, as stored now (its grants joined as
    /// [`crate::port::ClientStore::client`] joins them).
    async fn registered_client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    /// The API with this identifier, as stored now.
    async fn registered_api(&self, identifier: &str) -> Result<Option<Api>, StoreError>;
    /// A page of clients (without their grants: [`RegistryStore::list_client_grants`]).
    async fn list_clients(&self, paging: Paging) -> Result<Listed<Client>, StoreError>;
    /// Stores a new client (its grants are not read). A taken id is
    /// [`StoreError::Conflict`].
    async fn create_client(&self, client: &Client) -> Result<(), StoreError>;
    /// Replaces every field of the client but its id and grants; whether there was one.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// Deletes the client with its grants, codes and refresh tokens; whether there was one.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError>;
    /// A page of client grants, only those of `client_id` and of `audience` when given.
    async fn list_client_grants(
        &self,
        client_id: Option<&str>,
        audience: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<ClientGrant>, StoreError>;
    /// Stores a new grant: `false` (nothing stored) when the client or the API does not
    /// exist; a grant of that client on that API already stored is [`StoreError::Conflict`].
    async fn create_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError>;
    /// Replaces the grant's scopes; whether there was one.
    async fn update_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError>;
    /// Deletes the grant; whether there was one.
    async fn delete_client_grant(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<bool, StoreError>;
    /// A page of APIs.
    async fn list_apis(&self, paging: Paging) -> Result<Listed<Api>, StoreError>;
    /// Stores a new API. A taken identifier is [`StoreError::Conflict`].
    async fn create_api(&self, api: &Api) -> Result<(), StoreError>;
    /// Replaces every field of the API but its identifier; whether there was one.
    async fn update_api(&self, api: &Api) -> Result<bool, StoreError>;
    /// Deletes the API with the grants and role permissions on it (clients that named it as
    /// their default audience have none after); whether there was one.
    async fn delete_api(&self, identifier: &str) -> Result<bool, StoreError>;
}
