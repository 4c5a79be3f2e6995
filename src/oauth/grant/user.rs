//! The issuance of a user, whichever way they signed in: the organization asked for, the
//! user's roles and permissions, and the scopes the user may hold. The password grant, the
//! code grant, browser sign-ins and the management API's explain share it.

use super::checked::{Checked, Commit};
use super::{organization_of, requested_audience, user_may_hold, Target};
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::model::scope::Scope;
use crate::model::GrantType;
use crate::model::Trigger;
use crate::model::{Api, Client, Subject, User};
use crate::model::{Issuance, RefreshPlan};
use crate::oauth::claims::pipeline::Pipeline;
use crate::oauth::claims::OIDC_SCOPES;
use crate::oauth::facts::Facts;
use crate::oauth::keys::Kek;
use crate::oauth::mfa;
use crate::oauth::params::Params;
use crate::oauth::signin::{Authentication, SignInError};
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::Login;
use crate::port::{ClaimsStore, ClientStore, HasClients, HasExchange, HasMfa};

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

/// What a grant that signs a user in at the token endpoint (the password grant, the
/// passwordless OTP grant) asks for, read and checked before its credential is spent: the
/// API, the scope and the organization.
pub struct Asked<'p> {
    pub api: Option<Api>,
    pub requested: Option<Scope>,
    pub organization: Option<&'p str>,
}

impl<'p> Asked<'p> {
    pub async fn read(
        ports: &impl HasClients,
        params: &'p Params,
        client: &Client,
    ) -> Result<Self, OAuthError> {
        Ok(Self {
            api: user_api(ports, params, client).settle().await?,
            requested: params.get("scope").map(Scope::parse).transpose()?,
            organization: params.get("organization"),
        })
    }

    /// The API's identifier, if one was asked for.
    pub fn audience(&self) -> Option<&str> {
        self.api.as_ref().map(|a| a.identifier.as_str())
    }
}

/// The last step of such a grant: the `grant` issuance of `signed_in` for what was `asked`,
/// and the login its commit records.
pub fn login_checked(
    grant: GrantType,
    facts: &Facts<'_>,
    client: &Client,
    signed_in: Authentication,
    asked: Asked<'_>,
) -> Result<Checked, OAuthError> {
    let Authentication {
        user,
        subject,
        authenticated,
        login,
        ..
    } = signed_in;
    let login = login.ok_or_else(|| OAuthError::server("a login has its bookkeeping"))?;
    let issuance = user_issuance(
        grant,
        facts,
        client,
        user,
        subject,
        asked.api,
        asked.requested.as_ref(),
        asked.organization,
    )?;
    Ok(Checked {
        issuance: Issuance {
            authenticated: Some(authenticated),
            ..issuance
        },
        commit: Commit::Login(login),
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
    match (ports.clients().api(&audience).settle().await?, target) {
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

/// The second factor a user grant (password, passwordless OTP) must be followed by, when the
/// policy asks for one, or a post-login rule (`multifactor`) for this sign-in, or the request
/// for the MFA token: `mfa_required` with an MFA token carrying what was asked
/// ([`mfa::ASKED`]), which the MFA grants redeem.
#[allow(clippy::too_many_arguments)]
pub async fn second_factor_due<P: HasMfa + HasExchange>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    client: &Client,
    params: &Params,
    asked: &Asked<'_>,
    signed_in: &Authentication,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
) -> Result<(), SignInError> {
    let (rules, _) = pipeline
        .store
        .pipeline(Trigger::PostLogin.as_str())
        .settle()
        .await?;
    let scope = params.get("scope").unwrap_or_default();
    let (audience, organization) = (asked.audience(), asked.organization);
    let id = &client.client_id;
    let grant = params.get("grant_type").unwrap_or_default();
    let roles = &signed_in.subject.access.roles;
    let ruled = mfa::rule_asks(&rules, id, audience, grant, scope, organization, roles);
    let kek = pipeline.kek;
    mfa_required(ports, random, facts, id, signed_in, params, ruled, kek)
        .settle()
        .await
}

/// After the pipeline of a password or passwordless OTP grant: a post-login hook that asked
/// for a second factor (`"multifactor": true`) gets `mfa_required`, as the policy's would,
/// where a factor is offered and the sign-in (`issuance`, its `login`) proved none.
#[allow(clippy::too_many_arguments)]
pub async fn second_factor_asked<P: HasMfa + HasExchange>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    params: &Params,
    issuance: &Issuance,
    login: &Login,
    kek: Option<&Kek>,
) -> Result<(), SignInError> {
    let (Some(user), Some(authenticated)) = (&issuance.user, &issuance.authenticated) else {
        return Ok(());
    };
    if authenticated.multi_factor() {
        return Ok(());
    }
    let signed_in = Authentication {
        user: user.clone(),
        subject: Subject::default(),
        authenticated: authenticated.clone(),
        auth_time: issuance.auth_time.unwrap_or(facts.now),
        login: Some(login.clone()),
        new_user: false,
        upstream: None,
    };
    let client_id = &issuance.client.client_id;
    mfa_required(
        ports, random, facts, client_id, &signed_in, params, true, kek,
    )
    .settle()
    .await
}

/// `mfa_required`, with a sealed MFA token carrying what the request asked for
/// ([`mfa::ASKED`]), when [`mfa::gate`] asks `signed_in` for a second factor (`step_up`: one
/// asked for beyond the policy).
#[allow(clippy::too_many_arguments)]
async fn mfa_required<P: HasMfa + HasExchange>(
    ports: &P,
    random: &dyn Random,
    facts: &Facts<'_>,
    client_id: &str,
    signed_in: &Authentication,
    params: &Params,
    step_up: bool,
    kek: Option<&Kek>,
) -> Result<(), SignInError> {
    let asked = mfa::ASKED
        .iter()
        .filter_map(|name| Some((name.to_string(), params.get(name)?.to_string())))
        .collect();
    let gate = mfa::gate(ports, random, facts, client_id, signed_in, asked, step_up);
    match gate.settle().await? {
        None => Ok(()),
        Some(token) => {
            let kek =
                kek.ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
            Err(SignInError::MfaRequired(token.seal(kek, random)?))
        }
    }
}
