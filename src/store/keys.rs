//! Signing keys and their lifecycle.

use super::codec::{int, num, opt_int, text_enum};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::directory::try_each;
use crate::model::{KeyState, StoredKey};
use crate::port::settled::Settle;
use crate::port::KeyStore;

crate::row! {
    struct KeyRow {
        kid: String,
        alg: String,
        public_jwk: String,
        private_key_enc: String,
        created_at: f64,
        status: String,
        current_since: Option<f64>,
        current_until: Option<f64>,
        revoked_at: Option<f64>,
        promotion: Option<f64>,
    }
}

impl TryFrom<KeyRow> for StoredKey {
    type Error = StoreError;

    fn try_from(r: KeyRow) -> Result<Self, StoreError> {
        Ok(StoredKey {
            kid: r.kid,
            alg: r.alg,
            public_jwk: r.public_jwk,
            private_key_enc: r.private_key_enc,
            created_at: int(r.created_at),
            state: text_enum("status", &r.status)?,
            current_since: opt_int(r.current_since),
            current_until: opt_int(r.current_until),
            revoked_at: opt_int(r.revoked_at),
            promotion: opt_int(r.promotion),
        })
    }
}

const KEY_COLUMNS: &str = "kid, alg, public_jwk, private_key_enc, created_at, status, \
                           current_since, current_until, revoked_at, promotion";

/// Stores a key in its state unless its algorithm already has one in that state (the
/// partial unique indexes `signing_keys_one_current` and `signing_keys_one_next`); a current
/// key takes the algorithm's next promotion number.
const INSERT: &str = "INSERT INTO signing_keys (kid, alg, status, public_jwk, private_key_enc, \
                      created_at, current_since, promotion) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                      CASE ?3 WHEN 'current' THEN (SELECT coalesce(max(promotion), 0) + 1 \
                      FROM signing_keys WHERE alg = ?2) END) \
                      ON CONFLICT DO NOTHING";

/// The keys the JWKS shows.
const PUBLISHED: &str = "status IN ('next', 'current', 'previous')";

fn insert_args(key: &StoredKey) -> Vec<Value> {
    vec![
        key.kid.as_str().into(),
        key.alg.as_str().into(),
        key.state.as_str().into(),
        key.public_jwk.as_str().into(),
        key.private_key_enc.as_str().into(),
        num(key.created_at),
        key.current_since.map_or(Value::Null, num),
    ]
}

fn keys(rows: Vec<KeyRow>) -> Result<Vec<StoredKey>, StoreError> {
    try_each(rows, StoredKey::try_from)
}

impl<B: Sql> SqlStore<B> {
    async fn keys_where(&self, source: Source, filter: &str, args: &[Value]) -> KeysResult {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE {filter} ORDER BY created_at DESC"
        );
        keys(self.all_on(source, &sql, args).settle().await?)
    }
}

type KeysResult = Result<Vec<StoredKey>, StoreError>;

impl<B: Sql> KeyStore for SqlStore<B> {
    async fn signing_keys(&self, alg: &str) -> KeysResult {
        let filter = "alg = ?1 AND status IN ('current', 'previous')";
        self.keys_where(Source::Primary, filter, &[alg.into()])
            .settle()
            .await
    }

    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        if !matches!(key.state, KeyState::Current | KeyState::Next) {
            return Ok(false);
        }
        Ok(self.run(INSERT, &insert_args(key)).settle().await? > 0)
    }

    async fn rotate_keys(&self, new_next: &StoredKey, now: u64) -> Result<bool, StoreError> {
        // One batch, one transaction: the current key steps down only if a next key is there
        // to take its place, the next key steps up only if no current key is left, and the
        // new next key fills the place the promoted one left.
        let demote = "UPDATE signing_keys SET status = 'previous', current_until = ?2 \
                      WHERE alg = ?1 AND status = 'current' AND EXISTS \
                      (SELECT 1 FROM signing_keys WHERE alg = ?1 AND status = 'next')";
        let promote = "UPDATE signing_keys SET status = 'current', current_since = ?2, \
                       promotion = (SELECT coalesce(max(promotion), 0) + 1 FROM signing_keys \
                       WHERE alg = ?1) WHERE alg = ?1 AND status = 'next' AND NOT EXISTS \
                       (SELECT 1 FROM signing_keys WHERE alg = ?1 AND status = 'current')";
        let at = [new_next.alg.as_str().into(), num(now)];
        let next = StoredKey {
            state: KeyState::Next,
            current_since: None,
            ..new_next.clone()
        };
        let changes = self
            .batch(&[(demote, &at), (promote, &at), (INSERT, &insert_args(&next))])
            .settle()
            .await?;
        Ok(changes[1] > 0)
    }

    async fn revoke_key(&self, kid: &str, now: u64) -> Result<Option<StoredKey>, StoreError> {
        let revoke = "UPDATE signing_keys SET status = 'revoked', revoked_at = ?2 \
                      WHERE kid = ?1 AND status = 'previous'";
        let read = format!("SELECT {KEY_COLUMNS} FROM signing_keys WHERE kid = ?1");
        let results = self
            .batch_on(
                Source::Primary,
                &[(revoke, &[kid.into(), num(now)]), (&read, &[kid.into()])],
            )
            .settle()
            .await?;
        let rows: Vec<KeyRow> = results[1].all()?;
        Ok(keys(rows)?.into_iter().next())
    }

    async fn drop_previous_keys(&self, before: u64) -> Result<u32, StoreError> {
        let sql = "DELETE FROM signing_keys WHERE status = 'previous' AND current_until < ?1";
        Ok(self.run(sql, &[num(before)]).settle().await? as u32)
    }

    async fn all_keys(&self) -> KeysResult {
        self.keys_where(Source::Primary, "1", &[]).settle().await
    }

    async fn reseal_key(&self, kid: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE signing_keys SET private_key_enc = ?3 \
                   WHERE kid = ?1 AND private_key_enc = ?2";
        Ok(self
            .run(sql, &[kid.into(), old.into(), new.into()])
            .settle()
            .await?
            > 0)
    }

    async fn published_keys(&self) -> KeysResult {
        self.keys_where(Source::Cached, PUBLISHED, &[])
            .settle()
            .await
    }

    async fn published_keys_now(&self) -> KeysResult {
        self.keys_where(Source::Primary, PUBLISHED, &[])
            .settle()
            .await
    }
}
