//! Second factors (schema in `migrations/0020_mfa.sql`).

use super::codec::{flag, flag_arg, int, num, opt, opt_int};
use super::sql::{Source, Sql, Value};
use super::{SqlStore, Total};
use crate::error::StoreError;
use crate::model::mfa::{Authenticator, Credential, Guardian, RememberBrowser, ALL_APPLICATIONS};
use crate::port::mfa::{MfaStore, Spent};
use crate::port::settled::Settle;

crate::row! {
    struct GuardianRow {
        name: String,
        enabled: f64,
        policy: String,
        remember_checkbox: f64,
        remember_default: f64,
        remember_inactivity: f64,
        remember_overall: f64,
    }
}

crate::row! {
    struct AuthenticatorRow {
        id: String,
        user_id: String,
        type_: String,
        name: Option<String>,
        secret_sealed: Option<String>,
        last_step: Option<f64>,
        confirmed: f64,
        created_at: f64,
        last_auth_at: Option<f64>,
        credential_id: Option<String>,
        public_key: Option<String>,
        sign_count: Option<f64>,
    }
}

impl From<AuthenticatorRow> for Authenticator {
    fn from(r: AuthenticatorRow) -> Self {
        Authenticator {
            id: r.id,
            user_id: r.user_id,
            kind: r.type_,
            name: r.name,
            secret_sealed: r.secret_sealed,
            last_step: opt_int(r.last_step),
            confirmed: flag(r.confirmed),
            created_at: int(r.created_at),
            last_auth_at: opt_int(r.last_auth_at),
            credential: match (r.credential_id, r.public_key) {
                (Some(id), Some(public_jwk)) => Some(Credential {
                    id,
                    public_jwk,
                    sign_count: opt_int(r.sign_count).unwrap_or(0) as u32,
                }),
                _ => None,
            },
        }
    }
}

const AUTHENTICATORS: &str = "SELECT id, user_id, type AS type_, name, secret_sealed, last_step, \
    confirmed, created_at, last_auth_at, credential_id, public_key, sign_count FROM authenticators WHERE user_id = ?1 \
    ORDER BY created_at, id";
const RECOVERY_LEFT: &str = "SELECT count(*) AS total FROM recovery_codes WHERE user_id = ?1";
/// Spends an MFA token (`?5` jti, `?6` expiry, `?7` redemption) if `{when}` holds and it is
/// unspent; what follows in the batch acts only where [`SPENT_HERE`] holds.
fn spend_token(when: &str) -> String {
    format!(
        "INSERT INTO mfa_tokens_used (jti, expires_at, used_by) SELECT ?5, ?6, ?7 \
         WHERE {when} ON CONFLICT DO NOTHING"
    )
}
const SPENT_HERE: &str = "EXISTS (SELECT 1 FROM mfa_tokens_used WHERE jti = ?5 AND used_by = ?7)";

impl<B: Sql> MfaStore for SqlStore<B> {
    async fn guardian(&self) -> Result<Guardian, StoreError> {
        // Kept in the Worker's isolate memory (see `edge::kv_cache::mfa`). The factors' rows
        // are made by the migration, so the policy's one row rides on each of them.
        let sql = "SELECT f.name, f.enabled, p.policy, p.remember_checkbox, p.remember_default, \
                   p.remember_inactivity, p.remember_overall \
                   FROM guardian_factors f, guardian_policy p WHERE p.id = 1 ORDER BY f.name";
        let rows: Vec<GuardianRow> = self.all_on(Source::Cached, sql, &[]).settle().await?;
        let mut guardian = Guardian::default();
        if let Some(r) = rows.first() {
            guardian.all_applications = r.policy == ALL_APPLICATIONS;
            guardian.remember = RememberBrowser {
                checkbox: flag(r.remember_checkbox),
                ticked: flag(r.remember_default),
                inactivity: int(r.remember_inactivity),
                overall: int(r.remember_overall),
            };
        }
        guardian.enabled = rows
            .into_iter()
            .filter(|f| flag(f.enabled))
            .map(|f| f.name)
            .collect();
        Ok(guardian)
    }

    async fn set_factor(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "UPDATE guardian_factors SET enabled = ?2 WHERE name = ?1",
                &[name.into(), flag_arg(enabled)],
            )
            .settle()
            .await?;
        Ok(changed == 1)
    }

    async fn set_all_applications(&self, all: bool) -> Result<(), StoreError> {
        let policy = if all { ALL_APPLICATIONS } else { "" };
        self.run(
            "UPDATE guardian_policy SET policy = ?1 WHERE id = 1",
            &[policy.into()],
        )
        .settle()
        .await?;
        Ok(())
    }

    async fn set_remember(&self, r: &RememberBrowser) -> Result<(), StoreError> {
        let sql = "UPDATE guardian_policy SET remember_checkbox = ?1, remember_default = ?2, \
                   remember_inactivity = ?3, remember_overall = ?4 WHERE id = 1";
        let args = [
            flag_arg(r.checkbox),
            flag_arg(r.ticked),
            num(r.inactivity),
            num(r.overall),
        ];
        self.run(sql, &args).settle().await?;
        Ok(())
    }

    async fn forget_browsers(&self, user_id: &str, now: u64) -> Result<bool, StoreError> {
        let sql = "UPDATE users SET browsers_forgotten_at = ?2 WHERE user_id = ?1";
        let changed = self.run(sql, &[user_id.into(), num(now)]).settle().await?;
        Ok(changed == 1)
    }

    async fn authenticators(
        &self,
        user_id: &str,
    ) -> Result<(Vec<Authenticator>, usize), StoreError> {
        let args = [user_id.into()];
        let outcomes = self
            .batch_on(
                Source::Primary,
                &[(AUTHENTICATORS, &args), (RECOVERY_LEFT, &args)],
            )
            .settle()
            .await?;
        let rows: Vec<AuthenticatorRow> = outcomes[0].all()?;
        let left: Option<Total> = outcomes[1].first()?;
        Ok((
            rows.into_iter().map(Authenticator::from).collect(),
            left.map_or(0, |t| int(t.total) as usize),
        ))
    }

    async fn enroll(
        &self,
        a: &Authenticator,
        recovery_hashes: Option<&[String]>,
        now: u64,
    ) -> Result<(), StoreError> {
        let user: Value = a.user_id.as_str().into();
        let new = [
            a.id.as_str().into(),
            user.clone(),
            a.kind.as_str().into(),
            opt(&a.name),
            opt(&a.secret_sealed),
            num(a.created_at),
            opt(&a.credential.as_ref().map(|c| c.id.clone())),
            opt(&a.credential.as_ref().map(|c| c.public_jwk.clone())),
            a.credential
                .as_ref()
                .map_or(Value::Null, |c| num(c.sign_count.into())),
        ];
        let mut statements: Vec<(String, Vec<Value>)> = vec![
            (
                "DELETE FROM authenticators WHERE user_id = ?1 AND confirmed = 0".into(),
                vec![user.clone()],
            ),
            (
                "INSERT INTO authenticators (id, user_id, type, name, secret_sealed, confirmed, \
                 created_at, credential_id, public_key, sign_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, ?8, ?9)"
                    .into(),
                new.to_vec(),
            ),
        ];
        if let Some(hashes) = recovery_hashes {
            statements.extend(replace_codes(&user, hashes, now));
        }
        self.batch_owned(&statements).settle().await
    }

    async fn accept_step(
        &self,
        user_id: &str,
        id: &str,
        step: u64,
        sign_count: Option<u32>,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<bool, StoreError> {
        let args = [
            user_id.into(),
            id.into(),
            num(step),
            num(now),
            spent.jti.into(),
            num(spent.expires_at),
            spent.redemption.into(),
            sign_count.map_or(Value::Null, |c| num(c.into())),
        ];
        // A WebAuthn credential (a `sign_count` given) has no time steps: its challenge,
        // spent as the token, is what works once. Its counter must grow, unless it was never
        // kept (0 before and now) or this is its registration (unconfirmed: the count it was
        // stored with); checked again here so that of two assertions read concurrently with
        // the same count only one is taken (WebAuthn §7.2 step 21).
        let mine = "FROM authenticators WHERE id = ?2 AND user_id = ?1 AND CASE \
            WHEN ?8 IS NULL THEN last_step IS NULL OR last_step < ?3 \
            ELSE ?8 > coalesce(sign_count, 0) \
            OR (?8 = coalesce(sign_count, 0) AND (?8 = 0 OR confirmed = 0)) END";
        let changes = self
            .batch(&[
                (&spend_token(&format!("EXISTS (SELECT 1 {mine})")), &args),
                (
                    &format!(
                        "UPDATE authenticators SET last_step = ?3, confirmed = 1, \
                         last_auth_at = ?4, sign_count = coalesce(?8, sign_count) WHERE id IN (SELECT id {mine}) AND {SPENT_HERE}"
                    ),
                    &args,
                ),
            ])
            .settle().await?;
        Ok(changes.get(1) == Some(&1))
    }

    async fn spend_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<Option<usize>, StoreError> {
        let args = [
            user_id.into(),
            code_hash.into(),
            Value::Null,
            num(now),
            spent.jti.into(),
            num(spent.expires_at),
            spent.redemption.into(),
        ];
        let code = "FROM recovery_codes WHERE user_id = ?1 AND code_hash = ?2";
        let outcomes = self
            .batch_on(
                Source::Primary,
                &[
                    (&spend_token(&format!("EXISTS (SELECT 1 {code})")), &args),
                    (&format!("DELETE {code} AND {SPENT_HERE}"), &args),
                    (RECOVERY_LEFT, &args[..1]),
                ],
            )
            .settle()
            .await?;
        if outcomes[1].changes != 1 {
            return Ok(None);
        }
        let left: Option<Total> = outcomes[2].first()?;
        Ok(Some(left.map_or(0, |t| int(t.total) as usize)))
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: u64,
    ) -> Result<(), StoreError> {
        self.batch_owned(&replace_codes(&user_id.into(), hashes, now))
            .settle()
            .await
    }

    async fn delete_authenticator(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        let changed = self
            .run(
                "DELETE FROM authenticators WHERE user_id = ?1 AND id = ?2",
                &[user_id.into(), id.into()],
            )
            .settle()
            .await?;
        Ok(changed == 1)
    }

    async fn reset_authenticators(&self, user_id: &str) -> Result<(), StoreError> {
        let args = [user_id.into()];
        self.batch(&[
            ("DELETE FROM authenticators WHERE user_id = ?1", &args),
            ("DELETE FROM recovery_codes WHERE user_id = ?1", &args),
        ])
        .settle()
        .await?;
        Ok(())
    }
}

impl<B: Sql> SqlStore<B> {
    /// Runs statements made at run time as one batch.
    async fn batch_owned(&self, statements: &[(String, Vec<Value>)]) -> Result<(), StoreError> {
        let borrowed: Vec<_> = statements
            .iter()
            .map(|(s, a)| (s.as_str(), a.as_slice()))
            .collect();
        self.batch(&borrowed).settle().await.map(|_| ())
    }
}

/// The statements that replace a user's recovery codes with `hashes`.
fn replace_codes(user: &Value, hashes: &[String], now: u64) -> Vec<(String, Vec<Value>)> {
    let mut statements = vec![(
        "DELETE FROM recovery_codes WHERE user_id = ?1".to_string(),
        vec![user.clone()],
    )];
    statements.extend(hashes.iter().map(|h| {
        (
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES (?1, ?2, ?3)"
                .to_string(),
            vec![user.clone(), h.as_str().into(), num(now)],
        )
    }));
    statements
}
