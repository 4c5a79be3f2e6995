//! The hosted login and sign-up pages: `POST /u/login` and `POST /u/signup` handed to the
//! core with the page's cookie, the pages themselves, and the words for every
//! [`SignInError`], here and nowhere else.

use super::authorize::{cookie, html_response, show, CSRF_COOKIE};
use super::pages::{self, LoginForm};
use crate::model::config::paths;
use crate::oauth::authorize::origin;
use crate::oauth::issuer::Issuer;
use crate::oauth::signin::transaction::LIFETIME;
use crate::oauth::signin::{self, FormProblem, LoginPage, Screen, SignInError};
use crate::port::crypto::Crypto;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /u/login`: the login page posted.
pub async fn login<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.body_params() {
        Ok(form) => signin::login(&issuer.sign_in(), &form, req.cookie(CSRF_COOKIE)).await,
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// `POST /u/signup`: the sign-up page posted.
pub async fn signup<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.body_params() {
        Ok(form) => signin::signup(&issuer.sign_in(), &form, req.cookie(CSRF_COOKIE)).await,
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
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
    let said = page.error.as_ref().map(say);
    let state = [("state".to_string(), page.state.clone())];
    let form = LoginForm {
        password_rule: page.signup.then_some(page.password_rule.as_str()),
        client_name: &page.client_name,
        action: if page.signup {
            paths::SIGNUP
        } else {
            paths::LOGIN
        },
        request: &state,
        email: page.email.as_deref(),
        error: said.as_ref().map(|(_, message)| message.as_str()),
        other: page.signup_offered.then_some(other.as_str()),
    };
    let html = if page.signup {
        pages::signup(&form)
    } else {
        pages::login(&form)
    };
    // A page shown again after a refusal is the answer to a bad request.
    let status = if said.is_some() { 400 } else { 200 };
    let origin = origin(&page.redirect_uri);
    html_response(status, html, &pages::csp(&[origin], false, None))
        .with_header("set-cookie", &cookie(CSRF_COOKIE, &page.csrf, LIFETIME))
}
