//! Account linking, as Auth0's management API does it: `POST /api/v2/users/{id}/identities`
//! links another user into this one, `DELETE /api/v2/users/{id}/identities/{provider}/{id}`
//! unlinks one of its identities. Both answer the user's identities as stored after.

use super::super::call::Call;
use super::super::error::{error_code, from_store, invalid, members, not_found, Reply};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{Stores, UserStore};
use serde_json::Value;

const TAKEN: &str = "The identity is already linked.";

/// `POST /api/v2/users/{id}/identities` (201, the primary's identities).
pub async fn link<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    // The secondary account by provider and id (`user_id` with or without its `provider|`);
    // `connection_id` is accepted as Auth0 takes it. `link_with` (an ID token of the
    // secondary) is refused: this issuer links by id only.
    let allowed = ["provider", "user_id", "connection_id", "link_with"];
    let mut body = attempt!(members(call.req.body, &allowed));
    if attempt!(body.text("link_with")).is_some() {
        return invalid("link_with is not supported: send provider and user_id");
    }
    attempt!(body.text("connection_id"));
    let (provider, id) = (
        attempt!(body.text("provider")),
        attempt!(body.text("user_id")),
    );
    let (Some(provider), Some(id)) = (provider, id) else {
        return invalid("Missing required properties: provider and user_id");
    };
    let prefix = format!("{provider}|");
    let secondary = match id.strip_prefix(&prefix) {
        Some(rest) => format!("{prefix}{rest}"),
        None => format!("{prefix}{id}"),
    };
    let primary = call.id();
    if secondary == primary {
        return invalid("a user cannot be linked to itself");
    }
    let users = call.issuer.stores.users();
    for who in [primary, secondary.as_str()] {
        match users.user(who).settle().await {
            Ok(Some(_)) => {}
            Ok(None) => return not_found("user"),
            Err(e) => return from_store(e, TAKEN, call.issuer.log),
        }
    }
    let now = call.issuer.clock.now();
    match users.link_user(primary, &secondary, now).settle().await {
        Ok(true) => identities(call, 201).settle().await,
        // Linked or deleted meanwhile.
        Ok(false) => error_code(409, "conflict", "The user changed meanwhile; retry."),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/users/{id}/identities/{provider}/{user_id}` (200, the identities left).
pub async fn unlink<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let primary = call.id();
    let (provider, id) = (call.second_id(), call.third_id());
    if format!("{provider}|{id}") == primary {
        return invalid("the user's own, primary identity cannot be unlinked");
    }
    let users = call.issuer.stores.users();
    match users.unlink_identity(primary, provider, id).settle().await {
        Ok(true) => identities(call, 200).settle().await,
        Ok(false) => not_found("identity"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// The user's identities as stored now.
async fn identities<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, status: u16) -> Reply {
    match call.issuer.stores.users().user(call.id()).settle().await {
        Ok(Some(u)) => Reply::json(
            status,
            &serde_json::to_value(&u.identities).unwrap_or(Value::Null),
        ),
        Ok(None) => not_found("user"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}
