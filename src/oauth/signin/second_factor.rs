//! The second factor on the hosted login page: after a right password, when the tenant's
//! policy asks for one ([`mfa::gate`]), a page asks for a code of the user's authenticator
//! app (or a recovery code) instead of completing the sign-in; a user without an app enrolls
//! one on that page first (a QR code, the key as text, and ten recovery codes shown once).
//!
//! The page carries the login transaction (`state`, bound to the browser by its CSRF cookie)
//! and an MFA token made for the hosted page alone (the token endpoint and `/mfa/*` refuse
//! it), which the right code spends ([`redeem`]). While enrolling, the token also carries the
//! new app's key and the recovery codes, sealed, so a page shown again after a wrong code
//! shows the same ones.
//!
//! Who may: the browser that posted the right password, for that user, for the token's 10
//! minutes; a password alone enrolls an app only while the user has no confirmed one. Wrong
//! codes count toward the password lockout.

use super::complete::{complete, log_sign_in, Arrival};
use super::{no_kek, resume, Authentication, Screen, SignInError, SignInFlow};
use crate::error::{ErrorCode, OAuthError};
use crate::model::authentication::MULTI_FACTOR_ACR;
use crate::model::log::kinds;
use crate::model::mfa::OTP;
use crate::model::{GrantType, Trigger};
use crate::oauth::authorize::{AuthorizeRequest, WayBack};
use crate::oauth::mfa::redeem::{redeem, Proof};
use crate::oauth::mfa::token::MfaToken;
use crate::oauth::mfa::{self, api};
use crate::oauth::params::Params;
use crate::oauth::signin::LoginTransaction;
use crate::port::crypto::Crypto;
use crate::port::{ClaimsStore, KeyStore, Stores};

/// The token's names for an enrollment in progress: the app's key (base32), its `otpauth://`
/// URI, and the recovery codes, space-separated.
const SECRET: &str = "enroll_secret";
const URI: &str = "enroll_uri";
const CODES: &str = "enroll_codes";

/// The page that asks for the second factor.
#[derive(Debug)]
pub struct FactorPage {
    pub client_name: String,
    /// The sealed login transaction the form posts back.
    pub state: String,
    /// The transaction's CSRF token: the page's cookie.
    pub csrf: String,
    /// The hosted page's MFA token.
    pub mfa_token: String,
    /// A new authenticator app to set up first.
    pub enrollment: Option<Enrollment>,
    pub error: Option<SignInError>,
    /// The client's redirect URI (the page's form may lead there).
    pub redirect_uri: String,
}

/// A new authenticator app, shown once.
#[derive(Debug)]
pub struct Enrollment {
    /// The key, in base32, to type into an app.
    pub secret: String,
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The ten recovery codes (none when that factor is off).
    pub recovery_codes: Vec<String>,
}

/// After the right password on the hosted page: the second factor's page when the policy
/// asks for one, else the sign-in completed.
pub async fn after_password<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    signed_in: Authentication,
) -> Screen {
    let back = || WayBack::of(&request.client);
    let hosted = vec![(mfa::HOSTED.0.to_string(), mfa::HOSTED.1.to_string())];
    let client_id = &request.client.client_id;
    let (ports, facts) = (flow.ports, &flow.facts);
    // `acr_values` may ask for a second factor where the policy does not (a step-up), and so
    // may a post-login rule (`multifactor`).
    let rules = match flow
        .pipeline
        .store
        .pipeline(Trigger::PostLogin.as_str())
        .await
    {
        Ok((rules, _)) => rules,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    let grant = match request.response_type.front_channel() {
        true => GrantType::Implicit,
        false => GrantType::AuthorizationCode,
    };
    let (audience, scope) = (request.api_audience(), request.scope.to_wire());
    let organization = request.organization.as_deref();
    let ruled = mfa::rule_asks(
        &rules,
        client_id,
        audience,
        grant.as_str(),
        &scope,
        organization,
    );
    let step_up = ruled || request.acr_values.iter().any(|v| v == MULTI_FACTOR_ACR);
    let gate = mfa::gate(
        ports,
        flow.random,
        facts,
        client_id,
        &signed_in,
        hosted,
        step_up,
    );
    let mut token = match gate.await {
        Ok(None) => return complete(flow, request, Arrival::Fresh(signed_in)).await,
        Ok(Some(token)) => token,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    match enroll(flow, &mut token).await {
        Ok(()) => page(flow, tx, request, &token, None),
        Err(e) => Screen::Error(e.into(), back()),
    }
}

/// A first authenticator app for a user who has none confirmed: made (unconfirmed until its
/// first code) and carried in `token`. A user with one is refused by [`api::associate`]
/// ("already enrolled"), and is asked for its code.
async fn enroll<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    token: &mut MfaToken,
) -> Result<(), OAuthError> {
    let kek = flow.kek.ok_or_else(|| OAuthError::server("no KEK"))?;
    let guardian = flow.ports.guardian().await?;
    let (store, config) = (flow.ports.mfa(), flow.facts.config);
    let types = [OTP.to_string()];
    let made = api::associate(
        store,
        guardian,
        kek,
        flow.random,
        config,
        token,
        &types,
        flow.facts.now,
    );
    let made = match made.await {
        Ok(made) => made,
        Err(e) if e.code == ErrorCode::AccessDenied => return Ok(()),
        Err(e) => return Err(e),
    };
    let text = |name: &str| made[name].as_str().unwrap_or_default().to_string();
    let codes: Vec<&str> = made["recovery_codes"]
        .as_array()
        .map(|codes| codes.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default();
    token.asked.push((SECRET.into(), text("secret")));
    token.asked.push((URI.into(), text("barcode_uri")));
    token.asked.push((CODES.into(), codes.join(" ")));
    Ok(())
}

/// `POST /u/mfa`: the second factor's page posted, with a `code` of the app or a
/// `recovery_code`.
pub async fn posted<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    form: &Params,
    cookie: Option<&str>,
) -> Screen {
    let (tx, request) = match resume(flow, form, cookie).await {
        Ok(resumed) => resumed,
        Err(screen) => return screen,
    };
    let back = || WayBack::of(&request.client);
    let Some(kek) = flow.kek else {
        return Screen::Error(no_kek(), back());
    };
    let (facts, client_id) = (&flow.facts, request.client.client_id.as_str());
    let value = form.get("mfa_token").unwrap_or("");
    let opened = MfaToken::open(kek, value, Some(client_id), facts.now).filter(MfaToken::hosted);
    let Some(token) = opened else {
        return Screen::Error(SignInError::Form(super::FormProblem::Expired), back());
    };
    let proof = match (form.get("code"), form.get("recovery_code")) {
        (Some(code), _) => Proof::Otp(code.trim()),
        (None, Some(code)) => Proof::RecoveryCode(code.trim()),
        (None, None) => return page(flow, &tx, &request, &token, Some(SignInError::WrongFactor)),
    };
    let (organization, audience) = (request.organization.as_deref(), request.api_audience());
    let proven = redeem(
        flow.ports,
        flow.random,
        facts,
        kek,
        &token,
        proof,
        organization,
        audience,
    );
    let email = token.asked("email");
    let who = (Some(token.user_id.as_str()), email);
    let connection = Some(token.connection.as_str());
    let log = |kind, description| log_sign_in(flow, &request, kind, description, who, connection);
    let recovery = matches!(proof, Proof::RecoveryCode(_));
    match proven.await {
        Ok(proven) => {
            let (kind, description) = match (recovery, proven.enrolled) {
                (true, _) => (kinds::RECOVERY_SUCCEEDED, "Recovery code accepted"),
                (false, true) => (kinds::MFA_ENROLLED, "Authenticator app enrolled"),
                (false, false) => (kinds::MFA_SUCCEEDED, "Second factor accepted"),
            };
            log(kind, description);
            complete(flow, &request, Arrival::Fresh(proven.signed_in)).await
        }
        Err(e @ (SignInError::WrongFactor | SignInError::Locked)) => {
            let (kind, description) = match recovery {
                true => (kinds::RECOVERY_FAILED, "Wrong recovery code"),
                false => (kinds::MFA_FAILED, "Wrong second factor code"),
            };
            log(kind, description);
            match e {
                SignInError::Locked => Screen::Error(e, back()),
                _ => page(flow, &tx, &request, &token, Some(e)),
            }
        }
        Err(e) => Screen::Error(e, back()),
    }
}

/// The second factor's page for `token`, with a fresh CSRF token.
fn page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    token: &MfaToken,
    error: Option<SignInError>,
) -> Screen {
    let back = || WayBack::of(&request.client);
    let Some(kek) = flow.kek else {
        return Screen::Error(no_kek(), back());
    };
    let sealed = tx.renewed(flow.random, flow.facts.now).and_then(|tx| {
        let state = tx.seal(kek, flow.random)?;
        Ok((tx, state, token.seal(kek, flow.random)?))
    });
    let (tx, state, mfa_token) = match sealed {
        Ok(sealed) => sealed,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    let enrollment = token.asked(SECRET).map(|secret| Enrollment {
        secret: secret.to_string(),
        uri: token.asked(URI).unwrap_or_default().to_string(),
        recovery_codes: token
            .asked(CODES)
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    });
    Screen::Factor(Box::new(FactorPage {
        client_name: request.client.name.clone(),
        state,
        csrf: tx.csrf,
        mfa_token,
        enrollment,
        error,
        redirect_uri: request.reply_to.redirect_uri.clone(),
    }))
}
