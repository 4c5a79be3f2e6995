//! The second factor on the hosted login page: after the first (a right password, an emailed
//! code or link, an upstream provider's sign-in, a sign-up), when the tenant's policy, a rule
//! or the request asks for one ([`mfa::gate`]), a page asks for a code of the user's authenticator
//! app (or a recovery code) instead of completing the sign-in; a user without an app enrolls
//! one on that page first (a QR code, the key as text, and ten recovery codes shown once).
//!
//! The page carries the login transaction (`state`, bound to the browser by its CSRF cookie)
//! and an MFA token made for the hosted page alone (the token endpoint and `/mfa/*` refuse
//! it), which the right code spends ([`redeem`]). While enrolling, the token also carries the
//! new app's key and the recovery codes, sealed, so a page shown again after a wrong code
//! shows the same ones.
//!
//! A browser whose user ticked "Remember this browser" after a factor the policy asked for
//! skips that factor for a while ([`mfa::remember`]); a factor asked for by `acr_values`, a
//! rule or a hook is always asked, and its page offers no box.
//!
//! Who may: the browser that proved the first factor, for that user, for the token's 10
//! minutes; a first factor alone enrolls an app only while the user has no confirmed one.
//! Wrong codes count toward the first factor's lockout (by address in the connection; by user
//! where the first factor had no address of its own).

use super::complete::{complete, log_sign_in, Arrival};
use super::{no_kek, resume, Authentication, Screen, SignInError, SignInFlow};
use crate::error::{ErrorCode, OAuthError};
use crate::model::authentication::MULTI_FACTOR_ACR;
use crate::model::log::kinds;
use crate::model::mfa::{
    Authenticator, Guardian, RememberBrowser, OTP, RECOVERY_CODE, TOTP, WEBAUTHN_PLATFORM,
    WEBAUTHN_ROAMING,
};
use crate::model::webauthn::challenge_for;
use crate::model::{GrantType, Trigger, User};
use crate::oauth::authorize::{AuthorizeRequest, WayBack};
use crate::oauth::mfa::passkey::{self, RelyingParty};
use crate::oauth::mfa::recovery;
use crate::oauth::mfa::redeem::{redeem, Proof};
use crate::oauth::mfa::remember::Remembered;
use crate::oauth::mfa::token::MfaToken;
use crate::oauth::mfa::{self, api};
use crate::oauth::params::Params;
use crate::oauth::signin::transaction::LIFETIME;
use crate::oauth::signin::LoginTransaction;
use crate::port::crypto::Crypto;
use crate::port::mfa::MfaStore;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, KeyStore, Stores};

/// The token's names for an enrollment in progress: the app's key (base32), its `otpauth://`
/// URI, and the recovery codes, space-separated.
const SECRET: &str = "enroll_secret";
const URI: &str = "enroll_uri";
const CODES: &str = "enroll_codes";
/// The token's mark of a first factor still to set up.
const ENROLL: &str = "enroll";
/// The token's mark of a factor the policy asked for: the page may offer to remember the
/// browser.
const REMEMBER: &str = "remember";

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
    /// The first factor is still to set up (an app, or a security key or passkey).
    pub enrolling: bool,
    /// The options of the page's WebAuthn button (JSON for its script), when a security key
    /// or passkey can be set up or used here.
    pub passkey: Option<String>,
    /// The user has an authenticator app: the page offers its code.
    pub app: bool,
    /// The page offers "Remember this browser": ticked at first or not, and for how long
    /// (seconds).
    pub remember: Option<(bool, u64)>,
    pub error: Option<SignInError>,
    /// The client's redirect URI (the page's form may lead there).
    pub redirect_uri: String,
}

/// A new authenticator app, or a security key's or passkey's recovery codes, shown once.
#[derive(Debug)]
pub struct Enrollment {
    /// The key, in base32, to type into an app (empty: no app is set up).
    pub secret: String,
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The ten recovery codes (none when that factor is off).
    pub recovery_codes: Vec<String>,
}

/// After the first factor on the hosted pages (the right password, or a passwordless code or
/// link): the second factor's page when the policy, a rule or `acr_values` asks for one, else
/// the sign-in completed.
pub async fn after_first_factor<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    signed_in: Authentication,
) -> Screen {
    let back = || WayBack::of(&request.client);
    let client_id = &request.client.client_id;
    // `acr_values` may ask for a second factor where the policy does not (a step-up), and so
    // may a post-login rule (`multifactor`).
    let rules = match flow
        .pipeline
        .store
        .pipeline(Trigger::PostLogin.as_str())
        .settle()
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
        &signed_in.subject.access.roles,
    );
    let step_up = ruled || request.acr_values.iter().any(|v| v == MULTI_FACTOR_ACR);
    ask(flow, tx, request, signed_in, step_up).settle().await
}

/// The second factor's page for `signed_in` when the policy asks for one, or `step_up` (a
/// rule, `acr_values`, a hook) does and a factor is offered; else the sign-in completed.
pub async fn ask<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    signed_in: Authentication,
    step_up: bool,
) -> Screen {
    let back = || WayBack::of(&request.client);
    let mut hosted = vec![(mfa::HOSTED.0.to_string(), mfa::HOSTED.1.to_string())];
    // A browser the user asked to remember skips the factor the policy asks for (never a
    // step-up's); one not remembered may be after the factor.
    let remembered = match step_up {
        true => None,
        false => match remembered(flow, &signed_in.user).settle().await {
            Ok(remembered) => remembered,
            Err(e) => return Screen::Error(e.into(), back()),
        },
    };
    if !step_up && remembered.is_none() {
        hosted.push((REMEMBER.into(), "1".into()));
    }
    let asked = match remembered {
        Some(_) => Ok(None),
        None => {
            let client_id = &request.client.client_id;
            let (ports, facts) = (flow.ports, &flow.facts);
            let gate = mfa::gate(
                ports,
                flow.random,
                facts,
                client_id,
                &signed_in,
                hosted,
                step_up,
            );
            gate.settle().await
        }
    };
    let mut token = match asked {
        Ok(None) => {
            let user_id = signed_in.user.user_id.clone();
            let done = complete(flow, request, Arrival::Fresh(signed_in), tx);
            let screen = done.settle().await;
            return match remembered {
                Some((again, settings)) => remember(flow, screen, (again, &user_id), &settings),
                None => screen,
            };
        }
        Ok(Some(token)) => token,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    // The user's authenticators, read once for the enrollment and the page.
    let read = flow
        .ports
        .mfa()
        .authenticators(&token.user_id)
        .settle()
        .await;
    let enrolled = match read {
        Ok((mine, _)) => enroll(flow, &mut token, &mine)
            .settle()
            .await
            .map(|()| mine),
        Err(e) => Err(e.into()),
    };
    match enrolled {
        Ok(mine) => {
            shown(flow, tx, request, &token, None, Some(mine))
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), back()),
    }
}

/// The browser's remembered-browser cookie, when it lets `user` skip the policy's factor now:
/// to set again as used now, with the settings it was honoured under.
async fn remembered<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    user: &User,
) -> Result<Option<(Remembered, RememberBrowser)>, OAuthError> {
    let (Some(value), Some(kek)) = (flow.remembered, flow.kek) else {
        return Ok(None);
    };
    let Some(cookie) = Remembered::open(kek, value, &user.user_id) else {
        return Ok(None);
    };
    let settings = flow.ports.guardian().settle().await?.remember;
    let now = flow.facts.now;
    Ok(cookie
        .honoured(&settings, user, now)
        .then(|| (cookie.used(now), settings)))
}

/// `screen`, setting the remembered-browser cookie `cookie` of `user_id` when it completed
/// the sign-in.
fn remember<P, C, S, K>(
    flow: &SignInFlow<'_, P, C, S, K>,
    screen: Screen,
    (cookie, user_id): (Remembered, &str),
    settings: &RememberBrowser,
) -> Screen {
    match (screen, flow.kek) {
        (Screen::Reply(mut reply), Some(kek)) if reply.session.is_some() => {
            let max_age = cookie.expires_at(settings).saturating_sub(flow.facts.now);
            reply.remember = Some((cookie.cookie_value(kek, user_id), max_age));
            Screen::Reply(reply)
        }
        (screen, _) => screen,
    }
}

/// A first authenticator app for a user who has none confirmed: made (unconfirmed until its
/// first code) and carried in `token`. A user with one is refused by [`api::associate`]
/// ("already enrolled"), and is asked for its code.
async fn enroll<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    token: &mut MfaToken,
    authenticators: &[Authenticator],
) -> Result<(), OAuthError> {
    let kek = flow.kek.ok_or_else(|| OAuthError::server("no KEK"))?;
    let guardian = flow.ports.guardian().settle().await?;
    let (store, config) = (flow.ports.mfa(), flow.facts.config);
    if authenticators.iter().any(|a| a.confirmed) {
        return Ok(());
    }
    token.asked.push((ENROLL.into(), "1".into()));
    if !guardian.is_enabled(OTP) {
        // A security key or passkey alone: its recovery codes, shown with the page and
        // stored with the key.
        if guardian.is_enabled(RECOVERY_CODE) {
            let codes = recovery::new_codes(flow.random)?;
            token.asked.push((CODES.into(), codes.join(" ")));
        }
        return Ok(());
    }
    let types = [OTP.to_string()];
    let made = api::associate(
        store,
        authenticators,
        guardian,
        kek,
        flow.random,
        config,
        token,
        &types,
        flow.facts.now,
    );
    let made = match made.settle().await {
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
    let (tx, request) = match resume(flow, form, cookie).settle().await {
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
    let checked;
    let proof = match (
        form.get("code"),
        form.get("recovery_code"),
        form.get("webauthn"),
    ) {
        (Some(code), _, _) => Proof::Otp(code.trim()),
        (None, Some(code), _) => Proof::RecoveryCode(code.trim()),
        (None, None, Some(json)) => match key(flow, &tx, &token, json).settle().await {
            Ok(made) => {
                checked = made;
                Proof::Key(&checked, tx.expires_at.saturating_sub(LIFETIME))
            }
            Err(SignInError::WrongKey) => {
                let description = "Wrong security key or passkey";
                let who = (Some(token.user_id.as_str()), token.asked("email"));
                let connection = Some(token.connection.as_str());
                log_sign_in(
                    flow,
                    &request,
                    kinds::MFA_FAILED,
                    description,
                    who,
                    connection,
                );
                let e = Some(SignInError::WrongKey);
                return page(flow, &tx, &request, &token, e).settle().await;
            }
            Err(e) => return Screen::Error(e, back()),
        },
        (None, None, None) => {
            let e = Some(SignInError::WrongFactor);
            return page(flow, &tx, &request, &token, e).settle().await;
        }
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
    let key_used = matches!(proof, Proof::Key(..));
    match proven.settle().await {
        Ok(proven) => {
            let (kind, description) = match (recovery, proven.enrolled, key_used) {
                (true, _, _) => (kinds::RECOVERY_SUCCEEDED, "Recovery code accepted"),
                (false, true, true) => (kinds::MFA_ENROLLED, "Security key or passkey enrolled"),
                (false, true, false) => (kinds::MFA_ENROLLED, "Authenticator app enrolled"),
                (false, false, _) => (kinds::MFA_SUCCEEDED, "Second factor accepted"),
            };
            log(kind, description);
            let ticked = form.get(REMEMBER) == Some("1") && token.asked(REMEMBER).is_some();
            let user_id = proven.signed_in.user.user_id.clone();
            let done = complete(flow, &request, Arrival::Fresh(proven.signed_in), &tx);
            let screen = done.settle().await;
            if !ticked {
                return screen;
            }
            match flow.ports.guardian().settle().await {
                Ok(g) if g.remember.checkbox => {
                    let now = facts.now;
                    let cookie = Remembered {
                        issued_at: now,
                        last_used: now,
                    };
                    remember(flow, screen, (cookie, &user_id), &g.remember)
                }
                _ => screen,
            }
        }
        Err(SignInError::WrongFactor) if key_used => {
            let e = Some(SignInError::WrongKey);
            page(flow, &tx, &request, &token, e).settle().await
        }
        Err(e @ (SignInError::WrongFactor | SignInError::Locked)) => {
            let (kind, description) = match recovery {
                true => (kinds::RECOVERY_FAILED, "Wrong recovery code"),
                false => (kinds::MFA_FAILED, "Wrong second factor code"),
            };
            log(kind, description);
            match e {
                SignInError::Locked => Screen::Error(e, back()),
                _ => page(flow, &tx, &request, &token, Some(e)).settle().await,
            }
        }
        Err(e) => Screen::Error(e, back()),
    }
}

/// A security key or passkey posted on the page (`json`, the ceremony's answer): a new one
/// registered while the user is still to set up a first factor, else an assertion of one of
/// the user's; checked, and left to [`redeem`] to accept and spend with the token.
async fn key<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    token: &MfaToken,
    json: &str,
) -> Result<passkey::Checked, SignInError> {
    let guardian = flow.ports.guardian().settle().await?;
    let rp = RelyingParty::of(flow.facts.config, flow.facts.host)
        .filter(|_| guardian.webauthn())
        .ok_or(SignInError::WrongKey)?;
    let response = passkey::Response::parse(json).ok_or(SignInError::WrongKey)?;
    let challenge = challenge_for(&tx.csrf);
    let store = flow.ports.mfa();
    let now = flow.facts.now;
    if response.is_registration() {
        if token.asked(ENROLL).is_none() {
            return Err(SignInError::WrongKey);
        }
        let made = passkey::register(&rp, &challenge, &response, &token.user_id, flow.random, now)?;
        // A security key where only passkeys are on, or the reverse, is not taken.
        if !guardian.is_enabled(&made.authenticator.kind) {
            return Err(SignInError::WrongKey);
        }
        // The recovery codes the page showed, when they came with it (none with an app: its
        // enrollment stored them).
        let hashes: Option<Vec<String>> = match token.asked(SECRET) {
            None => token
                .asked(CODES)
                .map(|codes| codes.split_whitespace().map(recovery::code_hash).collect()),
            Some(_) => None,
        };
        store
            .enroll(&made.authenticator, hashes.as_deref(), now)
            .settle()
            .await?;
        return Ok(made);
    }
    let (mut authenticators, _) = store.authenticators(&token.user_id).settle().await?;
    // A credential whose factor the tenant turned off is not used.
    authenticators.retain(|a| guardian.is_enabled(&a.kind));
    passkey::assert(
        flow.crypto,
        &rp,
        &challenge,
        &response,
        &authenticators,
        false,
    )
    .settle()
    .await
}

/// The second factor's page for `token`, with a fresh CSRF token.
async fn page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    token: &MfaToken,
    error: Option<SignInError>,
) -> Screen {
    shown(flow, tx, request, token, error, None).settle().await
}

/// [`page`], with the user's authenticators when they were read already.
async fn shown<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    token: &MfaToken,
    error: Option<SignInError>,
    known: Option<Vec<Authenticator>>,
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
    let guardian = match flow.ports.guardian().settle().await {
        Ok(guardian) => guardian,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    let enrolling = token.asked(ENROLL).is_some();
    let options = passkey_options(flow, &tx, token, enrolling, &guardian, known);
    let (passkey, app) = match options.settle().await {
        Ok(options) => options,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    let settings = guardian.remember;
    let offered = settings.checkbox && token.asked(REMEMBER).is_some();
    let enrollment = token.asked(CODES).map(|_| Enrollment {
        secret: token.asked(SECRET).unwrap_or_default().to_string(),
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
        enrolling,
        passkey,
        app,
        remember: offered.then_some((settings.ticked, settings.overall)),
        error,
        redirect_uri: request.reply_to.redirect_uri.clone(),
    }))
}

/// The page's WebAuthn options: to set up a security key or passkey while enrolling, else to
/// use one of the user's; none when WebAuthn is off, the page is not at a host a browser
/// takes as RP ID, or the user has no credential to use. And whether the user has an
/// authenticator app (taken as so when WebAuthn is off: the app is then the only factor).
async fn passkey_options<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    token: &MfaToken,
    enrolling: bool,
    guardian: &Guardian,
    known: Option<Vec<Authenticator>>,
) -> Result<(Option<String>, bool), OAuthError> {
    let rp = RelyingParty::of(flow.facts.config, flow.facts.host);
    let Some(rp) = rp.filter(|_| guardian.webauthn()) else {
        return Ok((None, true));
    };
    let authenticators = match known {
        Some(known) => known,
        None => {
            let read = flow.ports.mfa().authenticators(&token.user_id);
            read.settle().await?.0
        }
    };
    let app = authenticators.iter().any(|a| a.confirmed && a.kind == TOTP);
    let keys: Vec<_> = authenticators
        .into_iter()
        .filter(|a| a.confirmed && a.credential.is_some() && guardian.is_enabled(&a.kind))
        .collect();
    let challenge = challenge_for(&tx.csrf);
    let email = token.asked("email").unwrap_or(&token.user_id);
    let options = match enrolling {
        true => {
            let mut options = passkey::options(
                &rp,
                &challenge,
                Some((&token.user_id, email)),
                &keys,
                "preferred",
            );
            // With one kind on, the browser is asked for that kind only.
            match (
                guardian.is_enabled(WEBAUTHN_PLATFORM),
                guardian.is_enabled(WEBAUTHN_ROAMING),
            ) {
                (true, false) => options["attachment"] = "platform".into(),
                (false, true) => options["attachment"] = "cross-platform".into(),
                _ => {}
            }
            options
        }
        false if keys.is_empty() => return Ok((None, app)),
        false => passkey::options(&rp, &challenge, None, &keys, "preferred"),
    };
    Ok((Some(options.to_string()), app))
}
