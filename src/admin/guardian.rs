//! Second factors, Auth0-shaped: the tenant's factors (`/api/v2/guardian/factors/{name}`) and
//! policy (`/api/v2/guardian/policies`), and each user's authentication methods
//! (`/api/v2/users/{id}/authentication-methods`, `…/authenticators`,
//! `…/recovery-code-regeneration`).

use super::call::Call;
use super::error::{from_store, invalid, members, not_found, payload, Reply};
use super::list::iso8601;
use crate::error::StoreError;
use crate::model::mfa::{recovery_code_id, Authenticator, MfaPolicy, FACTORS, RECOVERY_CODE};
use crate::oauth::mfa::recovery;
use crate::port::crypto::Crypto;
use crate::port::mfa::MfaStore;
use crate::port::settled::Settle;
use crate::port::{SessionStore, Stores, UserStore};
use serde_json::{json, Value};

const CONFLICT: &str = "The user's factors changed meanwhile.";

/// `GET /api/v2/guardian/factors`.
pub async fn factors<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.guardian().settle().await {
        Ok(g) => {
            let list: Vec<Value> = FACTORS
                .iter()
                .map(|f| json!({ "name": f, "enabled": g.is_enabled(f), "trial_expired": false }))
                .collect();
            Reply::json(200, &Value::Array(list))
        }
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `PUT /api/v2/guardian/factors/{name}` with `{enabled}`.
pub async fn set_factor<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let name = call.id();
    let mut f = attempt!(members(call.req.body, &["enabled"]));
    let Some(enabled) = attempt!(f.flag("enabled")) else {
        return invalid("enabled is required");
    };
    if !FACTORS.contains(&name) {
        return not_found("factor");
    }
    let stores = call.issuer.stores;
    let set = stores.mfa().set_factor(name, enabled).settle().await;
    stores.forget_guardian();
    match set {
        Ok(true) => Reply::json(200, &json!({ "enabled": enabled })),
        Ok(false) => not_found("factor"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `GET /api/v2/guardian/policies`: `[]` or `["all-applications"]`.
pub async fn policies<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.guardian().settle().await {
        Ok(g) => Reply::json(200, &policy_view(g.all_applications)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

fn policy_view(all: bool) -> Value {
    match all {
        true => json!([crate::model::mfa::ALL_APPLICATIONS]),
        false => json!([]),
    }
}

/// `PUT /api/v2/guardian/policies` with `[]` or `["all-applications"]`.
pub async fn set_policies<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body = attempt!(payload(call.req.body));
    let all = match body.as_array().map(Vec::as_slice) {
        Some([]) => false,
        Some([Value::String(p)]) if p == crate::model::mfa::ALL_APPLICATIONS => true,
        _ => return invalid("expected an array: [] or [\"all-applications\"]"),
    };
    let stores = call.issuer.stores;
    let set = stores.mfa().set_all_applications(all).settle().await;
    stores.forget_guardian();
    match set {
        Ok(()) => Reply::json(200, &policy_view(all)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// The user the path names, or the reply that ends the call.
async fn user_exists<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Option<Reply> {
    match call.issuer.stores.users().user(call.id()).settle().await {
        Ok(Some(_)) => None,
        Ok(None) => Some(not_found("user")),
        Err(e) => Some(from_store(e, CONFLICT, call.issuer.log)),
    }
}

fn method_view(a: &Authenticator) -> Value {
    let mut v = json!({
        "id": a.id,
        "type": a.kind,
        "confirmed": a.confirmed,
        "created_at": iso8601(a.created_at),
    });
    if let Some(c) = &a.credential {
        v["key_id"] = json!(c.id);
    }
    if let Some(t) = a.last_auth_at {
        v["last_auth_at"] = json!(iso8601(t));
    }
    v
}

/// `GET /api/v2/users/{id}/authentication-methods`: the authenticator apps, and the recovery
/// codes (with how many are left) when any are.
pub async fn methods<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    if let Some(r) = user_exists(call).settle().await {
        return r;
    }
    match call
        .issuer
        .stores
        .mfa()
        .authenticators(call.id())
        .settle()
        .await
    {
        Ok((apps, left)) => {
            let mut list: Vec<Value> = apps.iter().map(method_view).collect();
            if left > 0 {
                list.push(json!({
                    "id": recovery_code_id(call.id()),
                    "type": RECOVERY_CODE,
                    "confirmed": true,
                    "remaining": left,
                }));
            }
            Reply::json(200, &Value::Array(list))
        }
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `DELETE /api/v2/users/{id}/authentication-methods/{id}`.
pub async fn delete_method<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let (user_id, id) = (call.id(), call.params.get(1).map_or("", String::as_str));
    let store = call.issuer.stores.mfa();
    // The recovery codes are one method: deleting it deletes every code, when there are any.
    let deleted = match id == recovery_code_id(user_id) {
        true => match store.authenticators(user_id).settle().await {
            Ok((_, 0)) => Ok(false),
            Ok(_) => store
                .replace_recovery_codes(user_id, &[], call.issuer.clock.now())
                .settle()
                .await
                .map(|()| true),
            Err(e) => Err(e),
        },
        false => match store.delete_authenticator(user_id, id).settle().await {
            Ok(true) => after_removal(call).settle().await.map(|()| true),
            other => other,
        },
    };
    match deleted {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("authentication method"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// After an app was removed: when the user has no confirmed one left under a policy that asks
/// for a second factor, the user's sessions end too (they were opened with the factor just
/// removed), and the next sign-in sets up a new one.
async fn after_removal<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<(), StoreError> {
    let stores = &call.issuer.stores;
    if stores.guardian().settle().await?.policy() == MfaPolicy::Never {
        return Ok(());
    }
    let (apps, _) = stores.mfa().authenticators(call.id()).settle().await?;
    if apps.iter().any(|a| a.confirmed) {
        return Ok(());
    }
    stores
        .sessions()
        .delete_user_sessions(call.id())
        .settle()
        .await
}

/// `DELETE /api/v2/users/{id}/authenticators`: every factor and recovery code of the user
/// (a lost phone: the user enrolls again at the next sign-in that asks for one), and, under
/// a policy that asks for a second factor, the user's sessions.
pub async fn reset<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    if let Some(r) = user_exists(call).settle().await {
        return r;
    }
    let done = match call
        .issuer
        .stores
        .mfa()
        .reset_authenticators(call.id())
        .settle()
        .await
    {
        Ok(()) => after_removal(call).settle().await,
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Reply::no_content(),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `POST /api/v2/users/{id}/recovery-code-regeneration`: ten new recovery codes, shown once;
/// the old ones stop working.
pub async fn regenerate<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    if let Some(r) = user_exists(call).settle().await {
        return r;
    }
    let codes = match recovery::new_codes(call.issuer.random) {
        Ok(c) => c,
        Err(e) => return super::error::from_oauth(&e.into()),
    };
    let hashes: Vec<String> = codes.iter().map(|c| recovery::code_hash(c)).collect();
    let store = call.issuer.stores.mfa();
    match store
        .replace_recovery_codes(call.id(), &hashes, call.issuer.clock.now())
        .settle()
        .await
    {
        Ok(()) => Reply::json(200, &json!({ "recovery_codes": codes })),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}
