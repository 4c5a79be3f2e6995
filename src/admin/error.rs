//! Auth0's error shape, and the reply every management route gives.

use crate::error::{OAuthError, StoreError};
use crate::oauth::params::json_error_words;
use serde_json::{json, Value};

/// What a management route answers: a status, a JSON body (none for 204) and headers
/// (`WWW-Authenticate` on a refused token, `Allow` on 405, `Retry-After` on 429).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.clone(),
            headers: Vec::new(),
        }
    }

    /// 204, no body.
    pub fn no_content() -> Self {
        Self::json(204, &Value::Null)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The value of a header this reply carries.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Auth0's error body: `{"statusCode", "error", "message"}`, plus `errorCode` when given.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let name = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        _ => "Internal Server Error",
    };
    json!({ "statusCode": status, "error": name, "message": message })
}

/// An error reply in Auth0's shape.
pub(crate) fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, &error_body(status, message))
}

/// An error reply with Auth0's `errorCode`.
pub(crate) fn error_code(status: u16, code: &str, message: &str) -> Reply {
    let mut body = error_body(status, message);
    body["errorCode"] = json!(code);
    Reply::json(status, &body)
}

/// A refused payload (Auth0's `invalid_body`).
pub(crate) fn invalid(message: &str) -> Reply {
    error_code(
        400,
        "invalid_body",
        &format!("Payload validation error: {message}"),
    )
}

/// A refused query string (Auth0's `invalid_query_string`).
pub(crate) fn invalid_query(message: &str) -> Reply {
    error_code(
        400,
        "invalid_query_string",
        &format!("Query validation error: {message}"),
    )
}

/// 404 for a resource of `kind` (`user`, `role`, …) that does not exist.
pub(crate) fn not_found(kind: &str) -> Reply {
    error_code(
        404,
        "inexistent_entity",
        &format!("The {kind} does not exist."),
    )
}

pub(crate) fn from_oauth(e: &OAuthError) -> Reply {
    let status = if e.http_status() >= 500 { 500 } else { 400 };
    error(status, e.description.as_deref().unwrap_or(e.code.as_str()))
}

/// A storage failure: a unique value taken is 409 (`conflict_message` says which); anything
/// else is a 500 whose detail only the log sees.
pub(crate) fn from_store(e: StoreError, conflict_message: &str, log: &dyn Fn(&str)) -> Reply {
    match e {
        StoreError::Conflict(_) => error_code(409, "conflict", conflict_message),
        other => {
            log(&format!("store: {other}"));
            error(500, "Internal error")
        }
    }
}

/// A JSON body as a value, or what is wrong with it in the API's own terms (a member named
/// twice is refused).
pub(crate) fn payload(body: &[u8]) -> Result<serde_json::Value, Reply> {
    crate::model::strict_json::parse(body).map_err(|e| invalid(&json_error_words(&e)))
}

/// A JSON body read as an object of `allowed` members, for bodies read field by field (a
/// derived body type costs the Worker several KiB of code each). The same words as
/// [`payload`]: a member named twice, or one not allowed, is refused.
pub(crate) fn members(body: &[u8], allowed: &[&str]) -> Result<Fields, Reply> {
    let value =
        crate::model::strict_json::parse(body).map_err(|e| invalid(&json_error_words(&e)))?;
    let serde_json::Value::Object(map) = value else {
        return Err(invalid("the body is {…}: expected an object"));
    };
    Fields::of(map, "", allowed)
}

/// The members of a body read by [`members`], each taken by its expected type (JSON `null`
/// is absent). The second member is where the object is in the body (`conditions.`), for
/// errors.
pub(crate) struct Fields(pub serde_json::Map<String, serde_json::Value>, pub String);

impl Fields {
    fn take(&mut self, name: &str) -> Option<serde_json::Value> {
        self.0.remove(name).filter(|v| !v.is_null())
    }

    fn wrong(&self, name: &str, expected: &str) -> Reply {
        invalid(&format!("at {}{name}: expected {expected}", self.1))
    }

    /// A string member.
    pub(crate) fn text(&mut self, name: &str) -> Result<Option<String>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(name, "a string")),
        }
    }

    /// A boolean member.
    pub(crate) fn flag(&mut self, name: &str) -> Result<Option<bool>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.wrong(name, "true or false")),
        }
    }

    /// An object member.
    pub(crate) fn object(
        &mut self,
        name: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.wrong(name, "an object")),
        }
    }

    /// A string member that `null` clears: absent `None`, `null` `Some(None)`.
    pub(crate) fn nullable_text(&mut self, name: &str) -> Result<Option<Option<String>>, Reply> {
        match self.0.get(name) {
            Some(serde_json::Value::Null) => {
                self.0.remove(name);
                Ok(Some(None))
            }
            Some(_) => self.text(name).map(|t| t.map(Some)),
            None => Ok(None),
        }
    }

    /// A whole-number member (0 or more).
    pub(crate) fn number(&mut self, name: &str) -> Result<Option<u64>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number")),
        }
    }

    /// An object member of `allowed` members, read the same way.
    pub(crate) fn nested(&mut self, name: &str, allowed: &[&str]) -> Result<Option<Fields>, Reply> {
        match self.object(name)? {
            Some(map) => Self::of(map, &format!("{}{name}", self.1), allowed).map(Some),
            None => Ok(None),
        }
    }

    /// The members `allowed` of `map`, the object at `at` (`""`: the body itself).
    pub(crate) fn of(
        map: serde_json::Map<String, serde_json::Value>,
        at: &str,
        allowed: &[&str],
    ) -> Result<Fields, Reply> {
        let prefix = if at.is_empty() {
            String::new()
        } else {
            format!("{at}.")
        };
        if let Some(extra) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            let at = prefix.strip_suffix('.').map(|a| format!("at {a}: "));
            return Err(invalid(&format!(
                "{}Additional properties not allowed: {extra}",
                at.unwrap_or_default()
            )));
        }
        Ok(Fields(map, prefix))
    }

    /// A member of any JSON value.
    pub(crate) fn any(&mut self, name: &str) -> Option<serde_json::Value> {
        self.take(name)
    }

    /// A whole-number member, negative or not.
    pub(crate) fn integer(&mut self, name: &str) -> Result<Option<i64>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(name, "a whole number")),
        }
    }

    /// An array member.
    pub(crate) fn list(&mut self, name: &str) -> Result<Option<Vec<serde_json::Value>>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(self.wrong(name, "an array")),
        }
    }

    /// A member holding an array of strings.
    pub(crate) fn texts(&mut self, name: &str) -> Result<Option<Vec<String>>, Reply> {
        match self.take(name) {
            None => Ok(None),
            Some(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Ok(s),
                    _ => Err(self.wrong(name, "an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong(name, "an array of strings")),
        }
    }
}
