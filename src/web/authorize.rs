//! `/authorize` over HTTP: the request's parameters and the session cookie go down to
//! [`crate::oauth::signin::authorize`] once, and its screen comes back to be shown
//! ([`super::screen`]). What is checked, decided and stored is the core's.

use super::screen::{show, SESSION_COOKIE};
use crate::oauth::issuer::Issuer;
use crate::oauth::mfa::passkey::localhost_for;
use crate::oauth::signin::{self, Screen};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `GET` or `POST /authorize`.
pub async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    if let Some(moved) = to_localhost(issuer, req).settle().await {
        return moved;
    }
    let screen = match req.params() {
        Ok(params) => {
            signin::authorize(&issuer.sign_in(), &params, req.cookie(SESSION_COOKIE))
                .settle()
                .await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// At an issuer on a loopback IP address (`make dev` at `http://127.0.0.1:8787`) with a
/// WebAuthn factor on, a browser's `GET` of the hosted pages' entry points (`/authorize`,
/// logout) moves to `localhost` on the same port: browsers refuse passkeys at an IP address,
/// and the login transaction and session cookies then live at one host. Tokens, discovery
/// and everything else stay at the issuer; codes are redeemed there as always.
pub(super) async fn to_localhost<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Option<HttpResponse> {
    let local = localhost_for(issuer.config)?;
    if req.method != "GET" || req.header("host") == Some(local.as_str()) {
        return None;
    }
    if !issuer.stores.guardian().settle().await.ok()?.webauthn() {
        return None;
    }
    let mut location = format!("http://{local}{}", req.path);
    if !req.query.is_empty() {
        location.push('?');
        location.push_str(&req.query);
    }
    Some(
        HttpResponse::empty(302)
            .with_header("location", &location)
            .no_store(),
    )
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
