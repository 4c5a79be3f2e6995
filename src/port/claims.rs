//! The rules and hooks of the claims pipeline.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Rule, StoredHook};

/// Rules and hooks of the claims pipeline.
pub trait ClaimsStore {
    /// The enabled rules and hooks of `trigger` (`post-login`, `credentials-exchange`), each
    /// in position order (ties by id).
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError>;
    /// Inserts or replaces a rule by `rule_id`. Callers validate it first
    /// ([`Rule::validate`]); the new rule is in effect for the next request.
    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError>;
}
