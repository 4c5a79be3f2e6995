//! Roles, permissions and organizations.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Api, Organization, UserAccess};

/// Roles, permissions and organizations.
pub trait DirectoryStore {
    /// The organization with this id, or else with this name.
    async fn organization(&self, id_or_name: &str) -> Result<Option<Organization>, StoreError>;
    /// Whether the user is a member of the organization.
    async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// The user's role names and their permissions on `api`: global roles, plus the roles
    /// within `org` when one is given. Sorted, without duplicates.
    async fn user_access(
        &self,
        user_id: &str,
        org: Option<&Organization>,
        api: Option<&Api>,
    ) -> Result<UserAccess, StoreError>;
}
