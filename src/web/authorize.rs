//! `/authorize` over HTTP, and how every step of a sign-in is shown: the core's
//! [`Screen`] as a redirect, a form post, a web message, a login page or the issuer's error
//! page. What is checked, decided and stored is [`crate::oauth::signin`]'s; this file and
//! [`super::login`] own the cookies and the pages.
//!
//! Cookies, all `__Host-` (host-only, `Path=/`, `Secure`), `HttpOnly` and `SameSite=Lax`:
//! `__Host-session` names the sign-in session with a MAC; `__Host-csrf` is the CSRF token of
//! the page's login transaction, which the posted form's `state` must hold.

use super::login::{login_page, say};
use super::pages;
use crate::oauth::authorize::{origin, ReplyTo, ResponseMode, WayBack};
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::oauth::signin::{self, Screen, SignInError};
use crate::port::crypto::Crypto;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

pub(super) const SESSION_COOKIE: &str = "__Host-session";
pub(super) const CSRF_COOKIE: &str = "__Host-csrf";

pub(super) fn cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// `GET` or `POST /authorize`.
pub async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let params = match req.method.as_str() {
        "POST" => req.body_params(),
        _ => Params::from_form(req.query.as_bytes()),
    };
    let screen = match params {
        Ok(params) => {
            signin::authorize(&issuer.sign_in(), &params, req.cookie(SESSION_COOKIE)).await
        }
        Err(e) => Screen::Error(e.into(), None),
    };
    show(issuer, screen)
}

/// A step of a sign-in, as the browser gets it.
pub(super) fn show<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    screen: Screen,
) -> HttpResponse {
    match screen {
        Screen::Reply(r) => {
            let resp = reply(&r.fields, &r.reply_to);
            match r.session {
                Some(value) => resp.with_header(
                    "set-cookie",
                    &cookie(SESSION_COOKIE, &value, session::ABSOLUTE_LIFETIME),
                ),
                None => resp,
            }
        }
        Screen::Form(page) => login_page(&page),
        Screen::Error(e, back) => error_page(issuer, &e, back.as_ref()),
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
