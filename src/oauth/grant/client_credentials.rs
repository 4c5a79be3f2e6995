//! Client credentials grant (RFC 6749 §4.4), with the audience chosen by Auth0's `audience`
//! or RFC 8707's `resource`.

use super::checked::{Checked, Commit};
use super::{requested_audience, require_allowed, Target};
use crate::error::{ErrorCode, OAuthError};
use crate::model::scope::Scope;
use crate::model::GrantType;
use crate::model::{Issuance, RefreshPlan};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::params::Params;
use crate::port::settled::Settle;
use crate::port::ClientStore;

/// §4.4.2: checks a client_credentials request; the exchange writes nothing.
pub async fn check<S: ClientStore>(
    store: &S,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Checked, OAuthError> {
    let client = &client.client;

    // The client must be allowed this grant (§5.2) and be confidential (§4.4).
    require_allowed(client, GrantType::ClientCredentials)?;
    if client.secret_hash.is_none() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "a public client cannot use client_credentials",
        ));
    }

    // Which API: `audience`, `resource` (RFC 8707 §2), or the client's default.
    let (audience, target) = requested_audience(params)?
        .or_else(|| {
            let d = client.default_audience.clone()?;
            Some((d, Target::Default))
        })
        .ok_or_else(|| {
            OAuthError::invalid_request(
                "no audience was given and the client has no default audience",
            )
        })?;
    let Some(grant) = client.grant_for(&audience) else {
        // Only on this error path is the API itself looked up, to name the right error.
        return Err(match (target, store.api(&audience).settle().await?) {
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

    let issuance = Issuance {
        grant: GrantType::ClientCredentials,
        api: Some(api.clone()),
        client: client.clone(),
        user: None,
        scope,
        auth_time: None,
        nonce: None,
        session_id: None,
        // §4.4.3: no refresh token.
        refresh: RefreshPlan::None,
        authenticated: None,
        transaction: None,
        organization: None,
        roles: Vec::new(),
        permissions: Vec::new(),
        custom: Default::default(),
    };
    Ok(Checked {
        issuance,
        commit: Commit::Nothing,
    })
}
