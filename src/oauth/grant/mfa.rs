//! Auth0's MFA grants (`http://auth0.com/oauth/grant-type/mfa-otp` and `…/mfa-recovery-code`):
//! the `mfa_token` of a password grant that answered `mfa_required`, with a code of the user's
//! authenticator app (`otp`) or one of their recovery codes (`recovery_code`).
//!
//! Who may: a client allowed the grant, holding an MFA token made for it (another client's
//! opens nothing; the hosted login page's are redeemed on that page only), for the user it
//! names. The factor itself is checked and spent by [`redeem`]; the login is counted, and the
//! password's attempts cleared, by the commit.

use super::checked::Checked;
use super::require_allowed;
use super::user::{login_checked, Asked};
use crate::error::OAuthError;
use crate::model::GrantType;
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::oauth::mfa::redeem::{redeem, Proof};
use crate::oauth::mfa::token::MfaToken;
use crate::oauth::params::Params;
use crate::oauth::signin::SignInError;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{HasAttempts, HasClients, HasMfa, HasSubjects};

/// What an MFA grant's check gives beside the issuance.
pub struct Redeemed {
    pub checked: Checked,
    /// The recovery codes left, after one was spent.
    pub recovery_left: Option<usize>,
    /// The code confirmed a newly enrolled authenticator app.
    pub enrolled: bool,
}

/// Checks an MFA grant request and spends its factor and token.
pub async fn check<P>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    client: &AuthenticatedClient,
    params: &Params,
    grant: GrantType,
    kek: Option<&Kek>,
) -> Result<Redeemed, SignInError>
where
    P: HasClients + HasSubjects + HasAttempts + HasMfa,
{
    let client = &client.client;
    require_allowed(client, grant)?;
    let kek = kek.ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
    let required = |name: &str| {
        params
            .get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
    };
    let value = required("mfa_token")?;
    let proof = match grant {
        GrantType::MfaOtp => Proof::Otp(required("otp")?),
        _ => Proof::RecoveryCode(required("recovery_code")?),
    };
    let token = MfaToken::open(kek, value, Some(&client.client_id), facts.now)
        .filter(|t| !t.hosted())
        .ok_or(SignInError::WrongFactor)?;
    // What the password grant asked for, checked again (an API deleted meanwhile is refused).
    let asked_params = Params::from_pairs(token.asked.iter().cloned())?;
    let asked = Asked::read(ports, &asked_params, client).settle().await?;
    let (organization, audience) = (asked.organization, asked.audience());
    let proven = redeem(
        ports,
        random,
        facts,
        kek,
        &token,
        proof,
        organization,
        audience,
    );
    let proven = proven.settle().await?;
    Ok(Redeemed {
        checked: login_checked(grant, facts, client, proven.signed_in, asked)?,
        recovery_left: proven.recovery_left,
        enrolled: proven.enrolled,
    })
}
