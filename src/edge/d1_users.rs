//! Users, brute-force counters and refresh tokens on D1 (schema in
//! `migrations/0002_users_refresh.sql`).

use super::d1::{err, D1Store};
use crate::error::StoreError;
use crate::model::{LockoutPolicy, RefreshRecord, User};
use crate::port::{AttemptStore, ExchangeStore, Login, RefreshStore, UserStore};
use serde::Deserialize;
use wasm_bindgen::JsValue;

fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn opt(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

#[derive(Deserialize)]
struct UserRow {
    user_id: String,
    connection: String,
    email: Option<String>,
    email_verified: f64,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
    user_metadata: String,
    app_metadata: String,
    blocked: f64,
    password_hash: Option<String>,
    created_at: f64,
    updated_at: f64,
    last_login: Option<f64>,
    logins_count: f64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            user_id: r.user_id,
            connection: r.connection,
            email: r.email,
            email_verified: r.email_verified != 0.0,
            name: r.name,
            given_name: r.given_name,
            family_name: r.family_name,
            nickname: r.nickname,
            picture: r.picture,
            user_metadata: serde_json::from_str(&r.user_metadata).map_err(err)?,
            app_metadata: serde_json::from_str(&r.app_metadata).map_err(err)?,
            blocked: r.blocked != 0.0,
            password_hash: r.password_hash,
            created_at: r.created_at as u64,
            updated_at: r.updated_at as u64,
            last_login: r.last_login.map(|t| t as u64),
            logins_count: r.logins_count as u64,
        })
    }
}

const USER_COLUMNS: &str = "user_id, connection, email, email_verified, name, given_name, \
    family_name, nickname, picture, user_metadata, app_metadata, blocked, password_hash, \
    created_at, updated_at, last_login, logins_count";

impl UserStore for D1Store {
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = ?1");
        let row: Option<UserRow> = self.first(&sql, &[user_id.into()]).await?;
        row.map(User::try_from).transpose()
    }

    async fn user_by_email(
        &self,
        connection: &str,
        email_lower: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE connection = ?1 AND lower(email) = ?2");
        let row: Option<UserRow> = self
            .first(&sql, &[connection.into(), email_lower.into()])
            .await?;
        row.map(User::try_from).transpose()
    }
}

#[derive(Deserialize)]
struct Failures {
    failures: f64,
}

impl AttemptStore for D1Store {
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError> {
        // One statement: SQLite evaluates every SET expression against the old row, so the
        // lock check, the window restart (the lock expired or the window is over), the count
        // and the new lock are decided together and atomically.
        let row: Option<Failures> = self
            .first(
                "INSERT INTO login_failures (user_key, ip, window_start, failures, locked_until) \
                 VALUES (?1, ?2, ?3, 1, CASE WHEN 1 >= ?4 THEN ?3 + ?6 ELSE 0 END) \
                 ON CONFLICT (user_key, ip) DO UPDATE SET \
                   failures = CASE \
                     WHEN locked_until > ?3 THEN max(failures, ?4) + 1 \
                     WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN 1 \
                     ELSE failures + 1 END, \
                   window_start = CASE \
                     WHEN locked_until > ?3 THEN window_start \
                     WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN ?3 \
                     ELSE window_start END, \
                   locked_until = CASE \
                     WHEN locked_until > ?3 THEN locked_until \
                     WHEN (CASE WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN 1 \
                                ELSE failures + 1 END) >= ?4 THEN ?3 + ?6 \
                     ELSE 0 END \
                 RETURNING failures",
                &[
                    user_key.into(),
                    ip.into(),
                    num(now),
                    num(u64::from(policy.max_failures)),
                    num(policy.window_seconds),
                    num(policy.lock_seconds),
                ],
            )
            .await?;
        row.map(|r| r.failures as u32)
            .ok_or_else(|| err("login_failures upsert returned no row"))
    }
}

#[derive(Deserialize)]
struct RefreshRow {
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
            auth_time: r.auth_time as u64,
            created_at: r.created_at as u64,
            idle_expires_at: r.idle_expires_at as u64,
            absolute_expires_at: r.absolute_expires_at as u64,
            used_at: r.used_at.map(|t| t as u64),
            revoked_at: r.revoked_at.map(|t| t as u64),
            org_id: r.org_id,
        }
    }
}

/// The columns of a refresh token, with its family's revocation time.
const REFRESH_SELECT: &str = "SELECT t.token_hash, t.family_id, t.client_id, t.user_id, \
    t.audience, t.scope, t.auth_time, t.created_at, t.idle_expires_at, t.absolute_expires_at, \
    t.used_at, f.revoked_at, t.org_id \
    FROM refresh_tokens t LEFT JOIN refresh_families f ON f.family_id = t.family_id";

/// Creates the family of `r` on its first token (a no-op for the next token of a family).
const INSERT_FAMILY: &str =
    "INSERT INTO refresh_families (family_id, client_id, user_id, created_at) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (family_id) DO NOTHING";

/// Stores `r` while its family is alive; `extra` adds a condition on parameter `?12`.
fn insert_token(extra: &str) -> String {
    format!(
        "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, audience, scope, \
         auth_time, created_at, idle_expires_at, absolute_expires_at, org_id) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 \
         WHERE EXISTS (SELECT 1 FROM refresh_families WHERE family_id = ?2 AND revoked_at IS NULL) {extra}"
    )
}

fn family_args(r: &RefreshRecord) -> Vec<JsValue> {
    vec![
        r.family_id.as_str().into(),
        r.client_id.as_str().into(),
        r.user_id.as_str().into(),
        num(r.created_at),
    ]
}

fn token_args(r: &RefreshRecord) -> Vec<JsValue> {
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
    ]
}

impl RefreshStore for D1Store {
    async fn insert_refresh(&self, r: &RefreshRecord) -> Result<bool, StoreError> {
        // One batch (one transaction): create the family on its first token, then store the
        // token only while the family is unrevoked. A revocation is a write to the family
        // row, so it comes wholly before this batch (nothing stored) or after it (the new
        // token is revoked with the rest).
        let insert = insert_token("");
        let changes = self
            .batch(&[(INSERT_FAMILY, &family_args(r)), (&insert, &token_args(r))])
            .await?;
        Ok(changes.get(1).copied().unwrap_or(0) == 1)
    }

    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let sql = format!("{REFRESH_SELECT} WHERE t.token_hash = ?1");
        let row: Option<RefreshRow> = self.first(&sql, &[token_hash.into()]).await?;
        Ok(row.map(RefreshRecord::from))
    }

    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError> {
        self.run(
            "UPDATE refresh_families SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL",
            &[family_id.into(), num(now)],
        )
        .await
        .map(|_| ())
    }
}

impl ExchangeStore for D1Store {
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let forget: [JsValue; 2] = [login.user_key.as_str().into(), login.ip.as_str().into()];
        let record: [JsValue; 3] = [login.user_id.as_str().into(), num(now), opt(&login.rehash)];
        let insert = insert_token("");
        let (family, token) = match refresh {
            Some(r) => (family_args(r), token_args(r)),
            None => (Vec::new(), Vec::new()),
        };
        let mut statements: Vec<(&str, &[JsValue])> = vec![
            (
                "DELETE FROM login_failures WHERE user_key = ?1 AND ip = ?2",
                &forget,
            ),
            (
                "UPDATE users SET last_login = ?2, logins_count = logins_count + 1, \
                 password_hash = coalesce(?3, password_hash) WHERE user_id = ?1",
                &record,
            ),
        ];
        if refresh.is_some() {
            statements.push((INSERT_FAMILY, &family));
            statements.push((&insert, &token));
        }
        self.batch(&statements).await.map(|_| ())
    }

    async fn commit_rotation(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
        next: &RefreshRecord,
    ) -> Result<bool, StoreError> {
        // One batch: the compare-and-set marks the old token used and names its successor;
        // the new token is stored only if this very batch did that, so a lost race stores
        // nothing.
        let consume: [JsValue; 4] = [
            token_hash.into(),
            client_id.into(),
            num(now),
            next.token_hash.as_str().into(),
        ];
        let mut token = token_args(next);
        token.push(token_hash.into());
        let insert = insert_token(
            "AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ?12 AND replaced_by = ?1)",
        );
        let changes = self
            .batch(&[
                (
                    "UPDATE refresh_tokens SET used_at = ?3, replaced_by = ?4 \
                     WHERE token_hash = ?1 AND client_id = ?2 AND used_at IS NULL \
                       AND idle_expires_at > ?3 AND absolute_expires_at > ?3 \
                       AND EXISTS (SELECT 1 FROM refresh_families f \
                                   WHERE f.family_id = refresh_tokens.family_id \
                                     AND f.revoked_at IS NULL)",
                    &consume,
                ),
                (&insert, &token),
            ])
            .await?;
        Ok(changes.get(1).copied().unwrap_or(0) == 1)
    }
}
