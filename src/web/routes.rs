//! The route table: (method, path) → endpoint, on one screen.

use super::mfa;
use super::{account, authorize, cors, discovery, introspect, jwks, login, logout, revoke};
use super::{token, userinfo};
use super::{HttpRequest, HttpResponse};
use crate::admin::{self, Reply};
use crate::error::OAuthError;
use crate::model::config::paths;
use crate::oauth::issuer::Issuer;
use crate::oauth::logout::Dialect;
use crate::oauth::signin::passwordless::Step;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;

/// Answers one request; the paths browser code may call cross-origin (the OAuth endpoints an
/// SPA calls, and the management API's self-service routes) get their CORS headers here, for
/// registered web origins only.
pub async fn handle<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let https = issuer.config.https();
    let path = req.path.as_str();
    let Some(methods) = cors::methods(path).or_else(|| admin::browser_methods(path)) else {
        return see_other(req, route(issuer, req).settle().await).secured(https);
    };
    let origin = cors::allowed_origin(issuer, req).settle().await;
    if req.method == "OPTIONS" {
        return cors::preflight(origin.as_deref(), &methods).secured(https);
    }
    cors::decorate(route(issuer, req).settle().await, origin.as_deref()).secured(https)
}

/// A redirect answering a POST is `303 See Other` (RFC 9110 §15.4.4): the browser follows it
/// with a GET and never re-sends the form, credentials included (RFC 9700 §4.12).
fn see_other(req: &HttpRequest, resp: HttpResponse) -> HttpResponse {
    match (req.method.as_str(), resp.status) {
        ("POST", 302 | 307) => HttpResponse {
            status: 303,
            ..resp
        },
        _ => resp,
    }
}

async fn route<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, req: &HttpRequest) -> HttpResponse {
    use paths::*;
    let method = req.method.as_str();
    match (method, req.path.as_str()) {
        ("GET", OPENID_CONFIGURATION | OAUTH_METADATA) => discovery::discovery(issuer.config),
        ("GET", JWKS) => jwks::jwks(issuer, req).settle().await.unwrap_or_else(|e| {
            issuer.log_error(&e);
            HttpResponse::error(&e)
        }),
        ("POST", TOKEN) => token::token(issuer, req).settle().await,
        ("GET" | "POST", AUTHORIZE) => authorize::authorize(issuer, req).settle().await,
        ("POST", LOGIN) => login::login(issuer, req).settle().await,
        ("POST", SIGNUP) => login::signup(issuer, req).settle().await,
        ("POST", MFA_PAGE) => login::factor(issuer, req).settle().await,
        ("GET" | "POST", p) if p.starts_with(LOGIN_CALLBACK) => {
            login::callback(issuer, req).settle().await
        }
        ("POST", CODE_START) => login::code(issuer, req, Step::Ask).settle().await,
        ("POST", CODE_VERIFY) => login::code(issuer, req, Step::Verify).settle().await,
        ("GET", PASSWORDLESS_VERIFY) => login::code_link(issuer, req).settle().await,
        ("POST", PASSWORDLESS_START) => account::passwordless_start(issuer, req).settle().await,
        ("POST", MFA_ASSOCIATE) => mfa::associate(issuer, req).settle().await,
        ("GET", MFA_AUTHENTICATORS) => mfa::authenticators(issuer, req).settle().await,
        ("POST", MFA_CHALLENGE) => mfa::challenge(issuer, req).settle().await,
        ("POST", DB_SIGNUP) => account::signup(issuer, req).settle().await,
        ("POST", DB_CHANGE_PASSWORD) => account::change_password(issuer, req).settle().await,
        ("GET" | "POST", RESET_REQUEST) => account::forgot(issuer, req).settle().await,
        ("GET", EMAIL_VERIFICATION) => account::verify_email(issuer, req).settle().await,
        ("GET", RESET_PASSWORD) => account::reset_form(issuer, req).settle().await,
        ("POST", RESET_PASSWORD) => account::reset(issuer, req).settle().await,
        ("GET" | "POST", END_SESSION) => logout::logout(issuer, req, Dialect::Oidc).settle().await,
        ("GET", AUTH0_LOGOUT) => logout::logout(issuer, req, Dialect::Auth0).settle().await,
        ("POST", REVOKE) => revoke::revoke(issuer, req).settle().await,
        ("POST", INTROSPECT) => introspect::introspect(issuer, req).settle().await,
        ("GET", REVOKED_JTIS) => introspect::revoked_jtis(issuer, req)
            .settle()
            .await
            .unwrap_or_else(|e| {
                issuer.log_error(&e);
                HttpResponse::error(&e)
            }),
        ("GET" | "POST", USERINFO) => userinfo::userinfo(issuer, req).settle().await,
        (_, p) if p.starts_with(admin::PREFIX) => {
            reply(admin::handle(issuer, &management(req)).settle().await)
        }
        (_, OPENID_CONFIGURATION | OAUTH_METADATA | JWKS | REVOKED_JTIS) => {
            method_not_allowed("GET")
        }
        (_, TOKEN | REVOKE | INTROSPECT) => method_not_allowed("POST").no_store(),
        (_, USERINFO | AUTHORIZE) => method_not_allowed("GET, POST"),
        (_, LOGIN | SIGNUP | MFA_PAGE | DB_SIGNUP | DB_CHANGE_PASSWORD) => {
            method_not_allowed("POST")
        }
        (_, CODE_START | CODE_VERIFY | PASSWORDLESS_START) => method_not_allowed("POST"),
        (_, PASSWORDLESS_VERIFY) => method_not_allowed("GET"),
        (_, MFA_AUTHENTICATORS) => method_not_allowed("GET"),
        (_, MFA_ASSOCIATE | MFA_CHALLENGE) => method_not_allowed("POST"),
        (_, EMAIL_VERIFICATION) => method_not_allowed("GET"),
        (_, RESET_PASSWORD | RESET_REQUEST) => method_not_allowed("GET, POST"),
        (_, END_SESSION) => method_not_allowed("GET, POST"),
        (_, AUTH0_LOGOUT) => method_not_allowed("GET"),
        _ => HttpResponse::json(404, &serde_json::json!({ "error": "not_found" })),
    }
}

/// A request as the management API takes it.
fn management(req: &HttpRequest) -> admin::Request<'_> {
    admin::Request {
        method: &req.method,
        path: &req.path,
        query: &req.query,
        authorization: req.header("authorization"),
        content_type: req.header("content-type"),
        body: &req.body,
    }
}

/// A management reply over HTTP, with its headers; 204 has no body.
fn reply(reply: Reply) -> HttpResponse {
    let response = match reply.status {
        204 => HttpResponse::empty(204),
        status => HttpResponse::json(status, &reply.body),
    };
    reply
        .headers
        .iter()
        .fold(response, |r, (name, value)| r.with_header(name, value))
}

fn method_not_allowed(allow: &str) -> HttpResponse {
    HttpResponse::error(
        &OAuthError::invalid_request(format!("method not allowed; use {allow}")).with_status(405),
    )
    .with_header("allow", allow)
}
