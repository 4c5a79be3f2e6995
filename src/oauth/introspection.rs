//! Token introspection (RFC 7662). Who may ask: a confidential client (one that
//! authenticated with its secret), about
//! - an access token (a JWT of this issuer): any confidential client, as a resource server
//!   would (the token's claims are readable by whoever holds it; what introspection adds is
//!   whether it is still active: signed by a published key, unexpired, not revoked);
//! - a refresh token (opaque): only the client it was issued to (as revocation, RFC 7009
//!   §2.1), since its answer names a user no other client could learn from the token.
//!
//! Anything else, including a token that is not ours, expired, revoked or another client's
//! refresh token, is `{"active": false}` (§2.2: no reason is given).

use super::client_auth::{authenticate, credentials, AuthMethod};
use super::params::Params;
use super::token::refresh::hash_refresh_token;
use super::token::verify::verify_access_token;
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{HasClients, HasKeys, HasRefresh, RefreshStore};
use serde_json::{json, Map, Value};

/// The answer for a token that is not active.
fn inactive() -> Value {
    json!({ "active": false })
}

/// Authenticates the client and answers what RFC 7662 §2.2 says about `token`.
pub async fn introspect<P: HasClients + HasKeys + HasRefresh, C: Crypto>(
    ports: &P,
    crypto: &C,
    config: &Config,
    now: u64,
    authorization: Option<&str>,
    params: &Params,
) -> Result<Value, OAuthError> {
    let client = authenticate(ports.clients(), &credentials(authorization, params)?)
        .settle()
        .await?;
    if client.method == AuthMethod::None {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "introspection is for confidential clients: authenticate with the client secret",
        ));
    }
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let caller = client.client.client_id.as_str();
    // `token_type_hint` only orders the look-ups (§2.1); a JWT has two dots, a refresh token
    // none, so the shape decides and the hint is not needed.
    if token.split('.').count() == 3 {
        return access_token(ports, crypto, config, now, token)
            .settle()
            .await;
    }
    let reuse_interval = client.client.refresh_reuse_interval;
    refresh_token(ports, now, caller, reuse_interval, token)
        .settle()
        .await
}

async fn access_token<P: HasKeys + HasRefresh, C: Crypto>(
    ports: &P,
    crypto: &C,
    config: &Config,
    now: u64,
    token: &str,
) -> Result<Value, OAuthError> {
    let claims = match verify_access_token(ports.keys(), crypto, config, now, token)
        .settle()
        .await
    {
        Ok(claims) => claims,
        Err(e) if e.http_status() >= 500 => return Err(e),
        Err(_) => return Ok(inactive()),
    };
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    if ports.refresh().access_revoked(jti).settle().await? {
        return Ok(inactive());
    }
    let mut answer = Map::new();
    answer.insert("active".into(), json!(true));
    for name in [
        "scope",
        "client_id",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "iss",
        "org_id",
    ] {
        if let Some(v) = claims.get(name) {
            answer.insert(name.into(), v.clone());
        }
    }
    answer.insert("token_type".into(), json!("Bearer"));
    Ok(Value::Object(answer))
}

/// A refresh token is active while unexpired, its family unrevoked, and unused (or used
/// within the client's reuse interval, during which it may still be exchanged).
async fn refresh_token<P: HasRefresh>(
    ports: &P,
    now: u64,
    caller: &str,
    reuse_interval: u64,
    token: &str,
) -> Result<Value, OAuthError> {
    let Some(r) = ports
        .refresh()
        .find_refresh(&hash_refresh_token(token))
        .settle()
        .await?
    else {
        return Ok(inactive());
    };
    let exp = r.idle_expires_at.min(r.absolute_expires_at);
    let usable = r.used_at.is_none_or(|used| now < used + reuse_interval);
    let live = r.client_id == caller && r.revoked_at.is_none() && usable && now < exp;
    if !live {
        return Ok(inactive());
    }
    let mut answer = json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": r.scope,
        "client_id": r.client_id,
        "sub": r.user_id,
        "exp": exp,
        "iat": r.created_at,
    });
    if let Some(aud) = r.audience {
        answer["aud"] = json!(aud);
    }
    if let Some(org) = r.org_id {
        answer["org_id"] = json!(org);
    }
    Ok(answer)
}
