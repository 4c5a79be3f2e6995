//! Organizations.

use serde::{Deserialize, Serialize};

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
