//! The records the storage ports read and write.

use crate::claims::hooks::OnFailure;
use crate::claims::Trigger;
use serde::{Deserialize, Serialize};

fn default_absolute() -> u64 {
    30 * 86_400
}
fn default_idle() -> u64 {
    15 * 86_400
}
fn default_alg() -> String {
    "ES256".into()
}
fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    /// `sha256:` hash of the secret ([`crate::secret::hash_client_secret`]); `None` for a
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
    /// `ES256` (default) or `RS256` (OIDC Registration's `id_token_signed_response_alg`).
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: String,
    /// Tenant-defined data about the client (JSON object), visible to rules and hooks.
    #[serde(default = "empty_object")]
    pub client_metadata: serde_json::Value,
}

impl Client {
    /// The client's grant on the API `audience`, if it has one.
    pub fn grant_for(&self, audience: &str) -> Option<&ApiGrant> {
        self.grants.iter().find(|g| g.api.identifier == audience)
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
    /// API is for machine clients only (see [`crate::grant::user_may_hold`]).
    #[serde(default)]
    pub user_grantable_scopes: Vec<String>,
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
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    /// `v1.<nonce>.<ciphertext>`: the PKCS#8 private key under AES-256-GCM.
    pub private_key_enc: String,
    pub created_at: u64,
}

/// An end user of a database connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    /// `<provider>|<id>`, e.g. `auth0|5f7c…`: the stable `sub`.
    pub user_id: String,
    /// The connection (realm) the user belongs to.
    pub connection: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    /// User-editable data (JSON object).
    pub user_metadata: serde_json::Value,
    /// Authorization data only the tenant writes (JSON object).
    pub app_metadata: serde_json::Value,
    pub blocked: bool,
    /// Self-describing hash ([`crate::password`]); `None` when the user has no password.
    pub password_hash: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    pub last_login: Option<u64>,
    pub logins_count: u64,
}

/// One refresh token of a family (RFC 9700 §4.14.2), stored by the hash of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// base64url(SHA-256(token)).
    pub token_hash: String,
    /// Every token rotated from one grant shares this id.
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    /// The API the grant was for, if any.
    pub audience: Option<String>,
    /// The scope of the grant (space-separated): every token of the family carries the same
    /// (RFC 6749 §6); a refresh may narrow the access token's scope, never widen it.
    pub scope: String,
    /// When the user authenticated (OIDC Core §12.2: kept across refreshes).
    pub auth_time: u64,
    pub created_at: u64,
    pub idle_expires_at: u64,
    pub absolute_expires_at: u64,
    pub used_at: Option<u64>,
    /// When the token's family was revoked (a family row holds it; see [`super::RefreshStore`]).
    pub revoked_at: Option<u64>,
    /// The organization the grant was made in, if any.
    #[serde(default)]
    pub org_id: Option<String>,
}

/// An organization: users are members, with roles per organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub org_id: String,
    /// Unique; a token request may name the organization by id or by name.
    pub name: String,
    pub display_name: Option<String>,
    /// Whether tokens carry `org_name` besides `org_id`.
    pub token_org_name: bool,
}

/// Brute-force policy (RFC 6749 §4.3.2): failures per user and IP within a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub max_failures: u32,
    pub window_seconds: u64,
    pub lock_seconds: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window_seconds: 900,
            lock_seconds: 900,
        }
    }
}

/// A hook as stored: its HMAC secret sealed under the key-encryption key (AAD = hook id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHook {
    pub hook_id: String,
    pub name: String,
    pub trigger: Trigger,
    pub position: i64,
    pub enabled: bool,
    /// An https endpoint, or
    pub url: Option<String>,
    /// a service binding name.
    pub service: Option<String>,
    pub secret_enc: String,
    pub timeout_ms: u64,
    pub on_failure: OnFailure,
}

/// What a user may do: role names, and permissions on the API of the issuance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAccess {
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}
