//! The storage ports on D1, the system of record (schema in `migrations/`, described in
//! `docs/storage.md`): one file per port, and one [`codec`] that every table's rows go
//! through.

mod attempts;
mod claims;
mod clients;
pub mod codec;
mod codes;
mod exchange;
mod keys;
mod refresh;
mod sessions;
mod subjects;
mod users;

use crate::error::StoreError;
use codec::backend;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::JsValue;
use worker::D1Database;

/// D1 round trips made by this isolate (a batch is one), for `/__bench/counters`.
pub static ROUND_TRIPS: AtomicU32 = AtomicU32::new(0);

/// Counts one D1 round trip.
pub(super) fn trip() {
    ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
}

/// D1-backed store.
pub struct D1Store {
    pub(super) db: D1Database,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }

    /// Runs a statement and returns how many rows it changed.
    pub(super) async fn run(&self, sql: &str, args: &[JsValue]) -> Result<usize, StoreError> {
        trip();
        let result = self
            .db
            .prepare(sql)
            .bind(args)
            .map_err(backend)?
            .run()
            .await
            .map_err(backend)?;
        Ok(result
            .meta()
            .map_err(backend)?
            .and_then(|m| m.changes)
            .unwrap_or(0))
    }

    /// Runs statements as one batch (one transaction: all or none) and returns how many rows
    /// each changed.
    pub(super) async fn batch(
        &self,
        statements: &[(&str, &[JsValue])],
    ) -> Result<Vec<usize>, StoreError> {
        trip();
        let prepared = statements
            .iter()
            .map(|(sql, args)| self.db.prepare(*sql).bind(args).map_err(backend))
            .collect::<Result<Vec<_>, _>>()?;
        let results = self.db.batch(prepared).await.map_err(backend)?;
        results
            .iter()
            .map(|r| {
                Ok(r.meta()
                    .map_err(backend)?
                    .and_then(|m| m.changes)
                    .unwrap_or(0))
            })
            .collect()
    }

    pub(super) async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        trip();
        self.db
            .prepare(sql)
            .bind(args)
            .map_err(backend)?
            .first::<T>(None)
            .await
            .map_err(backend)
    }
}
