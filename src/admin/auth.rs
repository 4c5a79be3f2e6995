//! Who may call the management API: a bearer access token of this issuer, for the management
//! audience, with the route's scope: a machine client's (client_credentials) for the tenant,
//! or a user's for their own profile on the self-service routes.

use super::call::{Caller, Route};
use super::error::{error_body, from_oauth, from_store, Reply};
use super::Request;
use crate::model::GrantType;
use crate::oauth::bearer::bearer_challenge;
use crate::oauth::issuer::Issuer;
use crate::oauth::token::verify::{require_audience, verify_access_token};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RefreshStore, Stores};
use serde_json::{json, Value};

/// A refusal of the bearer token, in Auth0's shape with an RFC 6750 §3 challenge: no error
/// code when no token was sent (§3.1), else `invalid_token` (401) or `insufficient_scope`
/// (403, naming the scope the route needs). RFC 9110 §15.5.2 requires the header on 401.
pub(crate) fn refuse<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    status: u16,
    code: Option<&str>,
    message: &str,
    scope: Option<&str>,
) -> Reply {
    let challenge = bearer_challenge(
        &issuer.config.issuer,
        code.map(|c| (c, Some(message))),
        scope,
    );
    let mut body = error_body(status, message);
    if let Some(code) = code {
        body["errorCode"] = json!(code);
    }
    Reply::json(status, &body).with_header("www-authenticate", challenge)
}

/// Checks the bearer token against `route`: ours, for the management audience, and either a
/// machine client's (client_credentials) with `route.scope`, or, on a self-service route, a
/// user's with `route.self_scope` whose `sub` is the user the path names (`id`).
pub(crate) async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &Request<'_>,
    route: &Route,
    id: Option<&str>,
) -> Result<Caller, Reply> {
    let token = req
        .authorization
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| refuse(issuer, 401, None, "Missing authentication", None))?;
    let claims = verify_access_token(
        issuer.stores.keys(),
        issuer.crypto,
        issuer.config,
        issuer.clock.now(),
        token,
    )
    .settle()
    .await
    .and_then(|c| require_audience(&c, &issuer.config.management_audience()).map(|()| c))
    .map_err(|e| match e.http_status() {
        500 => from_oauth(&e),
        _ => {
            let why = e.description.as_deref().unwrap_or("Invalid token");
            refuse(issuer, 401, Some("invalid_token"), why, None)
        }
    })?;
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("");
    let granted = str_claim("scope");
    let holds = |scope: &str| granted.split(' ').any(|s| s == scope);
    let insufficient = |message: &str| {
        Err(refuse(
            issuer,
            403,
            Some("insufficient_scope"),
            message,
            Some(route.scope),
        ))
    };
    if str_claim("gty") == GrantType::ClientCredentials.gty() {
        if !holds(route.scope) {
            return insufficient(&format!("Insufficient scope, expected: {}", route.scope));
        }
        return Ok(Caller::Machine {
            client_id: str_claim("client_id").to_string(),
            idp_tokens: holds("read:user_idp_tokens"),
        });
    }
    let sub = str_claim("sub");
    match route.self_scope {
        Some(own) if holds(own) && !sub.is_empty() && id == Some(sub) => {
            // A user's token may have been revoked with its refresh family (machine tokens
            // never have one, so they are never listed): one read.
            let revoked = issuer
                .stores
                .refresh()
                .access_revoked(str_claim("jti"))
                .settle()
                .await;
            match revoked {
                Ok(false) => Ok(Caller::User {
                    user_id: sub.to_string(),
                }),
                Ok(true) => Err(refuse(
                    issuer,
                    401,
                    Some("invalid_token"),
                    "the access token was revoked",
                    None,
                )),
                Err(e) => Err(from_store(e, "", issuer.log)),
            }
        }
        Some(own) => insufficient(&format!(
            "Insufficient scope, expected any of: {},{own}. A machine client (client_credentials) \
             needs {}; a user's token may only act on its own user, with {own}",
            route.scope, route.scope
        )),
        None => insufficient(
            "This endpoint needs a token issued to a machine client (client_credentials); \
             a user's token may only call the self-service endpoints",
        ),
    }
}
