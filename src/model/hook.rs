//! Hooks as configured: where one is reached, with which secret, and what its failure does.

use super::{Secret, Trigger};
use serde::{Deserialize, Serialize};

/// What a hook failure does to the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// The grant is refused (the default: a hook that adds authorization data must not be
    /// silently skipped).
    Deny,
    /// The hook is skipped and the grant goes on.
    Skip,
}

/// Where a hook is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookEndpoint {
    Url(String),
    /// A service binding of the Worker, by name.
    Service(String),
}

/// A stored hook, its secret decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hook {
    pub hook_id: String,
    pub name: String,
    pub trigger: Trigger,
    pub endpoint: HookEndpoint,
    pub secret: Secret<String>,
    pub timeout_ms: u64,
    pub on_failure: OnFailure,
}

/// A hook as stored: its HMAC secret sealed under the key-encryption key (AAD = hook id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredHook {
    pub hook_id: String,
    pub name: String,
    pub trigger: Trigger,
    pub position: i64,
    pub enabled: bool,
    /// An https endpoint, or
    pub url: Option<String>,
    /// a service binding name.
    pub service: Option<String>,
    pub secret_enc: String,
    pub timeout_ms: u64,
    pub on_failure: OnFailure,
}
