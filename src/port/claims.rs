//! The rules and hooks of the claims pipeline.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Rule, StoredHook};

/// Rules and hooks of the claims pipeline. A write is in effect for the next request that
/// reads the pipeline here (a backend that caches the pipeline drops it on every write).
pub trait ClaimsStore {
    /// The enabled rules and hooks of `trigger` (`post-login`, `credentials-exchange`), each
    /// in position order (ties by id).
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError>;
    /// Inserts or replaces a rule by `rule_id`. Callers validate it first
    /// ([`Rule::validate`]).
    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError>;
    /// Every rule, enabled or not, by trigger, position and id.
    async fn rules(&self) -> Result<Vec<Rule>, StoreError>;
    /// Deletes a rule; whether there was one.
    async fn delete_rule(&self, rule_id: &str) -> Result<bool, StoreError>;
    /// Every hook, enabled or not, by trigger, position and id.
    async fn hooks(&self) -> Result<Vec<StoredHook>, StoreError>;
    /// Inserts or replaces a hook by `hook_id` (its secret already sealed).
    async fn put_hook(&self, hook: &StoredHook) -> Result<(), StoreError>;
    /// Deletes a hook; whether there was one.
    async fn delete_hook(&self, hook_id: &str) -> Result<bool, StoreError>;
}
