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
pub mod passkey;
pub mod recovery;
pub mod redeem;
pub mod remember;
pub mod token;
pub mod totp;

use crate::error::OAuthError;
use crate::model::mfa::{Guardian, MfaPolicy};
use crate::model::{Method, Rule, User};
use crate::oauth::facts::Facts;
use crate::oauth::signin::Authentication;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{ExchangeStore, HasExchange, HasMfa, SignIn};
use token::{MfaToken, LIFETIME};

/// Whether `user` must prove a second factor now under `guardian`.
pub fn required(guardian: &Guardian, user: &User) -> bool {
    match guardian.policy() {
        MfaPolicy::Never => false,
        MfaPolicy::Optional => !user.multifactor.is_empty(),
        MfaPolicy::Always => true,
    }
}

/// Whether a post-login rule that requires a second factor (`multifactor`) matches a sign-in
/// of `client_id` for the API `audience` by `grant`, asking for `scope`, in `organization`,
/// of a user holding `roles`.
/// The conditions are checked against what the sign-in asks for, since nothing is granted
/// yet: `required_scope` against the requested scopes, `organization` against the id or name
/// the request gave.
pub fn rule_asks(
    rules: &[Rule],
    client_id: &str,
    audience: Option<&str>,
    grant: &str,
    scope: &str,
    organization: Option<&str>,
    roles: &[String],
) -> bool {
    if !rules.iter().any(|r| r.multifactor) {
        return false;
    }
    let event = serde_json::json!({
        "client": { "client_id": client_id },
        "api": { "identifier": audience },
        "grant_type": grant,
        "scopes": scope.split(' ').collect::<Vec<_>>(),
        "organization": { "id": organization, "name": organization },
        "user": { "roles": roles },
    });
    rules
        .iter()
        .any(|r| r.enabled && r.multifactor && r.matches(&event))
}

/// What the password grant asked for, carried to the MFA grant.
pub const ASKED: [&str; 3] = ["audience", "scope", "organization"];

/// The member of an MFA token naming the first factor's methods (`amr`), when that was not a
/// password.
pub const FIRST: &str = "first_amr";

/// The marker of an MFA token made by the hosted login page: only that page redeems it.
pub const HOSTED: (&str, &str) = ("hosted", "1");

/// The second factor a right password must be followed by: `None` when the policy asks for
/// none (and `step_up`, a request for it, finds every factor off), else a new
/// MFA token (to seal) for `signed_in` and `client_id`, carrying `asked`. A user seen for the
/// first time (a sign-up, a custom database's or a passwordless connection's new user, an
/// upstream provider's) is stored first, so a factor can be enrolled for it. The first
/// factor's own bookkeeping (attempts cleared, the login counted, a rehash) is left to the
/// second factor's success; the rehash rides in the sealed token.
pub async fn gate<P: HasMfa + HasExchange>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    client_id: &str,
    signed_in: &Authentication,
    mut asked: Vec<(String, String)>,
    step_up: bool,
) -> Result<Option<MfaToken>, OAuthError> {
    let guardian = ports.guardian().settle().await?;
    let asked_for = step_up && guardian.any_factor();
    if !(required(&guardian, &signed_in.user) || asked_for) {
        return Ok(None);
    }
    // A new user (a sign-up; a custom database's or a passwordless connection's first
    // sign-in; an upstream provider's), and an upstream sign-in's profile and login, are
    // stored now, so a factor can be enrolled for the user; what follows the second factor is
    // a sign-in of a stored user. A password's or a code's login is recorded after the second
    // factor (so it is counted once).
    let new_user = match &signed_in.login {
        Some(login) => login.new_user.as_deref(),
        None => signed_in.new_user.then_some(&signed_in.user),
    };
    if new_user.is_some() || signed_in.upstream.is_some() {
        let first = SignIn {
            new_user,
            login: None,
            session: None,
            touched: None,
            code: None,
            upstream: signed_in.upstream.as_deref(),
        };
        let stored = ports.exchange().commit_authorization(&first, facts.now);
        stored.settle().await?;
    }
    if let Some(login) = &signed_in.login {
        asked.push(("email".into(), login.email_lower.clone()));
        if let Some(rehash) = &login.rehash {
            asked.push(("rehash".into(), rehash.clone()));
        }
    }
    // A first factor other than the password (a passwordless code or link) is carried, so
    // the sign-in's `amr` names it once the second is proven.
    let methods = &signed_in.authenticated.methods;
    if methods.iter().any(|m| m != Method::PASSWORD) {
        asked.push((FIRST.into(), methods.join(" ")));
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
    Ok(Some(token))
}
