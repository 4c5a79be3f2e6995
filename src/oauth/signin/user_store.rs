//! A custom database: the tenant's own user store behind a database connection, asked
//! `login(email, password)` and `get_user(email)` as hooks are called (a POST through the
//! outbound port or a service binding, signed `X-Edge-Issuer-Signature:
//! t=…,v1=HMAC-SHA256(secret, "t.body")`).
//!
//! The request is `{"action": "login", "connection": …, "email": …, "password": …}` (or
//! `{"action": "get_user", "connection": …, "email": …}`, asked before a sign-up in import
//! mode, so no one signs up here with the address of a user the store still holds). The store
//! answers `200` with the user's profile (`user_id`, `email`, and optionally
//! `email_verified`, `name`, `given_name`, `family_name`, `nickname`, `picture`,
//! `app_metadata`, `user_metadata`), or `401`/`403`/`404` (or `null`) when the email or the
//! password is wrong. Anything else (no answer within 5 s, another status, a body that is not
//! such a profile, a profile for another email) fails the sign-in closed: nothing is stored.

use super::SignInError;
use crate::error::{OAuthError, OutboundError};
use crate::model::connection::{Endpoint, UserStore};
use crate::model::{Hook, HookEndpoint, OnFailure, Secret, Trigger};
use crate::oauth::claims::hooks::{signature, MAX_ANSWER_BYTES};
use crate::oauth::keys::Kek;
use crate::oauth::provision::{Draft, Refused};
use crate::port::hooks::HookTransport;
use crate::port::settled::Settle;
use serde_json::{json, Map, Value};

/// How long the store may take to answer.
pub const TIMEOUT_MS: u64 = 5_000;

/// A user store to call: where, with which secret, through which transport.
pub struct StoreCall<'a> {
    pub store: UserStore,
    pub secret: Secret<String>,
    pub transport: &'a dyn HookTransport,
}

impl<'a> StoreCall<'a> {
    /// The call to `connection`'s user store, its secret opened, if it has a custom database.
    pub fn of(
        kek: Option<&Kek>,
        connection: &crate::model::Connection,
        transport: &'a dyn HookTransport,
    ) -> Result<Option<Self>, SignInError> {
        let Some(store) = connection.user_store() else {
            return Ok(None);
        };
        let secret = kek
            .and_then(|k| k.open(&connection.id, &store.sealed_secret).ok())
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or_else(|| failed("its signing secret does not open"))?;
        Ok(Some(Self {
            store,
            secret: Secret::new(secret),
            transport,
        }))
    }
}

fn failed(why: &str) -> SignInError {
    SignInError::Failed(OAuthError::server(format!("the custom database: {why}")))
}

/// Why a user the store vouched for cannot be stored here: its profile breaks this issuer's
/// rules (an id or an email it does not take). The store's fault, so the sign-in fails closed.
pub fn unstorable(refused: Refused) -> SignInError {
    match refused {
        Refused::Failed(e) => SignInError::Failed(e),
        Refused::Field(field, why) => failed(&format!("its {field}: {why}")),
        Refused::Password(_) => failed("its user has no password to check"),
    }
}

/// Asks the store to sign `email` in with `password`: the user it answered, as a draft to
/// provision (`auth0|<user_id>`, no credential yet), or `None` when the store says the email
/// or password is wrong.
pub async fn login(
    call: &StoreCall<'_>,
    connection: &str,
    email: &str,
    password: &str,
    now: u64,
) -> Result<Option<Draft>, SignInError> {
    let body = json!({
        "action": "login",
        "connection": connection,
        "email": email,
        "password": password,
    });
    match ask(call, connection, body, now).settle().await? {
        Some(profile) => draft(&profile, email).map(Some),
        None => Ok(None),
    }
}

/// Whether the store holds a user with `email` (its `get_user`).
pub async fn get_user(
    call: &StoreCall<'_>,
    connection: &str,
    email: &str,
    now: u64,
) -> Result<bool, SignInError> {
    let body = json!({ "action": "get_user", "connection": connection, "email": email });
    match ask(call, connection, body, now).settle().await? {
        Some(profile) => draft(&profile, email).map(|_| true),
        None => Ok(false),
    }
}

/// Sends `body` to the store: the profile it answered, or `None` for "no such user".
async fn ask(
    call: &StoreCall<'_>,
    connection: &str,
    body: Value,
    now: u64,
) -> Result<Option<Map<String, Value>>, SignInError> {
    let body = body.to_string();
    let signed = signature(call.secret.expose(), now, &body);
    let hook = Hook {
        hook_id: format!("custom-database:{connection}"),
        name: format!("{connection} user store"),
        trigger: Trigger::PostLogin,
        endpoint: match &call.store.login {
            Endpoint::Url(url) => HookEndpoint::Url(url.clone()),
            Endpoint::Service(name) => HookEndpoint::Service(name.clone()),
        },
        secret: call.secret.clone(),
        timeout_ms: TIMEOUT_MS,
        on_failure: OnFailure::Deny,
    };
    let answer = match call.transport.deliver(&hook, body, signed).await {
        Ok(bytes) => bytes,
        Err(OutboundError::Status(401 | 403 | 404)) => return Ok(None),
        Err(e) => return Err(failed(&e.to_string())),
    };
    if answer.len() > MAX_ANSWER_BYTES {
        return Err(failed("the answer is too large"));
    }
    match crate::model::strict_json::parse(&answer) {
        Ok(Value::Null) => Ok(None),
        Ok(Value::Object(profile)) => Ok(Some(profile)),
        _ => Err(failed("the answer is not a JSON object")),
    }
}

/// The user the store's `profile` describes, as a draft, if it is the one asked about
/// (`email`, lower-cased).
fn draft(profile: &Map<String, Value>, email: &str) -> Result<Draft, SignInError> {
    let text = |name: &str| -> Result<Option<String>, SignInError> {
        match profile.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(failed(&format!("{name} is not a string"))),
        }
    };
    let object = |name: &str| -> Result<Option<Map<String, Value>>, SignInError> {
        match profile.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(failed(&format!("{name} is not an object"))),
        }
    };
    let user_id = match profile.get("user_id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(failed("the profile has no user_id")),
    };
    // The store must answer for the email it was asked about: a profile of another user
    // would sign the wrong person in.
    let answered = text("email")?.unwrap_or_default();
    if crate::model::email::normalize(&answered).to_ascii_lowercase() != email {
        return Err(failed("the profile is for another email"));
    }
    Ok(Draft {
        id: Some(user_id),
        email: answered,
        email_verified: profile.get("email_verified") == Some(&Value::Bool(true)),
        name: text("name")?,
        given_name: text("given_name")?,
        family_name: text("family_name")?,
        nickname: text("nickname")?,
        picture: text("picture")?,
        app_metadata: object("app_metadata")?,
        user_metadata: object("user_metadata")?,
        ..Draft::default()
    })
}
