//! Roles (RBAC): named sets of permissions, each permission a scope of one API.

use serde::{Deserialize, Serialize};

/// A role. Users hold it globally or within an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub role_id: String,
    /// Unique in the tenant.
    pub name: String,
    pub description: Option<String>,
}

/// A permission: a scope of the API `audience`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Permission {
    pub audience: String,
    pub permission: String,
}

/// A permission a user holds, and the role it comes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPermission {
    pub permission: Permission,
    pub role_id: String,
}
