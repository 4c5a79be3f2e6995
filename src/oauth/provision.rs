//! The one path that makes users: sign-up on the hosted page, `POST /api/v2/users`, a bulk
//! import and an upstream provider's first login, with one validation. A user is
//! made for a database connection, whose password policy applies to a password given in
//! clear; a hash brought from another system was checked where it was read.

use crate::error::OAuthError;
use crate::model::config::Config;
use crate::model::password_policy::PasswordRefusal;
use crate::model::{Connection, User};
use crate::oauth::password;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use serde_json::{Map, Value};

/// Longest name-like field accepted.
pub const MAX_TEXT: usize = 300;

/// What a new user is made of.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The id after `auth0|`, when the caller chose it (letters, digits, `_`, `-`); else a
    /// fresh one.
    pub id: Option<String>,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
    pub blocked: bool,
    pub credential: Credential,
}

/// How the new user will prove who they are.
#[derive(Debug, Clone, Default)]
pub enum Credential {
    /// A password in clear: checked against the connection's policy and hashed here.
    Password(String),
    /// A self-describing hash imported from another system ([`password::imported_hash`]).
    Hash(String),
    /// None yet (an import without a password).
    #[default]
    None,
    /// Proven at an upstream provider: the user's id is this `provider|id`, an email is
    /// optional (`""` for none) and there is no password.
    Upstream(String),
}

/// Why a user cannot be made, in the words a person or an API caller acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// A field is malformed: which, and why.
    Field(&'static str, String),
    /// The password does not meet the connection's policy.
    Password(PasswordRefusal),
    /// The issuer failed (hashing, randomness).
    Failed(OAuthError),
}

/// Checks an email: normalized (NFKC), no invisible or format characters, one `@`, a dotted
/// domain. Answers the address to store.
pub fn check_email(email: &str) -> Result<String, Refused> {
    let email = crate::model::email::normalize(email);
    if crate::model::email::refusal(&email).is_some() {
        return Err(Refused::Field(
            "email",
            "Remove the invisible character, or the separate accent, from the email address."
                .into(),
        ));
    }
    if !valid_email(&email) {
        return Err(Refused::Field(
            "email",
            "Enter a valid email address.".into(),
        ));
    }
    Ok(email)
}

/// Whether `email` is an address: one `@`, a local part, a dotted domain, no spaces and no
/// invisible or format characters ([`crate::model::email::refusal`]).
pub fn valid_email(email: &str) -> bool {
    email.len() <= 254
        && crate::model::email::refusal(email).is_none()
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@')
                && !domain.starts_with('.') && !domain.ends_with('.'))
}

/// Checks the profile fields: names of 1 to [`MAX_TEXT`] characters, an absolute http(s)
/// picture URL.
pub fn check_profile(
    texts: &[(&'static str, Option<&str>)],
    picture: Option<&str>,
) -> Result<(), Refused> {
    for (field, value) in texts {
        if value.is_some_and(|v| v.is_empty() || v.chars().count() > MAX_TEXT) {
            return Err(Refused::Field(
                field,
                format!("{field} must be 1 to {MAX_TEXT} characters"),
            ));
        }
    }
    if let Some(url) = picture {
        let absolute = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2048
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !absolute {
            return Err(Refused::Field(
                "picture",
                format!("Object didn't pass validation for format url: {url}"),
            ));
        }
    }
    Ok(())
}

/// Checks a password for a user of `connection` with `email` and `names`.
pub fn check_password(
    connection: &Connection,
    password: &str,
    email: &str,
    names: &[&str],
) -> Result<(), Refused> {
    connection
        .password_policy()
        .check(password, email, names)
        .map_err(Refused::Password)
}

/// Whether `id` may follow `auth0|` in a user id: 1 to 64 letters, digits, `_` or `-`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A fresh user id of the database provider: `auth0|` and 24 hex digits (96 random bits).
pub fn new_user_id(random: &dyn Random) -> Result<String, OAuthError> {
    Ok(format!("auth0|{}", random.hex(12)?))
}

/// The new user of `connection` that `draft` describes, checked and (for a password in
/// clear) hashed; ready to store. Nothing is stored here.
pub async fn provision<C: Crypto>(
    crypto: &C,
    random: &dyn Random,
    config: &Config,
    now: u64,
    connection: &Connection,
    draft: Draft,
) -> Result<User, Refused> {
    let email = match &draft.credential {
        Credential::Upstream(_) if draft.email.is_empty() => None,
        _ => Some(check_email(&draft.email)?),
    };
    check_profile(
        &[
            ("name", draft.name.as_deref()),
            ("given_name", draft.given_name.as_deref()),
            ("family_name", draft.family_name.as_deref()),
            ("nickname", draft.nickname.as_deref()),
        ],
        draft.picture.as_deref(),
    )?;
    for (field, meta) in [
        ("user_metadata", &draft.user_metadata),
        ("app_metadata", &draft.app_metadata),
    ] {
        if let Some(m) = meta {
            if let Some(why) = crate::model::directory::metadata_refusal(field, m) {
                return Err(Refused::Field(field, why));
            }
        }
    }
    let password_hash = match &draft.credential {
        Credential::Password(pw) => {
            let names: Vec<&str> = [
                &draft.name,
                &draft.given_name,
                &draft.family_name,
                &draft.nickname,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
            check_password(connection, pw, email.as_deref().unwrap_or(""), &names)?;
            let hashed = password::hash(crypto, random, pw, config.password_iterations)
                .settle()
                .await;
            Some(hashed.map_err(Refused::Failed)?)
        }
        Credential::Hash(h) => Some(h.clone()),
        Credential::None | Credential::Upstream(_) => None,
    };
    let user_id = match (&draft.credential, &draft.id) {
        (Credential::Upstream(id), _) => id.clone(),
        (_, Some(id)) if valid_id(id) => format!("auth0|{id}"),
        (_, Some(_)) => {
            return Err(Refused::Field(
                "user_id",
                "user_id is 1 to 64 letters, digits, '_' or '-'".into(),
            ))
        }
        (_, None) => new_user_id(random).map_err(Refused::Failed)?,
    };
    let object = |m: Option<Map<String, Value>>| Value::Object(m.unwrap_or_default());
    Ok(User {
        user_id,
        connection: connection.name.clone(),
        email,
        email_verified: draft.email_verified,
        name: draft.name,
        given_name: draft.given_name,
        family_name: draft.family_name,
        nickname: draft.nickname,
        picture: draft.picture,
        user_metadata: object(draft.user_metadata),
        app_metadata: object(draft.app_metadata),
        blocked: draft.blocked,
        password_hash,
        created_at: now,
        updated_at: now,
        last_login: None,
        logins_count: 0,
        identities: Vec::new(),
        multifactor: Vec::new(),
        browsers_forgotten_at: 0,
    })
}
