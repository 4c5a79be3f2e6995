//! Custom claims: who owns which claim, where a claim goes, and what the pipeline did.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Claims no rule or hook may set: the issuer owns them.
pub const RESERVED_CLAIMS: [&str; 21] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "azp",
    "nonce",
    "auth_time",
    "at_hash",
    "c_hash",
    "acr",
    "amr",
    "sid",
    "scope",
    "client_id",
    "gty",
    "permissions",
    "org_id",
    "org_name",
];

/// Whether `claim` is reserved (including anything under `cnf`).
pub fn is_reserved(claim: &str) -> bool {
    RESERVED_CLAIMS.contains(&claim) || claim == "cnf" || claim.starts_with("cnf.")
}

/// Most custom-claim JSON one token may carry.
pub const MAX_CUSTOM_CLAIM_BYTES: usize = 16 * 1024;

/// When enrichment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// authorization_code, password and refresh_token grants, and /userinfo.
    #[serde(rename = "post-login")]
    PostLogin,
    /// client_credentials.
    #[serde(rename = "credentials-exchange")]
    CredentialsExchange,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: [Trigger; 2] = [Trigger::PostLogin, Trigger::CredentialsExchange];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::PostLogin => "post-login",
            Trigger::CredentialsExchange => "credentials-exchange",
        }
    }
}

/// Where a claim goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimTarget {
    AccessToken,
    IdToken,
    Userinfo,
}

/// The custom claims of one issuance, per target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomClaims {
    pub access_token: Map<String, Value>,
    pub id_token: Map<String, Value>,
    pub userinfo: Map<String, Value>,
}

impl CustomClaims {
    /// The claims of one target.
    pub fn target_mut(&mut self, target: ClaimTarget) -> &mut Map<String, Value> {
        match target {
            ClaimTarget::AccessToken => &mut self.access_token,
            ClaimTarget::IdToken => &mut self.id_token,
            ClaimTarget::Userinfo => &mut self.userinfo,
        }
    }
}

/// What a rule or hook did with a claim or scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceAction {
    /// The claim was set.
    Set,
    /// The claim was set over an earlier value (a later rule, or a hook over a rule).
    Overridden,
    /// The claim was refused (reserved, or a rule that no longer validates).
    Dropped,
    /// Nothing was done: conditions not met, a path not in the event, a skipped hook.
    Skipped,
    /// A hook removed scopes from the grant.
    ScopeDropped,
}

/// One line of the explanation of what the pipeline did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    /// `rule:<name>` or `hook:<name>`.
    pub source: String,
    pub action: TraceAction,
    pub target: Option<ClaimTarget>,
    pub claim: Option<String>,
    pub reason: String,
}

/// Adds custom claims to a token's claims without ever replacing one the issuer set, and
/// never a reserved one (the pipeline already refuses them; this is the last line).
pub fn merge_custom(
    claims: &mut serde_json::Map<String, serde_json::Value>,
    custom: &serde_json::Map<String, serde_json::Value>,
) {
    for (name, value) in custom {
        if !is_reserved(name) && !claims.contains_key(name) {
            claims.insert(name.clone(), value.clone());
        }
    }
}
