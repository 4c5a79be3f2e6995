//! `GET`/`POST /oidc/logout` and `GET /v2/logout` over HTTP: the request handed to
//! [`crate::oauth::logout::logout`] with the session cookie, and its outcome shown: the
//! confirmation page (whose form POSTs back with a CSRF token), the redirect to the checked
//! return URL, or the signed-out page; the session cookie cleared once the session ended.

use super::pages;
use super::screen::{cookie, error_page, html_response, CSRF_COOKIE, SESSION_COOKIE};
use crate::model::config::paths;
use crate::oauth::authorize::{origin, WayBack};
use crate::oauth::issuer::Issuer;
use crate::oauth::logout::{AfterLogout, Dialect, Logout, LogoutCheck};
use crate::oauth::params::Params;
use crate::oauth::signin::transaction::LIFETIME;
use crate::oauth::signin::{FormProblem, SignInError};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClientStore, Stores};
use crate::web::{HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

/// A logout request.
pub async fn logout<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
    dialect: Dialect,
) -> HttpResponse {
    if let Some(moved) = super::authorize::to_localhost(issuer, req).settle().await {
        return moved;
    }
    let params = match req.method.as_str() {
        "POST" => req.body_params(),
        _ => Params::from_form(req.query.as_bytes()),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return error_page(issuer, &e.into(), None),
    };
    // Our own confirmation form, posted back: only with its CSRF token.
    let confirmed = req.method == "POST" && params.get("confirm").is_some();
    if confirmed {
        if let Err(problem) = same_form(req, &params) {
            let back = way_back(issuer, &params).settle().await;
            return error_page(issuer, &SignInError::Form(problem), back.as_ref());
        }
    }
    let session = req.cookie(SESSION_COOKIE);
    let cleared = cookie(SESSION_COOKIE, "", 0);
    let check = LogoutCheck {
        clients: issuer.stores.clients(),
        keys: issuer.stores.keys(),
        crypto: issuer.crypto,
        config: issuer.config,
    };
    let sessions = issuer.stores.sessions();
    let request = (&params, dialect);
    let ended =
        crate::oauth::logout::logout(&check, sessions, issuer.kek, request, session, confirmed);
    match ended.settle().await {
        Logout::Confirm(after) => confirm_logout(issuer, &params, &after),
        Logout::Refused(e) => error_page(issuer, &e.into(), None),
        Logout::Ended { redirect, refused } => {
            let resp = match (refused, redirect) {
                (Some(e), _) => error_page(issuer, &e.into(), None),
                (None, Some(url)) => HttpResponse::empty(302)
                    .with_header("location", &url)
                    .no_store(),
                (None, None) => {
                    html_response(200, pages::signed_out(), &pages::csp(&[], false, None))
                }
            };
            resp.with_header("set-cookie", &cleared)
        }
    }
}

/// Whether the confirmation form posted back carries the CSRF token of the cookie its page
/// set (a double submit).
fn same_form(req: &HttpRequest, params: &Params) -> Result<(), FormProblem> {
    let presented = params.get("csrf").unwrap_or("");
    match req.cookie(CSRF_COOKIE).filter(|c| !c.is_empty()) {
        None => Err(FormProblem::NoCookie),
        Some(expected) if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) => {
            Err(FormProblem::OtherTab)
        }
        Some(_) => Ok(()),
    }
}

/// The way back of the client a form names, if it is known and registered one.
async fn way_back<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    params: &Params,
) -> Option<WayBack> {
    let client_id = params.get("client_id")?;
    let client = issuer
        .stores
        .clients()
        .client(client_id)
        .settle()
        .await
        .ok()??;
    WayBack::of(&client)
}

/// The logout confirmation page: the request's parameters (but the hint) carried in a form
/// that POSTs back with a fresh CSRF token; its CSP lets the redirect after it reach the
/// return URL.
fn confirm_logout<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    params: &Params,
    after: &AfterLogout,
) -> HttpResponse {
    let csrf = match issuer.random.token(16) {
        Ok(t) => t,
        Err(e) => return error_page(issuer, &SignInError::Failed(e.into()), None),
    };
    let leave = ["id_token_hint", "csrf", "confirm"];
    let mut carried: Vec<(String, String)> = params
        .pairs()
        .iter()
        .filter(|(k, _)| !leave.contains(&k.as_str()))
        .cloned()
        .collect();
    // The hint named the client; the form carries it on without the hint.
    if let (None, Some(client_id)) = (params.get("client_id"), &after.client_id) {
        carried.push(("client_id".into(), client_id.clone()));
    }
    let html = pages::confirm_logout(paths::END_SESSION, &carried, &csrf);
    let to: Vec<&str> = after.redirect.as_deref().map(origin).into_iter().collect();
    html_response(200, html, &pages::csp(&to, false, None))
        .with_header("set-cookie", &cookie(CSRF_COOKIE, &csrf, LIFETIME))
}
