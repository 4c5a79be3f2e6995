//! Organizations: `/api/v2/organizations` (list, create), by id (get, update, delete) and by
//! name, their members, and the roles members hold within them.

use super::call::Call;
use super::error::{from_store, invalid, not_found, payload, Reply};
use super::list::Query;
use super::roles::{view as role_view, MAX_BATCH};
use super::users::user_summary;
use crate::model::Organization;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{OrganizationStore, RoleStore, Stores};
use serde_json::{json, Value};

const TAKEN: &str = "An organization with this name already exists.";

/// The organization as the API shows it (`token_org_name`, whether tokens carry `org_name`,
/// is this issuer's own field).
pub fn view(o: &Organization) -> Value {
    let mut v = json!({ "id": o.org_id, "name": o.name, "token_org_name": o.token_org_name });
    if let Some(d) = &o.display_name {
        v["display_name"] = json!(d);
    }
    v
}

#[derive(Debug)]
struct OrgBody {
    name: Option<String>,
    display_name: Option<String>,
    token_org_name: Option<bool>,
}

impl OrgBody {
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = super::error::members(body, &["name", "display_name", "token_org_name"])?;
        Ok(Self {
            name: f.text("name")?,
            display_name: f.text("display_name")?,
            token_org_name: f.flag("token_org_name")?,
        })
    }
}

/// Auth0's rule for organization names: 1 to 50 lower-case letters, digits, `-` and `_`,
/// starting with a letter or digit.
fn check_org(body: &OrgBody) -> Result<(), Reply> {
    if let Some(name) = &body.name {
        let ok = !name.is_empty()
            && name.len() <= 50
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && name.as_bytes()[0].is_ascii_alphanumeric();
        if !ok {
            return Err(invalid(
                "name is 1 to 50 lower-case letters, digits, '-' or '_', starting with a letter or digit",
            ));
        }
    }
    if body
        .display_name
        .as_ref()
        .is_some_and(|d| d.is_empty() || d.len() > 255)
    {
        return Err(invalid("display_name must be 1 to 255 characters"));
    }
    Ok(())
}

/// `GET /api/v2/organizations`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    match call
        .issuer
        .stores
        .organizations()
        .list_organizations(paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("organizations", l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/organizations`.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body = attempt!(OrgBody::read(call.req.body));
    if let Err(r) = check_org(&body) {
        return r;
    }
    let Some(name) = body.name else {
        return invalid("Missing required property: name");
    };
    let org_id = attempt!(call.new_id("org_"));
    let org = Organization {
        org_id,
        name,
        display_name: body.display_name,
        token_org_name: body.token_org_name.unwrap_or(false),
    };
    match call
        .issuer
        .stores
        .organizations()
        .create_organization(&org)
        .settle()
        .await
    {
        Ok(()) => Reply::json(201, &view(&org)),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/organizations/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    found(
        call,
        call.issuer
            .stores
            .organizations()
            .organization(call.id())
            .settle()
            .await,
    )
}

/// `GET /api/v2/organizations/name/{name}`.
pub async fn get_by_name<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let orgs = call.issuer.stores.organizations();
    found(call, orgs.organization_by_name(call.id()).settle().await)
}

fn found<P, C>(
    call: &Call<'_, '_, P, C>,
    read: Result<Option<Organization>, crate::error::StoreError>,
) -> Reply {
    match read {
        Ok(Some(o)) => Reply::json(200, &view(&o)),
        Ok(None) => not_found("organization"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `PATCH /api/v2/organizations/{id}`.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body = attempt!(OrgBody::read(call.req.body));
    if let Err(r) = check_org(&body) {
        return r;
    }
    let orgs = call.issuer.stores.organizations();
    let current = match orgs.organization(call.id()).settle().await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found("organization"),
        Err(e) => return from_store(e, TAKEN, call.issuer.log),
    };
    let org = Organization {
        org_id: current.org_id,
        name: body.name.unwrap_or(current.name),
        display_name: body.display_name.or(current.display_name),
        token_org_name: body.token_org_name.unwrap_or(current.token_org_name),
    };
    match orgs.update_organization(&org).settle().await {
        Ok(Some(())) => Reply::json(200, &view(&org)),
        Ok(None) => not_found("organization"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/organizations/{id}`: with its memberships and the roles held in it.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .organizations()
        .delete_organization(call.id())
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/organizations/{id}/members`.
pub async fn members<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    let orgs = call.issuer.stores.organizations();
    if let Err(r) = require(call).settle().await {
        return r;
    }
    match orgs.members(call.id(), paging).settle().await {
        Ok(l) => query.reply(
            "members",
            l.items.iter().map(user_summary).collect(),
            l.total,
        ),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// A body naming ids under `field` (`members`, `roles`): 1 to [`MAX_BATCH`] of them.
pub fn ids(body: &[u8], field: &'static str) -> Result<Vec<String>, Reply> {
    let value = payload(body)?;
    let Some(obj) = value.as_object().filter(|o| o.len() == 1) else {
        return Err(invalid(&format!("the body is {{\"{field}\": [ids]}}")));
    };
    let list: Vec<String> = match obj.get(field) {
        Some(v) => crate::model::json::FromJson::from_json(v.clone())
            .map_err(|_| invalid(&format!("{field} must be an array of strings")))?,
        None => return Err(invalid(&format!("Missing required property: {field}"))),
    };
    if list.is_empty() || list.len() > MAX_BATCH {
        return Err(invalid(&format!("{field} must name 1 to {MAX_BATCH}")));
    }
    Ok(list)
}

/// `POST /api/v2/organizations/{id}/members`.
pub async fn add_members<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let users = attempt!(ids(call.req.body, "members"));
    match call
        .issuer
        .stores
        .organizations()
        .add_members(call.id(), &users)
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("organization or user"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/organizations/{id}/members`: the memberships and the roles held in it.
pub async fn remove_members<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let users = attempt!(ids(call.req.body, "members"));
    if let Err(r) = require(call).settle().await {
        return r;
    }
    match call
        .issuer
        .stores
        .organizations()
        .remove_members(call.id(), &users)
        .settle()
        .await
    {
        Ok(()) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/organizations/{id}/members/{user_id}/roles`.
pub async fn member_roles<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    if let Err(r) = require(call).settle().await {
        return r;
    }
    let roles = call.issuer.stores.roles();
    match roles
        .user_roles(call.second_id(), call.id(), paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("roles", l.items.iter().map(role_view).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// The path's organization, or 404.
async fn require<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<Organization, Reply> {
    match call
        .issuer
        .stores
        .organizations()
        .organization(call.id())
        .settle()
        .await
    {
        Ok(Some(o)) => Ok(o),
        Ok(None) => Err(not_found("organization")),
        Err(e) => Err(from_store(e, TAKEN, call.issuer.log)),
    }
}
