//! The hosted login and sign-up pages posted, `POST /u/login` and `POST /u/signup`, the
//! second factor's page (`POST /u/mfa`), and an
//! upstream provider's answer, `/login/callback/{connection}`, and the passwordless code
//! page and link (`/u/passwordless/*`, `/passwordless/verify_redirect`): each goes down to the sign-in
//! core once with its cookie, and the screen comes back to be shown ([`super::screen`]).

use super::screen::{show, CSRF_COOKIE, UPSTREAM_COOKIE};
use crate::model::config::paths;
use crate::oauth::issuer::Issuer;
use crate::oauth::signin::passwordless::{self, Step};
use crate::oauth::signin::{self, Screen};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /u/login`: the login page posted.
pub async fn login<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.body_params() {
        Ok(form) => {
            signin::login(&issuer.sign_in(), &form, req.cookie(CSRF_COOKIE))
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// `POST /u/signup`: the sign-up page posted.
pub async fn signup<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let account = issuer.account();
    let screen = match req.body_params() {
        Ok(form) => {
            let cookie = req.cookie(CSRF_COOKIE);
            let (screen, made) = signin::signup(&account.flow, &form, cookie).settle().await;
            if let Some(s) = made {
                account
                    .after_signup(&s.user, &s.client, &s.connection)
                    .settle()
                    .await;
            }
            screen
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// `POST /u/mfa`: the second factor's page posted.
pub async fn factor<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.body_params() {
        Ok(form) => {
            let cookie = req.cookie(CSRF_COOKIE);
            signin::second_factor::posted(&issuer.sign_in(), &form, cookie)
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// `GET` or `POST /login/callback/{connection}`: an upstream provider's answer (a query, or a
/// `form_post`). The binding cookie is cleared whatever the outcome: the answer is used once.
pub async fn callback<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let name = req.path.strip_prefix(paths::LOGIN_CALLBACK).unwrap_or("");
    let answer = req.params();
    let screen = match answer {
        Ok(answer) => {
            let cookie = req.cookie(UPSTREAM_COOKIE);
            signin::upstream::callback(&issuer.sign_in(), name, &answer, cookie)
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen).with_header(
        "set-cookie",
        &format!("{UPSTREAM_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=None; Max-Age=0"),
    )
}

/// `POST /u/passwordless/start` and `/u/passwordless/verify`: the code pages posted.
pub async fn code<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
    step: Step,
) -> HttpResponse {
    let screen = match req.body_params() {
        Ok(form) => {
            let cookie = req.cookie(CSRF_COOKIE);
            let (flow, mailer) = (issuer.sign_in(), issuer.mailer());
            passwordless::code_page_posted(&flow, &mailer, step, &form, cookie)
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// `GET /passwordless/verify_redirect`: a passwordless link opened.
pub async fn code_link<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.params() {
        Ok(query) => passwordless::link(&issuer.sign_in(), &query).settle().await,
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}
