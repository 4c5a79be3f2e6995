//! Auth0's MFA grants (`http://auth0.com/oauth/grant-type/mfa-otp` and `…/mfa-recovery-code`):
//! the `mfa_token` of a password grant that answered `mfa_required`, with a code of the user's
//! authenticator app (`otp`) or one of their recovery codes (`recovery_code`).
//!
//! Who may: a client allowed the grant, holding an MFA token made for it (another client's
//! opens nothing), for the user it names. Wrong codes count toward the same lockout as wrong
//! passwords (the user's key and the IP). The factor and the token are spent together at the
//! check, before the pipeline runs, as a passwordless code is: a code is single use whatever
//! happens next. The login is counted, and the password's attempts cleared, by the commit.

use super::checked::Checked;
use super::require_allowed;
use super::user::{login_checked, Asked};
use crate::error::OAuthError;
use crate::model::mfa::TOTP;
use crate::model::{Authenticated, GrantType, Method};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::oauth::mfa::token::MfaToken;
use crate::oauth::mfa::totp::secret_purpose;
use crate::oauth::mfa::{recovery, totp};
use crate::oauth::params::Params;
use crate::oauth::signin::{Authentication, SignInError};
use crate::port::mfa::{MfaStore, Spent};
use crate::port::random::Random;
use crate::port::{AttemptStore, HasAttempts, HasClients, HasMfa, HasSubjects, Login};
use crate::port::{SubjectStore, UserKey};

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
        GrantType::MfaOtp => required("otp")?,
        _ => required("recovery_code")?,
    };
    let now = facts.now;
    let token =
        MfaToken::open(kek, value, Some(&client.client_id), now).ok_or(SignInError::WrongFactor)?;
    // What the password grant asked for, checked again (an API deleted meanwhile is refused).
    let asked_params = Params::from_pairs(token.asked.iter().cloned())?;
    let asked = Asked::read(ports, &asked_params, client).await?;

    let email = token.asked("email").unwrap_or_default();
    let user_key = format!("{}\n{email}", token.connection);
    let ip = facts.client_ip.unwrap_or("unknown");
    let policy = &facts.config.lockout;
    let attempt = ports
        .attempts()
        .count_attempt(&user_key, ip, now, policy)
        .await?;
    if attempt > policy.max_failures {
        return Err(SignInError::Locked);
    }

    let redemption = random.token(16)?;
    let spent = Spent {
        jti: &token.jti,
        expires_at: token.expires_at,
        redemption: &redemption,
    };
    let store = ports.mfa();
    let (method, left, enrolled) = match grant {
        GrantType::MfaOtp => {
            let (authenticators, _) = store.authenticators(&token.user_id).await?;
            let matched = authenticators
                .iter()
                .filter(|a| a.kind == TOTP)
                .find_map(|a| {
                    let sealed = a.secret_sealed.as_deref()?;
                    let secret = kek.open_for(&secret_purpose(&a.id), sealed)?;
                    let step = totp::matching_step(&secret, proof, now, a.last_step)?;
                    Some((a, step))
                });
            let (app, step) = matched.ok_or(SignInError::WrongFactor)?;
            let accepted = store.accept_step(&token.user_id, &app.id, step, &spent, now);
            if !accepted.await? {
                return Err(SignInError::WrongFactor);
            }
            (Some(Method::ONE_TIME), None, !app.confirmed)
        }
        _ => {
            let hash = recovery::code_hash(proof);
            let spent = store.spend_recovery_code(&token.user_id, &hash, &spent, now);
            let left = spent.await?.ok_or(SignInError::WrongFactor)?;
            (None, Some(left), false)
        }
    };

    let mut subject = ports
        .subjects()
        .subject(
            UserKey::Id(&token.user_id),
            asked.organization,
            asked.audience(),
        )
        .await?;
    let user = subject.user.take().ok_or(SignInError::WrongFactor)?;
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    // RFC 8176: the password, the code of an authenticator app, and more than one factor. A
    // recovery code has no registered value of its own.
    let methods = [Some(Method::PASSWORD), method, Some(Method::MULTI_FACTOR)]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect();
    let signed_in = Authentication {
        login: Some(Login {
            user_id: user.user_id.clone(),
            user_key,
            ip: ip.to_string(),
            rehash: token.asked("rehash").map(str::to_string),
            connection: token.connection.clone(),
            email_lower: email.to_string(),
            new_user: None,
        }),
        user,
        subject,
        authenticated: Authenticated {
            connection: token.connection.clone(),
            methods,
            acr: None,
        },
        auth_time: now,
        new_user: false,
        upstream: None,
    };
    Ok(Redeemed {
        checked: login_checked(grant, facts, client, signed_in, asked)?,
        recovery_left: left,
        enrolled,
    })
}
