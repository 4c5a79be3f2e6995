//! Resource owner password credentials grant (RFC 6749 §4.3), off unless the client enables
//! it, with brute-force protection (§4.3.2) per user and IP.

use super::checked::Checked;
use super::require_allowed;
use super::user::{login_checked, second_factor_due, Asked};
use crate::error::OAuthError;
use crate::model::GrantType;
use crate::oauth::claims::pipeline::Pipeline;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::params::Params;
use crate::oauth::signin::connection::{choose, with_passwords};
use crate::oauth::signin::password::{authenticate, Account};
use crate::oauth::signin::user_store::StoreCall;
use crate::oauth::signin::SignInError;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::ClaimsStore;
use crate::port::{ConnectionStore, HasAttempts, HasClients, HasConnections, HasSubjects};
use crate::port::{HasExchange, HasMfa};

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
    pipeline: &Pipeline<'_, impl ClaimsStore>,
) -> Result<Checked, SignInError>
where
    P: HasClients + HasConnections + HasSubjects + HasAttempts + HasMfa + HasExchange,
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
    let connections = ports.connections().all_connections().settle().await?;
    let connection = choose(
        &connections,
        &client.client_id,
        Some(params.get("realm").unwrap_or(&config.default_connection)),
        &config.default_connection,
    )
    .and_then(with_passwords)?;
    // Validate everything about the request before touching the user's counters.
    let asked = Asked::read(ports, params, client).settle().await?;

    let store =
        StoreCall::of(pipeline.kek, connection, pipeline.hooks)?.map(|call| (call, connection));
    let account = Account {
        store,
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
        asked.organization,
        asked.audience(),
    );
    let signed_in = signed_in.settle().await?;
    second_factor_due(
        ports, random, facts, client, params, &asked, &signed_in, pipeline,
    )
    .settle()
    .await?;
    Ok(login_checked(
        GrantType::Password,
        facts,
        client,
        signed_in,
        asked,
    )?)
}
