//! The grants of the token endpoint, one file each; [`GrantType`] is the closed set the
//! endpoint dispatches on.
//!
//! Every exchange runs check, enrich, sign, commit: a grant's `check` reads and yields a
//! [`checked::Checked`] issuance and the writes it will need; the claims pipeline runs on it (and may
//! deny); the tokens are signed; then [`commit`] performs every write of the exchange in one
//! atomic storage operation. A failure before the commit leaves storage as it was, so a
//! client's retry is never mistaken for a replay. The only writes before the commit are the
//! ones a refusal itself needs: the attempt counter of the password grant (counted before the
//! password is verified) and the revocation of a family on reuse.

pub mod authorization_code;
pub mod checked;
pub mod client_credentials;
pub mod commit;
pub mod mfa;
pub mod password;
pub mod passwordless;
pub mod refresh_token;
pub mod user;

use crate::error::{ErrorCode, OAuthError};
use crate::model::config::{Config, SELF_SERVICE_SCOPES};
use crate::model::GrantType;
use crate::model::{Api, Organization, Subject};
use crate::port::settled::Settle;

/// §5.2 `unauthorized_client` unless the client may use `grant`.
pub fn require_allowed(client: &crate::model::Client, grant: GrantType) -> Result<(), OAuthError> {
    if client.allows(grant.as_str()) {
        return Ok(());
    }
    Err(OAuthError::new(
        ErrorCode::UnauthorizedClient,
        format!("client is not allowed the {} grant", grant.as_str()),
    ))
}

/// Who may hold an API scope in a user-delegated token (password, refresh_token, and the
/// code flow to come): the scope must be one the API defines, and
/// - on the management API, only a self-service scope ([`SELF_SERVICE_SCOPES`]), whatever
///   RBAC or the API's settings say;
/// - with RBAC on, only a scope among the user's permissions on the API;
/// - with RBAC off, only a scope the API lists in `user_grantable_scopes`.
///
/// Machine clients get API scopes through client grants instead ([`client_credentials`]).
pub fn user_may_hold(config: &Config, api: &Api, permissions: &[String], scope: &str) -> bool {
    let defined = api.scopes.iter().any(|s| s == scope);
    let management_ok =
        api.identifier != config.management_audience() || SELF_SERVICE_SCOPES.contains(&scope);
    let user_ok = if api.rbac_enabled {
        permissions.iter().any(|p| p == scope)
    } else {
        api.user_grantable_scopes.iter().any(|s| s == scope)
    };
    defined && management_ok && user_ok
}

/// The organization a user grant is made in: the one the request names (by id or name), of
/// which the user must be a member, as the [`Subject`] read found it. A user in several
/// organizations gets exactly the one asked for; none asked, none in the token.
pub fn organization_of(
    subject: &Subject,
    requested: Option<&str>,
) -> Result<Option<Organization>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(None);
    };
    let org = subject.organization.clone().ok_or_else(|| {
        OAuthError::invalid_request(format!("organization {requested} does not exist"))
    })?;
    if !subject.member {
        return Err(OAuthError::new(
            ErrorCode::InvalidGrant,
            format!("the user is not a member of organization {}", org.name),
        ));
    }
    Ok(Some(org))
}

/// The API a stored grant was made for (a refresh token's family, a code), read again:
/// `invalid_grant` naming `what` when it no longer exists.
pub async fn granted_api(
    clients: &impl crate::port::ClientStore,
    audience: Option<&str>,
    what: &str,
) -> Result<Option<Api>, OAuthError> {
    let Some(audience) = audience else {
        return Ok(None);
    };
    let api = clients.api(audience).settle().await?.ok_or_else(|| {
        OAuthError::invalid_grant(format!("the API of this {what} no longer exists"))
    })?;
    Ok(Some(api))
}

/// Which parameter named the API; it decides the error vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Auth0's `audience`.
    Audience,
    /// RFC 8707's `resource`.
    Resource,
    /// The client's default audience.
    Default,
}

/// The API a token request names with `audience` or `resource` (RFC 8707 §2), if any.
pub fn requested_audience(
    params: &crate::oauth::params::Params,
) -> Result<Option<(String, Target)>, OAuthError> {
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
        (Some(a), _) => Ok(Some((a.to_string(), Target::Audience))),
        (None, Some(r)) => Ok(Some((r.to_string(), Target::Resource))),
        (None, None) => Ok(None),
    }
}
