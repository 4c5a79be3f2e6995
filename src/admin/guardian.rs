//! Second factors, Auth0-shaped: the tenant's factors (`/api/v2/guardian/factors/{name}`) and
//! policy (`/api/v2/guardian/policies`), and each user's authentication methods
//! (`/api/v2/users/{id}/authentication-methods`, `…/authenticators`,
//! `…/recovery-code-regeneration`), and the remembered browser (`/api/v2/guardian/settings`,
//! `…/multifactor/actions/invalidate-remember-browser`).

use super::call::Call;
use super::error::{from_store, invalid, members, not_found, payload, Reply};
use super::list::iso8601;
use crate::error::StoreError;
use crate::model::mfa::{
    recovery_code_id, Authenticator, MfaPolicy, RememberBrowser, FACTORS, RECOVERY_CODE,
};
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

/// After a factor was removed: the browsers the user had remembered are forgotten (one may
/// be a thief's); when the user has no confirmed factor left under a policy that asks for a
/// second factor, the user's sessions end too (they were opened with the factor just
/// removed), and the next sign-in sets up a new one.
async fn after_removal<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<(), StoreError> {
    let stores = &call.issuer.stores;
    let now = call.issuer.clock.now();
    stores
        .mfa()
        .forget_browsers(call.id(), now)
        .settle()
        .await?;
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

/// `POST /api/v2/users/{id}/multifactor/actions/invalidate-remember-browser`: every browser
/// the user had remembered asks for the second factor again.
pub async fn forget_browsers<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let now = call.issuer.clock.now();
    let forgot = call.issuer.stores.mfa().forget_browsers(call.id(), now);
    match forgot.settle().await {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("user"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

fn settings_view(r: &RememberBrowser) -> Value {
    json!({
        "display_remember_me_checkbox": r.checkbox,
        "remember_me_default_value": r.ticked,
        "mfa_session_inactivity_timeout": r.inactivity,
        "mfa_session_overall_timeout": r.overall,
    })
}

/// The settings' members, in Auth0's names.
const SETTINGS: [&str; 4] = [
    "display_remember_me_checkbox",
    "remember_me_default_value",
    "mfa_session_inactivity_timeout",
    "mfa_session_overall_timeout",
];

/// `GET /api/v2/guardian/settings`, the remembered browser's settings, and `PUT`: the members
/// given change, the others stay. The timeouts are seconds: inactivity 1 hour to 30 days,
/// overall 1 hour to 90 days, and inactivity no longer than overall.
pub async fn settings<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let stores = call.issuer.stores;
    let mut r = match stores.guardian().settle().await {
        Ok(g) => g.remember,
        Err(e) => return from_store(e, CONFLICT, call.issuer.log),
    };
    if call.req.method == "GET" {
        return Reply::json(200, &settings_view(&r));
    }
    let mut f = attempt!(members(call.req.body, &SETTINGS));
    let [checkbox, ticked, inactivity, overall] = SETTINGS;
    r.checkbox = attempt!(f.flag(checkbox)).unwrap_or(r.checkbox);
    r.ticked = attempt!(f.flag(ticked)).unwrap_or(r.ticked);
    r.inactivity = attempt!(f.number(inactivity)).unwrap_or(r.inactivity);
    r.overall = attempt!(f.number(overall)).unwrap_or(r.overall);
    if !(HOUR..=30 * DAY).contains(&r.inactivity) {
        return invalid("mfa_session_inactivity_timeout: expected 3600 to 2592000 seconds");
    }
    if !(HOUR..=90 * DAY).contains(&r.overall) || r.inactivity > r.overall {
        return invalid(
            "mfa_session_overall_timeout: expected 3600 to 7776000 seconds, and no less than \
             mfa_session_inactivity_timeout",
        );
    }
    let set = stores.mfa().set_remember(&r).settle().await;
    stores.forget_guardian();
    match set {
        Ok(()) => Reply::json(200, &settings_view(&r)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

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
