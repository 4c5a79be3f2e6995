//! How every step of a sign-in is shown: the core's [`Screen`] as a redirect, a form post, a
//! web message, a login or sign-up page, or the issuer's error page; the cookies it sets; and
//! the words for every [`SignInError`], here and nowhere else.
//!
//! Cookies, all `__Host-` (host-only, `Path=/`, `Secure`) and `HttpOnly`: `__Host-session`
//! names the sign-in session with a MAC; `__Host-csrf` is the CSRF token of the page's login
//! transaction, which the posted form's `state` must hold (and of the logout confirmation,
//! which its form repeats), both `SameSite=Lax`; `__Host-upstream` binds a sign-in at an
//! upstream provider to the browser, `SameSite=None` because a provider may answer with a
//! cross-site POST (`form_post`), and is cleared by the answer; `__Host-mfa` is a remembered
//! browser ([`crate::oauth::mfa::remember`]), `SameSite=Lax`, lasting as the tenant's
//! settings say.

use super::pages::{self, LoginForm};
use crate::model::config::paths;
use crate::oauth::authorize::{origin, ReplyTo, ResponseMode, WayBack};
use crate::oauth::issuer::Issuer;
use crate::oauth::session;
use crate::oauth::signin::second_factor::FactorPage;
use crate::oauth::signin::transaction::LIFETIME;
use crate::oauth::signin::{FormProblem, LoginPage, Screen, SignInError};
use crate::port::crypto::Crypto;
use crate::port::Stores;
use crate::web::HttpResponse;

pub(super) const SESSION_COOKIE: &str = "__Host-session";
pub(super) const CSRF_COOKIE: &str = "__Host-csrf";
pub(super) const UPSTREAM_COOKIE: &str = "__Host-upstream";
/// The remembered browser's cookie, which the edge hands to the issuer with the request.
pub const REMEMBER_COOKIE: &str = "__Host-mfa";

pub(super) fn cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// A step of a sign-in, as the browser gets it.
pub(super) fn show<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    screen: Screen,
) -> HttpResponse {
    match screen {
        Screen::Reply(r) => {
            let mut resp = reply(&r.fields, &r.reply_to);
            if let Some(value) = r.session {
                let set = cookie(SESSION_COOKIE, &value, session::ABSOLUTE_LIFETIME);
                resp = resp.with_header("set-cookie", &set);
            }
            if let Some((value, max_age)) = r.remember {
                resp = resp.with_header("set-cookie", &cookie(REMEMBER_COOKIE, &value, max_age));
            }
            resp
        }
        Screen::Form(page) => login_page(&page),
        Screen::Factor(page) => factor_page(&page),
        Screen::Error(e, back) => error_page(issuer, &e, back.as_ref()),
        Screen::Upstream { location, binding } => HttpResponse::empty(302)
            .with_header("location", &location)
            .with_header(
                "set-cookie",
                &format!(
                    "{UPSTREAM_COOKIE}={binding}; Path=/; Secure; HttpOnly; SameSite=None; \
                     Max-Age={}",
                    crate::oauth::signin::upstream::LIFETIME
                ),
            )
            .no_store(),
    }
}

/// Sends `fields` back to the client by its response mode.
fn reply(fields: &[(String, String)], reply_to: &ReplyTo) -> HttpResponse {
    match reply_to.mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            let mut url = reply_to.redirect_uri.clone();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            let separator = match reply_to.mode {
                ResponseMode::Fragment => '#',
                _ if url.contains('?') => '&',
                _ => '?',
            };
            url.push(separator);
            url.push_str(&encoded);
            HttpResponse::empty(302)
                .with_header("location", &url)
                .no_store()
        }
        ResponseMode::FormPost => {
            let action = reply_to.redirect_uri.as_str();
            let html = pages::form_post(action, fields);
            html_response(200, html, &pages::csp(&[origin(action)], true, None))
        }
        ResponseMode::WebMessage => {
            // Loaded in the client's hidden iframe: it may be framed by that origin only.
            let target = origin(&reply_to.redirect_uri);
            let html = pages::web_message(target, fields);
            framable_html(200, html, &pages::csp(&[], true, Some(target)))
        }
    }
}

/// The issuer's error page, saying what happened and what the person can do, with a link
/// back to the client's `initiate_login_uri` when it is known.
pub(super) fn error_page<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    e: &SignInError,
    back: Option<&WayBack>,
) -> HttpResponse {
    if let SignInError::Failed(e) | SignInError::Request(e) = e {
        issuer.log_error(e);
    }
    let (status, message) = say(e);
    let advice = match e {
        SignInError::Failed(_) => {
            "Try again in a moment. If it keeps failing, tell the application's support."
        }
        _ => "Go back to the application and start signing in again.",
    };
    let back = back.map(|b| (b.client_name.as_str(), b.url.as_str()));
    html_response(
        status,
        pages::error(&message, advice, back),
        &pages::csp(&[], false, None),
    )
}

/// One of the issuer's pages, which no one may frame.
pub(super) fn html_response(status: u16, html: String, csp: &str) -> HttpResponse {
    framable_html(status, html, csp).with_header("x-frame-options", "DENY")
}

/// A page whose framing `csp`'s `frame-ancestors` alone decides.
fn framable_html(status: u16, html: String, csp: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: html.into_bytes(),
    }
    .with_header("content-security-policy", csp)
    .no_store()
}

/// The status and the sentence that tell a person what stopped their sign-in.
pub(super) fn say(e: &SignInError) -> (u16, String) {
    let text = |s: &str| s.to_string();
    match e {
        SignInError::MissingCredentials => (400, text("Enter your email and password.")),
        SignInError::WrongCredentials => (400, text("Wrong email or password.")),
        SignInError::Locked => (
            400,
            text("Too many failed login attempts: this user is blocked from this IP address for now."),
        ),
        SignInError::Blocked => (400, text("This account is blocked.")),
        // The hosted pages ask for a second factor on a page of their own; this comes from
        // the MFA API.
        SignInError::MfaRequired(_) => (403, text("A second factor is required.")),
        SignInError::WrongFactor => (400, text("The code is wrong or was used already.")),
        SignInError::WrongKey => (
            400,
            text("That security key or passkey was not accepted. Try again, or sign in another way."),
        ),
        SignInError::WrongCode => (
            400,
            text("The code is wrong, used or expired. Check it, or ask for a new one."),
        ),
        SignInError::TooManyCodes => (
            429,
            text("Too many codes were asked for this address. Try again in an hour."),
        ),
        SignInError::SignupDisabled => (403, text("Sign-up is not offered here.")),
        SignInError::SignupRefused(why) => (400, why.clone()),
        SignInError::EmailTaken => (
            409,
            text("An account with this email, or one that looks the same, already exists: sign in instead."),
        ),
        SignInError::Form(FormProblem::NoCookie) => (
            403,
            text(
                "Your browser did not send back this page's cookie, so the form cannot be \
                 trusted. Allow cookies for this site (over https), then sign in again.",
            ),
        ),
        SignInError::Form(FormProblem::OtherTab) => (
            403,
            text("This sign-in form has expired or was opened in another tab."),
        ),
        SignInError::Form(FormProblem::Expired) => (
            403,
            text("This sign-in form has expired or was opened in another tab."),
        ),
        SignInError::Request(e) => (
            e.http_status(),
            e.description
                .clone()
                .unwrap_or_else(|| e.code.as_str().to_string()),
        ),
        SignInError::Failed(e) => (e.http_status(), text("The sign-in service failed.")),
    }
}

/// A login or sign-up page, with its CSRF cookie.
pub(super) fn login_page(page: &LoginPage) -> HttpResponse {
    // The link to the other page: the same authorization request, with or without the hint.
    let mut other: Vec<(String, String)> = page
        .params
        .iter()
        .filter(|(k, _)| k != "screen_hint")
        .cloned()
        .collect();
    if !page.signup {
        other.push(("screen_hint".into(), "signup".into()));
    }
    let other = format!(
        "{}?{}",
        paths::AUTHORIZE,
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&other)
            .finish()
    );
    // A button per upstream provider: the same authorization request through its connection.
    let providers: Vec<(String, String)> = page
        .providers
        .iter()
        .map(|(name, label)| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(
                page.params
                    .iter()
                    .filter(|(k, _)| k != "screen_hint" && k != "connection"),
            );
            query.append_pair("connection", name);
            (
                format!("{}?{}", paths::AUTHORIZE, query.finish()),
                label.clone(),
            )
        })
        .collect();
    let said = page.error.as_ref().map(say);
    let state = [("state".to_string(), page.state.clone())];
    let forgot = format!(
        "{}?{}",
        paths::RESET_REQUEST,
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(page.params.iter().filter(|(k, _)| k != "screen_hint"))
            .finish()
    );
    let form = LoginForm {
        password_rule: page.signup.then_some(page.password_rule.as_str()),
        client_name: &page.client_name,
        connection: page.connection.as_deref(),
        action: if page.signup {
            paths::SIGNUP
        } else {
            paths::LOGIN
        },
        request: &state,
        email: page.email.as_deref(),
        error: said.as_ref().map(|(_, message)| message.as_str()),
        other: page.signup_offered.then_some(other.as_str()),
        password: page.password,
        providers: &providers,
        forgot: (page.reset_offered && !page.signup).then_some(forgot.as_str()),
        code_offered: page.code_offered && !page.signup,
        code_sent: page.code_sent,
        passkey: page.passkey.as_deref().filter(|_| !page.signup),
    };
    let html = if page.signup {
        pages::signup(&form)
    } else {
        pages::login(&form)
    };
    // A page shown again after a refusal is the answer to a bad request.
    let status = if said.is_some() { 400 } else { 200 };
    let origin = origin(&page.redirect_uri);
    let script = form.passkey.is_some();
    html_response(status, html, &pages::csp(&[origin], script, None))
        .with_header("set-cookie", &cookie(CSRF_COOKIE, &page.csrf, LIFETIME))
}

/// The page asking for a second factor (first setting up an app), with its CSRF cookie.
fn factor_page(page: &FactorPage) -> HttpResponse {
    let said = page.error.as_ref().map(say);
    let fields = [
        ("state".to_string(), page.state.clone()),
        ("mfa_token".to_string(), page.mfa_token.clone()),
    ];
    let enrollment = page.enrollment.as_ref().map(|e| {
        (
            e.secret.as_str(),
            e.uri.as_str(),
            e.recovery_codes.as_slice(),
        )
    });
    let error = said.as_ref().map(|(_, message)| message.as_str());
    let passkey = page.passkey.as_deref();
    let (name, enrolling) = (&page.client_name, page.enrolling);
    let html = pages::second_factor(
        name,
        &fields,
        (enrolling, page.app),
        enrollment,
        passkey,
        page.remember,
        error,
    );
    let status = if said.is_some() { 400 } else { 200 };
    let origin = origin(&page.redirect_uri);
    html_response(
        status,
        html,
        &pages::csp(&[origin], passkey.is_some(), None),
    )
    .with_header("set-cookie", &cookie(CSRF_COOKIE, &page.csrf, LIFETIME))
}
