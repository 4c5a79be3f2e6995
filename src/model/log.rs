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
    /// A passwordless code sent.
    pub const CODE_SENT: &str = "cs";
    /// A passwordless link sent.
    pub const LINK_SENT: &str = "cls";
    /// A login refused by brute-force protection.
    pub const BLOCKED: &str = "limit_wc";
    /// The password was right and a second factor is required (the password grant's
    /// `mfa_required`).
    pub const MFA_REQUIRED: &str = "mfar";
    /// A second factor proven, or refused.
    pub const MFA_SUCCEEDED: &str = "gd_auth_succeed";
    pub const MFA_FAILED: &str = "gd_auth_failed";
    /// A recovery code used, or refused.
    pub const RECOVERY_SUCCEEDED: &str = "gd_recovery_succeed";
    pub const RECOVERY_FAILED: &str = "gd_recovery_failed";
    /// A second factor enrolled (its first code proved it).
    pub const MFA_ENROLLED: &str = "gd_enrollment_complete";
    /// A sign-up on the hosted page.
    pub const SIGNUP: &str = "ss";
    /// A refused sign-up.
    pub const FAILED_SIGNUP: &str = "fs";
    /// client_credentials exchanged for an access token, or refused.
    pub const CLIENT_CREDENTIALS: &str = "seccft";
    pub const CLIENT_CREDENTIALS_FAILED: &str = "feccft";
    /// A refresh token exchanged, or refused.
    pub const REFRESH: &str = "sertft";
    pub const REFRESH_FAILED: &str = "fertft";
    /// An authorization code exchanged, or refused.
    pub const CODE: &str = "seacft";
    pub const CODE_FAILED: &str = "feacft";
    /// An email verified through its link, or a link refused (the address changed since).
    pub const VERIFICATION: &str = "sv";
    pub const FAILED_VERIFICATION: &str = "fv";
    /// A password reset link asked for (sent), or asked for and not sent.
    pub const CHANGE_PASSWORD_REQUEST: &str = "scpr";
    pub const FAILED_CHANGE_PASSWORD_REQUEST: &str = "fcpr";
    /// A password reset through its link, or refused.
    pub const CHANGE_PASSWORD: &str = "scp";
    pub const FAILED_CHANGE_PASSWORD: &str = "fcp";
    /// An email that could not be delivered.
    pub const FAILED_NOTIFICATION: &str = "fn";
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

/// Seconds since the epoch as ISO 8601 UTC with milliseconds, as Auth0 writes timestamps
/// (`2026-11-30T23:05:00.000Z`).
pub fn iso8601(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (the era algorithm:
/// 400-year cycles of 146,097 days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
