//! Roles and organizations (schema in `migrations/0003_claims_rbac_orgs.sql`). Lists are in
//! insertion order (`rowid`) of the row that links them, so pages stay put as rows are added;
//! writes that must find their rows check them in the same batch (one transaction).

use super::codec::{flag, flag_arg, opt};
use super::sql::{Source, Sql, Value};
use super::users::{user_select, UserRow};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{HeldPermission, Listed, Organization, Paging, Permission, Role, User};
use crate::port::settled::Settle;
use crate::port::{OrganizationStore, RoleStore};

crate::row! {
    struct RoleRow {
        role_id: String,
        name: String,
        description: Option<String>,
    }
}

impl From<RoleRow> for Role {
    fn from(r: RoleRow) -> Self {
        Role {
            role_id: r.role_id,
            name: r.name,
            description: r.description,
        }
    }
}

crate::row! {
    struct PermissionRow {
        audience: String,
        permission: String,
        role_id: Option<String>,
    }
}

crate::row! {
    struct OrgRow {
        org_id: String,
        name: String,
        display_name: Option<String>,
        token_org_name: f64,
    }
}

impl From<OrgRow> for Organization {
    fn from(r: OrgRow) -> Self {
        Organization {
            org_id: r.org_id,
            name: r.name,
            display_name: r.display_name,
            token_org_name: flag(r.token_org_name),
        }
    }
}

crate::row! {
    struct Found {
        ok: f64,
    }
}

const ROLE_COLUMNS: &str = "r.role_id, r.name, r.description";
const ORG_COLUMNS: &str = "o.org_id, o.name, o.display_name, o.token_org_name";

/// The user columns, of the table aliased `u`.
fn user_columns() -> String {
    user_select("u")
}

/// A list of ids as one JSON argument, read in SQL with `json_each`.
fn id_list(ids: &[String]) -> Result<Value, StoreError> {
    super::codec::json_arg(&ids)
}

fn users(rows: Listed<UserRow>) -> Result<Listed<User>, StoreError> {
    rows.try_map(User::try_from)
}

/// Whether every id of `?{list}` names a row of `table`.
fn all_exist(table: &str, column: &str, list: usize) -> String {
    format!(
        "(SELECT count(*) FROM {table} WHERE {column} IN (SELECT value FROM json_each(?{list}))) \
         = (SELECT count(DISTINCT value) FROM json_each(?{list}))"
    )
}

impl<B: Sql> SqlStore<B> {
    /// Runs `check` (a condition on `check_args`) and, in the same batch, `write` (on `args`,
    /// guarded by the same condition); whether the check held.
    async fn guarded(
        &self,
        check: &str,
        check_args: &[Value],
        write: &str,
        args: &[Value],
    ) -> Result<bool, StoreError> {
        let probe = format!("SELECT ({check}) AS ok");
        let statements: [(&str, &[Value]); 2] = [(&probe, check_args), (write, args)];
        let results = self.batch_on(Source::Primary, &statements).settle().await?;
        let found: Vec<Found> = results[0].all()?;
        Ok(found.first().is_some_and(|f| flag(f.ok)))
    }
}

impl<B: Sql> RoleStore for SqlStore<B> {
    async fn create_role(&self, role: &Role) -> Result<(), StoreError> {
        let args = [
            role.role_id.as_str().into(),
            role.name.as_str().into(),
            opt(&role.description),
        ];
        self.run(
            "INSERT INTO roles (role_id, name, description) VALUES (?1, ?2, ?3)",
            &args,
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn role(&self, role_id: &str) -> Result<Option<Role>, StoreError> {
        let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.role_id = ?1");
        let row: Option<RoleRow> = self.first(&sql, &[role_id.into()]).settle().await?;
        Ok(row.map(Role::from))
    }

    async fn list_roles(
        &self,
        name: Option<&str>,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError> {
        let from = "FROM roles r WHERE ?1 IS NULL OR r.name = ?1";
        let name = Value::from(name);
        let rows: Listed<RoleRow> = self
            .page(ROLE_COLUMNS, from, "r.rowid", &[name], paging)
            .settle()
            .await?;
        rows.try_map(|r| Ok(Role::from(r)))
    }

    async fn update_role(&self, role: &Role) -> Result<Option<()>, StoreError> {
        let args = [
            role.role_id.as_str().into(),
            role.name.as_str().into(),
            opt(&role.description),
        ];
        let changed = self
            .run(
                "UPDATE roles SET name = ?2, description = ?3 WHERE role_id = ?1",
                &args,
            )
            .settle()
            .await?;
        Ok((changed > 0).then_some(()))
    }

    async fn delete_role(&self, role_id: &str) -> Result<bool, StoreError> {
        // Foreign keys cascade to role_permissions and user_roles.
        let changed = self
            .run("DELETE FROM roles WHERE role_id = ?1", &[role_id.into()])
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn role_permissions(
        &self,
        role_id: &str,
        paging: Paging,
    ) -> Result<Listed<Permission>, StoreError> {
        let rows: Listed<PermissionRow> = self
            .page(
                "p.audience, p.permission",
                "FROM role_permissions p WHERE p.role_id = ?1",
                "p.rowid",
                &[role_id.into()],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(|r| {
            Ok(Permission {
                audience: r.audience,
                permission: r.permission,
            })
        })
    }

    async fn add_permissions(&self, role_id: &str, add: &[Permission]) -> Result<bool, StoreError> {
        let pairs: Vec<[&str; 2]> = add
            .iter()
            .map(|p| [p.audience.as_str(), p.permission.as_str()])
            .collect();
        let args = [role_id.into(), super::codec::json_arg(&pairs)?];
        let check = "EXISTS (SELECT 1 FROM roles WHERE role_id = ?1)";
        let insert = format!(
            "INSERT INTO role_permissions (role_id, audience, permission) \
             SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]') \
             FROM json_each(?2) WHERE {check} ON CONFLICT DO NOTHING"
        );
        self.guarded(check, &args[..1], &insert, &args)
            .settle()
            .await
    }

    async fn remove_permissions(
        &self,
        role_id: &str,
        remove: &[Permission],
    ) -> Result<(), StoreError> {
        let pairs: Vec<[&str; 2]> = remove
            .iter()
            .map(|p| [p.audience.as_str(), p.permission.as_str()])
            .collect();
        self.run(
            "DELETE FROM role_permissions WHERE role_id = ?1 AND EXISTS (SELECT 1 FROM \
             json_each(?2) WHERE json_extract(value, '$[0]') = audience \
             AND json_extract(value, '$[1]') = permission)",
            &[role_id.into(), super::codec::json_arg(&pairs)?],
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn role_users(&self, role_id: &str, paging: Paging) -> Result<Listed<User>, StoreError> {
        let from = "FROM user_roles x JOIN users u ON u.user_id = x.user_id \
                    WHERE x.role_id = ?1 AND x.org_id = ''";
        users(
            self.page(&user_columns(), from, "x.rowid", &[role_id.into()], paging)
                .settle()
                .await?,
        )
    }

    async fn assign_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<bool, StoreError> {
        let args = [user_id.into(), org_id.into(), id_list(role_ids)?];
        let check = format!(
            "EXISTS (SELECT 1 FROM users WHERE user_id = ?1) AND {} AND (?2 = '' OR EXISTS \
             (SELECT 1 FROM organization_members WHERE org_id = ?2 AND user_id = ?1))",
            all_exist("roles", "role_id", 3)
        );
        let insert = format!(
            "INSERT INTO user_roles (user_id, role_id, org_id) \
             SELECT DISTINCT ?1, value, ?2 FROM json_each(?3) WHERE {check} ON CONFLICT DO NOTHING"
        );
        self.guarded(&check, &args, &insert, &args).settle().await
    }

    async fn remove_roles(
        &self,
        user_id: &str,
        org_id: &str,
        role_ids: &[String],
    ) -> Result<(), StoreError> {
        self.run(
            "DELETE FROM user_roles WHERE user_id = ?1 AND org_id = ?2 \
             AND role_id IN (SELECT value FROM json_each(?3))",
            &[user_id.into(), org_id.into(), id_list(role_ids)?],
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn user_roles(
        &self,
        user_id: &str,
        org_id: &str,
        paging: Paging,
    ) -> Result<Listed<Role>, StoreError> {
        let from = "FROM user_roles x JOIN roles r ON r.role_id = x.role_id \
                    WHERE x.user_id = ?1 AND x.org_id = ?2";
        let rows: Listed<RoleRow> = self
            .page(
                ROLE_COLUMNS,
                from,
                "x.rowid",
                &[user_id.into(), org_id.into()],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(|r| Ok(Role::from(r)))
    }

    async fn user_permissions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<HeldPermission>, StoreError> {
        let from = "FROM user_roles x JOIN role_permissions p ON p.role_id = x.role_id \
                    WHERE x.user_id = ?1 AND x.org_id = ''";
        let rows: Listed<PermissionRow> = self
            .page(
                "p.audience, p.permission, p.role_id",
                from,
                "p.audience, p.permission, p.role_id",
                &[user_id.into()],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(|r| {
            Ok(HeldPermission {
                permission: Permission {
                    audience: r.audience,
                    permission: r.permission,
                },
                role_id: r.role_id.unwrap_or_default(),
            })
        })
    }
}

fn org_args(org: &Organization) -> [Value; 4] {
    [
        org.org_id.as_str().into(),
        org.name.as_str().into(),
        opt(&org.display_name),
        flag_arg(org.token_org_name),
    ]
}

impl<B: Sql> OrganizationStore for SqlStore<B> {
    async fn create_organization(&self, org: &Organization) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO organizations (org_id, name, display_name, token_org_name) \
             VALUES (?1, ?2, ?3, ?4)",
            &org_args(org),
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn organization(&self, org_id: &str) -> Result<Option<Organization>, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.org_id = ?1");
        let row: Option<OrgRow> = self.first(&sql, &[org_id.into()]).settle().await?;
        Ok(row.map(Organization::from))
    }

    async fn organization_by_name(&self, name: &str) -> Result<Option<Organization>, StoreError> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.name = ?1");
        let row: Option<OrgRow> = self.first(&sql, &[name.into()]).settle().await?;
        Ok(row.map(Organization::from))
    }

    async fn list_organizations(&self, paging: Paging) -> Result<Listed<Organization>, StoreError> {
        let rows: Listed<OrgRow> = self
            .page(ORG_COLUMNS, "FROM organizations o", "o.rowid", &[], paging)
            .settle()
            .await?;
        rows.try_map(|r| Ok(Organization::from(r)))
    }

    async fn update_organization(&self, org: &Organization) -> Result<Option<()>, StoreError> {
        let changed = self
            .run(
                "UPDATE organizations SET name = ?2, display_name = ?3, token_org_name = ?4 \
                 WHERE org_id = ?1",
                &org_args(org),
            )
            .settle()
            .await?;
        Ok((changed > 0).then_some(()))
    }

    async fn delete_organization(&self, org_id: &str) -> Result<bool, StoreError> {
        // Memberships cascade by foreign key; roles held in the organization do not (their
        // org_id is '' for global roles, so it has no foreign key): deleted here.
        let args = [org_id.into()];
        let changed = self
            .batch(&[
                ("DELETE FROM user_roles WHERE org_id = ?1", &args),
                ("DELETE FROM organizations WHERE org_id = ?1", &args),
            ])
            .settle()
            .await?;
        Ok(changed.get(1).is_some_and(|n| *n > 0))
    }

    async fn add_members(&self, org_id: &str, user_ids: &[String]) -> Result<bool, StoreError> {
        let args = [org_id.into(), id_list(user_ids)?];
        let check = format!(
            "EXISTS (SELECT 1 FROM organizations WHERE org_id = ?1) AND {}",
            all_exist("users", "user_id", 2)
        );
        let insert = format!(
            "INSERT INTO organization_members (org_id, user_id) \
             SELECT DISTINCT ?1, value FROM json_each(?2) WHERE {check} ON CONFLICT DO NOTHING"
        );
        self.guarded(&check, &args, &insert, &args).settle().await
    }

    async fn remove_members(&self, org_id: &str, user_ids: &[String]) -> Result<(), StoreError> {
        let args = [org_id.into(), id_list(user_ids)?];
        self.batch(&[
            (
                "DELETE FROM organization_members WHERE org_id = ?1 \
                 AND user_id IN (SELECT value FROM json_each(?2))",
                &args,
            ),
            (
                "DELETE FROM user_roles WHERE org_id = ?1 \
                 AND user_id IN (SELECT value FROM json_each(?2))",
                &args,
            ),
        ])
        .settle()
        .await
        .map(|_| ())
    }

    async fn members(&self, org_id: &str, paging: Paging) -> Result<Listed<User>, StoreError> {
        let from = "FROM organization_members x JOIN users u ON u.user_id = x.user_id \
                    WHERE x.org_id = ?1";
        users(
            self.page(&user_columns(), from, "x.rowid", &[org_id.into()], paging)
                .settle()
                .await?,
        )
    }

    async fn user_organizations(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Organization>, StoreError> {
        let from = "FROM organization_members x JOIN organizations o ON o.org_id = x.org_id \
                    WHERE x.user_id = ?1";
        let rows: Listed<OrgRow> = self
            .page(ORG_COLUMNS, from, "x.rowid", &[user_id.into()], paging)
            .settle()
            .await?;
        rows.try_map(|r| Ok(Organization::from(r)))
    }
}
