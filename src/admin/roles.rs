//! Roles: `/api/v2/roles` (list by `name_filter`, create), `/api/v2/roles/{id}` (get,
//! update, delete), its permissions and its users.

use super::call::Call;
use super::error::{error_code, from_store, invalid, members, not_found, Fields, Reply};
use super::list::Query;
use super::users::user_summary;
use crate::model::{Permission, Role};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RegistryStore, RoleStore, Stores, UserStore};
use serde_json::{json, Value};

const TAKEN: &str = "A role with this name already exists.";
/// Most ids or permissions one request may name.
pub const MAX_BATCH: usize = 100;

/// The role as the API shows it.
pub fn view(r: &Role) -> Value {
    json!({ "id": r.role_id, "name": r.name, "description": r.description })
}

#[derive(Debug)]
struct RoleBody {
    name: Option<String>,
    description: Option<String>,
}

impl RoleBody {
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(body, &["name", "description"])?;
        Ok(Self {
            name: f.text("name")?,
            description: f.text("description")?,
        })
    }
}

fn check_role(body: &RoleBody) -> Result<(), Reply> {
    if body
        .name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 50)
    {
        return Err(invalid("name must be 1 to 50 characters"));
    }
    if body.description.as_ref().is_some_and(|d| d.len() > 255) {
        return Err(invalid("description is at most 255 characters"));
    }
    Ok(())
}

/// `GET /api/v2/roles`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &["name_filter"]));
    let paging = attempt!(query.paging());
    let name = query.get("name_filter");
    match call
        .issuer
        .stores
        .roles()
        .list_roles(name, paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("roles", l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/roles`.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: RoleBody = attempt!(RoleBody::read(call.req.body));
    if let Err(r) = check_role(&body) {
        return r;
    }
    let Some(name) = body.name else {
        return invalid("Missing required property: name");
    };
    let role_id = attempt!(call.new_id("rol_"));
    let role = Role {
        role_id,
        name,
        description: body.description,
    };
    match call.issuer.stores.roles().create_role(&role).settle().await {
        Ok(()) => Reply::json(200, &view(&role)),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/roles/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.roles().role(call.id()).settle().await {
        Ok(Some(r)) => Reply::json(200, &view(&r)),
        Ok(None) => not_found("role"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `PATCH /api/v2/roles/{id}`.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: RoleBody = attempt!(RoleBody::read(call.req.body));
    if let Err(r) = check_role(&body) {
        return r;
    }
    let roles = call.issuer.stores.roles();
    let current = match roles.role(call.id()).settle().await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found("role"),
        Err(e) => return from_store(e, TAKEN, call.issuer.log),
    };
    let role = Role {
        role_id: current.role_id,
        name: body.name.unwrap_or(current.name),
        description: body.description.or(current.description),
    };
    match roles.update_role(&role).settle().await {
        Ok(Some(())) => Reply::json(200, &view(&role)),
        Ok(None) => not_found("role"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/roles/{id}`: the role, its permissions and every assignment of it.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .roles()
        .delete_role(call.id())
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("role"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/roles/{id}/permissions`.
pub async fn permissions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    let roles = call.issuer.stores.roles();
    if let Some(reply) = require_role(call).settle().await {
        return reply;
    }
    match roles.role_permissions(call.id(), paging).settle().await {
        Ok(l) => {
            let items = l.items.iter().map(|p| permission_view(p, None)).collect();
            query.reply("permissions", items, l.total)
        }
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// A permission as the API shows it.
pub fn permission_view(p: &Permission, role: Option<&str>) -> Value {
    let mut v = json!({
        "permission_name": p.permission,
        "resource_server_identifier": p.audience,
    });
    if let Some(role_id) = role {
        v["sources"] = json!([{ "source_id": role_id, "source_type": "ROLE" }]);
    }
    v
}

#[derive(Debug)]
struct PermissionRef {
    permission_name: String,
    resource_server_identifier: String,
}

/// A body's `permissions`: `[{permission_name, resource_server_identifier}]`.
fn permission_refs(body: &[u8]) -> Result<Vec<PermissionRef>, Reply> {
    let mut f = members(body, &["permissions"])?;
    let Some(Value::Array(list)) = f.0.remove("permissions") else {
        return Err(invalid(
            "permissions is a list of {permission_name, resource_server_identifier}",
        ));
    };
    let mut refs = Vec::with_capacity(list.len());
    for entry in list {
        let Value::Object(map) = entry else {
            return Err(invalid("at permissions: expected a list of objects"));
        };
        let allowed = ["permission_name", "resource_server_identifier"];
        let mut e = Fields::of(map, "permissions", &allowed)?;
        match (
            e.text("permission_name")?,
            e.text("resource_server_identifier")?,
        ) {
            (Some(permission_name), Some(resource_server_identifier)) => refs.push(PermissionRef {
                permission_name,
                resource_server_identifier,
            }),
            _ => {
                return Err(invalid(
                    "at permissions: each names permission_name and resource_server_identifier",
                ))
            }
        }
    }
    Ok(refs)
}

/// The permissions a body names: 1 to [`MAX_BATCH`] of them.
fn listed_permissions(body: &[u8]) -> Result<Vec<Permission>, Reply> {
    let permissions = permission_refs(body)?;
    if permissions.is_empty() || permissions.len() > MAX_BATCH {
        return Err(invalid(&format!("permissions must name 1 to {MAX_BATCH}")));
    }
    Ok(permissions
        .into_iter()
        .map(|p| Permission {
            audience: p.resource_server_identifier,
            permission: p.permission_name,
        })
        .collect())
}

/// The permissions a body names, each a scope its API defines.
async fn named_permissions<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
) -> Result<Vec<Permission>, Reply> {
    let permissions = listed_permissions(call.req.body)?;
    for p in &permissions {
        let api = call
            .issuer
            .stores
            .registry()
            .registered_api(&p.audience)
            .settle()
            .await
            .map_err(|e| from_store(e, TAKEN, call.issuer.log))?;
        if !api.is_some_and(|a| a.scopes.contains(&p.permission)) {
            return Err(error_code(
                400,
                "invalid_body",
                &format!(
                    "The permission {} is not defined by the resource server {}",
                    p.permission, p.audience
                ),
            ));
        }
    }
    Ok(permissions)
}

/// `POST /api/v2/roles/{id}/permissions`.
pub async fn add_permissions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let add = attempt!(named_permissions(call).settle().await);
    match call
        .issuer
        .stores
        .roles()
        .add_permissions(call.id(), &add)
        .settle()
        .await
    {
        Ok(true) => Reply::json(201, &json!({})),
        Ok(false) => not_found("role"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/roles/{id}/permissions`.
pub async fn remove_permissions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let remove = attempt!(listed_permissions(call.req.body));
    if let Some(reply) = require_role(call).settle().await {
        return reply;
    }
    match call
        .issuer
        .stores
        .roles()
        .remove_permissions(call.id(), &remove)
        .settle()
        .await
    {
        Ok(()) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/roles/{id}/users`.
pub async fn users<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    if let Some(reply) = require_role(call).settle().await {
        return reply;
    }
    match call
        .issuer
        .stores
        .roles()
        .role_users(call.id(), paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("users", l.items.iter().map(user_summary).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/roles/{id}/users`: gives the role to each user, globally.
pub async fn assign_users<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let users = attempt!(members(call.req.body, &["users"]).and_then(|mut f| f.texts("users")));
    let users = attempt!(users.ok_or_else(|| invalid("missing field `users`")));
    if users.is_empty() || users.len() > MAX_BATCH {
        return invalid(&format!("users must name 1 to {MAX_BATCH}"));
    }
    // Every user is checked before any is given the role, so a missing one changes nothing
    // (one assignment per user follows; each is all or nothing).
    for user_id in &users {
        match call.issuer.stores.users().user(user_id).settle().await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found("user"),
            Err(e) => return from_store(e, TAKEN, call.issuer.log),
        }
    }
    let roles = call.issuer.stores.roles();
    let role = [call.id().to_string()];
    for user_id in &users {
        match roles.assign_roles(user_id, "", &role).settle().await {
            Ok(true) => {}
            Ok(false) => return not_found("role or user"),
            Err(e) => return from_store(e, TAKEN, call.issuer.log),
        }
    }
    Reply::json(200, &json!({}))
}

/// 404 unless the path's role exists.
async fn require_role<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Option<Reply> {
    match call.issuer.stores.roles().role(call.id()).settle().await {
        Ok(Some(_)) => None,
        Ok(None) => Some(not_found("role")),
        Err(e) => Some(from_store(e, TAKEN, call.issuer.log)),
    }
}
