//! The second factor proven: a code of the user's authenticator app, or one of their recovery
//! codes, with the MFA token of the password it follows; for the MFA grants and the hosted
//! login page alike.
//!
//! Wrong codes count toward the same lockout as wrong passwords (the user's key and the IP).
//! The factor and the token are spent together, in one batch, before anything else runs: a
//! code (and a token) is single use whatever happens next, and a wrong code spends nothing.

use super::passkey::Checked;
use super::token::MfaToken;
use super::{recovery, totp};
use crate::model::authentication::MULTI_FACTOR_ACR;
use crate::model::mfa::TOTP;
use crate::model::{Authenticated, Method};
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::oauth::signin::{Authentication, SignInError};
use crate::port::mfa::{MfaStore, Spent};
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{AttemptStore, HasAttempts, HasMfa, HasSubjects, Login};
use crate::port::{SubjectStore, UserKey};

/// What proves the second factor.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// A code of an authenticator app.
    Otp(&'a str),
    /// One of the user's recovery codes.
    RecoveryCode(&'a str),
    /// A WebAuthn credential's assertion or registration, checked
    /// ([`super::passkey`]), for a challenge issued at this time.
    Key(&'a Checked, u64),
}

/// A second factor proven.
pub struct Proven {
    /// The sign-in, as the password and the factor made it: `amr` says both.
    pub signed_in: Authentication,
    /// The recovery codes left, after one was spent.
    pub recovery_left: Option<usize>,
    /// The code confirmed a newly enrolled authenticator app.
    pub enrolled: bool,
}

/// Checks `proof` for `token`'s user and spends both; reads the user for `organization` and
/// `audience` as a sign-in does.
#[allow(clippy::too_many_arguments)]
pub async fn redeem<P>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    kek: &Kek,
    token: &MfaToken,
    proof: Proof<'_>,
    organization: Option<&str>,
    audience: Option<&str>,
) -> Result<Proven, SignInError>
where
    P: HasSubjects + HasAttempts + HasMfa,
{
    let now = facts.now;
    // Attempts are counted as the first factor's were: by address in the connection; a
    // sign-in without one (an upstream provider's, a sign-up) by the user.
    let email = token.asked("email");
    let user_key = format!("{}\n{}", token.connection, email.unwrap_or(&token.user_id));
    let ip = facts.client_ip.unwrap_or("unknown");
    let policy = &facts.config.lockout;
    let attempt = ports
        .attempts()
        .count_attempt(&user_key, ip, now, policy)
        .settle()
        .await?;
    if attempt > policy.max_failures {
        return Err(SignInError::Locked);
    }

    let redemption = random.token(16)?;
    let spent = Spent {
        jti: &token.jti,
        expires_at: token.expires_at,
        redemption: &redemption,
    };
    let store = ports.mfa();
    let (proven, left, enrolled) = match proof {
        Proof::Otp(code) => {
            let (authenticators, _) = store.authenticators(&token.user_id).settle().await?;
            let matched = authenticators
                .iter()
                .filter(|a| a.kind == TOTP)
                .find_map(|a| {
                    let sealed = a.secret_sealed.as_deref()?;
                    let secret = kek.open_for(&totp::secret_purpose(&a.id), sealed)?;
                    let step = totp::matching_step(&secret, code, now, a.last_step)?;
                    Some((a, step))
                });
            let (app, step) = matched.ok_or(SignInError::WrongFactor)?;
            let accepted = store.accept_step(&token.user_id, &app.id, step, None, &spent, now);
            if !accepted.settle().await? {
                return Err(SignInError::WrongFactor);
            }
            (&[Method::ONE_TIME][..], None, !app.confirmed)
        }
        Proof::RecoveryCode(code) => {
            let hash = recovery::code_hash(code);
            let spent = store.spend_recovery_code(&token.user_id, &hash, &spent, now);
            let left = spent.settle().await?.ok_or(SignInError::WrongFactor)?;
            (&[][..], Some(left), false)
        }
        Proof::Key(checked, issued_at) => {
            let (id, count) = (&checked.authenticator.id, Some(checked.sign_count));
            let accepted = store.accept_step(&token.user_id, id, issued_at, count, &spent, now);
            if !accepted.settle().await? {
                return Err(SignInError::WrongFactor);
            }
            (&checked.methods[..], None, !checked.authenticator.confirmed)
        }
    };

    let read = ports
        .subjects()
        .subject(UserKey::Id(&token.user_id), organization, audience);
    let mut subject = read.settle().await?;
    let user = subject.user.take().ok_or(SignInError::WrongFactor)?;
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    // RFC 8176: the first factor (the password, or a passwordless code's `otp`), the second
    // (an authenticator app's code, a key's `hwk`/`swk` and `user`), and more than one factor;
    // each once. A recovery code has no registered value of its own.
    let first = match token.asked(super::FIRST) {
        Some(methods) => methods.split(' ').collect(),
        None => vec![Method::PASSWORD],
    };
    let mut methods: Vec<String> = Vec::new();
    for m in first.iter().chain(proven).chain(&[Method::MULTI_FACTOR]) {
        if !methods.iter().any(|known| known == m) {
            methods.push(m.to_string());
        }
    }
    // A password's or a code's login is recorded with the session; an upstream sign-in's
    // (and a sign-up's) was, when the token was made (`gate`).
    let login = email.map(|email| Login {
        user_id: user.user_id.clone(),
        user_key,
        ip: ip.to_string(),
        rehash: token.asked("rehash").map(str::to_string),
        connection: token.connection.clone(),
        email_lower: email.to_string(),
        new_user: None,
    });
    let signed_in = Authentication {
        login,
        user,
        subject,
        authenticated: Authenticated {
            connection: token.connection.clone(),
            methods,
            acr: Some(MULTI_FACTOR_ACR.into()),
        },
        auth_time: now,
        new_user: false,
        upstream: None,
    };
    Ok(Proven {
        signed_in,
        recovery_left: left,
        enrolled,
    })
}
