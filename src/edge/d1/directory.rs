//! Roles, permissions and organizations.

use super::codec::{backend, flag};
use super::D1Store;
use crate::error::StoreError;
use crate::model::{Api, Organization, UserAccess};
use crate::port::DirectoryStore;
use serde::Deserialize;

#[derive(Deserialize)]
struct OrgRow {
    org_id: String,
    name: String,
    display_name: Option<String>,
    token_org_name: f64,
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
struct Permission {
    permission: String,
}

impl DirectoryStore for D1Store {
    async fn organization(&self, id_or_name: &str) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrgRow> = self
            .first(
                "SELECT org_id, name, display_name, token_org_name FROM organizations \
                 WHERE org_id = ?1 OR name = ?1 ORDER BY (org_id = ?1) DESC LIMIT 1",
                &[id_or_name.into()],
            )
            .await?;
        Ok(row.map(|r| Organization {
            org_id: r.org_id,
            name: r.name,
            display_name: r.display_name,
            token_org_name: flag(r.token_org_name),
        }))
    }

    async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let row: Option<serde_json::Value> = self
            .first(
                "SELECT 1 AS found FROM organization_members WHERE org_id = ?1 AND user_id = ?2",
                &[org_id.into(), user_id.into()],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn user_access(
        &self,
        user_id: &str,
        org: Option<&Organization>,
        api: Option<&Api>,
    ) -> Result<UserAccess, StoreError> {
        let org_id = org.map_or("", |o| o.org_id.as_str());
        let audience = api.map_or("", |a| a.identifier.as_str());
        let args = [user_id.into(), org_id.into(), audience.into()];
        let roles = self
            .db
            .prepare(
                "SELECT DISTINCT r.name AS name FROM user_roles ur JOIN roles r ON r.role_id = ur.role_id \
                 WHERE ur.user_id = ?1 AND (ur.org_id = '' OR ur.org_id = ?2) AND ?3 = ?3 ORDER BY r.name",
            )
            .bind(&args)
            .map_err(backend)?;
        let permissions = self
            .db
            .prepare(
                "SELECT DISTINCT rp.permission AS permission FROM user_roles ur \
                 JOIN role_permissions rp ON rp.role_id = ur.role_id \
                 WHERE ur.user_id = ?1 AND (ur.org_id = '' OR ur.org_id = ?2) AND rp.audience = ?3 \
                 ORDER BY rp.permission",
            )
            .bind(&args)
            .map_err(backend)?;
        super::trip();
        let results = self
            .db
            .batch(vec![roles, permissions])
            .await
            .map_err(backend)?;
        let (Some(r), Some(p)) = (results.first(), results.get(1)) else {
            return Err(StoreError::backend("d1", "batch returned too few results"));
        };
        Ok(UserAccess {
            roles: r
                .results::<Name>()
                .map_err(backend)?
                .into_iter()
                .map(|n| n.name)
                .collect(),
            permissions: p
                .results::<Permission>()
                .map_err(backend)?
                .into_iter()
                .map(|p| p.permission)
                .collect(),
        })
    }
}
