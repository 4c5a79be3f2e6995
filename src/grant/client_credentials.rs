//! Client credentials grant (RFC 6749 §4.4), with the audience chosen by Auth0's `audience`
//! or RFC 8707's `resource`.

use crate::client_auth::AuthenticatedClient;
use crate::error::{ErrorCode, OAuthError};
use crate::http::params::Params;
use crate::scope::Scope;
use crate::store::{Api, ClientStore};
use crate::token::Issuance;

/// Which parameter named the API; it decides the error vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Audience,
    Resource,
    Default,
}

/// §4.4.2: validates a client_credentials request into an [`Issuance`].
pub async fn validate<S: ClientStore>(
    store: &S,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Issuance, OAuthError> {
    let client = &client.client;

    // The client must be allowed this grant (§5.2 unauthorized_client).
    if !client.grant_types.iter().any(|g| g == "client_credentials") {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "client is not allowed the client_credentials grant",
        ));
    }

    // Which API: `audience`, `resource` (RFC 8707 §2), or the client's default.
    let (audience, target) = requested_audience(params, client.default_audience.as_deref())?;
    let Some(grant) = client.grant_for(&audience) else {
        // Only on this error path is the API itself looked up, to name the right error.
        return Err(match (target, store.api(&audience).await?) {
            (Target::Resource, _) => OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource is unknown or not granted to this client",
            ),
            (_, None) => {
                OAuthError::invalid_request(format!("audience {audience} is not a registered API"))
            }
            (_, Some(_)) => OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("client is not authorized for audience {audience}"),
            ),
        });
    };
    let api = &grant.api;

    // Scope: what was asked, narrowed to what is granted and still defined by the API.
    let requested = params.get("scope").map(Scope::parse).transpose()?;
    let granted: Vec<String> = grant
        .scopes
        .iter()
        .filter(|s| api.scopes.contains(s))
        .cloned()
        .collect();
    let scope = Scope::narrow(requested.as_ref(), &granted)?;

    Ok(issuance(client.client_id.clone(), api, scope))
}

fn issuance(client_id: String, api: &Api, scope: Scope) -> Issuance {
    Issuance {
        subject: client_id.clone(),
        client_id,
        audience: api.identifier.clone(),
        scope,
        gty: "client-credentials",
        lifetime: api.token_lifetime,
    }
}

fn requested_audience(
    params: &Params,
    default: Option<&str>,
) -> Result<(String, Target), OAuthError> {
    let audience = params.get("audience");
    let resource = params.get("resource");
    if let Some(r) = resource {
        // RFC 8707 §2: an absolute URI without a fragment.
        if !r.contains("://") || r.contains('#') {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource must be an absolute URI without a fragment",
            ));
        }
    }
    match (audience, resource) {
        (Some(a), Some(r)) if a != r => Err(OAuthError::invalid_request(
            "audience and resource name different APIs",
        )),
        (Some(a), _) => Ok((a.to_string(), Target::Audience)),
        (None, Some(r)) => Ok((r.to_string(), Target::Resource)),
        (None, None) => default
            .map(|d| (d.to_string(), Target::Default))
            .ok_or_else(|| {
                OAuthError::invalid_request(
                    "no audience was given and the client has no default audience",
                )
            }),
    }
}
