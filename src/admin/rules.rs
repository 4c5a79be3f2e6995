//! Rules of the claims pipeline: `/api/v2/rules` (list, create) and `/api/v2/rules/{id}`
//! (get, `PATCH` partial update, `PUT` whole replacement, delete), each checked by
//! [`Rule::validate`] before it is stored.

use super::call::Call;
use super::error::{error, from_store, invalid, members, not_found, Fields, Reply};
use crate::model::rule::{Assignment, Conditions};
use crate::model::{ClaimTarget, Rule, Trigger};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, Stores};
use serde_json::{json, Value};

const CONFLICT: &str = "Conflict.";

/// A rule's members.
const MEMBERS: [&str; 9] = [
    "rule_id",
    "name",
    "trigger",
    "position",
    "enabled",
    "conditions",
    "assignments",
    "allow_user_controlled",
    "multifactor",
];

/// A rule body read member by member (a derived reader costs the Worker several KiB).
fn read(body: &[u8]) -> Result<Rule, Reply> {
    rule_of(members(body, &MEMBERS)?)
}

fn rule_of(mut f: Fields) -> Result<Rule, Reply> {
    let missing = |name: &str| invalid(&format!("missing field {name}"));
    let trigger = match f.text("trigger")?.as_deref() {
        Some("post-login") => Trigger::PostLogin,
        Some("credentials-exchange") => Trigger::CredentialsExchange,
        Some(_) => {
            return Err(invalid(
                "at trigger: expected post-login or credentials-exchange",
            ))
        }
        None => return Err(missing("trigger")),
    };
    let conditions = match f.nested(
        "conditions",
        &[
            "client_ids",
            "audiences",
            "grant_types",
            "required_scope",
            "organization",
            "role",
        ],
    )? {
        Some(mut c) => Conditions {
            client_ids: c.texts("client_ids")?.unwrap_or_default(),
            audiences: c.texts("audiences")?.unwrap_or_default(),
            grant_types: c.texts("grant_types")?.unwrap_or_default(),
            required_scope: c.text("required_scope")?,
            organization: c.text("organization")?,
            role: c.text("role")?,
        },
        None => Conditions::default(),
    };
    let multifactor = f.flag("multifactor")?.unwrap_or(false);
    let mut assignments = Vec::new();
    let listed = f.list("assignments")?;
    // A rule that only requires a second factor may leave its assignments out.
    let listed = match (listed, multifactor) {
        (Some(list), _) => list,
        (None, true) => Vec::new(),
        (None, false) => return Err(missing("assignments")),
    };
    for item in listed {
        let serde_json::Value::Object(map) = item else {
            return Err(invalid("at assignments: expected a list of objects"));
        };
        let mut a = Fields::of(map, "assignments", &["target", "claim", "value", "path"])?;
        assignments.push(Assignment {
            target: match a.text("target")?.as_deref() {
                Some("access_token") => ClaimTarget::AccessToken,
                Some("id_token") => ClaimTarget::IdToken,
                Some("userinfo") => ClaimTarget::Userinfo,
                _ => {
                    return Err(invalid(
                        "at assignments.target: expected access_token, id_token or userinfo",
                    ))
                }
            },
            claim: a
                .text("claim")?
                .ok_or_else(|| missing("assignments.claim"))?,
            value: a.any("value"),
            path: a.text("path")?,
        });
    }
    Ok(Rule {
        rule_id: f.text("rule_id")?.unwrap_or_default(),
        name: f.text("name")?.ok_or_else(|| missing("name"))?,
        trigger,
        position: f.integer("position")?.unwrap_or(0),
        enabled: f.flag("enabled")?.unwrap_or(true),
        conditions,
        assignments,
        allow_user_controlled: f.flag("allow_user_controlled")?.unwrap_or(false),
        multifactor,
    })
}

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
    match call.issuer.stores.claims().put_rule(&rule).settle().await {
        Ok(()) => Reply::json(status, &view(&rule)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `GET /api/v2/rules`: every rule, by trigger and position.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.claims().rules().settle().await {
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
        .settle()
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
        .settle()
        .await
        .map_or_else(|r| r, |rule| Reply::json(200, &view(&rule)))
}

/// `POST /api/v2/rules`: a new rule (`rule_id` from the body, else made here).
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let rule = attempt!(read(call.req.body));
    let rule_id = if rule.rule_id.is_empty() {
        attempt!(call.new_id("rul_"))
    } else {
        rule.rule_id.clone()
    };
    if current_exists(call, &rule_id).settle().await {
        return super::error::error_code(409, "conflict", "A rule with this id already exists.");
    }
    save(call, rule, &rule_id, 201).settle().await
}

async fn current_exists<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, id: &str) -> bool {
    let rules = call.issuer.stores.claims().rules().settle().await;
    rules.is_ok_and(|rules| rules.iter().any(|r| r.rule_id == id))
}

/// `PUT /api/v2/rules/{id}`: creates or replaces the whole rule.
pub async fn put_rule<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match read(call.req.body) {
        Ok(rule) => save(call, rule, call.id(), 200).settle().await,
        Err(resp) => resp,
    }
}

/// `PATCH /api/v2/rules/{id}`: the fields given replace the stored ones (as Auth0's
/// `rules.update` sends them); the result is checked whole.
pub async fn patch<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let changes = attempt!(members(call.req.body, &MEMBERS));
    let before = attempt!(current(call).settle().await);
    let Value::Object(mut merged) = json!(before) else {
        return error(500, "Internal error");
    };
    merged.extend(changes.0);
    match rule_of(Fields(merged, String::new())) {
        Ok(rule) => save(call, rule, call.id(), 200).settle().await,
        Err(resp) => resp,
    }
}

/// `DELETE /api/v2/rules/{id}`.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .claims()
        .delete_rule(call.id())
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("rule"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}
