//! Signing keys.

use super::codec::{int, num};
use super::{D1Store, Source};
use crate::error::StoreError;
use crate::model::{KeyState, StoredKey};
use crate::port::KeyStore;
use serde::Deserialize;

#[derive(Deserialize)]
struct KeyRow {
    kid: String,
    alg: String,
    public_jwk: String,
    private_key_enc: String,
    created_at: f64,
    status: String,
    retired_at: Option<f64>,
}

impl From<KeyRow> for StoredKey {
    fn from(r: KeyRow) -> Self {
        let state = match (r.status.as_str(), r.retired_at) {
            ("active", _) => KeyState::Active,
            (_, since) => KeyState::Retired {
                since: int(since.unwrap_or(r.created_at)),
            },
        };
        StoredKey {
            kid: r.kid,
            alg: r.alg,
            public_jwk: r.public_jwk,
            private_key_enc: r.private_key_enc,
            created_at: int(r.created_at),
            state,
        }
    }
}

const KEY_COLUMNS: &str = "kid, alg, public_jwk, private_key_enc, created_at, status, retired_at";

impl KeyStore for D1Store {
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE alg = ?1 AND status = 'active' \
             ORDER BY created_at DESC LIMIT 1"
        );
        let row: Option<KeyRow> = self.first(&sql, &[alg.into()]).await?;
        Ok(row.map(StoredKey::from))
    }

    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError> {
        // The partial unique index `signing_keys_one_active` makes this atomic: a second
        // active key for the same alg conflicts and is not inserted.
        let changes = self
            .run(
                "INSERT INTO signing_keys (kid, alg, status, public_jwk, private_key_enc, created_at) \
                 VALUES (?1, ?2, 'active', ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                &[
                    key.kid.as_str().into(),
                    key.alg.as_str().into(),
                    key.public_jwk.as_str().into(),
                    key.private_key_enc.as_str().into(),
                    num(key.created_at),
                ],
            )
            .await?;
        Ok(changes > 0)
    }

    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE status IN ('active', 'retired') \
             ORDER BY created_at DESC"
        );
        let rows: Vec<KeyRow> = self.all_on(Source::Replica, &sql, &[]).await?;
        Ok(rows.into_iter().map(StoredKey::from).collect())
    }
}
