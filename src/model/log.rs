//! Log events: what happened (Auth0's event codes), when, to whom, from where. Never a
//! password, secret or token.

use serde::{Deserialize, Serialize};

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    pub log_id: String,
    /// Seconds since the epoch.
    pub date: u64,
    /// Auth0's event code ([`kinds`]).
    pub kind: String,
    pub description: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    /// The email the user gave (a failed login) or has.
    pub user_name: Option<String>,
    pub ip: Option<String>,
    /// More about the event (a JSON object): the grant, the management route and status.
    pub details: serde_json::Value,
}

/// Auth0's event codes this issuer writes.
pub mod kinds {
    /// A successful login (password grant, hosted login page).
    pub const LOGIN: &str = "s";
    /// A failed login for another reason than the password.
    pub const FAILED_LOGIN: &str = "f";
    /// A wrong password.
    pub const WRONG_PASSWORD: &str = "fp";
    /// A login refused by brute-force protection.
    pub const BLOCKED: &str = "limit_wc";
    /// A sign-up on the hosted page.
    pub const SIGNUP: &str = "ss";
    /// client_credentials exchanged for an access token, or refused.
    pub const CLIENT_CREDENTIALS: &str = "seccft";
    pub const CLIENT_CREDENTIALS_FAILED: &str = "feccft";
    /// A refresh token exchanged, or refused.
    pub const REFRESH: &str = "sertft";
    pub const REFRESH_FAILED: &str = "fertft";
    /// An authorization code exchanged, or refused.
    pub const CODE: &str = "seacft";
    pub const CODE_FAILED: &str = "feacft";
    /// A management API write, done or refused.
    pub const API_WRITE: &str = "sapi";
    pub const API_WRITE_FAILED: &str = "fapi";
}

/// Which log events a list shows: every filter given must match; newest first unless
/// `ascending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub kind: Option<String>,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ascending: bool,
    pub paging: super::Paging,
}

impl LogQuery {
    /// Whether `e` passes the filters (the in-memory store; D1 says it in SQL).
    pub fn matches(&self, e: &LogEvent) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|w| have.as_ref() == Some(w))
        };
        self.kind.as_ref().is_none_or(|k| *k == e.kind)
            && eq(&self.user_id, &e.user_id)
            && eq(&self.client_id, &e.client_id)
    }
}
