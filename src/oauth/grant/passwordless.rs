//! Auth0's passwordless OTP grant (`http://auth0.com/oauth/grant-type/passwordless/otp`):
//! the code emailed by `POST /passwordless/start` (`otp`) for the address (`username`) of
//! the passwordless connection `realm`, for the client that asked for it.
//!
//! Who may: a client allowed the grant, with the code sent for it (a code asked for by
//! another client does not redeem here). The code is consumed at the check, before the
//! pipeline runs: a code is single use whatever happens next, as a reset link is. A new
//! user is stored by the commit, with the login. A second factor is asked for as after a
//! password (`mfa_required`), the code counting as the first.

use super::checked::Checked;
use super::require_allowed;
use super::user::{login_checked, second_factor_due, Asked};
use crate::error::OAuthError;
use crate::model::GrantType;
use crate::oauth::claims::pipeline::Pipeline;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::params::Params;
use crate::oauth::signin::connection::choose;
use crate::oauth::signin::passwordless::{redeem_code, signed_in};
use crate::oauth::signin::SignInError;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, ConnectionStore, HasClients, HasConnections, HasMail};
use crate::port::{HasExchange, HasMfa, HasSubjects};

/// Checks an OTP request and redeems its code. A refusal is typed, as the password grant's.
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
    P: HasClients + HasConnections + HasSubjects + HasMail + HasMfa + HasExchange,
    C: Crypto,
{
    let client = &client.client;
    require_allowed(client, GrantType::PasswordlessOtp)?;
    let required = |name: &str| {
        params
            .get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    };
    let (username, otp, realm) = (required("username")?, required("otp")?, required("realm")?);
    let connections = ports.connections().all_connections().settle().await?;
    let default = &facts.config.default_connection;
    let connection = choose(&connections, &client.client_id, Some(realm), default)?;
    if !connection.is_passwordless() {
        return Err(OAuthError::invalid_request(format!(
            "the connection {realm} is not a passwordless connection"
        ))
        .into());
    }
    // Validate everything about the request before the code is spent.
    let asked = Asked::read(ports, params, client).settle().await?;
    let key = (
        connection.name.as_str(),
        username,
        client.client_id.as_str(),
    );
    redeem_code(ports.mail(), facts.now, key, otp)
        .settle()
        .await?;
    let signed = signed_in(
        ports,
        crypto,
        random,
        facts,
        connection,
        username,
        asked.organization,
        asked.audience(),
    );
    let signed_in = signed.settle().await?;
    second_factor_due(
        ports, random, facts, client, params, &asked, &signed_in, pipeline,
    )
    .settle()
    .await?;
    Ok(login_checked(
        GrantType::PasswordlessOtp,
        facts,
        client,
        signed_in,
        asked,
    )?)
}
