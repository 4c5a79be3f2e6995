//! UserInfo (OIDC Core §5.3): the bearer token is one of our access tokens whose audience
//! includes `<issuer>/userinfo`; the claims are read fresh from the user record and released
//! per the token's scope, with the `userinfo` custom claims of the pipeline run now.

use super::claims::pipeline::{enrich, Pipeline};
use super::claims::standard_claims;
use super::facts::Facts;
use super::token::access::userinfo_audience;
use super::token::verify::{require_audience, verify_access_token};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{merge_custom, GrantType, Issuance, Scope, Subject, User};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{
    ClaimsStore, ClientStore, HasClients, HasKeys, HasSubjects, SubjectStore, UserKey,
};
use serde_json::{Map, Value};

/// The claims `/userinfo` answers for `token`, or why not: `invalid_token` for a token that
/// is not ours, expired, revoked, not for /userinfo, issued to a client for itself, or whose
/// user is blocked or gone; `server_error` when storage or a hook fails.
pub async fn userinfo_claims<P, C>(
    ports: &P,
    crypto: &C,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    token: &str,
) -> Result<Value, OAuthError>
where
    P: HasKeys + HasSubjects + HasClients,
    C: Crypto,
{
    let config = facts.config;
    let claims = verify_access_token(ports.keys(), crypto, config, facts.now, token)
        .settle()
        .await?;
    let invalid = |d: &str| OAuthError::new(ErrorCode::InvalidToken, d);
    if claims.get("gty").and_then(Value::as_str) == Some("client-credentials") {
        return Err(invalid(
            "the access token has no end-user subject: it was issued to a client for itself (client_credentials)",
        ));
    }
    let userinfo_aud = userinfo_audience(config);
    require_audience(&claims, &userinfo_aud)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let api_id = match claims.get("aud") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .find(|a| *a != userinfo_aud),
        Some(Value::String(a)) if *a != userinfo_aud => Some(a.as_str()),
        _ => None,
    };
    // The user, their organization, roles and permissions, read fresh, with whether the
    // token was revoked (its refresh family was): one round trip.
    let key = UserKey::Id(text("sub").unwrap_or(""));
    let jti = text("jti").unwrap_or("");
    let mut subject = ports
        .subjects()
        .bearer_subject(jti, key, text("org_id"), api_id)
        .settle()
        .await?
        .ok_or_else(|| invalid("the access token was revoked"))?;
    let user = match subject.user.take() {
        Some(u) if !u.blocked => u,
        _ => {
            return Err(invalid(
                "the user of this access token is blocked or no longer exists",
            ))
        }
    };
    let scope = Scope::parse(text("scope").unwrap_or("")).unwrap_or_default();
    let mut body = standard_claims(&user, &scope);
    body.insert("sub".into(), Value::String(user.user_id.clone()));
    let found = Found {
        user,
        subject,
        api_id,
        scope,
    };
    let custom = fresh_custom_claims(ports.clients(), pipeline, facts, &claims, found)
        .settle()
        .await?;
    merge_custom(&mut body, &custom);
    Ok(Value::Object(body))
}

/// What `/userinfo` read about the token's user.
struct Found<'a> {
    user: User,
    /// The organization (the token's `org_id`) and the access, read fresh.
    subject: Subject,
    /// The API the token is for, besides /userinfo.
    api_id: Option<&'a str>,
    scope: Scope,
}

/// The `userinfo` claims of the claims pipeline, run now on fresh data: the token's client,
/// API, organization and scope, and the user as stored today.
async fn fresh_custom_claims(
    clients: &impl ClientStore,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    claims: &Map<String, Value>,
    found: Found<'_>,
) -> Result<Map<String, Value>, OAuthError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let client = clients
        .client(text("client_id").unwrap_or(""))
        .settle()
        .await?
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidToken,
                "the client of this token no longer exists",
            )
        })?;
    let api = match found.api_id {
        Some(id) => clients.api(id).settle().await?,
        None => None,
    };
    let Found {
        user,
        subject,
        scope,
        ..
    } = found;
    let grant = text("gty")
        .and_then(GrantType::from_gty)
        .unwrap_or(GrantType::Password);
    let organization = subject.organization;
    let access = subject.access;
    let mut issuance = Issuance::for_user(grant, client, user, api, scope, organization, access);
    match enrich(pipeline, facts, &mut issuance).settle().await {
        Ok(enrichment) => Ok(enrichment.claims.userinfo),
        Err(e) if e.code == ErrorCode::ServerError => Err(e),
        // A hook's denial here means the token no longer grants this user's data.
        Err(e) => Err(OAuthError {
            code: ErrorCode::InvalidToken,
            ..e
        }),
    }
}
