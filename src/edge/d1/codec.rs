//! The row codec every D1 table goes through. D1 hands numbers back as JSON numbers (read as
//! `f64`), booleans as 0/1, and JSON documents and lists as TEXT; statements take `JsValue`
//! arguments. A value that does not decode is [`StoreError::Corrupt`] naming its column; a
//! failure of D1 itself is [`StoreError::Backend`].

use crate::error::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// A failure of D1 itself, or a write refused by a unique index or primary key, which is
/// [`StoreError::Conflict`].
pub fn backend(e: impl std::fmt::Display) -> StoreError {
    let detail = e.to_string();
    if detail.contains("UNIQUE constraint failed") {
        return StoreError::Conflict(detail);
    }
    StoreError::backend("d1", detail)
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
pub fn json<T: DeserializeOwned>(column: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// A TEXT column holding a JSON list of strings.
pub fn json_list(column: &'static str, text: &str) -> Result<Vec<String>, StoreError> {
    json(column, text)
}

/// A TEXT column holding one name of a closed set (a trigger, a failure mode), spelled as
/// the type's serde name.
pub fn text_enum<T: DeserializeOwned>(column: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.into()))
        .map_err(|_| StoreError::Corrupt(format!("{column}: unknown value {text}")))
}

/// An INTEGER argument.
pub fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

/// A 0/1 INTEGER argument.
pub fn flag_arg(b: bool) -> JsValue {
    JsValue::from_f64(f64::from(u8::from(b)))
}

/// A nullable TEXT argument.
pub fn opt(s: &Option<String>) -> JsValue {
    s.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// A JSON document argument, stored as TEXT.
pub fn json_arg<T: Serialize>(value: &T) -> Result<JsValue, StoreError> {
    serde_json::to_string(value)
        .map(|text| JsValue::from_str(&text))
        .map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}
