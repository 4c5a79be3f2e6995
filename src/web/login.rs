//! The hosted login and sign-up pages posted: `POST /u/login` and `POST /u/signup` go down to
//! the sign-in core once with the page's CSRF cookie, and its screen comes back to be shown
//! ([`super::screen`]).

use super::screen::{show, CSRF_COOKIE};
use crate::oauth::issuer::Issuer;
use crate::oauth::signin::{self, Screen};
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
