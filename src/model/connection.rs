//! Connections: the directories users sign in through, as records shaped like Auth0's
//! (`/api/v2/connections`). The database strategy (`auth0`: email and password in this
//! issuer's own table) is the one built; its options are the password policy, sign-up and
//! brute-force protection.

use super::password_policy::PasswordPolicy;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The database strategy: users with an email and password stored here.
pub const DATABASE: &str = "auth0";

/// One connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// `con_` and 16 letters or digits.
    pub id: String,
    /// Unique in the tenant; users and sign-ins name their connection by it.
    pub name: String,
    pub strategy: String,
    pub display_name: Option<String>,
    /// The strategy's options, as [`ConnectionOptions::check`] accepted them.
    pub options: Map<String, Value>,
    /// Auth0's connection metadata: up to 10 string values.
    pub metadata: Map<String, Value>,
    /// The clients that may sign users in through it.
    pub enabled_clients: Vec<String>,
    pub created_at: u64,
}

impl Connection {
    /// Whether `client_id` may sign users in through this connection.
    pub fn enabled_for(&self, client_id: &str) -> bool {
        self.enabled_clients.iter().any(|c| c == client_id)
    }

    /// Whether it is a database connection (email and password stored here).
    pub fn is_database(&self) -> bool {
        self.strategy == DATABASE
    }

    /// Whether the sign-up page and API are closed (`disable_signup`).
    pub fn signup_disabled(&self) -> bool {
        self.flag("disable_signup").unwrap_or(false)
    }

    /// Whether failed passwords are counted and locked (`brute_force_protection`, on unless
    /// turned off, as Auth0).
    pub fn brute_force_protection(&self) -> bool {
        self.flag("brute_force_protection").unwrap_or(true)
    }

    /// The password policy its options describe.
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy::from_options(&self.options)
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.options.get(name).and_then(Value::as_bool)
    }
}

/// The options a database connection accepts.
pub struct ConnectionOptions;

impl ConnectionOptions {
    /// Why `options` cannot be stored for a database connection, if they cannot: an option
    /// this issuer does not act on is refused rather than kept and ignored.
    pub fn check(options: &Map<String, Value>) -> Option<String> {
        for (name, value) in options {
            let why = match name.as_str() {
                "passwordPolicy" => match value {
                    Value::Null => None,
                    Value::String(level) if PasswordPolicy::LEVELS.contains(&level.as_str()) => {
                        None
                    }
                    _ => Some("passwordPolicy is none, low, fair, good or excellent".to_string()),
                },
                "password_complexity_options" => {
                    let min = value.get("min_length");
                    let fields_ok = value
                        .as_object()
                        .is_some_and(|o| o.keys().all(|k| k == "min_length"));
                    match min.map(Value::as_u64) {
                        _ if !fields_ok => {
                            Some("password_complexity_options has only min_length".into())
                        }
                        None | Some(Some(1..=128)) => None,
                        _ => Some("password_complexity_options.min_length is 1 to 128".into()),
                    }
                }
                "password_no_personal_info" => enable_only(name, value),
                "password_dictionary" => {
                    let words = value.get("dictionary");
                    let fields_ok = value
                        .as_object()
                        .is_some_and(|o| o.keys().all(|k| k == "enable" || k == "dictionary"));
                    let words_ok = words.is_none_or(|w| {
                        w.as_array().is_some_and(|list| {
                            list.len() <= 200
                                && list.iter().all(|x| {
                                    x.as_str().is_some_and(|s| (1..=50).contains(&s.len()))
                                })
                        })
                    });
                    match (
                        fields_ok && words_ok,
                        value.get("enable").map(Value::is_boolean),
                    ) {
                        (true, Some(true)) => None,
                        _ => Some(
                            "password_dictionary is {enable: bool, dictionary: [up to 200 words]}"
                                .into(),
                        ),
                    }
                }
                "password_history" => match value.get("enable") {
                    Some(Value::Bool(true)) => Some(
                        "password_history is not supported: passwords are not kept after a change"
                            .into(),
                    ),
                    _ => None,
                },
                "brute_force_protection" | "disable_signup" => {
                    (!value.is_boolean()).then(|| format!("{name} is true or false"))
                }
                "requires_username" => match value {
                    Value::Bool(false) => None,
                    Value::Bool(true) => Some(
                        "requires_username is not supported: users sign in with their email".into(),
                    ),
                    _ => Some("requires_username is true or false".into()),
                },
                other => Some(format!(
                    "option {other} is not supported; the database strategy takes passwordPolicy, \
                     password_complexity_options, password_no_personal_info, password_dictionary, \
                     password_history, brute_force_protection, disable_signup, requires_username"
                )),
            };
            if why.is_some() {
                return why;
            }
        }
        None
    }
}

fn enable_only(name: &str, value: &Value) -> Option<String> {
    let ok = value
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.get("enable").is_some_and(Value::is_boolean));
    (!ok).then(|| format!("{name} is {{enable: true|false}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value) -> Option<String> {
        ConnectionOptions::check(v.as_object().unwrap())
    }

    #[test]
    fn database_options_are_checked_and_unknown_ones_refused() {
        assert_eq!(
            check(json!({
                "passwordPolicy": "good",
                "password_complexity_options": { "min_length": 12 },
                "password_no_personal_info": { "enable": true },
                "password_dictionary": { "enable": true, "dictionary": ["acme2026"] },
                "password_history": { "enable": false, "size": 5 },
                "brute_force_protection": false,
                "disable_signup": true,
                "requires_username": false,
            })),
            None
        );
        for bad in [
            json!({ "passwordPolicy": "strong" }),
            json!({ "password_complexity_options": { "min_length": 0 } }),
            json!({ "password_complexity_options": { "min_length": 8, "x": 1 } }),
            json!({ "password_no_personal_info": true }),
            json!({ "password_dictionary": { "enable": "yes" } }),
            json!({ "password_dictionary": { "enable": true, "dictionary": [""] } }),
            json!({ "password_history": { "enable": true, "size": 5 } }),
            json!({ "brute_force_protection": "on" }),
            json!({ "requires_username": true }),
            json!({ "mfa": { "active": true } }),
        ] {
            assert!(check(bad.clone()).is_some(), "{bad}");
        }
    }
}
