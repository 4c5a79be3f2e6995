//! Refresh tokens as stored.

use serde::{Deserialize, Serialize};

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
    /// When the token's family was revoked (a family row holds it; see `port::RefreshStore`).
    pub revoked_at: Option<u64>,
    /// The organization the grant was made in, if any.
    #[serde(default)]
    pub org_id: Option<String>,
    /// The `jti` of the access token issued with this refresh token, and its `exp`: revoking
    /// the family revokes that access token too.
    #[serde(default)]
    pub access_jti: Option<String>,
    #[serde(default)]
    pub access_expires_at: Option<u64>,
    /// How the user signed in for the grant, kept across refreshes (`None` for tokens stored
    /// before this was kept).
    #[serde(default)]
    pub authenticated: Option<super::Authenticated>,
}

/// An access token as issued: its `jti` and `exp`, recorded with what issued it (a code, a
/// refresh token) so revoking that revokes the access token too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedAccess {
    pub jti: String,
    pub expires_at: u64,
}

/// An access token revoked before its expiry (its refresh family was revoked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedToken {
    pub jti: String,
    /// The token's `exp`: the entry is kept until then.
    pub expires_at: u64,
    pub revoked_at: u64,
}
