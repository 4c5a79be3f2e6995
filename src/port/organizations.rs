//! Organizations and their members.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Listed, Organization, Paging, User};

/// Organizations. Lists are in insertion order; every write is one atomic operation.
pub trait OrganizationStore {
    /// Stores a new organization. A taken id or name is [`StoreError::Conflict`].
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError>;
    /// The organization with this id.
    async fn organization(&self, org_id: &str) -> Result<Option<Organization>, StoreError>;
    /// The organization with this name.
    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>, StoreError>;
    /// A page of organizations.
    async fn list_organizations(&self, paging: Paging) -> Result<Listed<Organization>, StoreError>;
    /// Replaces the organization's fields but its id; `None` when there is none. A taken
    /// name is [`StoreError::Conflict`].
    async fn update_organization(&self, org: &Organization) -> Result<Option<()>, StoreError>;
    /// Deletes the organization with its memberships and the roles held in it; reports
    /// whether there was one.
    async fn delete_organization(&self, org_id: &str) -> Result<bool, StoreError>;
    /// Makes the users members (members already stay). All or nothing: `false`, and nothing
    /// written, when the organization or a user does not exist.
    async fn add_members(&self, org_id: &str, user_ids: &[String]) -> Result<bool, StoreError>;
    /// Ends the memberships, and the roles the users held in the organization.
    async fn remove_members(&self, org_id: &str, user_ids: &[String]) -> Result<(), StoreError>;
    /// A page of the organization's members.
    async fn members(&self, org_id: &str, paging: Paging) -> Result<Listed<User>, StoreError>;
    /// A page of the organizations the user is a member of.
    async fn user_organizations(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Organization>, StoreError>;
}
