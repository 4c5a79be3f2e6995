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
use crate::oauth::password::{verify, verify_dummy, Verdict};
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::{
    AttemptStore, ClientStore, HasAttempts, HasClients, HasSubjects, Login, SubjectStore, UserKey,
};

const WRONG: &str = "Wrong email or password.";
const LOCKED: &str =
    "Too many failed login attempts: this user is blocked from this IP address for now.";

/// The log event kind of a refused password grant: a wrong password (`fp`), brute-force
/// protection (`limit_wc`), or another failure (`f`).
pub fn failure_kind(e: &OAuthError) -> &'static str {
    use crate::model::log::kinds::{BLOCKED, FAILED_LOGIN, WRONG_PASSWORD};
    match e.description.as_deref() {
        Some(WRONG) => WRONG_PASSWORD,
        Some(LOCKED) => BLOCKED,
        _ => FAILED_LOGIN,
    }
}

/// §4.3.2: checks a password request. Only the attempt counter is written here (before the
/// password is verified); the login is recorded by the commit.
pub async fn check<P, C>(
    ports: &P,
    crypto: &C,
    random: &dyn Random,
    facts: &Facts<'_>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Checked, OAuthError>
where
    P: HasClients + HasSubjects + HasAttempts,
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
    // Auth0's `realm` names the connection (the user directory).
    let connection = params
        .get("realm")
        .unwrap_or(config.default_connection.as_str());
    // Validate everything about the request before touching the user's counters.
    let api = user_api(ports, params, client).await?;
    let requested = params.get("scope").map(Scope::parse).transpose()?;

    let organization = params.get("organization");
    let audience = api.as_ref().map(|a| a.identifier.as_str());
    let account = Account {
        connection,
        username,
        password,
    };
    let (user, subject, login) = sign_in(
        ports,
        crypto,
        random,
        facts,
        &account,
        organization,
        audience,
    )
    .await?;

    let issuance = user_issuance(
        facts,
        client,
        user,
        subject,
        api,
        requested.as_ref(),
        organization,
    )?;
    Ok(Checked {
        issuance,
        commit: Commit::Login(login),
    })
}

/// The credentials a user signs in with.
#[derive(Debug, Clone, Copy)]
pub struct Account<'a> {
    /// The connection (user directory).
    pub connection: &'a str,
    /// The email.
    pub username: &'a str,
    pub password: &'a str,
}

/// Checks a user's password, with brute-force protection (RFC 6749 §4.3.2) per user and IP:
/// the password grant's and the hosted login's, sharing the same counters. Only the attempt
/// counter is written here; the [`Login`] is for the commit to record. A wrong password, an
/// unknown email and a lock all answer `invalid_grant` with a message that does not tell
/// whether the email exists. The user is read with the `organization` asked for and their
/// roles and permissions on `audience`, in one round trip.
pub async fn sign_in<P, C>(
    ports: &P,
    crypto: &C,
    random: &dyn Random,
    facts: &Facts<'_>,
    account: &Account<'_>,
    organization: Option<&str>,
    audience: Option<&str>,
) -> Result<(User, Subject, Login), OAuthError>
where
    P: HasSubjects + HasAttempts,
    C: Crypto,
{
    let (connection, username, password) = (account.connection, account.username, account.password);
    let (config, now) = (facts.config, facts.now);
    // Count the attempt before verifying anything (RFC 6749 §4.3.2): one atomic increment,
    // so however many requests race, at most `max_failures` of them reach the hash.
    let ip = facts.client_ip.unwrap_or("unknown");
    // The address as stored: fullwidth and other forms whose NFKC is ASCII fold to it.
    let email = crate::model::email::normalize(username).to_ascii_lowercase();
    let user_key = format!("{connection}\n{email}");
    let policy = &config.lockout;
    let attempt = ports
        .attempts()
        .count_attempt(&user_key, ip, now, policy)
        .await?;
    if attempt > policy.max_failures {
        return Err(OAuthError::new(ErrorCode::InvalidGrant, LOCKED));
    }

    let key = UserKey::Email {
        connection,
        email_lower: &email,
    };
    let mut subject = ports
        .subjects()
        .subject(key, organization, audience)
        .await?;
    let user = subject.user.take();
    let verdict = match user.as_ref().and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => verify(crypto, password, hash, config.password_iterations).await?,
        None => {
            // An unknown user costs what a known one does.
            verify_dummy(crypto, password, config.password_iterations).await?;
            Verdict::Wrong
        }
    };
    let user: User = match (user, verdict) {
        (Some(user), Verdict::Right | Verdict::RightRehash) => user,
        _ => {
            // This attempt was the last one allowed: say so now.
            let msg = if attempt >= policy.max_failures {
                LOCKED
            } else {
                WRONG
            };
            return Err(OAuthError::new(ErrorCode::InvalidGrant, msg));
        }
    };
    if user.blocked {
        return Err(OAuthError::new(ErrorCode::InvalidGrant, "user is blocked"));
    }
    let rehash = match verdict {
        Verdict::RightRehash => Some(
            crate::oauth::password::hash(crypto, random, password, config.password_iterations)
                .await?,
        ),
        _ => None,
    };
    let login = Login {
        user_id: user.user_id.clone(),
        user_key,
        ip: ip.to_string(),
        rehash,
    };
    Ok((user, subject, login))
}

/// The issuance of an authenticated user (the password grant's last step, which the code
/// grant, the hosted login and the management API's explain share): the organization asked
/// for, which the user must belong to, the user's roles and permissions, and the scopes the
/// user may hold of those requested, all as `subject` (read for `organization` and `api`)
/// found them.
pub fn user_issuance(
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
            GrantType::Password,
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
