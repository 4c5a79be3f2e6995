//! UserInfo (OIDC Core §5.3) as an RFC 6750 protected resource: the bearer token is one of our
//! access tokens whose audience includes `<issuer>/userinfo`; the claims are read fresh from
//! the user record and released per the token's scope.

use crate::error::{ErrorCode, OAuthError};
use crate::model::scope::Scope;
use crate::model::GrantType;
use crate::model::User;
use crate::model::{merge_custom, Issuance};
use crate::oauth::bearer::bearer_challenge;
use crate::oauth::claims::pipeline::enrich;
use crate::oauth::claims::standard_claims;
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::token::access::userinfo_audience;
use crate::oauth::token::verify::{require_audience, verify_access_token};
use crate::port::crypto::Crypto;
use crate::port::{ClientStore, DirectoryStore, Stores, UserStore};
use crate::web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

/// Why a request has no usable token (RFC 6750 §3).
enum Failure {
    /// No token at all: 401 with a challenge and no error code (§3.1).
    Missing,
    Error(OAuthError),
}

impl From<OAuthError> for Failure {
    fn from(e: OAuthError) -> Self {
        Failure::Error(e)
    }
}

/// `GET` or `POST /userinfo`.
pub async fn userinfo<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match claims(issuer, req).await {
        Ok(body) => HttpResponse::json(200, &body),
        Err(failure) => challenge(issuer, failure),
    };
    resp.no_store()
        .with_header("access-control-allow-origin", "*")
}

async fn claims<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<Value, Failure> {
    let token = bearer_token(req)?;
    let config = issuer.config;
    let claims = verify_access_token(
        issuer.stores.keys(),
        issuer.crypto,
        config,
        issuer.clock.now(),
        &token,
    )
    .await?;
    let invalid = |d: &str| Failure::Error(OAuthError::new(ErrorCode::InvalidToken, d));
    if claims.get("gty").and_then(Value::as_str) == Some("client-credentials") {
        return Err(invalid(
            "the access token has no end-user subject: it was issued to a client for itself (client_credentials)",
        ));
    }
    require_audience(&claims, &userinfo_audience(config))?;
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let user = match issuer
        .stores
        .users()
        .user(sub)
        .await
        .map_err(OAuthError::from)?
    {
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
    let custom = fresh_custom_claims(issuer, &claims, user, scope).await?;
    merge_custom(&mut body, &custom);
    Ok(Value::Object(body))
}

/// The `userinfo` claims of the claims pipeline, run now on fresh data: the token's client,
/// API, organization and scope, and the user as stored today.
async fn fresh_custom_claims<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    claims: &Map<String, Value>,
    user: User,
    scope: Scope,
) -> Result<Map<String, Value>, OAuthError> {
    let (clients, directory) = (issuer.stores.clients(), issuer.stores.directory());
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
    let userinfo_aud = userinfo_audience(issuer.config);
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
    match enrich(&issuer.pipeline(), &issuer.facts(), &mut issuance).await {
        Ok(enrichment) => Ok(enrichment.claims.userinfo),
        Err(e) if e.code == ErrorCode::ServerError => Err(e),
        // A hook's denial here means the token no longer grants this user's data.
        Err(e) => Err(OAuthError {
            code: ErrorCode::InvalidToken,
            ..e
        }),
    }
}

/// The token from `Authorization: Bearer` (scheme case-insensitive, §2.1) or, for a form POST,
/// the `access_token` body parameter (§2.2). Both at once is `invalid_request` (§2).
fn bearer_token(req: &HttpRequest) -> Result<String, Failure> {
    let from_header = match req.header("authorization") {
        Some(v) => {
            let (scheme, token) = v.trim().split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                return Err(
                    OAuthError::invalid_request("Authorization must be a Bearer token").into(),
                );
            }
            Some(token.trim().to_string())
        }
        None => None,
    };
    let form_post = req.method == "POST"
        && req.header("content-type").is_some_and(|c| {
            c.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let from_body = if form_post {
        Params::from_form(&req.body)?
            .get("access_token")
            .map(str::to_string)
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the access token was sent in more than one way",
        )
        .into()),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(Failure::Missing),
    }
}

/// RFC 6750 §3: `WWW-Authenticate: Bearer` with the error, 401 (400 for `invalid_request`).
fn challenge<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, failure: Failure) -> HttpResponse {
    let realm = &issuer.config.issuer;
    match failure {
        Failure::Missing => HttpResponse::empty(401)
            .with_header("www-authenticate", &bearer_challenge(realm, None, None)),
        Failure::Error(e) => {
            issuer.log_error(&e);
            let body = e.body();
            let description = body["error_description"].as_str();
            let value = bearer_challenge(realm, Some((e.code.as_str(), description)), None);
            HttpResponse::error(&e).with_header("www-authenticate", &value)
        }
    }
}
