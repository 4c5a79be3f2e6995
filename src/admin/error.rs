//! Auth0's error shape, and the reply every management route gives.

use crate::error::OAuthError;
use crate::oauth::params::json_error_words;
use serde_json::{json, Value};

/// What a management route answers: a status, a JSON body and, on a refused token, the RFC
/// 6750 challenge for `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub challenge: Option<String>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            body: body.clone(),
            challenge: None,
        }
    }

    /// Adds the `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }
}

/// Auth0's error body: `{"statusCode", "error", "message"}`.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let name = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    json!({ "statusCode": status, "error": name, "message": message })
}

pub(crate) fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, &error_body(status, message))
}

pub(crate) fn from_oauth(e: &OAuthError) -> Reply {
    let status = if e.http_status() >= 500 { 500 } else { 400 };
    error(status, e.description.as_deref().unwrap_or(e.code.as_str()))
}

/// Reads a JSON body into `T`, or says what is wrong in the API's own terms: the field, and
/// what was expected there (never a Rust type name).
pub(crate) fn payload<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = json_error_words(&inner);
        let message = if path == "." || path == "?" || inner.is_syntax() || inner.is_eof() {
            format!("Payload validation error: {what}")
        } else {
            format!("Payload validation error at {path}: {what}")
        };
        error(400, &message)
    })
}
