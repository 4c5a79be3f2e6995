//! The storage ports on D1, the system of record (schema in `migrations/`, described in
//! `docs/storage.md`): one file per port, and one [`codec`] that every table's rows go
//! through.

mod access;
mod attempts;
mod claims;
mod clients;
pub mod codec;
mod codes;
mod exchange;
mod keys;
mod logs;
mod refresh;
mod registry;
mod sessions;
mod subjects;
mod users;

use crate::error::StoreError;
use crate::model::{Listed, Paging};
use codec::{backend, int, num};
use serde::de::DeserializeOwned;
use std::cell::OnceCell;
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1Result, D1SessionConstraint};

/// D1 round trips made by this isolate (a batch is one), for `/__bench/counters`.
pub static ROUND_TRIPS: AtomicU32 = AtomicU32::new(0);

/// D1 batches this isolate made after responses were sent (log events), for
/// `/__bench/counters`: apart from [`ROUND_TRIPS`], which are on requests' paths.
pub static AFTER_RESPONSE: AtomicU32 = AtomicU32::new(0);

/// Counts one D1 round trip.
fn trip() {
    ROUND_TRIPS.fetch_add(1, Ordering::Relaxed);
}

/// Which copy of the database a read may be answered from (D1 read replication, through the
/// Sessions API). With replication off, both are the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// The primary, then whatever the session saw (`first-primary`): every write, and every
    /// read that must see the latest writes (users, refresh tokens, codes, sessions, attempt
    /// counters, the active key).
    Primary,
    /// Any replica (`first-unconstrained`), possibly behind the primary by its replication
    /// delay: reads of what the isolate and KV cache anyway, for longer than that delay
    /// (clients, APIs, origins, rules and hooks, the published keys).
    Replica,
}

/// D1-backed store. Each request gets its own, so each of its two sessions lives one request.
pub struct D1Store {
    db: D1Database,
    primary: OnceCell<D1DatabaseSession>,
    replica: OnceCell<D1DatabaseSession>,
}

impl D1Store {
    pub fn new(db: D1Database) -> Self {
        Self {
            db,
            primary: OnceCell::new(),
            replica: OnceCell::new(),
        }
    }

    /// The request's session on `source`, started at its first use.
    pub(super) fn session(&self, source: Source) -> Result<&D1DatabaseSession, StoreError> {
        let (cell, constraint) = match source {
            Source::Primary => (&self.primary, D1SessionConstraint::FirstPrimary),
            Source::Replica => (&self.replica, D1SessionConstraint::FirstUnconstrained),
        };
        if let Some(session) = cell.get() {
            return Ok(session);
        }
        let session = self
            .db
            .with_session_constraint(constraint)
            .map_err(backend)?;
        Ok(cell.get_or_init(|| session))
    }

    /// Runs a statement and returns how many rows it changed.
    pub(super) async fn run(&self, sql: &str, args: &[JsValue]) -> Result<usize, StoreError> {
        trip();
        let result = self
            .session(Source::Primary)?
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

    /// Runs statements on the primary as one batch (one transaction: all or none) and returns
    /// how many rows each changed.
    pub(super) async fn batch(
        &self,
        statements: &[(&str, &[JsValue])],
    ) -> Result<Vec<usize>, StoreError> {
        self.batch_on(Source::Primary, statements)
            .await?
            .iter()
            .map(|r| {
                Ok(r.meta()
                    .map_err(backend)?
                    .and_then(|m| m.changes)
                    .unwrap_or(0))
            })
            .collect()
    }

    /// Runs statements on `source` as one batch (one round trip, one transaction) and returns
    /// their results, one per statement.
    pub(super) async fn batch_on(
        &self,
        source: Source,
        statements: &[(&str, &[JsValue])],
    ) -> Result<Vec<D1Result>, StoreError> {
        trip();
        self.batch_uncounted(source, statements).await
    }

    /// [`D1Store::batch_on`], counted in [`AFTER_RESPONSE`]: a write no request waits for.
    pub(super) async fn batch_after_response(
        &self,
        statements: &[(&str, &[JsValue])],
    ) -> Result<(), StoreError> {
        AFTER_RESPONSE.fetch_add(1, Ordering::Relaxed);
        self.batch_uncounted(Source::Primary, statements)
            .await
            .map(|_| ())
    }

    async fn batch_uncounted(
        &self,
        source: Source,
        statements: &[(&str, &[JsValue])],
    ) -> Result<Vec<D1Result>, StoreError> {
        let db = self.session(source)?;
        let prepared = statements
            .iter()
            .map(|(sql, args)| db.prepare(*sql).bind(args).map_err(backend))
            .collect::<Result<Vec<_>, _>>()?;
        let results = db.batch(prepared).await.map_err(backend)?;
        if results.len() != statements.len() {
            return Err(backend("batch returned too few results"));
        }
        Ok(results)
    }

    /// Every row of a read on `source`.
    pub(super) async fn all_on<T: DeserializeOwned>(
        &self,
        source: Source,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Vec<T>, StoreError> {
        trip();
        self.session(source)?
            .prepare(sql)
            .bind(args)
            .map_err(backend)?
            .all()
            .await
            .map_err(backend)?
            .results()
            .map_err(backend)
    }

    /// The first row of a read on the primary.
    pub(super) async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        self.first_on(Source::Primary, sql, args).await
    }

    /// The first row of a read on `source`.
    pub(super) async fn first_on<T: DeserializeOwned>(
        &self,
        source: Source,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, StoreError> {
        trip();
        self.session(source)?
            .prepare(sql)
            .bind(args)
            .map_err(backend)?
            .first::<T>(None)
            .await
            .map_err(backend)
    }

    /// One page of `SELECT {columns} {from} ORDER BY {order}` on the primary, with the count
    /// of every row it selects, in one batch. `from` takes `args` from `?1`.
    pub(super) async fn page<T: DeserializeOwned>(
        &self,
        columns: &str,
        from: &str,
        order: &str,
        args: &[JsValue],
        paging: Paging,
    ) -> Result<Listed<T>, StoreError> {
        let n = args.len();
        let select = format!(
            "SELECT {columns} {from} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        );
        let count = format!("SELECT count(*) AS total {from}");
        let mut page_args = args.to_vec();
        page_args.push(num(paging.limit));
        page_args.push(num(paging.offset));
        let results = self
            .batch_on(Source::Primary, &[(&select, &page_args), (&count, args)])
            .await?;
        let items: Vec<T> = results[0].results().map_err(backend)?;
        let totals: Vec<Total> = results[1].results().map_err(backend)?;
        Ok(Listed {
            items,
            total: totals.first().map_or(0, |t| int(t.total)),
        })
    }
}

/// A `count(*) AS total` row.
#[derive(serde::Deserialize)]
struct Total {
    total: f64,
}
