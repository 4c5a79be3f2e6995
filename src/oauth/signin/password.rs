//! The password authenticator: an email and password of a database connection, checked with
//! brute-force protection (RFC 6749 §4.3.2) per user and IP. The hosted login and the
//! password grant share it, and the same counters.

use super::error::SignInError;
use super::Authentication;
use crate::model::Authenticated;
use crate::oauth::facts::Facts;
use crate::oauth::password::{hash, verify, verify_dummy, Verdict};
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::{AttemptStore, HasAttempts, HasSubjects, Login, SubjectStore, UserKey};

/// The credentials a user signs in with.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// The connection (user directory).
    pub connection: &'a str,
    /// The email.
    pub username: &'a str,
    pub password: &'a str,
    /// Whether the connection counts and locks failed passwords
    /// ([`crate::model::Connection::brute_force_protection`]).
    pub brute_force_protection: bool,
}

/// Checks a user's password. Only the attempt counter is written here; the [`Login`] in the
/// answer is for the commit to record. A wrong password and an unknown email are the same
/// [`SignInError::WrongCredentials`], and cost the same time. The user is read with the
/// `organization` asked for and their roles and permissions on `audience`, in one round trip.
pub async fn authenticate<P, C>(
    ports: &P,
    crypto: &C,
    random: &dyn Random,
    facts: &Facts<'_>,
    account: &Account<'_>,
    organization: Option<&str>,
    audience: Option<&str>,
) -> Result<Authentication, SignInError>
where
    P: HasSubjects + HasAttempts,
    C: Crypto,
{
    let (connection, password) = (account.connection, account.password);
    let (config, now) = (facts.config, facts.now);
    // Count the attempt before verifying anything (RFC 6749 §4.3.2): one atomic increment,
    // so however many requests race, at most `max_failures` of them reach the hash.
    let ip = facts.client_ip.unwrap_or("unknown");
    // The address as stored: fullwidth and other forms whose NFKC is ASCII fold to it.
    let email = crate::model::email::normalize(account.username).to_ascii_lowercase();
    let user_key = format!("{connection}\n{email}");
    let policy = &config.lockout;
    let attempt = match account.brute_force_protection {
        true => {
            ports
                .attempts()
                .count_attempt(&user_key, ip, now, policy)
                .await?
        }
        false => 0,
    };
    if attempt > policy.max_failures {
        return Err(SignInError::Locked);
    }

    let key = UserKey::Email {
        connection,
        email_lower: &email,
    };
    let mut subject = ports
        .subjects()
        .subject(key, organization, audience)
        .await?;
    let user = subject.user.take();
    let iterations = config.password_iterations;
    let verdict = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(stored) => verify(crypto, password, stored, iterations).await?,
        None => {
            // An unknown user costs what a known one does.
            verify_dummy(crypto, password, iterations).await?;
            Verdict::Wrong
        }
    };
    let user = match (user, verdict) {
        (Some(user), Verdict::Right | Verdict::RightRehash) => user,
        // This attempt was the last one allowed: say so now.
        _ if account.brute_force_protection && attempt >= policy.max_failures => {
            return Err(SignInError::Locked)
        }
        _ => return Err(SignInError::WrongCredentials),
    };
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    let rehash = match verdict {
        Verdict::RightRehash => Some(hash(crypto, random, password, iterations).await?),
        _ => None,
    };
    let login = Login {
        user_id: user.user_id.clone(),
        user_key,
        ip: ip.to_string(),
        rehash,
        connection: connection.to_string(),
        email_lower: email.clone(),
    };
    Ok(Authentication {
        user,
        subject,
        authenticated: Authenticated::password(connection),
        auth_time: now,
        login: Some(login),
        new_user: false,
        upstream: None,
    })
}
