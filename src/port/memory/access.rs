//! Roles and organizations in memory, with D1's semantics: unique ids and names, writes all
//! or nothing, deletes that cascade, lists in insertion order.

use super::{page, MemoryStore};
use crate::error::StoreError;
use crate::model::{HeldPermission, Listed, Organization, Paging, Permission, Role, User};
use crate::port::{HasOrganizations, HasRoles, OrganizationStore, RoleStore};

impl MemoryStore {
    fn role_exists(&self, role_id: &str) -> bool {
        self.roles
            .borrow()
            .iter()
            .any(|(r, _)| r.role_id == role_id)
    }

    fn user_exists(&self, user_id: &str) -> bool {
        self.users.borrow().iter().any(|u| u.user_id == user_id)
    }

    fn is_member(&self, org_id: &str, user_id: &str) -> bool {
        self.members
            .borrow()
            .iter()
            .any(|(o, u)| o == org_id && u == user_id)
    }

    /// The users with these ids, in the order given.
    fn users_by_id(&self, ids: impl Iterator<Item = String>) -> Vec<User> {
        let users = self.users.borrow();
        ids.filter_map(|id| users.iter().find(|u| u.user_id == id).cloned())
            .collect()
    }
}

impl RoleStore for MemoryStore {
    async fn create_role(&self, role: &Role) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut roles = self.roles.borrow_mut();
        if roles
            .iter()
            .any(|(r, _)| r.role_id == role.role_id || r.name == role.name)
        {
            return Err(StoreError::Conflict("the role exists".into()));
        }
        roles.push((role.clone(), Vec::new()));
        Ok(())
    }

    async fn role(&self, role_id: &str) -> Result<Option<Role>, StoreError> {
        let _trip = self.round_trip()?;
        let roles = self.roles.borrow();
        Ok(roles
            .iter()
            .find(|(r, _)| r.role_id == role_id)
            .map(|(r, _)| r.clone()))
    }

    async fn list_roles(
        &self,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError> {
        let _trip = self.round_trip()?;
        let roles = self.roles.borrow();
        let found = roles
            .iter()
            .filter(|(r, _)| name.is_none_or(|n| r.name == n))
            .map(|(r, _)| r.clone());
        Ok(page(found.collect(), paging))
    }

    async fn update_role(&self, role: &Role) -> Result<Option<()>, StoreError> {
        let _trip = self.round_trip()?;
        let mut roles = self.roles.borrow_mut();
        if roles
            .iter()
            .any(|(r, _)| r.name == role.name && r.role_id != role.role_id)
        {
            return Err(StoreError::Conflict("the role name is taken".into()));
        }
        let Some((stored, _)) = roles.iter_mut().find(|(r, _)| r.role_id == role.role_id) else {
            return Ok(None);
        };
        *stored = role.clone();
        Ok(Some(()))
    }

    async fn delete_role(&self, role_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut roles = self.roles.borrow_mut();
        let before = roles.len();
        roles.retain(|(r, _)| r.role_id != role_id);
        self.user_roles
            .borrow_mut()
            .retain(|(_, r, _)| r != role_id);
        Ok(roles.len() < before)
    }

    async fn role_permissions(
        &self,
        role_id: &str,
        paging: Paging,
    ) -> Result<Listed<Permission>, StoreError> {
        let _trip = self.round_trip()?;
        let roles = self.roles.borrow();
        let perms = roles
            .iter()
            .filter(|(r, _)| r.role_id == role_id)
            .flat_map(|(_, perms)| perms.iter())
            .map(|(audience, permission)| Permission {
                audience: audience.clone(),
                permission: permission.clone(),
            });
        Ok(page(perms.collect(), paging))
    }

    async fn add_permissions(&self, role_id: &str, add: &[Permission]) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let apis = self.apis.borrow();
        let mut roles = self.roles.borrow_mut();
        let Some((_, perms)) = roles.iter_mut().find(|(r, _)| r.role_id == role_id) else {
            return Ok(false);
        };
        // D1's foreign key: a permission names an API that exists.
        if add
            .iter()
            .any(|p| !apis.iter().any(|a| a.identifier == p.audience))
        {
            return Err(StoreError::backend(
                "memory",
                "FOREIGN KEY constraint failed",
            ));
        }
        for p in add {
            let pair = (p.audience.clone(), p.permission.clone());
            if !perms.contains(&pair) {
                perms.push(pair);
            }
        }
        Ok(true)
    }

    async fn remove_permissions(
        &self,
        role_id: &str,
        remove: &[Permission],
    ) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut roles = self.roles.borrow_mut();
        for (_, perms) in roles.iter_mut().filter(|(r, _)| r.role_id == role_id) {
            perms.retain(|(a, p)| {
                !remove
                    .iter()
                    .any(|r| r.audience == *a && r.permission == *p)
            });
        }
        Ok(())
    }

    async fn role_users(&self, role_id: &str, paging: Paging) -> Result<Listed<User>, StoreError> {
        let _trip = self.round_trip()?;
        let holders: Vec<String> = self
            .user_roles
            .borrow()
            .iter()
            .filter(|(_, r, o)| r == role_id && o.is_empty())
            .map(|(u, _, _)| u.clone())
            .collect();
        Ok(page(self.users_by_id(holders.into_iter()), paging))
    }

    async fn assign_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let ok = self.user_exists(user_id)
            && role_ids.iter().all(|r| self.role_exists(r))
            && (org_id.is_empty() || self.is_member(org_id, user_id));
        if !ok {
            return Ok(false);
        }
        let mut held = self.user_roles.borrow_mut();
        for role_id in role_ids {
            let row = (user_id.to_string(), role_id.clone(), org_id.to_string());
            if !held.contains(&row) {
                held.push(row);
            }
        }
        Ok(true)
    }

    async fn remove_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.user_roles
            .borrow_mut()
            .retain(|(u, r, o)| !(u == user_id && o == org_id && role_ids.contains(r)));
        Ok(())
    }

    async fn user_roles(
        &self,
        user_id: &str,
        org_id: &str,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError> {
        let _trip = self.round_trip()?;
        let roles = self.roles.borrow();
        let held: Vec<Role> = self
            .user_roles
            .borrow()
            .iter()
            .filter(|(u, _, o)| u == user_id && o == org_id)
            .filter_map(|(_, r, _)| roles.iter().find(|(role, _)| role.role_id == *r))
            .map(|(role, _)| role.clone())
            .collect();
        Ok(page(held, paging))
    }

    async fn user_permissions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<HeldPermission>, StoreError> {
        let _trip = self.round_trip()?;
        let roles = self.roles.borrow();
        let mut held: Vec<HeldPermission> = Vec::new();
        for (u, r, o) in self.user_roles.borrow().iter() {
            if u != user_id || !o.is_empty() {
                continue;
            }
            let Some((role, perms)) = roles.iter().find(|(role, _)| role.role_id == *r) else {
                continue;
            };
            for (audience, permission) in perms {
                held.push(HeldPermission {
                    permission: Permission {
                        audience: audience.clone(),
                        permission: permission.clone(),
                    },
                    role_id: role.role_id.clone(),
                });
            }
        }
        held.sort_by(|a, b| (&a.permission, &a.role_id).cmp(&(&b.permission, &b.role_id)));
        Ok(page(held, paging))
    }
}

impl OrganizationStore for MemoryStore {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut orgs = self.orgs.borrow_mut();
        if orgs
            .iter()
            .any(|o| o.org_id == org.org_id || o.name == org.name)
        {
            return Err(StoreError::Conflict("the organization exists".into()));
        }
        orgs.push(org.clone());
        Ok(())
    }

    async fn organization(&self, org_id: &str) -> Result<Option<Organization>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self
            .orgs
            .borrow()
            .iter()
            .find(|o| o.org_id == org_id)
            .cloned())
    }

    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self.orgs.borrow().iter().find(|o| o.name == name).cloned())
    }

    async fn list_organizations(&self, paging: Paging) -> Result<Listed<Organization>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(page(self.orgs.borrow().clone(), paging))
    }

    async fn update_organization(&self, org: &Organization) -> Result<Option<()>, StoreError> {
        let _trip = self.round_trip()?;
        let mut orgs = self.orgs.borrow_mut();
        if orgs
            .iter()
            .any(|o| o.name == org.name && o.org_id != org.org_id)
        {
            return Err(StoreError::Conflict(
                "the organization name is taken".into(),
            ));
        }
        let Some(stored) = orgs.iter_mut().find(|o| o.org_id == org.org_id) else {
            return Ok(None);
        };
        *stored = org.clone();
        Ok(Some(()))
    }

    async fn delete_organization(&self, org_id: &str) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let mut orgs = self.orgs.borrow_mut();
        let before = orgs.len();
        orgs.retain(|o| o.org_id != org_id);
        self.members.borrow_mut().retain(|(o, _)| o != org_id);
        self.user_roles.borrow_mut().retain(|(_, _, o)| o != org_id);
        Ok(orgs.len() < before)
    }

    async fn add_members(&self, org_id: &str, user_ids: &[String]) -> Result<bool, StoreError> {
        let _trip = self.round_trip()?;
        let org_exists = self.orgs.borrow().iter().any(|o| o.org_id == org_id);
        if !org_exists || !user_ids.iter().all(|u| self.user_exists(u)) {
            return Ok(false);
        }
        let mut members = self.members.borrow_mut();
        for user_id in user_ids {
            let row = (org_id.to_string(), user_id.clone());
            if !members.contains(&row) {
                members.push(row);
            }
        }
        Ok(true)
    }

    async fn remove_members(&self, org_id: &str, user_ids: &[String]) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        self.members
            .borrow_mut()
            .retain(|(o, u)| !(o == org_id && user_ids.contains(u)));
        self.user_roles
            .borrow_mut()
            .retain(|(u, _, o)| !(o == org_id && user_ids.contains(u)));
        Ok(())
    }

    async fn members(&self, org_id: &str, paging: Paging) -> Result<Listed<User>, StoreError> {
        let _trip = self.round_trip()?;
        let ids: Vec<String> = self
            .members
            .borrow()
            .iter()
            .filter(|(o, _)| o == org_id)
            .map(|(_, u)| u.clone())
            .collect();
        Ok(page(self.users_by_id(ids.into_iter()), paging))
    }

    async fn user_organizations(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Organization>, StoreError> {
        let _trip = self.round_trip()?;
        let orgs = self.orgs.borrow();
        let mine: Vec<Organization> = self
            .members
            .borrow()
            .iter()
            .filter(|(_, u)| u == user_id)
            .filter_map(|(o, _)| orgs.iter().find(|org| org.org_id == *o).cloned())
            .collect();
        Ok(page(mine, paging))
    }
}

impl HasRoles for MemoryStore {
    fn roles(&self) -> &impl RoleStore {
        self
    }
}

impl HasOrganizations for MemoryStore {
    fn organizations(&self) -> &impl OrganizationStore {
        self
    }
}
