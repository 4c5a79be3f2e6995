//! RFC 9068 JWT access tokens.

use super::jws::sign_compact;
use crate::error::OAuthError;
use crate::model::config::{Config, DEFAULT_ACCESS_TOKEN_LIFETIME};
use crate::model::{merge_custom, Issuance};
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::random::Random;
use crate::port::settled::Settle;
use serde_json::{json, Value};

/// The audience of tokens good at /userinfo (Auth0's convention), next to any API audience.
pub fn userinfo_audience(config: &Config) -> String {
    config.url(crate::model::config::paths::USERINFO)
}

/// The `aud` claim: the API; for a user, also the userinfo audience when `openid` was granted
/// or no API was asked for. One value is a string, several an array (RFC 7519 §4.1.3).
pub fn audience(config: &Config, issuance: &Issuance) -> Value {
    let mut aud: Vec<String> = issuance.api.iter().map(|a| a.identifier.clone()).collect();
    if issuance.user.is_some() && (issuance.has_scope("openid") || aud.is_empty()) {
        aud.push(userinfo_audience(config));
    }
    match aud.len() {
        1 => Value::String(aud.remove(0)),
        _ => json!(aud),
    }
}

/// A signed access token, its `jti` and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    pub jwt: String,
    pub jti: String,
    pub expires_in: u64,
}

/// The algorithm of the access token of `issuance`: its API's (ES256 unless the API asks for
/// RS256); ES256 for a token only good at /userinfo.
pub fn access_alg(issuance: &Issuance) -> Alg {
    issuance
        .api
        .as_ref()
        .and_then(|api| Alg::parse(&api.signing_alg))
        .unwrap_or(Alg::ES256)
}

/// The lifetime of the access token of `issuance`, seconds.
pub fn lifetime(issuance: &Issuance) -> u64 {
    issuance
        .api
        .as_ref()
        .map_or(DEFAULT_ACCESS_TOKEN_LIFETIME, |a| a.token_lifetime)
}

/// The claims of an RFC 9068 access token (§2.2: `iss exp aud sub client_id iat jti`, plus
/// `nbf`, `scope`, `gty`), RBAC `permissions` when the API asks, the organization, and the
/// custom claims of the pipeline.
pub fn access_claims(config: &Config, now: u64, jti: String, issuance: &Issuance) -> Value {
    let subject = match &issuance.user {
        Some(u) => u.user_id.clone(),
        None => issuance.client.client_id.clone(),
    };
    let mut claims = json!({
        "iss": config.issuer,
        "sub": subject,
        "aud": audience(config, issuance),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime(issuance),
        "jti": jti,
        "client_id": issuance.client.client_id,
        "scope": issuance.scope.to_wire(),
        "gty": issuance.grant.gty(),
    });
    if let Value::Object(map) = &mut claims {
        if issuance.user.is_some() && issuance.api.as_ref().is_some_and(|a| a.token_permissions) {
            map.insert("permissions".into(), json!(issuance.permissions));
        }
        map.extend(issuance.org_claims());
        merge_custom(map, &issuance.custom.access_token);
    }
    claims
}

/// Signs the access token of `issuance` with header `typ: at+jwt` (RFC 9068 §2.1).
pub async fn mint_access_token<C: Crypto>(
    crypto: &C,
    key: &SigningKey,
    rng: &dyn Random,
    config: &Config,
    now: u64,
    issuance: &Issuance,
) -> Result<MintedToken, OAuthError> {
    let jti = rng.token(16)?;
    let claims = access_claims(config, now, jti.clone(), issuance);
    Ok(MintedToken {
        jwt: sign_compact(crypto, key, Some("at+jwt"), &claims)
            .settle()
            .await?,
        jti,
        expires_in: lifetime(issuance),
    })
}
