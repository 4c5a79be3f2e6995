//! Identities: the accounts at identity providers a user signs in with. A user has the one
//! they were created with and those linked to them; each belongs to one user.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One identity, as Auth0 shows it in `identities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The connection's name.
    pub connection: String,
    /// `auth0` for a database user; the upstream provider's name otherwise.
    pub provider: String,
    /// The provider's id of the account (the part of a `user_id` after `provider|`).
    pub user_id: String,
    #[serde(rename = "isSocial")]
    pub is_social: bool,
    /// The provider's profile of the account (empty for a database identity).
    #[serde(rename = "profileData", default, skip_serializing_if = "Map::is_empty")]
    pub profile_data: Map<String, Value>,
}

impl Identity {
    /// The `provider|id` of a user whose primary identity this is.
    pub fn as_user_id(&self) -> String {
        format!("{}|{}", self.provider, self.user_id)
    }
}
