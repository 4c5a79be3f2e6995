//! Second factors: TOTP authenticator apps ([`totp`]) and recovery codes ([`recovery`]), and
//! Auth0's MFA API for the password grant: a right password answers `mfa_required` with an
//! [`token::MfaToken`] when the policy asks for a second factor ([`gate`]), which `/mfa/*`
//! and the MFA grants take.
//!
//! Who may: the MFA token's holder, for the one user and client it names and for 10 minutes;
//! it enrolls a first authenticator only while the user has no confirmed one (a password
//! alone never adds a factor to an account that has one), and it is spent by the grant that
//! redeems it.

pub mod api;
pub mod recovery;
pub mod token;
pub mod totp;

use crate::error::OAuthError;
use crate::model::mfa::{Guardian, MfaPolicy};
use crate::model::User;
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::oauth::params::Params;
use crate::oauth::signin::{Authentication, SignInError};
use crate::port::random::Random;
use token::{MfaToken, LIFETIME};

/// Whether `user` must prove a second factor now under `guardian`.
pub fn required(guardian: &Guardian, user: &User) -> bool {
    match guardian.policy() {
        MfaPolicy::Never => false,
        MfaPolicy::Optional => !user.multifactor.is_empty(),
        MfaPolicy::Always => true,
    }
}

/// What the password grant asked for, carried to the MFA grant.
const ASKED: [&str; 3] = ["audience", "scope", "organization"];

/// The password grant's answer when a second factor is required: `mfa_required` with a new
/// MFA token for `signed_in` and what `params` asked for. The password's own bookkeeping
/// (attempts cleared, the login counted, a rehash) is left to the MFA grant's success; the
/// rehash rides in the sealed token.
pub fn challenge(
    kek: Option<&Kek>,
    random: &dyn Random,
    facts: &Facts<'_>,
    client_id: &str,
    signed_in: &Authentication,
    params: &Params,
) -> Result<SignInError, OAuthError> {
    let kek = kek.ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
    let mut asked: Vec<(String, String)> = ASKED
        .iter()
        .filter_map(|name| Some((name.to_string(), params.get(name)?.to_string())))
        .collect();
    if let Some(login) = &signed_in.login {
        asked.push(("email".into(), login.email_lower.clone()));
        if let Some(rehash) = &login.rehash {
            asked.push(("rehash".into(), rehash.clone()));
        }
    }
    let token = MfaToken {
        jti: random.token(16)?,
        client_id: client_id.to_string(),
        user_id: signed_in.user.user_id.clone(),
        connection: signed_in.authenticated.connection.clone(),
        auth_time: signed_in.auth_time,
        expires_at: facts.now + LIFETIME,
        asked,
    };
    Ok(SignInError::MfaRequired(token.seal(kek, random)?))
}
