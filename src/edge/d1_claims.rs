//! Rules, hooks, roles, permissions and organizations on D1 (schema in
//! `migrations/0003_claims_rbac_orgs.sql`).

use super::d1::{err, D1Store};
use crate::error::StoreError;
use crate::model::OnFailure;
use crate::model::Rule;
use crate::model::Trigger;
use crate::model::{Api, Organization, StoredHook, UserAccess};
use crate::port::{ClaimsStore, DirectoryStore};
use serde::Deserialize;
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
struct RuleRow {
    rule_id: String,
    name: String,
    trigger: String,
    position: f64,
    enabled: f64,
    conditions: String,
    assignments: String,
    allow_user_controlled: f64,
}

#[derive(Deserialize)]
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

fn trigger(s: &str) -> Result<Trigger, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.into())).map_err(err)
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;
    fn try_from(r: RuleRow) -> Result<Self, StoreError> {
        Ok(Rule {
            rule_id: r.rule_id,
            name: r.name,
            trigger: trigger(&r.trigger)?,
            position: r.position as i64,
            enabled: r.enabled != 0.0,
            conditions: serde_json::from_str(&r.conditions).map_err(err)?,
            assignments: serde_json::from_str(&r.assignments).map_err(err)?,
            allow_user_controlled: r.allow_user_controlled != 0.0,
        })
    }
}

impl TryFrom<HookRow> for StoredHook {
    type Error = StoreError;
    fn try_from(r: HookRow) -> Result<Self, StoreError> {
        Ok(StoredHook {
            hook_id: r.hook_id,
            name: r.name,
            trigger: trigger(&r.trigger)?,
            position: r.position as i64,
            enabled: r.enabled != 0.0,
            url: r.url,
            service: r.service,
            secret_enc: r.secret,
            timeout_ms: r.timeout_ms as u64,
            on_failure: if r.on_failure == "skip" {
                OnFailure::Skip
            } else {
                OnFailure::Deny
            },
        })
    }
}

impl ClaimsStore for D1Store {
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError> {
        let rules = self
            .db
            .prepare(
                "SELECT rule_id, name, trigger, position, enabled, conditions, assignments, \
                 allow_user_controlled FROM rules WHERE trigger = ?1 AND enabled = 1 \
                 ORDER BY position, rule_id",
            )
            .bind(&[trigger.into()])
            .map_err(err)?;
        let hooks = self
            .db
            .prepare(
                "SELECT hook_id, name, trigger, position, enabled, url, service, secret, \
                 timeout_ms, on_failure FROM hooks WHERE trigger = ?1 AND enabled = 1 \
                 ORDER BY position, hook_id",
            )
            .bind(&[trigger.into()])
            .map_err(err)?;
        let results = self.db.batch(vec![rules, hooks]).await.map_err(err)?;
        let (Some(r), Some(h)) = (results.first(), results.get(1)) else {
            return Err(StoreError::backend("d1", "batch returned too few results"));
        };
        let rules = r
            .results::<RuleRow>()
            .map_err(err)?
            .into_iter()
            .map(Rule::try_from)
            .collect::<Result<_, _>>()?;
        let hooks = h
            .results::<HookRow>()
            .map_err(err)?
            .into_iter()
            .map(StoredHook::try_from)
            .collect::<Result<_, _>>()?;
        Ok((rules, hooks))
    }

    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError> {
        let now = JsValue::from_f64((js_sys::Date::now() / 1000.0).floor());
        let conditions = serde_json::to_string(&rule.conditions).map_err(err)?;
        let assignments = serde_json::to_string(&rule.assignments).map_err(err)?;
        self.run(
            "INSERT INTO rules (rule_id, name, trigger, position, enabled, conditions, assignments, \
             allow_user_controlled, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) \
             ON CONFLICT (rule_id) DO UPDATE SET name = excluded.name, trigger = excluded.trigger, \
             position = excluded.position, enabled = excluded.enabled, conditions = excluded.conditions, \
             assignments = excluded.assignments, allow_user_controlled = excluded.allow_user_controlled, \
             updated_at = excluded.updated_at",
            &[
                rule.rule_id.as_str().into(),
                rule.name.as_str().into(),
                rule.trigger.as_str().into(),
                JsValue::from_f64(rule.position as f64),
                JsValue::from_f64(f64::from(u8::from(rule.enabled))),
                conditions.into(),
                assignments.into(),
                JsValue::from_f64(f64::from(u8::from(rule.allow_user_controlled))),
                now,
            ],
        )
        .await
        .map(|_| ())
    }
}

#[derive(Deserialize)]
struct OrgRow {
    org_id: String,
    name: String,
    display_name: Option<String>,
    token_org_name: f64,
}

#[derive(Deserialize)]
struct Name {
    name: String,
}

#[derive(Deserialize)]
struct Permission {
    permission: String,
}

impl DirectoryStore for D1Store {
    async fn organization(&self, id_or_name: &str) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrgRow> = self
            .first(
                "SELECT org_id, name, display_name, token_org_name FROM organizations \
                 WHERE org_id = ?1 OR name = ?1 ORDER BY (org_id = ?1) DESC LIMIT 1",
                &[id_or_name.into()],
            )
            .await?;
        Ok(row.map(|r| Organization {
            org_id: r.org_id,
            name: r.name,
            display_name: r.display_name,
            token_org_name: r.token_org_name != 0.0,
        }))
    }

    async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let row: Option<serde_json::Value> = self
            .first(
                "SELECT 1 AS found FROM organization_members WHERE org_id = ?1 AND user_id = ?2",
                &[org_id.into(), user_id.into()],
            )
            .await?;
        Ok(row.is_some())
    }

    async fn user_access(
        &self,
        user_id: &str,
        org: Option<&Organization>,
        api: Option<&Api>,
    ) -> Result<UserAccess, StoreError> {
        let org_id = org.map_or("", |o| o.org_id.as_str());
        let audience = api.map_or("", |a| a.identifier.as_str());
        let args = [user_id.into(), org_id.into(), audience.into()];
        let roles = self
            .db
            .prepare(
                "SELECT DISTINCT r.name AS name FROM user_roles ur JOIN roles r ON r.role_id = ur.role_id \
                 WHERE ur.user_id = ?1 AND (ur.org_id = '' OR ur.org_id = ?2) AND ?3 = ?3 ORDER BY r.name",
            )
            .bind(&args)
            .map_err(err)?;
        let permissions = self
            .db
            .prepare(
                "SELECT DISTINCT rp.permission AS permission FROM user_roles ur \
                 JOIN role_permissions rp ON rp.role_id = ur.role_id \
                 WHERE ur.user_id = ?1 AND (ur.org_id = '' OR ur.org_id = ?2) AND rp.audience = ?3 \
                 ORDER BY rp.permission",
            )
            .bind(&args)
            .map_err(err)?;
        let results = self.db.batch(vec![roles, permissions]).await.map_err(err)?;
        let (Some(r), Some(p)) = (results.first(), results.get(1)) else {
            return Err(StoreError::backend("d1", "batch returned too few results"));
        };
        Ok(UserAccess {
            roles: r
                .results::<Name>()
                .map_err(err)?
                .into_iter()
                .map(|n| n.name)
                .collect(),
            permissions: p
                .results::<Permission>()
                .map_err(err)?
                .into_iter()
                .map(|p| p.permission)
                .collect(),
        })
    }
}
