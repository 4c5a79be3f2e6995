//! Clients, the APIs they call, and what each was granted.

use serde::{Deserialize, Serialize};

/// A client's refresh-token lifetimes and ID-token algorithm, and an API's access-token
/// algorithm, when not set.
pub const DEFAULT_ABSOLUTE_LIFETIME: u64 = 30 * 86_400;
pub const DEFAULT_IDLE_LIFETIME: u64 = 15 * 86_400;
pub const DEFAULT_ID_TOKEN_ALG: &str = "RS256";
pub const DEFAULT_ACCESS_ALG: &str = "ES256";

fn default_absolute() -> u64 {
    DEFAULT_ABSOLUTE_LIFETIME
}
fn default_idle() -> u64 {
    DEFAULT_IDLE_LIFETIME
}
fn default_alg() -> String {
    DEFAULT_ID_TOKEN_ALG.into()
}
fn default_access_alg() -> String {
    DEFAULT_ACCESS_ALG.into()
}
fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// `sha256:` hash of the secret ([`crate::model::secret::hash_client_secret`]); `None` for a
    /// public client, which authenticates with its `client_id` alone and cannot use
    /// client_credentials.
    pub secret_hash: Option<String>,
    /// Grant types this client may use (`client_credentials`, `password`, `refresh_token`).
    pub grant_types: Vec<String>,
    /// API identifier used when a token request names none (Auth0's default audience).
    pub default_audience: Option<String>,
    /// The APIs this client may call as itself (client_credentials), read with the client
    /// so the token endpoint needs one storage read.
    #[serde(default)]
    pub grants: Vec<ApiGrant>,
    /// Refresh-token family lifetime from first issue, seconds (default 30 days).
    #[serde(default = "default_absolute")]
    pub refresh_absolute_lifetime: u64,
    /// Refresh-token lifetime without use, seconds (default 15 days).
    #[serde(default = "default_idle")]
    pub refresh_idle_lifetime: u64,
    /// Seconds during which the just-rotated refresh token may be retried (default 0).
    #[serde(default)]
    pub refresh_reuse_interval: u64,
    /// `RS256` (default: OIDC Discovery requires it, Auth0's SDKs accept nothing else) or
    /// `ES256` (OIDC Registration's `id_token_signed_response_alg`).
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    /// Tenant-defined data about the client (JSON object), visible to rules and hooks.
    #[serde(default = "empty_object")]
    pub client_metadata: serde_json::Value,
    /// Where /authorize may send the user back, compared as exact strings (Auth0's
    /// "callbacks"; RFC 9700 §4.1.3).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Origins whose browser code may call the issuer (CORS) and receive `web_message`
    /// responses, as `scheme://host[:port]`.
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Where logout may send the user, compared as exact strings.
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    /// Where a sign-in of this client starts (Auth0's `initiate_login_uri`, https): the
    /// hosted pages offer it as the way back when a sign-in cannot go on.
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
}

impl Client {
    /// The client's grant on the API `audience`, if it has one.
    pub fn grant_for(&self, audience: &str) -> Option<&ApiGrant> {
        self.grants.iter().find(|g| g.api.identifier == audience)
    }

    /// Whether the client is public: no secret, so it proves nothing at the token endpoint
    /// but its `client_id` (and, for codes, the PKCE verifier).
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Whether the client may use `grant_type`.
    pub fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
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
    /// RBAC: a user's token carries only the requested scopes their permissions allow.
    #[serde(default)]
    pub rbac_enabled: bool,
    /// RBAC: tokens for this API carry a `permissions` array claim.
    #[serde(default)]
    pub token_permissions: bool,
    /// With RBAC off, the scopes a user-delegated token may carry; any other scope of the
    /// API is for machine clients only (the protocol layer's `user_may_hold` decides).
    #[serde(default)]
    pub user_grantable_scopes: Vec<String>,
    /// The algorithm of this API's access tokens: `ES256` (the default: small and fast) or
    /// `RS256`, for verifiers (some API gateways) that accept only RSA.
    #[serde(default = "default_access_alg")]
    pub signing_alg: String,
}

/// The scopes a client was granted on one API (Auth0's "client grant"), as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientGrant {
    pub client_id: String,
    pub audience: String,
    pub scopes: Vec<String>,
}
