//! The storage ports on D1, the system of record (schema in `migrations/`, described in
//! `docs/storage.md`).

use crate::error::StoreError;
use crate::model::{Api, Client, KeyState, StoredKey};
use crate::port::{ClientStore, KeyStore};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// D1-backed store.
pub struct D1Store {
    pub(super) db: D1Database,
}

pub(super) fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::backend("d1", e)
}

pub(super) fn json_list(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(err)
}

#[derive(Deserialize)]
struct ClientRow {
    client_id: String,
    name: String,
    secret_hash: Option<String>,
    grant_types: String,
    default_audience: Option<String>,
    /// JSON array of `ApiGrant`, aggregated in SQL.
    grants: String,
    refresh_absolute_lifetime: f64,
    refresh_idle_lifetime: f64,
    refresh_reuse_interval: f64,
    id_token_signed_response_alg: String,
    client_metadata: String,
}

#[derive(Deserialize)]
struct ApiRow {
    identifier: String,
    name: String,
    scopes: String,
    token_lifetime: f64,
    rbac_enabled: f64,
    token_permissions: f64,
    user_grantable_scopes: String,
}

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
                since: since.unwrap_or(r.created_at) as u64,
            },
        };
        StoredKey {
            kid: r.kid,
            alg: r.alg,
            public_jwk: r.public_jwk,
            private_key_enc: r.private_key_enc,
            created_at: r.created_at as u64,
            state,
        }
    }
}

const KEY_COLUMNS: &str = "kid, alg, public_jwk, private_key_enc, created_at, status, retired_at";

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    /// Runs a statement and returns how many rows it changed.
    pub(super) async fn run(&self, sql: &str, args: &[JsValue]) -> Result<usize, StoreError> {
        let result = self
            .db
            .prepare(sql)
            .bind(args)
            .map_err(err)?
            .run()
            .await
            .map_err(err)?;
        Ok(result
            .meta()
            .map_err(err)?
            .and_then(|m| m.changes)
            .unwrap_or(0))
    }

    /// Runs statements as one batch (one transaction: all or none) and returns how many rows
    /// each changed.
    pub(super) async fn batch(
        &self,
        statements: &[(&str, &[JsValue])],
    ) -> Result<Vec<usize>, StoreError> {
        let prepared = statements
            .iter()
            .map(|(sql, args)| self.db.prepare(*sql).bind(args).map_err(err))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.db.batch(prepared).await.map_err(err)?;
        results
            .iter()
            .map(|r| Ok(r.meta().map_err(err)?.and_then(|m| m.changes).unwrap_or(0)))
            .collect()
    }

    pub(super) async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        self.db
            .prepare(sql)
            .bind(args)
            .map_err(err)?
            .first::<T>(None)
            .await
            .map_err(err)
    }
}

impl ClientStore for D1Store {
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let row: Option<ClientRow> = self
            .first(
                "SELECT c.client_id, c.name, c.secret_hash, c.grant_types, c.default_audience, \
                   c.refresh_absolute_lifetime, c.refresh_idle_lifetime, c.refresh_reuse_interval, \
                   c.id_token_signed_response_alg, c.client_metadata, \
                   (SELECT json_group_array(json_object( \
                      'api', json_object('identifier', a.identifier, 'name', a.name, \
                                         'scopes', json(a.scopes), 'token_lifetime', a.token_lifetime, \
                                         'rbac_enabled', json(CASE a.rbac_enabled WHEN 0 THEN 'false' ELSE 'true' END), \
                                         'token_permissions', json(CASE a.token_permissions WHEN 0 THEN 'false' ELSE 'true' END), \
                                         'user_grantable_scopes', json(a.user_grantable_scopes)), \
                      'scopes', json(g.scopes))) \
                    FROM client_grants g JOIN apis a ON a.identifier = g.audience \
                    WHERE g.client_id = c.client_id) AS grants \
                 FROM clients c WHERE c.client_id = ?1",
                &[client_id.into()],
            )
            .await?;
        row.map(|r| {
            Ok(Client {
                client_id: r.client_id,
                name: r.name,
                secret_hash: r.secret_hash,
                grant_types: json_list(&r.grant_types)?,
                default_audience: r.default_audience,
                grants: serde_json::from_str(&r.grants).map_err(err)?,
                refresh_absolute_lifetime: r.refresh_absolute_lifetime as u64,
                refresh_idle_lifetime: r.refresh_idle_lifetime as u64,
                refresh_reuse_interval: r.refresh_reuse_interval as u64,
                id_token_signed_response_alg: r.id_token_signed_response_alg,
                client_metadata: serde_json::from_str(&r.client_metadata).map_err(err)?,
            })
        })
        .transpose()
    }

    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError> {
        let row: Option<ApiRow> = self
            .first(
                "SELECT identifier, name, scopes, token_lifetime, rbac_enabled, token_permissions, \
                   user_grantable_scopes FROM apis WHERE identifier = ?1",
                &[identifier.into()],
            )
            .await?;
        row.map(|r| {
            Ok(Api {
                identifier: r.identifier,
                name: r.name,
                scopes: json_list(&r.scopes)?,
                token_lifetime: r.token_lifetime as u64,
                rbac_enabled: r.rbac_enabled != 0.0,
                token_permissions: r.token_permissions != 0.0,
                user_grantable_scopes: json_list(&r.user_grantable_scopes)?,
            })
        })
        .transpose()
    }
}

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
                    JsValue::from_f64(key.created_at as f64),
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
        let rows: Vec<KeyRow> = self
            .db
            .prepare(sql)
            .all()
            .await
            .map_err(err)?
            .results()
            .map_err(err)?;
        Ok(rows.into_iter().map(StoredKey::from).collect())
    }
}
