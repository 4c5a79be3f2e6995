//! Declarative rules: conditions on the event, and claim assignments whose values are
//! literals or paths into the event. Validated when saved; checked again when applied.

use super::{is_reserved, ClaimTarget, Trigger};
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
    /// A role (by name) the user must hold: a global one, or one in the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
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
    /// A post-login rule that requires a second factor for the sign-ins it matches.
    #[serde(default)]
    pub multifactor: bool,
}

/// Whether a path reads data the end user controls.
fn user_controlled(path: &str) -> bool {
    path == "user" || path == "user.user_metadata" || path.starts_with("user.user_metadata.")
}

/// Reads a dot-separated path (`user.app_metadata.roles`) from the event; a number indexes a
/// list (`user.identities.0.profileData.groups`: what the upstream provider said).
pub fn resolve_path<'a>(event: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(event, |v, segment| match v {
            Value::Array(list) => list.get(segment.parse::<usize>().ok()?),
            _ => v.get(segment),
        })
        .filter(|v| !v.is_null())
}

impl Rule {
    /// Checks a rule before it is saved; the error says what is wrong and why.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("a rule needs a name".into());
        }
        if self.multifactor && self.trigger != Trigger::PostLogin {
            return Err("only a post-login rule can require a second factor".into());
        }
        if self.assignments.is_empty() && !self.multifactor {
            return Err("a rule needs at least one assignment, or multifactor".into());
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
}
