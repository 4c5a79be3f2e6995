//! Sign-up on the hosted login page: a new user of the default connection, with email and
//! password. The password policy is checked here, on the server, whatever the form did.

use crate::error::OAuthError;
use crate::model::config::Config;
use crate::model::User;
use crate::oauth::password;
use crate::port::crypto::Crypto;
use crate::port::random::Random;

/// Shortest password accepted (NIST SP 800-63B §5.1.1.2: at least 8).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, so hashing stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 128;

/// Why a sign-up form is refused, in words for the person filling it in.
pub fn refuse(email: Option<&str>, password: Option<&str>) -> Option<&'static str> {
    let email = crate::model::email::normalize(email.unwrap_or(""));
    let email = email.as_str();
    let password = password.unwrap_or("");
    if crate::model::email::refusal(email).is_some() {
        return Some(
            "Remove the invisible character, or the separate accent, from the email address.",
        );
    }
    if !valid_email(email) {
        return Some("Enter a valid email address.");
    }
    weak_password(email, password)
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

/// Why a password is refused for the user with `email`, if it is.
pub fn weak_password(email: &str, password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Some("Use a password of at least 8 characters.");
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Some("Use a password of at most 128 characters.");
    }
    if password.eq_ignore_ascii_case(email) {
        return Some("Do not use your email as your password.");
    }
    None
}

/// The new user, its password hashed, ready to be stored with its first sign-in.
pub async fn new_user<C: Crypto>(
    crypto: &C,
    random: &dyn Random,
    config: &Config,
    now: u64,
    email: &str,
    password: &str,
) -> Result<User, OAuthError> {
    Ok(User {
        user_id: new_user_id(random)?,
        connection: config.default_connection.clone(),
        email: Some(crate::model::email::normalize(email)),
        email_verified: false,
        user_metadata: serde_json::json!({}),
        app_metadata: serde_json::json!({}),
        password_hash: Some(
            password::hash(crypto, random, password, config.password_iterations).await?,
        ),
        created_at: now,
        updated_at: now,
        ..User::default()
    })
}

/// A fresh user id of the database provider: `auth0|` and 24 hex digits (96 random bits).
pub fn new_user_id(random: &dyn Random) -> Result<String, OAuthError> {
    Ok(format!("auth0|{}", random.hex(12)?))
}

#[cfg(test)]
mod tests {
    use super::refuse;

    #[test]
    fn the_policy_is_checked_on_the_server() {
        assert_eq!(refuse(Some("ada@example.com"), Some("correct horse")), None);
        for bad_email in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "a b@example.com",
            "ada@example",
            "a@b@c.d",
        ] {
            assert!(
                refuse(Some(bad_email), Some("long enough")).is_some(),
                "{bad_email}"
            );
        }
        assert!(refuse(Some("ada@example.com"), Some("short")).is_some());
        assert!(refuse(Some("ada@example.com"), Some(&"x".repeat(129))).is_some());
        assert!(refuse(Some("ada@example.com"), Some("ADA@example.com")).is_some());
        assert!(refuse(Some("ada@example.com"), None).is_some());
    }
}
