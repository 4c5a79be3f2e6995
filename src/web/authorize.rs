//! `/authorize` over HTTP: the request's parameters and the session cookie go down to
//! [`crate::oauth::signin::authorize`] once, and its screen comes back to be shown
//! ([`super::screen`]). What is checked, decided and stored is the core's.

use super::screen::{show, SESSION_COOKIE};
use crate::oauth::issuer::Issuer;
use crate::oauth::signin::{self, Screen};
use crate::port::crypto::Crypto;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `GET` or `POST /authorize`.
pub async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let screen = match req.params() {
        Ok(params) => {
            signin::authorize(&issuer.sign_in(), &params, req.cookie(SESSION_COOKIE)).await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

#[cfg(test)]
mod tests {
    use crate::oauth::authorize::origin;

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://a.example:8443/cb?x=1"),
            "https://a.example:8443"
        );
        assert_eq!(origin("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(origin("com.example.app://cb#f"), "com.example.app://cb");
    }
}
