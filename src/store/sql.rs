//! The SQL port: what the stores need of a database, and nothing more. A statement is SQL text
//! with `?N` parameters bound to [`Value`]s; [`Sql::execute`] runs one, [`Sql::batch`] runs
//! several in order as one transaction (all or none) and one round trip. Rows come back as
//! [`Value`]s under their column names, the same value type statements are bound with, and
//! are read into row structs by one reader every backend shares ([`Row::read`], [`row!`]):
//! a column that is missing or holds another kind of value is [`StoreError::Corrupt`] naming
//! it. No serde on this path: a row struct's reader is a few straight lines, which keeps the
//! Worker's bundle small. Backends: D1 in the Worker (`edge::d1`) and SQLite natively
//! ([`super::sqlite`]), both running the statements of `migrations/`.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;

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

/// A row: its statement's column names and one value per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: std::rc::Rc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row of `values`, one per name in `columns`.
    pub fn new(columns: std::rc::Rc<[String]>, values: Vec<Value>) -> Self {
        Self { columns, values }
    }

    /// The value of column `name`, if the statement has one.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let at = self.columns.iter().position(|c| c == name)?;
        self.values.get(at)
    }

    /// Column name and value pairs, in the statement's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns.iter().map(String::as_str).zip(&self.values)
    }

    /// Column `name` read as `T`; a missing column or a value of another kind is
    /// [`StoreError::Corrupt`] naming it.
    /// A field named as a raw identifier (`r#type`) reads the column `type`. Called once
    /// per field of every row type, so kept out of line: one copy per column type.
    #[inline(never)]
    pub fn read<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        let name = name.trim_start_matches("r#");
        T::read(self.get(name)).map_err(|found| {
            StoreError::Corrupt(format!("{name}: expected {}, found {found}", T::KIND))
        })
    }
}

/// A column's Rust type: how a value of it is read.
pub trait Column: Sized {
    /// What the type expects, for the error.
    const KIND: &'static str;
    /// The value read, or what was found instead.
    fn read(value: Option<&Value>) -> Result<Self, String>;
}

fn found(value: Option<&Value>) -> String {
    match value {
        None => "no such column".into(),
        Some(Value::Null) => "NULL".into(),
        Some(Value::Int(n)) => format!("the integer {n}"),
        // Not the value: formatting a float would bring the float printer into the Worker.
        Some(Value::Real(_)) => "a fractional number".into(),
        Some(Value::Text(_)) => "text".into(),
    }
}

impl Column for String {
    const KIND: &'static str = "text";
    fn read(value: Option<&Value>) -> Result<Self, String> {
        match value {
            Some(Value::Text(s)) => Ok(s.clone()),
            other => Err(found(other)),
        }
    }
}

impl Column for f64 {
    const KIND: &'static str = "a number";
    fn read(value: Option<&Value>) -> Result<Self, String> {
        match value {
            Some(Value::Int(n)) => Ok(*n as f64),
            Some(Value::Real(x)) => Ok(*x),
            other => Err(found(other)),
        }
    }
}

impl<T: Column> Column for Option<T> {
    const KIND: &'static str = T::KIND;
    /// NULL, or a column the statement does not have, is `None`.
    fn read(value: Option<&Value>) -> Result<Self, String> {
        match value {
            None | Some(Value::Null) => Ok(None),
            some => T::read(some).map(Some),
        }
    }
}

/// A row struct: read column by column ([`row!`](crate::row) writes it).
pub trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, StoreError>;
}

/// Declares a row struct and its [`FromRow`]: each field is the column of its name.
#[macro_export]
macro_rules! row {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
    }) => {
        $(#[$meta])* $vis struct $name { $($(#[$fmeta])* $fvis $field: $ty),* }
        impl $crate::store::sql::FromRow for $name {
            fn from_row(
                row: &$crate::store::sql::Row,
            ) -> Result<Self, $crate::error::StoreError> {
                Ok(Self { $($field: row.read(stringify!($field))?),* })
            }
        }
    };
}

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
#[derive(Debug)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub changes: usize,
}

impl Outcome {
    /// Every row, read.
    pub fn all<T: FromRow>(&self) -> Result<Vec<T>, StoreError> {
        // A loop, not `collect` into a `Result`: this is instantiated for every row type, and
        // the loop is a fraction of the adapter's code in the Worker.
        let mut rows = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            rows.push(T::from_row(row)?);
        }
        Ok(rows)
    }

    /// The first row, read.
    pub fn first<T: FromRow>(&self) -> Result<Option<T>, StoreError> {
        self.rows.first().map(T::from_row).transpose()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    crate::row! {
        struct Sample {
            name: String,
            count: f64,
            note: Option<String>,
            r#type: Option<f64>,
        }
    }

    fn row(values: Vec<Value>) -> Row {
        let columns: std::rc::Rc<[String]> = ["name", "count", "note", "type"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        Row::new(columns, values)
    }

    #[test]
    fn a_row_is_read_column_by_column() {
        let read = Sample::from_row(&row(vec![
            "a".into(),
            Value::Int(3),
            Value::Null,
            Value::Real(1.5),
        ]))
        .unwrap();
        assert_eq!(
            (read.name, read.count, read.note, read.r#type),
            ("a".to_string(), 3.0, None, Some(1.5))
        );
    }

    #[test]
    fn a_column_that_does_not_read_is_corrupt_and_named() {
        let wrong = Sample::from_row(&row(vec![
            "a".into(),
            "three".into(),
            Value::Null,
            Value::Null,
        ]));
        match wrong {
            Err(StoreError::Corrupt(detail)) => {
                assert_eq!(detail, "count: expected a number, found text")
            }
            other => panic!("{:?}", other.map(|s| s.name)),
        }
        let columns: std::rc::Rc<[String]> = ["name"].iter().map(|c| c.to_string()).collect();
        let missing = Sample::from_row(&Row::new(columns, vec!["a".into()]));
        assert!(
            matches!(&missing, Err(StoreError::Corrupt(d)) if d == "count: expected a number, found no such column"),
            "{:?}",
            missing.map(|s| s.name)
        );
    }
}
