//! Declarative rules: conditions on the event, and claim assignments whose values are
//! literals or paths into the event. Validated when saved; checked again when applied.

use super::{is_reserved, ClaimTarget, CustomClaims, TraceEntry, Trigger};
use serde::{Deserialize, Serialize};
use serde_json::Value;

fn yes() -> bool {
    true
}

/// When a rule applies; an empty list or `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub client_ids: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// A scope the issuance must have been granted.
    #[serde(default)]
    pub required_scope: Option<String>,
    /// An organization id or name the issuance must be in.
    #[serde(default)]
    pub organization: Option<String>,
}

/// One claim a rule sets: `value` (a literal) or `path` (into the event), exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub target: ClaimTarget,
    pub claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub rule_id: String,
    pub name: String,
    pub trigger: Trigger,
    /// Rules run in ascending position; a later rule overrides an earlier one's claim.
    #[serde(default)]
    pub position: i64,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub conditions: Conditions,
    pub assignments: Vec<Assignment>,
    /// Required to copy `user.user_metadata` (which the user can edit) into an access token.
    #[serde(default)]
    pub allow_user_controlled: bool,
}

/// Whether a path reads data the end user controls.
fn user_controlled(path: &str) -> bool {
    path == "user" || path == "user.user_metadata" || path.starts_with("user.user_metadata.")
}

/// Reads a dot-separated path (`user.app_metadata.roles`) from the event.
pub fn resolve_path<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(event, |v, segment| v.get(segment))
        .filter(|v| !v.is_null())
}

impl Rule {
    /// Checks a rule before it is saved; the error says what is wrong and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("a rule needs a name".into());
        }
        if self.assignments.is_empty() {
            return Err("a rule needs at least one assignment".into());
        }
        for a in &self.assignments {
            if a.claim.is_empty() {
                return Err("an assignment needs a claim name".into());
            }
            if is_reserved(&a.claim) {
                return Err(format!(
                    "claim {} is reserved: the issuer sets it and no rule may",
                    a.claim
                ));
            }
            match (&a.value, &a.path) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(format!(
                        "claim {}: give exactly one of value or path",
                        a.claim
                    ))
                }
            }
            if self.trigger == Trigger::CredentialsExchange && a.target != ClaimTarget::AccessToken
            {
                return Err(format!(
                    "claim {}: credentials-exchange issues only access tokens",
                    a.claim
                ));
            }
            if a.target == ClaimTarget::AccessToken
                && a.path.as_deref().is_some_and(user_controlled)
                && !self.allow_user_controlled
            {
                return Err(format!(
                    "claim {}: user_metadata is editable by the user, so copying it into an access \
                     token lets users grant themselves whatever an API reads from it; set \
                     allow_user_controlled: true if that is really meant",
                    a.claim
                ));
            }
        }
        Ok(())
    }

    /// Whether the rule's conditions hold for `event`.
    pub fn matches(&self, event: &Value) -> bool {
        let c = &self.conditions;
        let s = |path: &str| {
            resolve_path(event, path)
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        let any_of = |list: &[String], v: &str| list.is_empty() || list.iter().any(|x| x == v);
        let scopes = resolve_path(event, "scopes").and_then(Value::as_array);
        any_of(&c.client_ids, s("client.client_id"))
            && any_of(&c.audiences, s("api.identifier"))
            && any_of(&c.grant_types, s("grant_type"))
            && c.required_scope.as_ref().is_none_or(|want| {
                scopes.is_some_and(|l| l.iter().any(|x| x.as_str() == Some(want)))
            })
            && c.organization
                .as_ref()
                .is_none_or(|o| s("organization.id") == o || s("organization.name") == o)
    }

    /// Applies the assignments to `out`, tracing each. A missing path sets nothing; a
    /// reserved or disallowed assignment (a rule stored before validation) is dropped.
    pub fn apply(&self, event: &Value, out: &mut CustomClaims, trace: &mut Vec<TraceEntry>) {
        let source = format!("rule:{}", self.name);
        for a in &self.assignments {
            let entry = |action: &'static str, reason: String| TraceEntry {
                source: source.clone(),
                action,
                target: Some(a.target),
                claim: Some(a.claim.clone()),
                reason,
            };
            if let Err(why) = self.validate() {
                trace.push(entry("dropped", why));
                continue;
            }
            let value = match (&a.value, &a.path) {
                (Some(v), _) => v.clone(),
                (None, Some(path)) => match resolve_path(event, path) {
                    Some(v) => v.clone(),
                    None => {
                        trace.push(entry("skipped", format!("path {path} is not in the event")));
                        continue;
                    }
                },
                (None, None) => continue,
            };
            let claims = out.target_mut(a.target);
            let action = if claims.contains_key(&a.claim) {
                "overridden"
            } else {
                "set"
            };
            claims.insert(a.claim.clone(), value);
            let reason = match action {
                "overridden" => "a later rule wins over an earlier one".to_string(),
                _ => String::new(),
            };
            trace.push(entry(action, reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(assignments: Value) -> Rule {
        serde_json::from_value(json!({
            "name": "r", "trigger": "post-login", "assignments": assignments
        }))
        .unwrap()
    }

    fn event() -> Value {
        json!({
            "grant_type": "password",
            "scopes": ["openid", "read:data"],
            "client": { "client_id": "app", "client_metadata": { "urn": "urn:x" } },
            "api": { "identifier": "https://api.example.com" },
            "organization": { "id": "org_1", "name": "acme" },
            "user": { "app_metadata": { "roles": ["admin"] }, "user_metadata": { "theme": "dark" } }
        })
    }

    #[test]
    fn reserved_claims_cannot_be_saved() {
        for claim in [
            "sub",
            "iss",
            "permissions",
            "org_id",
            "cnf",
            "cnf.jkt",
            "scope",
        ] {
            let r = rule(json!([{ "target": "access_token", "claim": claim, "value": 1 }]));
            let e = r.validate().unwrap_err();
            assert!(e.contains("reserved"), "{claim}: {e}");
        }
    }

    #[test]
    fn user_metadata_into_an_access_token_needs_the_flag() {
        let a = json!([{ "target": "access_token", "claim": "https://x/theme", "path": "user.user_metadata.theme" }]);
        let e = rule(a.clone()).validate().unwrap_err();
        assert!(e.contains("allow_user_controlled"), "{e}");
        let mut flagged = rule(a);
        flagged.allow_user_controlled = true;
        assert!(flagged.validate().is_ok());
        let id = json!([{ "target": "id_token", "claim": "https://x/theme", "path": "user.user_metadata.theme" }]);
        assert!(
            rule(id).validate().is_ok(),
            "ID tokens are for the client, not APIs"
        );
    }

    #[test]
    fn value_xor_path() {
        let both = json!([{ "target": "id_token", "claim": "c", "value": 1, "path": "user" }]);
        assert!(rule(both).validate().is_err());
        let neither = json!([{ "target": "id_token", "claim": "c" }]);
        assert!(rule(neither).validate().is_err());
    }

    #[test]
    fn paths_resolve_and_missing_paths_set_nothing() {
        let r = rule(json!([
            { "target": "access_token", "claim": "https://x/roles", "path": "user.app_metadata.roles" },
            { "target": "access_token", "claim": "https://x/missing", "path": "user.app_metadata.nope" },
            { "target": "id_token", "claim": "https://x/urn", "path": "client.client_metadata.urn" },
        ]));
        let mut out = CustomClaims::default();
        let mut trace = vec![];
        r.apply(&event(), &mut out, &mut trace);
        assert_eq!(out.access_token["https://x/roles"], json!(["admin"]));
        assert!(!out.access_token.contains_key("https://x/missing"));
        assert_eq!(out.id_token["https://x/urn"], "urn:x");
        assert_eq!(trace[1].action, "skipped");
    }

    #[test]
    fn conditions_filter() {
        let mut r = rule(json!([{ "target": "id_token", "claim": "c", "value": 1 }]));
        assert!(r.matches(&event()));
        r.conditions.client_ids = vec!["other".into()];
        assert!(!r.matches(&event()));
        r.conditions = Conditions {
            organization: Some("acme".into()),
            ..Default::default()
        };
        assert!(r.matches(&event()));
        r.conditions = Conditions {
            required_scope: Some("write:data".into()),
            ..Default::default()
        };
        assert!(!r.matches(&event()));
        r.conditions = Conditions {
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        };
        assert!(!r.matches(&event()));
    }

    #[test]
    fn unknown_fields_are_refused_when_parsing() {
        let parsed: Result<Rule, _> = serde_json::from_value(json!({
            "name": "r", "trigger": "post-login", "assignments": [], "typo": 1
        }));
        assert!(parsed.is_err());
    }
}
