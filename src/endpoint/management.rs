//! The management API, Auth0-shaped: bearer access tokens issued by this issuer for the
//! audience `<issuer>/api/v2/` (client_credentials, like any API), with scopes per operation.
//! Errors use Auth0's shape: `{"statusCode", "error", "message"}`.
//!
//! - `PUT /api/v2/rules/{id}` (`update:rules`): saves a claims rule after validating it.
//! - `POST /api/v2/claims/explain` (`read:claims`): runs the claims pipeline as a dry run and
//!   returns the claims each token would carry, with a trace. Nothing is signed or stored.

use crate::claims::pipeline::enrich;
use crate::claims::rules::Rule;
use crate::claims::standard_claims;
use crate::client_auth::{AuthMethod, AuthenticatedClient};
use crate::crypto::Crypto;
use crate::error::OAuthError;
use crate::grant::password::{user_api, user_issuance};
use crate::grant::{client_credentials, require_allowed, GrantType};
use crate::http::params::json_error_words;
use crate::http::params::Params;
use crate::http::{bearer_challenge, HttpRequest, HttpResponse};
use crate::issuer::Issuer;
use crate::scope::Scope;
use crate::store::Store;
use crate::token::access::access_claims;
use crate::token::id_token::id_claims;
use crate::token::merge_custom;
use crate::token::verify::{require_audience, verify_access_token};
use crate::token::Issuance;
use serde::Deserialize;
use serde_json::{json, Value};

/// Every management route: method, path (`{id}` a parameter) and the scope it needs. All of
/// them act on the whole tenant, so all need a machine client's token.
pub const ROUTES: [(&str, &str, &str); 2] = [
    ("PUT", "/api/v2/rules/{id}", "update:rules"),
    ("POST", EXPLAIN, "read:claims"),
];
/// Rules live under this prefix, by id.
pub const RULES: &str = "/api/v2/rules/";
/// The dry run of the claims pipeline.
pub const EXPLAIN: &str = "/api/v2/claims/explain";

/// Auth0's error body: `{"statusCode", "error", "message"}`.
fn error_body(status: u16, message: &str) -> Value {
    let name = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    json!({ "statusCode": status, "error": name, "message": message })
}

fn error(status: u16, message: &str) -> HttpResponse {
    HttpResponse::json(status, &error_body(status, message))
}

fn from_oauth(e: &OAuthError) -> HttpResponse {
    let status = if e.http_status() >= 500 { 500 } else { 400 };
    error(status, e.description.as_deref().unwrap_or(e.code.as_str()))
}

/// A refusal of the bearer token, in Auth0's shape with an RFC 6750 §3 challenge: no error
/// code when no token was sent (§3.1), else `invalid_token` (401) or `insufficient_scope`
/// (403, naming the scope the route needs). RFC 9110 §15.5.2 requires the header on 401.
fn refuse<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    status: u16,
    code: Option<&str>,
    message: &str,
    scope: Option<&str>,
) -> HttpResponse {
    let challenge = bearer_challenge(
        &issuer.config.issuer,
        code.map(|c| (c, Some(message))),
        scope,
    );
    let mut body = error_body(status, message);
    if let Some(code) = code {
        body["errorCode"] = json!(code);
    }
    HttpResponse::json(status, &body).with_header("www-authenticate", &challenge)
}

/// Checks the bearer token: ours, for the management audience, issued to a machine client
/// (client_credentials), with `scope`. A user-delegated token is refused with 403 whatever
/// scopes it carries: these routes act on the whole tenant, and a user may act only on
/// their own profile (the self-service routes, which say so themselves).
async fn authorize<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    req: &HttpRequest,
    scope: &str,
) -> Result<(), HttpResponse> {
    let token = req
        .header("authorization")
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(|| refuse(issuer, 401, None, "Missing authentication", None))?;
    let claims = verify_access_token(
        issuer.store,
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

/// Reads a JSON body into `T`, or says what is wrong in the API's own terms: the field, and
/// what was expected there (never a Rust type name).
fn payload<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, HttpResponse> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = json_error_words(&inner);
        let message = if path == "." || path == "?" || inner.is_syntax() || inner.is_eof() {
            format!("Payload validation error: {what}")
        } else {
            format!("Payload validation error at {path}: {what}")
        };
        error(400, &message)
    })
}

/// `PUT /api/v2/rules/{id}`.
pub async fn put_rule<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    req: &HttpRequest,
) -> HttpResponse {
    if let Err(resp) = authorize(issuer, req, "update:rules").await {
        return resp;
    }
    let rule_id = req.path.trim_start_matches(RULES);
    if rule_id.is_empty() || rule_id.contains('/') {
        return error(404, "Not Found");
    }
    let mut rule: Rule = match payload(&req.body) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if !rule.rule_id.is_empty() && rule.rule_id != rule_id {
        return error(400, "rule_id in the body differs from the path");
    }
    rule.rule_id = rule_id.to_string();
    if let Err(why) = rule.validate() {
        return error(400, &why);
    }
    match issuer.store.put_rule(&rule).await {
        Ok(()) => HttpResponse::json(200, &json!(rule)),
        Err(e) => {
            let e = OAuthError::from(e);
            issuer.log_error(&e);
            from_oauth(&e)
        }
    }
}

/// The body of an explain request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainRequest {
    client_id: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    grant_type: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    organization: Option<String>,
}

/// `POST /api/v2/claims/explain`.
pub async fn explain<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    req: &HttpRequest,
) -> HttpResponse {
    if let Err(resp) = authorize(issuer, req, "read:claims").await {
        return resp;
    }
    let body: ExplainRequest = match payload(&req.body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    match dry_run(issuer, body).await {
        Ok(v) => HttpResponse::json(200, &v),
        Err(resp) => resp,
    }
}

/// The issuance the token endpoint would check for this request, by the grants' own steps:
/// client_credentials' `check` for a client alone; for a user, the password grant's API
/// choice and [`user_issuance`] (everything after the password), as at a login.
async fn dry_run<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    body: ExplainRequest,
) -> Result<Value, HttpResponse> {
    let store = issuer.store;
    let oauth = |e: OAuthError| from_oauth(&e);
    let client = store
        .client(&body.client_id)
        .await
        .map_err(|e| oauth(e.into()))?
        .ok_or_else(|| error(404, "client not found"))?;
    let user = match &body.user_id {
        Some(id) => Some(
            store
                .user(id)
                .await
                .map_err(|e| oauth(e.into()))?
                .ok_or_else(|| error(404, "user not found"))?,
        ),
        None => None,
    };
    // The request as the token endpoint would see it.
    let pairs = [
        ("audience", &body.audience),
        ("scope", &body.scope),
        ("organization", &body.organization),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)));
    let params = Params::from_pairs(pairs).map_err(oauth)?;
    let grant = match body.grant_type.as_deref() {
        Some(g) => Some(GrantType::parse(g).map_err(oauth)?),
        None => None,
    };
    let mut issuance = match (user, grant) {
        (None, None | Some(GrantType::ClientCredentials)) => {
            let client = AuthenticatedClient {
                client,
                method: AuthMethod::ClientSecretBasic,
            };
            client_credentials::check(store, &client, &params)
                .await
                .map_err(oauth)?
                .issuance
        }
        (None, Some(_)) => return Err(error(400, "user_id is required for a user grant")),
        (Some(_), Some(GrantType::ClientCredentials)) => {
            return Err(error(
                400,
                "client_credentials has no user: leave out user_id",
            ))
        }
        (Some(user), grant) => {
            let grant = grant.unwrap_or(GrantType::Password);
            require_allowed(&client, grant).map_err(oauth)?;
            let api = user_api(store, &params, &client).await.map_err(oauth)?;
            let requested = params
                .get("scope")
                .map(Scope::parse)
                .transpose()
                .map_err(oauth)?;
            let organization = params.get("organization");
            let issuance =
                user_issuance(issuer, &client, user, api, requested.as_ref(), organization)
                    .await
                    .map_err(oauth)?;
            Issuance { grant, ..issuance }
        }
    };
    let enrichment = match enrich(issuer, &mut issuance).await {
        Ok(e) => e,
        Err(e) => {
            return Ok(json!({
                "denied": { "error": e.code.as_str(), "error_description": e.description },
            }))
        }
    };
    issuance.custom = enrichment.claims;
    let now = issuer.clock.now();
    let userinfo = issuance.user.as_ref().map(|u| {
        let mut claims = standard_claims(u, &issuance.scope);
        claims.insert("sub".into(), Value::String(u.user_id.clone()));
        merge_custom(&mut claims, &issuance.custom.userinfo);
        Value::Object(claims)
    });
    Ok(json!({
        "scope": issuance.scope.to_wire(),
        "access_token": access_claims(issuer.config, now, "dry-run".into(), &issuance),
        "id_token": id_claims(issuer.config, now, &issuance, None),
        "userinfo": userinfo,
        "trace": enrichment.trace,
    }))
}
