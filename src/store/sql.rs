//! The SQL port: what the stores need of a database, and nothing more. A statement is SQL text
//! with `?N` parameters bound to [`Value`]s; [`Sql::execute`] runs one, [`Sql::batch`] runs
//! several in order as one transaction (all or none) and one round trip. Rows come back as
//! column name → JSON value, and [`Outcome::rows`] decodes them into a row struct: the one
//! decoder every backend shares (a column that does not decode is [`StoreError::Corrupt`]
//! naming it). Backends: D1 in the Worker (`edge::d1`) and SQLite natively
//! ([`super::sqlite`]), both running the statements of `migrations/`.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use serde::de::DeserializeOwned;

/// A value bound to a parameter. SQLite's storage classes, less BLOB (nothing stores one).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Text(s.clone())
    }
}

impl From<u64> for Value {
    /// Times and counts; none comes near `i64::MAX`, which a larger value saturates to.
    fn from(n: u64) -> Self {
        Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(i64::from(n))
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    /// Stored as 0/1 in an INTEGER column.
    fn from(b: bool) -> Self {
        Value::Int(i64::from(b))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A row: a JSON object of column name → value (numbers, strings, null).
pub type Row = serde_json::Value;

/// Which copy of the database answers, and what the call stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The primary (D1 Sessions API `first-primary`): every write, and every read that must
    /// see the latest writes (users, refresh tokens, codes, sessions, attempt counters).
    Primary,
    /// Any replica (`first-unconstrained`), possibly behind the primary by its replication
    /// delay: reads that may lag (the revocation list gateways poll).
    Replica,
    /// A replica read whose answer the Worker keeps in the isolate's memory: clients, APIs,
    /// registered origins, each trigger's rules and hooks, the published keys. A warm isolate
    /// makes no round trip for it, and the native backend counts it apart.
    Cached,
    /// A write on the primary after the response was sent (log events): off every request's
    /// path, so counted apart from the round trips.
    Background,
}

/// What one statement gave: its rows, and how many rows it changed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub changes: usize,
}

impl Outcome {
    /// Every row, decoded.
    pub fn all<T: DeserializeOwned>(&self) -> Result<Vec<T>, StoreError> {
        self.rows.iter().map(decode).collect()
    }

    /// The first row, decoded.
    pub fn first<T: DeserializeOwned>(&self) -> Result<Option<T>, StoreError> {
        self.rows.first().map(decode).transpose()
    }
}

/// Decodes one row; a column that does not decode is [`StoreError::Corrupt`] naming it.
pub fn decode<T: DeserializeOwned>(row: &Row) -> Result<T, StoreError> {
    serde_path_to_error::deserialize(row).map_err(|e| {
        let column = e.path().to_string();
        StoreError::Corrupt(format!("{column}: {}", e.into_inner()))
    })
}

/// One statement: SQL text and the values of its `?N` parameters.
pub type Statement<'a> = (&'a str, &'a [Value]);

/// A database that runs SQL.
pub trait Sql {
    /// Runs one statement on `source`: one round trip.
    async fn execute(
        &self,
        source: Source,
        sql: &str,
        args: &[Value],
    ) -> Result<Outcome, StoreError>;

    /// Runs `statements` on `source` in order, as one transaction (a failing statement undoes
    /// the others) and one round trip; one outcome per statement.
    async fn batch(
        &self,
        source: Source,
        statements: &[Statement<'_>],
    ) -> Result<Vec<Outcome>, StoreError>;
}

/// A failure of the database itself, or a write refused by a unique index or primary key,
/// which is [`StoreError::Conflict`].
pub fn backend(name: &'static str, e: impl std::fmt::Display) -> StoreError {
    let detail = e.to_string();
    if detail.contains("UNIQUE constraint failed") {
        return StoreError::Conflict(detail);
    }
    StoreError::backend(name, detail)
}
