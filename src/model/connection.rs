//! Connections: the directories users sign in through, as records shaped like Auth0's
//! (`/api/v2/connections`). The database strategy (`auth0`: email and password in this
//! issuer's own table, or in the tenant's own user store behind it) has the password policy,
//! sign-up, brute-force protection and the custom database among its options; the upstream
//! strategies are in [`super::upstream`].

use super::password_policy::PasswordPolicy;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The database strategy: users with an email and password stored here.
pub const DATABASE: &str = "auth0";
/// The passwordless strategy: users who sign in with a code or link sent to their address
/// (Auth0's `email` connection), stored here with no password.
pub const EMAIL: &str = "email";

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

    /// Whether it is a passwordless connection ([`EMAIL`]).
    pub fn is_passwordless(&self) -> bool {
        self.strategy == EMAIL
    }

    /// Whether users sign in at an upstream provider through it.
    pub fn is_upstream(&self) -> bool {
        !self.is_database() && !self.is_passwordless()
    }

    /// Whether users may sign up here through it: a database connection whose users are this
    /// issuer's, or a custom database in import mode (new users are kept here; the store's
    /// `create` is not called, so a custom database without import mode takes none).
    pub fn takes_signups(&self) -> bool {
        self.is_database() && self.user_store().is_none_or(|s| s.import_mode)
    }

    /// Whether the sign-up page and API are closed (`disable_signup`).
    pub fn signup_disabled(&self) -> bool {
        self.flag("disable_signup").unwrap_or(false)
    }

    /// Whether a sign-up is sent a verification link (`verify_email`, on unless false).
    pub fn sends_verification(&self) -> bool {
        self.flag("verify_email").unwrap_or(true)
    }

    /// Whether users may not ask for a reset link themselves
    /// (`disable_self_service_change_password`, as Auth0).
    pub fn self_service_reset_disabled(&self) -> bool {
        self.flag("disable_self_service_change_password")
            .unwrap_or(false)
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

    /// The tenant's own user store behind this database connection, if it has one
    /// (`enabledDatabaseCustomization` with a `customScripts.login` endpoint).
    pub fn user_store(&self) -> Option<UserStore> {
        if !self.is_database() || self.flag("enabledDatabaseCustomization") != Some(true) {
            return None;
        }
        let scripts = self.options.get("customScripts")?;
        Some(UserStore {
            login: Endpoint::parse(scripts.get("login")?.as_str()?)?,
            sealed_secret: self.options.get(SEALED_STORE_SECRET)?.as_str()?.to_string(),
            import_mode: self.flag("import_mode").unwrap_or(false),
        })
    }
}

/// The option that holds the user store's signing secret, sealed under the key-encryption
/// key with the connection's id. Never accepted from a request and never shown.
pub const SEALED_STORE_SECRET: &str = "signing_secret_sealed";

/// Where the tenant's user store is reached: an https URL, or a service binding of the Worker
/// (`service:<binding>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Url(String),
    Service(String),
}

impl Endpoint {
    /// `service:<binding>`, else an `http(s)://` URL (checked against the outbound rule where
    /// it is saved and called).
    pub fn parse(text: &str) -> Option<Self> {
        match text.strip_prefix("service:") {
            Some(name) => {
                let ok = (1..=63).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                ok.then(|| Self::Service(name.to_string()))
            }
            None if text.starts_with("https://") || text.starts_with("http://") => {
                Some(Self::Url(text.to_string()))
            }
            None => None,
        }
    }
}

/// A custom database: the tenant's user store answers `login(email, password)` for the
/// connection, signed as hooks are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserStore {
    pub login: Endpoint,
    /// The HMAC secret, sealed ([`SEALED_STORE_SECRET`]).
    pub sealed_secret: String,
    /// Auth0's lazy migration: a user the store signs in is stored here with a hash of the
    /// password, and signs in here from then on without calling out.
    pub import_mode: bool,
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
                "brute_force_protection"
                | "disable_signup"
                | "verify_email"
                | "disable_self_service_change_password"
                | "enabledDatabaseCustomization"
                | "import_mode" => {
                    (!value.is_boolean()).then(|| format!("{name} is true or false"))
                }
                "customScripts" => {
                    let ok = value.as_object().is_some_and(|m| {
                        m.iter().all(|(k, v)| {
                            k == "login" && v.as_str().and_then(Endpoint::parse).is_some()
                        })
                    });
                    (!ok).then(|| {
                        "customScripts has login: the https URL (or service:<binding>) of your \
                         user store's login endpoint; this issuer calls your store, it runs no \
                         scripts"
                            .into()
                    })
                }
                "configuration" => {
                    let ok = value.as_object().is_some_and(|m| {
                        m.len() == 1
                            && m.get("signing_secret")
                                .and_then(Value::as_str)
                                .is_some_and(|s| (32..=256).contains(&s.len()))
                    });
                    (!ok).then(|| {
                        "configuration is {signing_secret: 32 to 256 characters}: the HMAC key \
                         your user store checks requests with"
                            .into()
                    })
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
                     password_history, brute_force_protection, disable_signup, requires_username, \
                     verify_email, disable_self_service_change_password, \
                     enabledDatabaseCustomization, import_mode, customScripts, configuration"
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
