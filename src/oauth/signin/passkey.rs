//! "Sign in with a passkey" on the hosted login page: a discoverable credential the user set
//! up as a second factor signs them in with no password (passwordless), offered by the
//! browser's autofill where it can (conditional mediation) and by a button.
//!
//! The assertion names its user (the credential's user handle, which is the user id); it
//! must be one of that user's credentials, the user must be verified by the authenticator (a
//! PIN or biometric: the sign-in is then multi-factor, `amr` `hwk`/`swk`, `user`, `mfa`),
//! and the user must be of the page's database connection. The challenge is the page's
//! ([`crate::oauth::mfa::passkey`]): it is spent with the sign-in, so one page signs in once.
//!
//! Who may: whoever holds one of the user's registered credentials and can unlock it.

use super::complete::{complete, log_sign_in, Arrival};
use super::transaction::{LoginTransaction, LIFETIME};
use super::{Authentication, Screen, SignInError, SignInFlow, Through};
use crate::model::authentication::{Method, MULTI_FACTOR_ACR};
use crate::model::log::kinds;
use crate::model::webauthn::challenge_for;
use crate::model::Authenticated;
use crate::oauth::authorize::AuthorizeRequest;
use crate::oauth::mfa::passkey::{self, Response};
use crate::port::crypto::Crypto;
use crate::port::mfa::{MfaStore, Spent};
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, KeyStore, Login, Stores, SubjectStore, UserKey};

/// The login page's passkey answer (`json`) for transaction `tx`.
pub async fn sign_in<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    through: &Through,
    json: &str,
) -> Result<Screen, SignInError> {
    let rp = through.passkeys.as_ref().ok_or(SignInError::WrongKey)?;
    let response = Response::parse(json).ok_or(SignInError::WrongKey)?;
    let user_id = response.user_id().ok_or(SignInError::WrongKey)?;
    let challenge = challenge_for(&tx.csrf);
    let (store, now) = (flow.ports.mfa(), flow.facts.now);
    let (mut authenticators, _) = store.authenticators(&user_id).settle().await?;
    // A credential whose factor the tenant turned off is not used.
    let guardian = flow.ports.guardian().settle().await?;
    authenticators.retain(|a| guardian.is_enabled(&a.kind));
    let checked = passkey::assert(
        flow.crypto,
        rp,
        &challenge,
        &response,
        &authenticators,
        true,
    );
    let checked = checked.settle().await?;
    let redemption = flow.random.token(16)?;
    let jti = format!("webauthn|{challenge}");
    let spent = Spent {
        jti: &jti,
        expires_at: tx.expires_at,
        redemption: &redemption,
    };
    let issued_at = tx.expires_at.saturating_sub(LIFETIME);
    let id = &checked.authenticator.id;
    let count = Some(checked.sign_count);
    if !store
        .accept_step(&user_id, id, issued_at, count, &spent, now)
        .settle()
        .await?
    {
        return Err(SignInError::WrongKey);
    }
    let read = flow.ports.subjects().subject(
        UserKey::Id(&user_id),
        request.organization.as_deref(),
        request.api_audience(),
    );
    let mut subject = read.settle().await?;
    let user = subject.user.take().ok_or(SignInError::WrongKey)?;
    if user.connection != through.connection.name {
        return Err(SignInError::WrongKey);
    }
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    let methods = [checked.methods[0], checked.methods[1], Method::MULTI_FACTOR];
    // A login like any other: counted on the user (`logins_count`, `last_login`), and the
    // address's failed attempts forgotten.
    let email = crate::model::email::normalize(user.email.as_deref().unwrap_or(&user_id));
    let email = email.to_ascii_lowercase();
    let login = Login {
        user_id: user.user_id.clone(),
        user_key: format!("{}\n{email}", user.connection),
        ip: flow.facts.client_ip.unwrap_or("unknown").to_string(),
        rehash: None,
        connection: user.connection.clone(),
        email_lower: email,
        new_user: None,
    };
    let signed_in = Authentication {
        authenticated: Authenticated {
            connection: user.connection.clone(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
            acr: Some(MULTI_FACTOR_ACR.into()),
        },
        user,
        subject,
        auth_time: now,
        login: Some(login),
        new_user: false,
        upstream: None,
    };
    Ok(complete(flow, request, Arrival::Fresh(signed_in), tx)
        .settle()
        .await)
}

/// Logs a passkey refused on the login page.
pub fn log_refused<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    connection: &str,
) {
    let description = "Wrong passkey";
    log_sign_in(
        flow,
        request,
        kinds::FAILED_LOGIN,
        description,
        (None, None),
        Some(connection),
    );
}
