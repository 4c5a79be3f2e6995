//! UserInfo (OIDC Core §5.3): the bearer token is one of our access tokens whose audience
//! includes `<issuer>/userinfo`; the claims are read fresh from the user record and released
//! per the token's scope, with the `userinfo` custom claims of the pipeline run now.

use super::claims::pipeline::{enrich, Pipeline};
use super::claims::standard_claims;
use super::facts::Facts;
use super::token::access::userinfo_audience;
use super::token::verify::{require_audience, verify_access_token};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{merge_custom, GrantType, Issuance, Scope, User};
use crate::port::crypto::Crypto;
use crate::port::{
    ClaimsStore, ClientStore, DirectoryStore, HasClients, HasDirectory, HasKeys, HasUsers,
    UserStore,
};
use serde_json::{Map, Value};

/// The claims `/userinfo` answers for `token`, or why not: `invalid_token` for a token that
/// is not ours, expired, not for /userinfo, issued to a client for itself, or whose user is
/// blocked or gone; `server_error` when storage or a hook fails.
pub async fn userinfo_claims<P, C>(
    ports: &P,
    crypto: &C,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    token: &str,
) -> Result<Value, OAuthError>
where
    P: HasKeys + HasUsers + HasClients + HasDirectory,
    C: Crypto,
{
    let config = facts.config;
    let claims = verify_access_token(ports.keys(), crypto, config, facts.now, token).await?;
    let invalid = |d: &str| OAuthError::new(ErrorCode::InvalidToken, d);
    if claims.get("gty").and_then(Value::as_str) == Some("client-credentials") {
        return Err(invalid(
            "the access token has no end-user subject: it was issued to a client for itself (client_credentials)",
        ));
    }
    require_audience(&claims, &userinfo_audience(config))?;
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let user = match ports.users().user(sub).await? {
        Some(u) if !u.blocked => u,
        _ => {
            return Err(invalid(
                "the user of this access token is blocked or no longer exists",
            ))
        }
    };
    let scope =
        Scope::parse(claims.get("scope").and_then(Value::as_str).unwrap_or("")).unwrap_or_default();
    let mut body = standard_claims(&user, &scope);
    body.insert("sub".into(), Value::String(user.user_id.clone()));
    let custom = fresh_custom_claims(ports, pipeline, facts, &claims, user, scope).await?;
    merge_custom(&mut body, &custom);
    Ok(Value::Object(body))
}

/// The `userinfo` claims of the claims pipeline, run now on fresh data: the token's client,
/// API, organization and scope, and the user as stored today.
async fn fresh_custom_claims(
    ports: &(impl HasClients + HasDirectory),
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    claims: &Map<String, Value>,
    user: User,
    scope: Scope,
) -> Result<Map<String, Value>, OAuthError> {
    let (clients, directory) = (ports.clients(), ports.directory());
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let client = clients
        .client(text("client_id").unwrap_or(""))
        .await?
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidToken,
                "the client of this token no longer exists",
            )
        })?;
    let userinfo_aud = userinfo_audience(facts.config);
    let api_id = match claims.get("aud") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .find(|a| *a != userinfo_aud),
        Some(Value::String(a)) if *a != userinfo_aud => Some(a.as_str()),
        _ => None,
    };
    let api = match api_id {
        Some(id) => clients.api(id).await?,
        None => None,
    };
    let organization = match text("org_id") {
        Some(id) => directory.organization(id).await?,
        None => None,
    };
    let access = directory
        .user_access(&user.user_id, organization.as_ref(), api.as_ref())
        .await?;
    let grant = text("gty")
        .and_then(GrantType::from_gty)
        .unwrap_or(GrantType::Password);
    let mut issuance = Issuance::for_user(grant, client, user, api, scope, organization, access);
    match enrich(pipeline, facts, &mut issuance).await {
        Ok(enrichment) => Ok(enrichment.claims.userinfo),
        Err(e) if e.code == ErrorCode::ServerError => Err(e),
        // A hook's denial here means the token no longer grants this user's data.
        Err(e) => Err(OAuthError {
            code: ErrorCode::InvalidToken,
            ..e
        }),
    }
}
