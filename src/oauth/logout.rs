//! Logout: OpenID Connect RP-Initiated Logout 1.0 (`/oidc/logout`) and Auth0's `/v2/logout`.
//! Where the user goes afterwards is an exact match against the client's
//! `allowed_logout_urls`; anything else is refused on the issuer's page, never followed.

use crate::error::OAuthError;
use crate::model::Client;
use crate::oauth::params::Params;
use crate::port::ClientStore;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// Which logout endpoint was called: their parameters differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// RP-Initiated Logout 1.0: `post_logout_redirect_uri`, `state`, `client_id`,
    /// `id_token_hint`.
    Oidc,
    /// Auth0: `returnTo`, `client_id`.
    Auth0,
}

/// Where to send the user once signed out, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterLogout {
    /// The checked URL, with `state` appended (OIDC).
    pub redirect: Option<String>,
}

/// The client an ID token was issued to, read from the token without verifying it: it is
/// only a hint, and what it names must still match the client's registered URLs.
fn hinted_client(id_token: &str) -> Option<String> {
    let payload = id_token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    match claims.get("aud")? {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(list) => list.first()?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Checks a logout request. The session is ended whatever this answers; an error here only
/// means the user is not sent anywhere.
pub async fn check(
    clients: &impl ClientStore,
    params: &Params,
    dialect: Dialect,
) -> Result<AfterLogout, OAuthError> {
    let (target, state) = match dialect {
        Dialect::Oidc => (params.get("post_logout_redirect_uri"), params.get("state")),
        Dialect::Auth0 => (params.get("returnTo"), None),
    };
    let Some(target) = target else {
        return Ok(AfterLogout { redirect: None });
    };
    let client_id = params
        .get("client_id")
        .map(str::to_string)
        .or_else(|| params.get("id_token_hint").and_then(hinted_client))
        .ok_or_else(|| {
            OAuthError::invalid_request("client_id is required to return after logout")
        })?;
    let client: Client = clients
        .client(&client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_request("client_id is not a known client"))?;
    if !client.allowed_logout_urls.iter().any(|u| u == target) {
        return Err(OAuthError::invalid_request(
            "the return URL is not an allowed logout URL of this client",
        ));
    }
    let mut redirect = target.to_string();
    if let Some(state) = state {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("state", state)
            .finish();
        redirect.push(if redirect.contains('?') { '&' } else { '?' });
        redirect.push_str(&query);
    }
    Ok(AfterLogout {
        redirect: Some(redirect),
    })
}
