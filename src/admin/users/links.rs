//! What hangs off a user: `/api/v2/users/{id}/roles` (list, assign, remove),
//! `/permissions`, `/organizations` and `/sessions` (list, delete all).

use super::super::call::Call;
use super::super::error::{error_code, from_store, not_found, Reply};
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

/// `POST` and `DELETE /api/v2/users/{id}/roles` (the user's global roles), and
/// `/api/v2/organizations/{id}/members/{user_id}/roles` (the member's roles in the
/// organization, where the user must be a member): all the roles given, or none when one does
/// not exist.
pub async fn change_roles<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let roles = attempt!(ids(call.req.body, "roles"));
    let in_organization = call.req.path.starts_with("/api/v2/organizations/");
    let (user_id, organization) = match in_organization {
        true => (call.second_id(), call.id()),
        false => (call.id(), ""),
    };
    let store = call.issuer.stores.roles();
    if call.req.method == "POST" {
        return match store
            .assign_roles(user_id, organization, &roles)
            .settle()
            .await
        {
            Ok(true) => Reply::no_content(),
            Ok(false) if in_organization => error_code(
                404,
                "inexistent_entity",
                "The organization, the membership or a role does not exist.",
            ),
            Ok(false) => not_found("user or one of the roles"),
            Err(e) => from_store(e, CONFLICT, call.issuer.log),
        };
    }
    if !in_organization {
        if let Some(r) = require_user(call).settle().await {
            return r;
        }
    }
    match store
        .remove_roles(user_id, organization, &roles)
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
