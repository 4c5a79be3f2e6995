//! What hangs off a user: `/api/v2/users/{id}/roles` (list, assign, remove),
//! `/permissions`, `/organizations` and `/sessions` (list, delete all).

use super::super::call::Call;
use super::super::error::{from_store, not_found, Reply};
use super::super::list::{iso8601, Query};
use super::super::organizations::{ids, view as org_view};
use super::super::roles::{permission_view, view as role_view};
use crate::error::StoreError;
use crate::model::{Listed, Paging};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{OrganizationStore, RoleStore, SessionStore, Stores, UserStore};
use serde_json::{json, Value};
use std::future::Future;

const CONFLICT: &str = "Conflict.";

/// Answers a list of what belongs to the path's user (404 when there is no such user).
async fn listed<P, C, T, F>(
    call: &Call<'_, '_, P, C>,
    key: &str,
    read: impl FnOnce(Paging) -> F,
    view: impl Fn(&T) -> Value,
) -> Reply
where
    P: Stores,
    C: Crypto,
    F: Future<Output = Result<Listed<T>, StoreError>>,
{
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    if let Some(r) = require_user(call).settle().await {
        return r;
    }
    match read(paging).settle().await {
        Ok(l) => query.reply(key, l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

async fn require_user<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Option<Reply> {
    match call.issuer.stores.users().user(call.id()).settle().await {
        Ok(Some(_)) => None,
        Ok(None) => Some(not_found("user")),
        Err(e) => Some(from_store(e, CONFLICT, call.issuer.log)),
    }
}

/// `GET /api/v2/users/{id}/roles`: the user's global roles.
pub async fn roles<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let store = call.issuer.stores.roles();
    listed(
        call,
        "roles",
        |p| store.user_roles(call.id(), "", p),
        role_view,
    )
    .settle()
    .await
}

/// `POST /api/v2/users/{id}/roles`: all the roles, or none when one does not exist.
pub async fn assign_roles<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let roles = attempt!(ids(call.req.body, "roles"));
    match call
        .issuer
        .stores
        .roles()
        .assign_roles(call.id(), "", &roles)
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("user or one of the roles"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `DELETE /api/v2/users/{id}/roles`.
pub async fn remove_roles<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let roles = attempt!(ids(call.req.body, "roles"));
    if let Some(r) = require_user(call).settle().await {
        return r;
    }
    match call
        .issuer
        .stores
        .roles()
        .remove_roles(call.id(), "", &roles)
        .settle()
        .await
    {
        Ok(()) => Reply::no_content(),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `GET /api/v2/users/{id}/permissions`: one entry per permission and the role it comes from.
pub async fn permissions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let store = call.issuer.stores.roles();
    let view = |h: &crate::model::HeldPermission| permission_view(&h.permission, Some(&h.role_id));
    listed(
        call,
        "permissions",
        |p| store.user_permissions(call.id(), p),
        view,
    )
    .settle()
    .await
}

/// `GET /api/v2/users/{id}/organizations`.
pub async fn organizations<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let store = call.issuer.stores.organizations();
    listed(
        call,
        "organizations",
        |p| store.user_organizations(call.id(), p),
        org_view,
    )
    .settle()
    .await
}

/// `GET /api/v2/users/{id}/sessions`: the user's sign-in sessions of the hosted login.
pub async fn sessions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let store = call.issuer.stores.sessions();
    let view = |s: &crate::model::Session| {
        json!({
            "id": s.session_id_hint(),
            "user_id": s.user_id,
            "created_at": iso8601(s.created_at),
            "authenticated_at": iso8601(s.auth_time),
            "idle_expires_at": iso8601(s.idle_expires_at),
            "expires_at": iso8601(s.absolute_expires_at),
        })
    };
    listed(
        call,
        "sessions",
        |p| store.user_sessions(call.id(), p),
        view,
    )
    .settle()
    .await
}

/// `DELETE /api/v2/users/{id}/sessions`: signs the user out of every browser.
pub async fn delete_sessions<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    if let Some(r) = require_user(call).settle().await {
        return r;
    }
    match call
        .issuer
        .stores
        .sessions()
        .delete_user_sessions(call.id())
        .settle()
        .await
    {
        Ok(()) => Reply::no_content(),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}
