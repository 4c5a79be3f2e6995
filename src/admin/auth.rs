//! Who may call the management API: a bearer access token of this issuer, for the management
//! audience, issued to a machine client, with the route's scope.

use super::error::{error_body, from_oauth, Reply};
use super::Request;
use crate::model::GrantType;
use crate::oauth::bearer::bearer_challenge;
use crate::oauth::issuer::Issuer;
use crate::oauth::token::verify::{require_audience, verify_access_token};
use crate::port::crypto::Crypto;
use crate::port::Stores;
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
    Reply::json(status, &body).with_challenge(challenge)
}

/// Checks the bearer token: ours, for the management audience, issued to a machine client
/// (client_credentials), with `scope`. A user-delegated token is refused with 403 whatever
/// scopes it carries: these routes act on the whole tenant, and a user may act only on
/// their own profile (the self-service routes, which say so themselves).
pub(crate) async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &Request<'_>,
    scope: &str,
) -> Result<(), Reply> {
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
    .await
    .and_then(|c| require_audience(&c, &issuer.config.management_audience()).map(|()| c))
    .map_err(|e| match e.http_status() {
        500 => from_oauth(&e),
        _ => {
            let why = e.description.as_deref().unwrap_or("Invalid token");
            refuse(issuer, 401, Some("invalid_token"), why, None)
        }
    })?;
    let gty = claims.get("gty").and_then(Value::as_str);
    if gty != Some(GrantType::ClientCredentials.gty()) {
        return Err(refuse(
            issuer,
            403,
            Some("insufficient_scope"),
            "This endpoint needs a token issued to a machine client (client_credentials); \
             a user's token may only call the self-service endpoints",
            Some(scope),
        ));
    }
    let granted = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if !granted.split(' ').any(|s| s == scope) {
        return Err(refuse(
            issuer,
            403,
            Some("insufficient_scope"),
            &format!("Insufficient scope, expected: {scope}"),
            Some(scope),
        ));
    }
    Ok(())
}
