//! Rules and hooks of the claims pipeline (schema in
//! `migrations/0003_claims_rbac_orgs.sql`).

use super::codec::{backend, flag, flag_arg, int, json, json_arg, text_enum};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::directory::try_each;
use crate::model::{OnFailure, Rule, StoredHook};
use crate::port::settled::Settle;
use crate::port::ClaimsStore;

crate::row! {
    struct RuleRow {
        rule_id: String,
        name: String,
        trigger: String,
        position: f64,
        enabled: f64,
        conditions: String,
        assignments: String,
        allow_user_controlled: f64,
        multifactor: f64,
    }
}

crate::row! {
    struct HookRow {
        hook_id: String,
        name: String,
        trigger: String,
        position: f64,
        enabled: f64,
        url: Option<String>,
        service: Option<String>,
        secret: String,
        timeout_ms: f64,
        on_failure: String,
    }
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> Result<Self, StoreError> {
        Ok(Rule {
            rule_id: r.rule_id,
            name: r.name,
            trigger: text_enum("trigger", &r.trigger)?,
            position: r.position as i64,
            enabled: flag(r.enabled),
            conditions: json("conditions", &r.conditions)?,
            assignments: json("assignments", &r.assignments)?,
            allow_user_controlled: flag(r.allow_user_controlled),
            multifactor: flag(r.multifactor),
        })
    }
}

impl TryFrom<HookRow> for StoredHook {
    type Error = StoreError;
    fn try_from(r: HookRow) -> Result<Self, StoreError> {
        Ok(StoredHook {
            hook_id: r.hook_id,
            name: r.name,
            trigger: text_enum("trigger", &r.trigger)?,
            position: r.position as i64,
            enabled: flag(r.enabled),
            url: r.url,
            service: r.service,
            secret_enc: r.secret,
            timeout_ms: int(r.timeout_ms),
            on_failure: text_enum::<OnFailure>("on_failure", &r.on_failure)?,
        })
    }
}

impl<B: Sql> ClaimsStore for SqlStore<B> {
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError> {
        let args = [trigger.into()];
        let results = self
            .batch_on(
                Source::Cached,
                &[
                    (
                        "SELECT rule_id, name, trigger, position, enabled, conditions, \
                         assignments, allow_user_controlled, multifactor FROM rules \
                         WHERE trigger = ?1 AND enabled = 1 ORDER BY position, rule_id",
                        &args,
                    ),
                    (
                        "SELECT hook_id, name, trigger, position, enabled, url, service, secret, \
                         timeout_ms, on_failure FROM hooks WHERE trigger = ?1 AND enabled = 1 \
                         ORDER BY position, hook_id",
                        &args,
                    ),
                ],
            )
            .settle()
            .await?;
        let [r, h] = results.as_slice() else {
            return Err(backend("batch returned too few results"));
        };
        let rules = try_each(r.all::<RuleRow>()?, Rule::try_from)?;
        let hooks = try_each(h.all::<HookRow>()?, StoredHook::try_from)?;
        Ok((rules, hooks))
    }

    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        let now = self.now();
        let conditions = json_arg(&rule.conditions)?;
        let assignments = json_arg(&rule.assignments)?;
        self.run(
            "INSERT INTO rules (rule_id, name, trigger, position, enabled, conditions, assignments, \
             allow_user_controlled, multifactor, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, ?9, ?9) \
             ON CONFLICT (rule_id) DO UPDATE SET name = excluded.name, trigger = excluded.trigger, \
             position = excluded.position, enabled = excluded.enabled, conditions = excluded.conditions, \
             assignments = excluded.assignments, allow_user_controlled = excluded.allow_user_controlled, \
             multifactor = excluded.multifactor, updated_at = excluded.updated_at",
            &[
                rule.rule_id.as_str().into(),
                rule.name.as_str().into(),
                rule.trigger.as_str().into(),
                Value::from(rule.position),
                flag_arg(rule.enabled),
                conditions,
                assignments,
                flag_arg(rule.allow_user_controlled),
                now,
                flag_arg(rule.multifactor),
            ],
        )
        .settle().await
        .map(|_| ())
    }

    async fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        let rows: Vec<RuleRow> = self
            .all_on(
                Source::Primary,
                "SELECT rule_id, name, trigger, position, enabled, conditions, assignments, \
                 allow_user_controlled, multifactor FROM rules ORDER BY trigger, position, rule_id",
                &[],
            )
            .settle()
            .await?;
        try_each(rows, Rule::try_from)
    }

    async fn delete_rule(&self, rule_id: &str) -> Result<bool, StoreError> {
        let changed = self
            .run("DELETE FROM rules WHERE rule_id = ?1", &[rule_id.into()])
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn hooks(&self) -> Result<Vec<StoredHook>, StoreError> {
        let rows: Vec<HookRow> = self
            .all_on(
                Source::Primary,
                "SELECT hook_id, name, trigger, position, enabled, url, service, secret, \
                 timeout_ms, on_failure FROM hooks ORDER BY trigger, position, hook_id",
                &[],
            )
            .settle()
            .await?;
        try_each(rows, StoredHook::try_from)
    }

    async fn put_hook(&self, h: &StoredHook) -> Result<(), StoreError> {
        let now = self.now();
        let on_failure = match h.on_failure {
            OnFailure::Deny => "deny",
            OnFailure::Skip => "skip",
        };
        let opt = |v: &Option<String>| Value::from(v.as_deref());
        self.run(
            "INSERT INTO hooks (hook_id, name, trigger, position, enabled, url, service, secret, \
             timeout_ms, on_failure, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) \
             ON CONFLICT (hook_id) DO UPDATE SET name = excluded.name, trigger = excluded.trigger, \
             position = excluded.position, enabled = excluded.enabled, url = excluded.url, \
             service = excluded.service, secret = excluded.secret, \
             timeout_ms = excluded.timeout_ms, on_failure = excluded.on_failure, \
             updated_at = excluded.updated_at",
            &[
                h.hook_id.as_str().into(),
                h.name.as_str().into(),
                h.trigger.as_str().into(),
                Value::from(h.position),
                flag_arg(h.enabled),
                opt(&h.url),
                opt(&h.service),
                h.secret_enc.as_str().into(),
                Value::from(h.timeout_ms),
                on_failure.into(),
                now,
            ],
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn delete_hook(&self, hook_id: &str) -> Result<bool, StoreError> {
        let changed = self
            .run("DELETE FROM hooks WHERE hook_id = ?1", &[hook_id.into()])
            .settle()
            .await?;
        Ok(changed > 0)
    }
}
