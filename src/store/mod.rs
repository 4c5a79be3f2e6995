//! Storage ports: what the core needs from storage, with the security contract of each
//! operation written on it. D1 implements them in the Worker (`edge::d1`); [`memory`]
//! implements them for native tests and behaves the same way.
//
// The traits use `async fn` without `Send` bounds on purpose: Worker futures are `!Send`.
#![allow(async_fn_in_trait)]

pub mod memory;

use crate::error::StoreError;
use serde::{Deserialize, Serialize};

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// `sha256:` hash of the secret ([`crate::secret::hash_client_secret`]); `None` for a
    /// public client, which cannot use client_credentials.
    pub secret_hash: Option<String>,
    /// Grant types this client may use (`client_credentials`, ...).
    pub grant_types: Vec<String>,
    /// API identifier used when a token request names none (Auth0's default audience).
    pub default_audience: Option<String>,
    /// The APIs this client may call as itself (client_credentials), read with the client
    /// so the token endpoint needs one storage read.
    #[serde(default)]
    pub grants: Vec<ApiGrant>,
}

impl Client {
    /// The client's grant on the API `audience`, if it has one.
    pub fn grant_for(&self, audience: &str) -> Option<&ApiGrant> {
        self.grants.iter().find(|g| g.api.identifier == audience)
    }
}

/// One API a client was granted, with the scopes granted there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiGrant {
    pub api: Api,
    pub scopes: Vec<String>,
}

/// An API (resource server): what an access token's `aud` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Api {
    /// The `aud` value; an absolute URI by convention.
    pub identifier: String,
    pub name: String,
    /// Scopes the API defines.
    pub scopes: Vec<String>,
    /// Access-token lifetime in seconds.
    pub token_lifetime: u64,
}

/// The scopes a client was granted on one API (Auth0's "client grant"), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    pub scopes: Vec<String>,
}

/// A signing key as stored: public JWK in clear, private key encrypted
/// ([`crate::token::keys`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// `ES256`.
    pub alg: String,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    /// `v1.<nonce>.<ciphertext>`: the PKCS#8 private key under AES-256-GCM.
    pub private_key_enc: String,
    pub created_at: u64,
}

/// Read access to clients and APIs.
pub trait ClientStore {
    /// The client with this id (exact match), with its [`Client::grants`] joined to the APIs
    /// they name; a grant on an API that no longer exists is left out.
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    /// The API with this identifier, if registered (exact string match).
    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError>;
}

/// Signing keys.
pub trait KeyStore {
    /// The active key for `alg`, if any.
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError>;

    /// Stores `key` as the active key for its alg **unless one is already active**, and
    /// reports whether it was stored.
    ///
    /// Contract: atomic. Two concurrent calls on a store with no active key leave exactly
    /// one active key; the loser must then read and use the winner's key.
    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Every key whose public half is published in the JWKS (active and not yet expired
    /// retired keys), newest first.
    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
}
