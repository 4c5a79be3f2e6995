//! The column conventions every table follows: numbers are read as `f64` (D1 gives every
//! number as a JavaScript one) and converted here, booleans are 0/1, JSON documents and lists
//! are TEXT; statements take [`Value`] arguments. A value that does not decode is
//! [`StoreError::Corrupt`] naming its column; a failure of the database itself is
//! [`StoreError::Backend`].

use super::sql::Value;
use crate::error::StoreError;
use crate::model::json::FromJson;
use serde::Serialize;

/// A failure of the database or of a batch's shape.
pub fn backend(e: impl std::fmt::Display) -> StoreError {
    super::sql::backend("sql", e)
}

/// An INTEGER column holding a time or a count.
pub fn int(n: f64) -> u64 {
    n as u64
}

/// A nullable INTEGER column.
pub fn opt_int(n: Option<f64>) -> Option<u64> {
    n.map(int)
}

/// A 0/1 INTEGER column.
pub fn flag(n: f64) -> bool {
    n != 0.0
}

/// A TEXT column holding a JSON document.
pub fn json<T: FromJson>(column: &'static str, text: &str) -> Result<T, StoreError> {
    crate::model::json::parse(text.as_bytes())
        .map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A TEXT column holding a JSON list of strings.
pub fn json_list(column: &'static str, text: &str) -> Result<Vec<String>, StoreError> {
    json(column, text)
}

/// A TEXT column holding one name of a closed set (a trigger, a failure mode), spelled as
/// the type's serde name.
pub fn text_enum<T: FromJson>(column: &'static str, text: &str) -> Result<T, StoreError> {
    T::from_json(serde_json::Value::String(text.into()))
        .map_err(|_| StoreError::Corrupt(format!("{column}: unknown value {text}")))
}

/// An INTEGER argument.
pub fn num(n: u64) -> Value {
    Value::from(n)
}

/// A 0/1 INTEGER argument.
pub fn flag_arg(b: bool) -> Value {
    Value::from(b)
}

/// A nullable TEXT argument.
pub fn opt(s: &Option<String>) -> Value {
    Value::from(s.as_deref())
}

/// A JSON document argument, stored as TEXT.
pub fn json_arg<T: Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_string(value)
        .map(Value::Text)
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}
