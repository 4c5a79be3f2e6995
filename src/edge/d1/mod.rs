//! D1, the system of record, as the backend of the SQL port (`store::sql`): the stores in
//! `src/store/` run on it in the Worker. Reads that may lag go to a replica through the
//! Sessions API; every call is counted for `/__bench/counters`.

use crate::error::StoreError;
use crate::port::settled::Settle;
use crate::store::sql::{backend, Outcome, Row, Source, Sql, Statement, Value};
use crate::store::SqlStore;
use js_sys::{Array, Object, Reflect};
use std::cell::OnceCell;
use std::sync::atomic::{AtomicU32, Ordering};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1SessionConstraint};

/// D1 round trips made by this isolate (a batch is one), for `/__bench/counters`.
pub static ROUND_TRIPS: AtomicU32 = AtomicU32::new(0);

/// D1 batches this isolate made after responses were sent (log events), for
/// `/__bench/counters`: apart from [`ROUND_TRIPS`], which are on requests' paths.
pub static AFTER_RESPONSE: AtomicU32 = AtomicU32::new(0);

/// The stores of one request, on D1.
pub type D1Store = SqlStore<D1>;

/// A store over `db` for one request.
pub fn store(db: D1Database) -> D1Store {
    SqlStore::new(D1::new(db), wall_clock)
}

/// The wall clock in Unix seconds.
fn wall_clock() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// One request's use of D1. Each request gets its own, so each of its two sessions lives one
/// request.
pub struct D1 {
    db: D1Database,
    primary: OnceCell<D1DatabaseSession>,
    replica: OnceCell<D1DatabaseSession>,
}

impl D1 {
    pub fn new(db: D1Database) -> Self {
        Self {
            db,
            primary: OnceCell::new(),
            replica: OnceCell::new(),
        }
    }

    /// The request's session for `source`, started at its first use: `first-unconstrained`
    /// (any replica) for the reads that may lag, `first-primary` for the rest.
    fn session(&self, source: Source) -> Result<&D1DatabaseSession, StoreError> {
        let (cell, constraint) = match source {
            Source::Primary | Source::Background => {
                (&self.primary, D1SessionConstraint::FirstPrimary)
            }
            Source::Replica | Source::Cached => {
                (&self.replica, D1SessionConstraint::FirstUnconstrained)
            }
        };
        if let Some(session) = cell.get() {
            return Ok(session);
        }
        let session = self.db.with_session_constraint(constraint).map_err(fail)?;
        Ok(cell.get_or_init(|| session))
    }

    fn prepare(
        session: &D1DatabaseSession,
        sql: &str,
        args: &[Value],
    ) -> Result<D1PreparedStatement, StoreError> {
        let args: Vec<JsValue> = args.iter().map(js).collect();
        session.prepare(sql).bind(&args).map_err(fail)
    }
}

/// Counts a call on a request's path, or after the response.
fn count(source: Source) {
    let counter = match source {
        Source::Background => &AFTER_RESPONSE,
        _ => &ROUND_TRIPS,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A bound value as D1 takes it: numbers are JavaScript numbers.
fn js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Int(n) => JsValue::from_f64(*n as f64),
        Value::Real(x) => JsValue::from_f64(*x),
        Value::Text(s) => JsValue::from_str(s),
    }
}

/// Calls D1's `method` on `target` and awaits its promise. D1's own objects are read as they
/// are (the `worker` crate's result type would decode each row and the metadata through a
/// serde layer this Worker otherwise does without).
async fn call(target: &JsValue, method: &str, args: &Array) -> Result<JsValue, StoreError> {
    let function: js_sys::Function = Reflect::get(target, &JsValue::from_str(method))
        .map_err(js_fail)?
        .dyn_into()
        .map_err(js_fail)?;
    let promise: js_sys::Promise = function
        .apply(target, args)
        .map_err(js_fail)?
        .dyn_into()
        .map_err(js_fail)?;
    JsFuture::from(promise).await.map_err(js_fail)
}

fn member(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A statement's rows and changes, from D1's result object (`{results, meta: {changes}}`).
fn outcome(result: &JsValue) -> Result<Outcome, StoreError> {
    let rows: Vec<JsValue> = match member(result, "results").dyn_into::<Array>() {
        Ok(list) => list.iter().collect(),
        Err(_) => Vec::new(),
    };
    let changes = member(&member(result, "meta"), "changes")
        .as_f64()
        .map_or(0, |n| n as usize);
    let Some(first) = rows.first() else {
        return Ok(Outcome {
            rows: Vec::new(),
            changes,
        });
    };
    // Every row of a statement has its columns, in the same order.
    let names = Object::keys(first.unchecked_ref::<Object>());
    let columns: std::rc::Rc<[String]> = names.iter().filter_map(|n| n.as_string()).collect();
    let mut read = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut values = Vec::with_capacity(names.length() as usize);
        for name in names.iter() {
            values.push(value(Reflect::get(row, &name).unwrap_or(JsValue::NULL))?);
        }
        read.push(Row::new(columns.clone(), values));
    }
    let rows = read;
    Ok(Outcome { rows, changes })
}

/// A value as D1 hands it back: numbers are JavaScript numbers (an integer column's values
/// are whole), text is a string, NULL is null.
fn value(js: JsValue) -> Result<Value, StoreError> {
    if js.is_null() || js.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(text) = js.as_string() {
        return Ok(Value::Text(text));
    }
    if let Some(x) = js.as_f64() {
        let whole = x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_991.0;
        return Ok(if whole {
            Value::Int(x as i64)
        } else {
            Value::Real(x)
        });
    }
    if let Some(b) = js.as_bool() {
        return Ok(Value::from(b));
    }
    Err(StoreError::Corrupt(
        "a value of no SQL type (a BLOB?)".into(),
    ))
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    backend("d1", e)
}

fn js_fail(e: JsValue) -> StoreError {
    backend("d1", super::js_message(&e))
}

impl Sql for D1 {
    async fn execute(
        &self,
        source: Source,
        sql: &str,
        args: &[Value],
    ) -> Result<Outcome, StoreError> {
        count(source);
        let statement = Self::prepare(self.session(source)?, sql, args)?;
        let result = call(statement.inner(), "all", &Array::new())
            .settle()
            .await?;
        outcome(&result)
    }

    async fn batch(
        &self,
        source: Source,
        statements: &[Statement<'_>],
    ) -> Result<Vec<Outcome>, StoreError> {
        count(source);
        let session = self.session(source)?;
        let prepared = Array::new();
        for (sql, args) in statements {
            prepared.push(Self::prepare(session, sql, args)?.inner());
        }
        let results = call(session.as_ref(), "batch", &Array::of1(&prepared))
            .settle()
            .await?;
        match results.dyn_into::<Array>() {
            Ok(list) => list.iter().map(|r| outcome(&r)).collect(),
            Err(_) => Err(fail("batch answered no list")),
        }
    }
}
