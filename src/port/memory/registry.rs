//! Clients, grants and APIs in memory, with D1's semantics: unique ids, grants only between
//! a client and an API that exist, deletes that cascade, lists in insertion order.

use super::{page, MemoryStore};
use crate::error::StoreError;
use crate::model::{Api, Client, ClientGrant, Listed, Paging};
use crate::port::{ClientStore, HasRegistry, RegistryStore};

impl RegistryStore for MemoryStore {
    async fn registered_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let _trip = self.round_trip()?;
        ClientStore::client(self, client_id).await
    }

    async fn registered_api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        let _trip = self.round_trip()?;
        ClientStore::api(self, identifier).await
    }

    async fn list_clients(&self, paging: Paging) -> Result<Listed<Client>, StoreError> {
        let _trip = self.round_trip()?;
        let clients = self.clients.borrow();
        let listed = clients.iter().map(|c| Client {
            grants: Vec::new(),
            ..c.clone()
        });
        Ok(page(listed.collect(), paging))
    }

    async fn create_client(&self, client: &Client) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut clients = self.clients.borrow_mut();
        if clients.iter().any(|c| c.client_id == client.client_id) {
            return Err(StoreError::Conflict("the client exists".into()));
        }
        clients.push(Client {
            grants: Vec::new(),
            ..client.clone()
        });
        Ok(())
    }

    async fn update_client(&self, client: &Client) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut clients = self.clients.borrow_mut();
        let Some(stored) = clients.iter_mut().find(|c| c.client_id == client.client_id) else {
            return Ok(false);
        };
        *stored = Client {
            grants: Vec::new(),
            ..client.clone()
        };
        Ok(true)
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut clients = self.clients.borrow_mut();
        let before = clients.len();
        clients.retain(|c| c.client_id != client_id);
        self.grants
            .borrow_mut()
            .retain(|g| g.client_id != client_id);
        self.refresh
            .borrow_mut()
            .retain(|r| r.client_id != client_id);
        self.codes.borrow_mut().retain(|c| c.client_id != client_id);
        Ok(clients.len() < before)
    }

    async fn list_client_grants(
        &self,
        client_id: Option<&str>,
        audience: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<ClientGrant>, StoreError> {
        let _trip = self.round_trip()?;
        let grants = self.grants.borrow();
        let found = grants.iter().filter(|g| {
            client_id.is_none_or(|c| g.client_id == c) && audience.is_none_or(|a| g.audience == a)
        });
        Ok(page(found.cloned().collect(), paging))
    }

    async fn create_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let client = self
            .clients
            .borrow()
            .iter()
            .any(|c| c.client_id == grant.client_id);
        let api = self
            .apis
            .borrow()
            .iter()
            .any(|a| a.identifier == grant.audience);
        if !client || !api {
            return Ok(false);
        }
        let mut grants = self.grants.borrow_mut();
        if grants
            .iter()
            .any(|g| g.client_id == grant.client_id && g.audience == grant.audience)
        {
            return Err(StoreError::Conflict("the grant exists".into()));
        }
        grants.push(grant.clone());
        Ok(true)
    }

    async fn update_client_grant(&self, grant: &ClientGrant) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut grants = self.grants.borrow_mut();
        let stored = grants
            .iter_mut()
            .find(|g| g.client_id == grant.client_id && g.audience == grant.audience);
        Ok(stored.map(|g| g.scopes.clone_from(&grant.scopes)).is_some())
    }

    async fn delete_client_grant(
        &self,
        client_id: &str,
        audience: &str,
    ) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut grants = self.grants.borrow_mut();
        let before = grants.len();
        grants.retain(|g| !(g.client_id == client_id && g.audience == audience));
        Ok(grants.len() < before)
    }

    async fn list_apis(&self, paging: Paging) -> Result<Listed<Api>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(page(self.apis.borrow().clone(), paging))
    }

    async fn create_api(&self, api: &Api) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut apis = self.apis.borrow_mut();
        if apis.iter().any(|a| a.identifier == api.identifier) {
            return Err(StoreError::Conflict("the API exists".into()));
        }
        apis.push(api.clone());
        Ok(())
    }

    async fn update_api(&self, api: &Api) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut apis = self.apis.borrow_mut();
        let Some(stored) = apis.iter_mut().find(|a| a.identifier == api.identifier) else {
            return Ok(false);
        };
        *stored = api.clone();
        Ok(true)
    }

    async fn delete_api(&self, identifier: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut apis = self.apis.borrow_mut();
        let before = apis.len();
        apis.retain(|a| a.identifier != identifier);
        self.grants
            .borrow_mut()
            .retain(|g| g.audience != identifier);
        for (_, perms) in self.roles.borrow_mut().iter_mut() {
            perms.retain(|(a, _)| a != identifier);
        }
        for c in self.clients.borrow_mut().iter_mut() {
            if c.default_audience.as_deref() == Some(identifier) {
                c.default_audience = None;
            }
        }
        Ok(apis.len() < before)
    }
}

impl HasRegistry for MemoryStore {
    fn registry(&self) -> &impl RegistryStore {
        self
    }
}
