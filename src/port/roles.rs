//! Roles, their permissions, and who holds them.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{HeldPermission, Listed, Paging, Permission, Role, User};

/// Roles (RBAC). Lists are in insertion order (roles, permissions, holders), so a page
/// boundary does not move when rows are added. Every write is one atomic operation.
pub trait RoleStore {
    /// Stores a new role. A taken id or name is [`StoreError::Conflict`].
    async fn create_role(&self, role: &Role) -> Result<(), StoreError>;
    /// The role with this id.
    async fn role(&self, role_id: &str) -> Result<Option<Role>, StoreError>;
    /// A page of roles, only those named `name` (exactly) when given.
    async fn list_roles(
        &self,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError>;
    /// Replaces the role's name and description; `None` when there is no such role. A taken
    /// name is [`StoreError::Conflict`].
    async fn update_role(&self, role: &Role) -> Result<Option<()>, StoreError>;
    /// Deletes the role, its permissions and every assignment of it; reports whether there
    /// was one.
    async fn delete_role(&self, role_id: &str) -> Result<bool, StoreError>;
    /// A page of the role's permissions.
    async fn role_permissions(
        &self,
        role_id: &str,
        paging: Paging,
    ) -> Result<Listed<Permission>, StoreError>;
    /// Adds permissions to the role (those it has already stay as they are); `false` when
    /// there is no such role (nothing is written).
    async fn add_permissions(&self, role_id: &str, add: &[Permission]) -> Result<bool, StoreError>;
    /// Removes permissions from the role (absent ones are ignored).
    async fn remove_permissions(
        &self,
        role_id: &str,
        remove: &[Permission],
    ) -> Result<(), StoreError>;
    /// A page of the users holding the role globally.
    async fn role_users(&self, role_id: &str, paging: Paging) -> Result<Listed<User>, StoreError>;
    /// Gives the user the roles, globally (`org_id` empty) or within that organization, of
    /// which the user must be a member. All or nothing: `false`, and nothing written, when
    /// the user, a role or the membership does not exist. Roles already held stay.
    async fn assign_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<bool, StoreError>;
    /// Takes the roles away (globally, or within `org_id`); absent ones are ignored.
    async fn remove_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<(), StoreError>;
    /// A page of the roles the user holds globally (`org_id` empty) or within `org_id`.
    async fn user_roles(
        &self,
        user_id: &str,
        org_id: &str,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError>;
    /// A page of the permissions the user holds through global roles, sorted by API and
    /// permission, once per role that grants it.
    async fn user_permissions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<HeldPermission>, StoreError>;
}
