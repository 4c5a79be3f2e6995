//! Clients and APIs.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Api, Client};

/// Read access to clients and APIs.
pub trait ClientStore {
    /// The client with this id (exact match), with its [`Client::grants`] joined to the APIs
    /// they name; a grant on an API that no longer exists is left out.
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    /// The API with this identifier, if registered (exact string match).
    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError>;
    /// Whether some client lists `origin` (exact string) among its `web_origins`: browsers
    /// from it may call the issuer (CORS).
    async fn web_origin_registered(&self, origin: &str) -> Result<bool, StoreError>;
}
