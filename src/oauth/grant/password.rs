//! Resource owner password credentials grant (RFC 6749 §4.3), off unless the client enables
//! it, with brute-force protection (§4.3.2) per user and IP.

use super::checked::{Checked, Commit};
use super::{organization_of, requested_audience, require_allowed, user_may_hold, Target};
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::model::scope::Scope;
use crate::model::GrantType;
use crate::model::{Api, Client, Subject, User};
use crate::model::{Issuance, RefreshPlan};
use crate::oauth::claims::OIDC_SCOPES;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::params::Params;
use crate::oauth::signin::connection::choose;
use crate::oauth::signin::password::{authenticate, Account};
use crate::oauth::signin::{Authentication, SignInError};
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::{
    ClientStore, ConnectionStore, HasAttempts, HasClients, HasConnections, HasSubjects,
};

/// §4.3.2: checks a password request. Only the attempt counter is written here (before the
/// password is verified); the login is recorded by the commit. A refusal is typed, so the
/// exchange logs its kind and answers its [`SignInError::into_grant_error`].
pub async fn check<P, C>(
    ports: &P,
    crypto: &C,
    random: &dyn Random,
    facts: &Facts<'_>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Checked, SignInError>
where
    P: HasClients + HasConnections + HasSubjects + HasAttempts,
    C: Crypto,
{
    let client = &client.client;
    let config = facts.config;
    require_allowed(client, GrantType::Password)?;

    let username = params
        .get("username")
        .ok_or_else(|| OAuthError::invalid_request("username is required"))?;
    let password = params
        .get("password")
        .ok_or_else(|| OAuthError::invalid_request("password is required"))?;
    // Auth0's `realm` names the connection (the user directory); without one, the tenant's
    // default connection. Either must be enabled for the client.
    let connections = ports.connections().all_connections().await?;
    let connection = choose(
        &connections,
        &client.client_id,
        Some(params.get("realm").unwrap_or(&config.default_connection)),
        &config.default_connection,
    )?;
    // Validate everything about the request before touching the user's counters.
    let api = user_api(ports, params, client).await?;
    let requested = params.get("scope").map(Scope::parse).transpose()?;

    let organization = params.get("organization");
    let audience = api.as_ref().map(|a| a.identifier.as_str());
    let account = Account {
        connection: &connection.name,
        username,
        password,
        brute_force_protection: connection.brute_force_protection(),
    };
    let signed_in = authenticate(
        ports,
        crypto,
        random,
        facts,
        &account,
        organization,
        audience,
    );
    let Authentication {
        user,
        subject,
        authenticated,
        login,
        ..
    } = signed_in.await?;
    let login = login.ok_or_else(|| OAuthError::server("a password login has its bookkeeping"))?;
    let issuance = user_issuance(
        GrantType::Password,
        facts,
        client,
        user,
        subject,
        api,
        requested.as_ref(),
        organization,
    )?;
    Ok(Checked {
        issuance: Issuance {
            authenticated: Some(authenticated),
            ..issuance
        },
        commit: Commit::Login(login),
    })
}

/// The `grant` issuance of an authenticated user (the password grant's last step, which the
/// code grant, the hosted login and the management API's explain share): the organization
/// asked for, which the user must belong to, the user's roles and permissions, and the scopes
/// the user may hold of those requested, all as `subject` (read for `organization` and `api`)
/// found them.
#[allow(clippy::too_many_arguments)]
pub fn user_issuance(
    grant: GrantType,
    facts: &Facts<'_>,
    client: &Client,
    user: User,
    subject: Subject,
    api: Option<Api>,
    requested: Option<&Scope>,
    organization: Option<&str>,
) -> Result<Issuance, OAuthError> {
    let organization = organization_of(&subject, organization)?;
    let access = subject.access;
    let (scope, refresh) = user_scope(
        facts.config,
        requested,
        api.as_ref(),
        client,
        &access.permissions,
    );
    Ok(Issuance {
        auth_time: Some(facts.now),
        refresh,
        ..Issuance::for_user(
            grant,
            client.clone(),
            user,
            api,
            scope,
            organization,
            access,
        )
    })
}

/// The API a user token is for: `audience`/`resource`, else the client's default, else none
/// (a token good only at /userinfo). An unknown API is refused.
pub async fn user_api(
    ports: &impl HasClients,
    params: &Params,
    client: &Client,
) -> Result<Option<Api>, OAuthError> {
    let named = requested_audience(params)?.or_else(|| {
        let d = client.default_audience.clone()?;
        Some((d, Target::Default))
    });
    let Some((audience, target)) = named else {
        return Ok(None);
    };
    match (ports.clients().api(&audience).await?, target) {
        (Some(api), _) => Ok(Some(api)),
        (None, Target::Resource) => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource is not a registered API",
        )),
        (None, _) => Err(OAuthError::invalid_request(format!(
            "audience {audience} is not a registered API"
        ))),
    }
}

/// What a user is granted of what was asked: OIDC scopes, and the API's scopes the user may
/// hold ([`user_may_hold`]); anything else is dropped, as Auth0 does (the response's `scope`
/// says what was granted). `offline_access` stays, and yields a refresh token, only when the
/// client may use the refresh_token grant.
pub fn user_scope(
    config: &Config,
    requested: Option<&Scope>,
    api: Option<&Api>,
    client: &Client,
    permissions: &[String],
) -> (Scope, RefreshPlan) {
    let allow_refresh = client.allows(GrantType::RefreshToken.as_str());
    let kept: Vec<&str> = requested
        .map(|s| s.tokens())
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .filter(|t| {
            (OIDC_SCOPES.contains(t) && (*t != "offline_access" || allow_refresh))
                || api.is_some_and(|a| user_may_hold(config, a, permissions, t))
        })
        .collect();
    let refresh = if kept.contains(&"offline_access") {
        RefreshPlan::NewFamily
    } else {
        RefreshPlan::None
    };
    let scope = Scope::parse(&kept.join(" ")).unwrap_or_default();
    (scope, refresh)
}
