//! Rules of the claims pipeline: `/api/v2/rules` (list, create) and `/api/v2/rules/{id}`
//! (get, `PATCH` partial update, `PUT` whole replacement, delete), each checked by
//! [`Rule::validate`] before it is stored.

use super::call::Call;
use super::error::{error, from_store, invalid, not_found, payload, Reply};
use crate::model::Rule;
use crate::port::crypto::Crypto;
use crate::port::{ClaimsStore, Stores};
use serde_json::{json, Value};

const CONFLICT: &str = "Conflict.";

/// The rule as the API shows it: its stored form, with Auth0's `id` beside `rule_id`.
fn view(rule: &Rule) -> Value {
    let mut v = json!(rule);
    v["id"] = json!(rule.rule_id);
    v
}

/// Checks `rule` and stores it under `rule_id`.
async fn save<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    mut rule: Rule,
    rule_id: &str,
    status: u16,
) -> Reply {
    if !rule.rule_id.is_empty() && rule.rule_id != rule_id {
        return error(400, "rule_id in the body differs from the path");
    }
    rule.rule_id = rule_id.to_string();
    if let Err(why) = rule.validate() {
        return invalid(&why);
    }
    match call.issuer.stores.claims().put_rule(&rule).await {
        Ok(()) => Reply::json(status, &view(&rule)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `GET /api/v2/rules`: every rule, by trigger and position.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.claims().rules().await {
        Ok(rules) => Reply::json(200, &Value::Array(rules.iter().map(view).collect())),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

async fn current<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<Rule, Reply> {
    let rules = call
        .issuer
        .stores
        .claims()
        .rules()
        .await
        .map_err(|e| from_store(e, CONFLICT, call.issuer.log))?;
    rules
        .into_iter()
        .find(|r| r.rule_id == call.id())
        .ok_or_else(|| not_found("rule"))
}

/// `GET /api/v2/rules/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    current(call)
        .await
        .map_or_else(|r| r, |rule| Reply::json(200, &view(&rule)))
}

/// `POST /api/v2/rules`: a new rule (`rule_id` from the body, else made here).
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let rule: Rule = attempt!(payload(call.req.body));
    let rule_id = if rule.rule_id.is_empty() {
        attempt!(call.new_id("rul_"))
    } else {
        rule.rule_id.clone()
    };
    if current_exists(call, &rule_id).await {
        return super::error::error_code(409, "conflict", "A rule with this id already exists.");
    }
    save(call, rule, &rule_id, 201).await
}

async fn current_exists<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, id: &str) -> bool {
    let rules = call.issuer.stores.claims().rules().await;
    rules.is_ok_and(|rules| rules.iter().any(|r| r.rule_id == id))
}

/// `PUT /api/v2/rules/{id}`: creates or replaces the whole rule.
pub async fn put_rule<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match payload::<Rule>(call.req.body) {
        Ok(rule) => save(call, rule, call.id(), 200).await,
        Err(resp) => resp,
    }
}

/// `PATCH /api/v2/rules/{id}`: the fields given replace the stored ones (as Auth0's
/// `rules.update` sends them); the result is checked whole.
pub async fn patch<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let changes: serde_json::Map<String, Value> = attempt!(payload(call.req.body));
    let before = attempt!(current(call).await);
    let mut merged = json!(before);
    for (k, v) in changes {
        merged[k] = v;
    }
    match payload::<Rule>(merged.to_string().as_bytes()) {
        Ok(rule) => save(call, rule, call.id(), 200).await,
        Err(resp) => resp,
    }
}

/// `DELETE /api/v2/rules/{id}`.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.claims().delete_rule(call.id()).await {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("rule"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}
