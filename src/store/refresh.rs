//! Refresh tokens and their families.

use super::codec::{int, num, opt, opt_int};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Authenticated, RefreshRecord, RevokedToken};
use crate::port::settled::Settle;
use crate::port::RefreshStore;

crate::row! {
    pub(super) struct RefreshRow {
        token_hash: String,
        family_id: String,
        client_id: String,
        user_id: String,
        audience: Option<String>,
        scope: String,
        auth_time: f64,
        created_at: f64,
        idle_expires_at: f64,
        absolute_expires_at: f64,
        used_at: Option<f64>,
        revoked_at: Option<f64>,
        org_id: Option<String>,
        access_jti: Option<String>,
        access_expires_at: Option<f64>,
        connection: Option<String>,
        amr: Option<String>,
        acr: Option<String>,
    }
}

impl From<RefreshRow> for RefreshRecord {
    fn from(r: RefreshRow) -> Self {
        RefreshRecord {
            token_hash: r.token_hash,
            family_id: r.family_id,
            client_id: r.client_id,
            user_id: r.user_id,
            audience: r.audience,
            scope: r.scope,
            auth_time: int(r.auth_time),
            created_at: int(r.created_at),
            idle_expires_at: int(r.idle_expires_at),
            absolute_expires_at: int(r.absolute_expires_at),
            used_at: opt_int(r.used_at),
            revoked_at: opt_int(r.revoked_at),
            org_id: r.org_id,
            access_jti: r.access_jti,
            access_expires_at: opt_int(r.access_expires_at),
            authenticated: Authenticated::from_columns(r.connection, r.amr, r.acr),
        }
    }
}

/// The columns of a refresh token, with its family's revocation time.
pub(super) const REFRESH_SELECT: &str =
    "SELECT t.token_hash, t.family_id, t.client_id, t.user_id, \
    t.audience, t.scope, t.auth_time, t.created_at, t.idle_expires_at, t.absolute_expires_at, \
    t.used_at, f.revoked_at, t.org_id, t.access_jti, t.access_expires_at, t.connection, t.amr, \
    t.acr
    FROM refresh_tokens t LEFT JOIN refresh_families f ON f.family_id = t.family_id";

/// Creates the family of `r` on its first token (a no-op for the next token of a family).
pub(super) const INSERT_FAMILY: &str =
    "INSERT INTO refresh_families (family_id, client_id, user_id, created_at) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (family_id) DO NOTHING";

/// Stores `r` while its family is alive; `extra` adds a condition on parameter `?17`.
pub(super) fn insert_token(extra: &str) -> String {
    format!(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience, scope, \
         auth_time, created_at, idle_expires_at, absolute_expires_at, org_id, access_jti, \
         access_expires_at, connection, amr, acr) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16 \
         WHERE EXISTS (SELECT 1 FROM refresh_families WHERE family_id = ?2 AND revoked_at IS NULL) {extra}"
    )
}

pub(super) fn family_args(r: &RefreshRecord) -> Vec<Value> {
    vec![
        r.family_id.as_str().into(),
        r.client_id.as_str().into(),
        r.user_id.as_str().into(),
        num(r.created_at),
    ]
}

pub(super) fn token_args(r: &RefreshRecord) -> Vec<Value> {
    let [connection, amr, acr] = Authenticated::columns(r.authenticated.as_ref());
    vec![
        r.token_hash.as_str().into(),
        r.family_id.as_str().into(),
        r.client_id.as_str().into(),
        r.user_id.as_str().into(),
        opt(&r.audience),
        r.scope.as_str().into(),
        num(r.auth_time),
        num(r.created_at),
        num(r.idle_expires_at),
        num(r.absolute_expires_at),
        opt(&r.org_id),
        opt(&r.access_jti),
        r.access_expires_at.map_or(Value::Null, num),
        opt(&connection),
        opt(&amr),
        opt(&acr),
    ]
}

/// The two statements that revoke the refresh family `family` names (an SQL expression; `?2`
/// is the time): the family row, then its unexpired access tokens into `revoked_tokens`.
pub(super) fn revoke_family_statements(family: &str) -> [String; 2] {
    [
        format!(
            "UPDATE refresh_families SET revoked_at = ?2 \
             WHERE family_id = {family} AND revoked_at IS NULL"
        ),
        format!(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
             SELECT access_jti, access_expires_at, ?2 FROM refresh_tokens \
             WHERE family_id = {family} AND access_jti IS NOT NULL AND access_expires_at > ?2 \
             ON CONFLICT (jti) DO NOTHING"
        ),
    ]
}

/// A row if the access token `?1` (its `jti`) is revoked.
pub(super) const IS_REVOKED: &str = "SELECT 1 AS revoked FROM revoked_tokens WHERE jti = ?1";

crate::row! {
    struct RevokedRow {
        jti: String,
        expires_at: f64,
        revoked_at: f64,
    }
}

impl From<RevokedRow> for RevokedToken {
    fn from(r: RevokedRow) -> Self {
        RevokedToken {
            jti: r.jti,
            expires_at: int(r.expires_at),
            revoked_at: int(r.revoked_at),
        }
    }
}

impl<B: Sql> RefreshStore for SqlStore<B> {
    async fn insert_refresh(&self, r: &RefreshRecord) -> Result<bool, StoreError> {
        // One batch (one transaction): create the family on its first token, then store the
        // token only while the family is unrevoked. A revocation is a write to the family
        // row, so it comes wholly before this batch (nothing stored) or after it (the new
        // token is revoked with the rest).
        let insert = insert_token("");
        let changes = self
            .batch(&[(INSERT_FAMILY, &family_args(r)), (&insert, &token_args(r))])
            .settle()
            .await?;
        Ok(changes.get(1).copied().unwrap_or(0) == 1)
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let sql = format!("{REFRESH_SELECT} WHERE t.token_hash = ?1");
        let row: Option<RefreshRow> = self.first(&sql, &[token_hash.into()]).settle().await?;
        Ok(row.map(RefreshRecord::from))
    }

    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError> {
        // One batch: the family and the unexpired access tokens issued with its tokens.
        let args = [family_id.into(), num(now)];
        let [revoke, list] = revoke_family_statements("?1");
        self.batch(&[(&revoke, &args), (&list, &args)])
            .settle()
            .await
            .map(|_| ())
    }

    async fn access_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let found = self
            .db
            .execute(Source::Primary, IS_REVOKED, &[jti.into()])
            .settle()
            .await?;
        Ok(!found.rows.is_empty())
    }

    async fn revoked_access_tokens(&self, now: u64) -> Result<Vec<RevokedToken>, StoreError> {
        let sql = "SELECT jti, expires_at, revoked_at FROM revoked_tokens \
                   WHERE expires_at > ?1 ORDER BY jti";
        let rows: Vec<RevokedRow> = self
            .all_on(Source::Replica, sql, &[num(now)])
            .settle()
            .await?;
        Ok(rows.into_iter().map(RevokedToken::from).collect())
    }

    async fn prune_revoked_access_tokens(&self, now: u64) -> Result<u32, StoreError> {
        let args = [num(now)];
        let changes = self
            .batch(&[
                ("DELETE FROM revoked_tokens WHERE expires_at <= ?1", &args),
                // The spent MFA tokens and passkey challenges past their expiry go with them:
                // an expired one is refused by its own expiry.
                ("DELETE FROM mfa_tokens_used WHERE expires_at <= ?1", &args),
            ])
            .settle()
            .await?;
        Ok(changes.first().copied().unwrap_or(0) as u32)
    }
}
