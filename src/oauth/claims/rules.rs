//! Applying a rule: its conditions against the event, its assignments into the claims.

use crate::model::rule::resolve_path;
use crate::model::{CustomClaims, Rule, TraceAction, TraceEntry};
use serde_json::Value;

impl Rule {
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
            && c.role.as_ref().is_none_or(|want| {
                let roles = resolve_path(event, "user.roles").and_then(Value::as_array);
                roles.is_some_and(|l| l.iter().any(|x| x.as_str() == Some(want)))
            })
    }

    /// Applies the assignments to `out`, tracing each. A missing path sets nothing; a
    /// reserved or disallowed assignment (a rule stored before validation) is dropped.
    pub fn apply(&self, event: &Value, out: &mut CustomClaims, trace: &mut Vec<TraceEntry>) {
        let source = format!("rule:{}", self.name);
        for a in &self.assignments {
            let entry = |action: TraceAction, reason: String| TraceEntry {
                source: source.clone(),
                action,
                target: Some(a.target),
                claim: Some(a.claim.clone()),
                reason,
            };
            if let Err(why) = self.validate() {
                trace.push(entry(TraceAction::Dropped, why));
                continue;
            }
            let value = match (&a.value, &a.path) {
                (Some(v), _) => v.clone(),
                (None, Some(path)) => match resolve_path(event, path) {
                    Some(v) => v.clone(),
                    None => {
                        trace.push(entry(
                            TraceAction::Skipped,
                            format!("path {path} is not in the event"),
                        ));
                        continue;
                    }
                },
                (None, None) => continue,
            };
            let claims = out.target_mut(a.target);
            let action = if claims.contains_key(&a.claim) {
                TraceAction::Overridden
            } else {
                TraceAction::Set
            };
            claims.insert(a.claim.clone(), value);
            let reason = match action {
                TraceAction::Overridden => "a later rule wins over an earlier one".to_string(),
                _ => String::new(),
            };
            trace.push(entry(action, reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rule::Conditions;
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
        assert_eq!(trace[1].action, TraceAction::Skipped);
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
