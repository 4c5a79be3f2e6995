//! End users, their access, and the brute-force policy that guards their passwords.

use super::Organization;
use serde::{Deserialize, Serialize};

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
    /// Self-describing hash (`$pbkdf2-sha256$…`, or an imported bcrypt hash); `None` when the user has no password.
    pub password_hash: Option<String>,
    pub created_at: u64,
    pub updated_at: u64,
    pub last_login: Option<u64>,
    pub logins_count: u64,
    /// The user's identities as stored: the one they were created with first, then those
    /// linked to them. Written by the store, never from this field.
    #[serde(default)]
    pub identities: Vec<super::Identity>,
    /// Auth0's `multifactor`: `["guardian"]` when the user has a confirmed second factor.
    /// Written by the store, never from this field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub multifactor: Vec<String>,
    /// The browsers the user had remembered until this time are forgotten (Unix seconds; 0:
    /// none). Written by the store, never from this field; shown to no one.
    #[serde(skip)]
    pub browsers_forgotten_at: u64,
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

/// What a user may do: role names, and permissions on the API of the issuance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAccess {
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// What a user grant or `/userinfo` reads about its user, in one storage round trip: the
/// user, the organization the request names and whether the user belongs to it, and the
/// user's roles and permissions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    /// The user, if one matches.
    pub user: Option<User>,
    /// The organization asked for (by id, else by name), if it exists.
    pub organization: Option<Organization>,
    /// Whether the user is a member of `organization`.
    pub member: bool,
    /// Global roles plus the roles within `organization`, and their permissions on the API
    /// asked for.
    pub access: UserAccess,
}
