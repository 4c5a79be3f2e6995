//! The password authenticator: an email and password of a database connection, checked with
//! brute-force protection (RFC 6749 §4.3.2) per user and IP. The hosted login and the
//! password grant share it, and the same counters. A connection with a custom database asks
//! the tenant's user store instead ([`super::user_store`]), unless, in import mode, the user
//! was imported already and signs in here.

use super::error::SignInError;
use super::user_store::{self, StoreCall};
use super::Authentication;
use crate::model::{Authenticated, Connection};
use crate::oauth::facts::Facts;
use crate::oauth::password::{hash, verify, verify_dummy, Verdict};
use crate::oauth::provision::{provision, Credential, Draft};
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{AttemptStore, HasAttempts, HasSubjects, Login, SubjectStore, UserKey};

/// The credentials a user signs in with.
pub struct Account<'a> {
    /// The connection (user directory).
    pub connection: &'a str,
    /// The tenant's user store behind the connection (a custom database), if it has one,
    /// with the connection.
    pub store: Option<(StoreCall<'a>, &'a Connection)>,
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
                .settle()
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
        .settle()
        .await?;
    let user = subject.user.take();
    let iterations = config.password_iterations;
    let refused = || match account.brute_force_protection && attempt >= policy.max_failures {
        // This attempt was the last one allowed: say so now.
        true => SignInError::Locked,
        false => SignInError::WrongCredentials,
    };
    // A custom database answers unless, in import mode, the user was imported already.
    let store = account.store.as_ref().filter(|(store, _)| {
        !(store.store.import_mode && user.as_ref().is_some_and(|u| u.password_hash.is_some()))
    });
    let (user, rehash, new_user) = match store {
        Some((store, directory)) => {
            let answer = user_store::login(store, connection, &email, password, now)
                .settle()
                .await?;
            let Some(draft) = answer else {
                return Err(refused());
            };
            match user {
                Some(user) => (user, None, None),
                None => {
                    // Import mode keeps a hash of the password that just worked, so later
                    // logins stay here; otherwise the store keeps answering every login.
                    let credential = match store.store.import_mode {
                        true => Credential::Hash(
                            hash(crypto, random, password, iterations).settle().await?,
                        ),
                        false => Credential::None,
                    };
                    let draft = Draft {
                        credential,
                        ..draft
                    };
                    let made = provision(crypto, random, config, now, directory, draft)
                        .settle()
                        .await;
                    let user = made.map_err(user_store::unstorable)?;
                    (user.clone(), None, Some(Box::new(user)))
                }
            }
        }
        None => {
            let verdict = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
                Some(stored) => {
                    verify(crypto, password, stored, iterations)
                        .settle()
                        .await?
                }
                None => {
                    // An unknown user costs what a known one does.
                    verify_dummy(crypto, password, iterations).settle().await?;
                    Verdict::Wrong
                }
            };
            let user = match (user, verdict) {
                (Some(user), Verdict::Right | Verdict::RightRehash) => user,
                _ => return Err(refused()),
            };
            let rehash = match verdict {
                Verdict::RightRehash => {
                    Some(hash(crypto, random, password, iterations).settle().await?)
                }
                _ => None,
            };
            (user, rehash, None)
        }
    };
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    let login = Login {
        user_id: user.user_id.clone(),
        user_key,
        ip: ip.to_string(),
        rehash,
        connection: connection.to_string(),
        email_lower: email.clone(),
        new_user,
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
