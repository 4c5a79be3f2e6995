//! UserInfo (OIDC Core §5.3) over HTTP, as an RFC 6750 protected resource: the token from
//! the header or a form body, the challenge on failure, CORS for browsers. What the claims
//! are is [`crate::oauth::userinfo`]'s.

use crate::error::OAuthError;
use crate::oauth::bearer::bearer_challenge;
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::userinfo::userinfo_claims;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};
use serde_json::Value;

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
    let resp = match claims(issuer, req).settle().await {
        Ok(body) => HttpResponse::json(200, &body),
        Err(failure) => challenge(issuer, failure),
    };
    resp.no_store()
}

async fn claims<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<Value, Failure> {
    let token = bearer_token(req)?;
    let (ports, pipeline, facts) = (issuer.stores, issuer.pipeline(), issuer.facts());
    Ok(
        userinfo_claims(ports, issuer.crypto, &pipeline, &facts, &token)
            .settle()
            .await?,
    )
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
