//! `POST /api/v2/claims/explain`: the claims pipeline as a dry run, by the grants' own
//! `check` steps and the same pipeline; nothing is signed or stored.

use super::call::Call;
use super::error::{error, from_oauth, Reply};
use crate::error::OAuthError;
use crate::model::{merge_custom, Authenticated, GrantType, Issuance, Scope};
use crate::oauth::claims::event::event;
use crate::oauth::claims::pipeline::{enrich, trigger_of};
use crate::oauth::claims::standard_claims;
use crate::oauth::client_auth::{AuthMethod, AuthenticatedClient};
use crate::oauth::grant::user::{user_api, user_issuance};
use crate::oauth::grant::{client_credentials, require_allowed};
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::token::access::access_claims;
use crate::oauth::token::id_token::id_claims;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClientStore, Stores, SubjectStore, UserKey, UserStore};
use serde_json::{json, Value};

/// The body of an explain request.
#[derive(Debug)]
struct ExplainRequest {
    client_id: String,
    user_id: Option<String>,
    grant_type: Option<String>,
    audience: Option<String>,
    scope: Option<String>,
    organization: Option<String>,
}

impl ExplainRequest {
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = super::error::members(
            body,
            &[
                "client_id",
                "user_id",
                "grant_type",
                "audience",
                "scope",
                "organization",
            ],
        )?;
        Ok(Self {
            client_id: f
                .text("client_id")?
                .ok_or_else(|| super::error::invalid("missing field `client_id`"))?,
            user_id: f.text("user_id")?,
            grant_type: f.text("grant_type")?,
            audience: f.text("audience")?,
            scope: f.text("scope")?,
            organization: f.text("organization")?,
        })
    }
}

/// `POST /api/v2/claims/explain`.
pub async fn explain<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let issuer = call.issuer;
    let body = attempt!(ExplainRequest::read(call.req.body));
    match dry_run(issuer, body).settle().await {
        Ok(v) => Reply::json(200, &v),
        Err(resp) => resp,
    }
}

/// The issuance the token endpoint would check for this request, by the grants' own steps:
/// client_credentials' `check` for a client alone; for a user, the password grant's API
/// choice and [`user_issuance`] (everything after the password), as at a login.
async fn dry_run<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    body: ExplainRequest,
) -> Result<Value, Reply> {
    let (ports, facts) = (issuer.stores, issuer.facts());
    let oauth = |e: OAuthError| from_oauth(&e);
    let client = ports
        .clients()
        .client(&body.client_id)
        .settle()
        .await
        .map_err(|e| oauth(e.into()))?
        .ok_or_else(|| error(404, "client not found"))?;
    let user = match &body.user_id {
        Some(id) => Some(
            ports
                .users()
                .user(id)
                .settle()
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
            client_credentials::check(ports.clients(), &client, &params)
                .settle()
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
            let api = user_api(ports, &params, &client)
                .settle()
                .await
                .map_err(oauth)?;
            let requested = params
                .get("scope")
                .map(Scope::parse)
                .transpose()
                .map_err(oauth)?;
            let organization = params.get("organization");
            let requested = requested.as_ref();
            let audience = api.as_ref().map(|a| a.identifier.as_str());
            let subject = ports
                .subjects()
                .subject(UserKey::Id(&user.user_id), organization, audience)
                .settle()
                .await
                .map_err(|e| oauth(e.into()))?;
            // As after a password sign-in: the user's connection, `pwd`.
            let authenticated = Some(Authenticated::password(&user.connection));
            let issuance = user_issuance(
                grant,
                &facts,
                &client,
                user,
                subject,
                api,
                requested,
                organization,
            )
            .map_err(oauth)?;
            Issuance {
                authenticated,
                ..issuance
            }
        }
    };
    // The event the rules and hooks receive, as the grant would build it.
    let event = event(trigger_of(&issuance), &issuance, &facts);
    let enrichment = match enrich(&issuer.pipeline(), &facts, &mut issuance)
        .settle()
        .await
    {
        Ok(e) => e,
        Err(e) => {
            return Ok(json!({
                "denied": { "error": e.code.as_str(), "error_description": e.description },
                "event": event,
            }))
        }
    };
    issuance.custom = enrichment.claims;
    let now = facts.now;
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
        "event": event,
    }))
}
