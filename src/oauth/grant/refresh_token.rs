//! Refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use consumes the token in one atomic step and issues the next of its family; a
//! consumed token presented again revokes the whole family.

use super::checked::{Checked, Commit};
use super::user::user_scope;
use super::{granted_api, organization_of, require_allowed};
use crate::error::OAuthError;
use crate::model::scope::Scope;
use crate::model::GrantType;
use crate::model::{Client, RefreshRecord};
use crate::model::{Issuance, RefreshPlan};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::params::Params;
use crate::oauth::token::refresh::hash_refresh_token;
use crate::port::settled::Settle;
use crate::port::{HasClients, HasRefresh, HasSubjects, RefreshStore, SubjectStore};

/// §6: checks a refresh request into an issuance whose data is read fresh (the user, their
/// profile and metadata, the API). The token is consumed by the commit, after the pipeline
/// allowed the issuance and the tokens were signed.
pub async fn check<P>(
    ports: &P,
    facts: &Facts<'_>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Checked, OAuthError>
where
    P: HasRefresh + HasSubjects + HasClients,
{
    let client = &client.client;
    let refresh = ports.refresh();
    let now = facts.now;
    require_allowed(client, GrantType::RefreshToken)?;

    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let hash = hash_refresh_token(presented);
    // The token, its user, organization, roles and permissions: one round trip.
    let (record, mut subject) = ports
        .subjects()
        .refresh_subject(&hash)
        .settle()
        .await?
        .filter(|(r, _)| r.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("refresh token is invalid"))?;
    if record.revoked_at.is_some() {
        return Err(OAuthError::invalid_grant("refresh token was revoked"));
    }
    if record.idle_expires_at <= now || record.absolute_expires_at <= now {
        return Err(OAuthError::invalid_grant("refresh token expired"));
    }
    // A used token is either a retry inside the reuse interval or a replay.
    let commit = match record.used_at {
        Some(used_at) => {
            reuse_or_replay(refresh, client, &record.family_id, used_at, now)
                .settle()
                .await?;
            Commit::Retry
        }
        None => Commit::Rotate { token_hash: hash },
    };

    // §6: the grant's scope stays with the family; `scope` may narrow the access token's
    // scope, never widen it. Nothing is consumed if this fails.
    let granted = Scope::parse(&record.scope)?;
    let scope = match params.get("scope").map(Scope::parse).transpose()? {
        Some(requested) => Scope::narrow(Some(&requested), granted.tokens())?,
        None => granted,
    };

    // Fresh data: a deleted or blocked user cannot refresh, and the family dies with them.
    let user = match subject.user.take() {
        Some(u) if !u.blocked => u,
        _ => {
            refresh
                .revoke_family(&record.family_id, now)
                .settle()
                .await?;
            return Err(OAuthError::invalid_grant(
                "the user is blocked or no longer exists",
            ));
        }
    };
    // The organization must still exist and the user still be a member.
    let organization = match organization_of(&subject, record.org_id.as_deref()) {
        Ok(org) => org,
        Err(e) => {
            refresh
                .revoke_family(&record.family_id, now)
                .settle()
                .await?;
            return Err(e);
        }
    };
    let api = granted_api(ports.clients(), record.audience.as_deref(), "grant")
        .settle()
        .await?;

    // Fresh authorization: API scopes the user may no longer hold (a lost permission, a scope
    // no longer user-grantable) leave the access token; the grant itself is kept.
    let access = subject.access;
    let (scope, _) = user_scope(
        facts.config,
        Some(&scope),
        api.as_ref(),
        client,
        &access.permissions,
    );

    // Rotation always continues the family with the grant's scope, narrowed or not.
    let plan = RefreshPlan::Continue {
        family_id: record.family_id.clone(),
        absolute_expires_at: record.absolute_expires_at,
        grant_scope: record.scope.clone(),
    };
    let issuance = Issuance {
        auth_time: Some(record.auth_time),
        authenticated: record.authenticated.clone(),
        refresh: plan,
        ..Issuance::for_user(
            GrantType::RefreshToken,
            client.clone(),
            user,
            api,
            scope,
            organization,
            access,
        )
    };
    Ok(Checked { issuance, commit })
}

/// The commit's rotation found the token no longer usable: another request rotated it
/// first (a concurrent use: a retry within the reuse interval, else a replay), or its family
/// was revoked or it expired meanwhile. Nothing was stored.
pub async fn lost_rotation(
    refresh: &impl RefreshStore,
    now: u64,
    client: &Client,
    token_hash: &str,
    next: &RefreshRecord,
) -> Result<(), OAuthError> {
    let record = refresh.find_refresh(token_hash).settle().await?;
    match record.and_then(|r| r.used_at.filter(|_| r.revoked_at.is_none())) {
        Some(used_at) => {
            reuse_or_replay(refresh, client, &next.family_id, used_at, now)
                .settle()
                .await?;
            store_retry(refresh, next).settle().await
        }
        None => Err(OAuthError::invalid_grant(
            "refresh token is no longer valid",
        )),
    }
}

/// Stores the new token of a retry within the reuse interval, unless the family was revoked
/// meanwhile.
pub async fn store_retry(
    refresh: &impl RefreshStore,
    next: &RefreshRecord,
) -> Result<(), OAuthError> {
    if refresh.insert_refresh(next).settle().await? {
        return Ok(());
    }
    Err(OAuthError::invalid_grant(
        "every token of this grant was revoked (a refresh token was used twice)",
    ))
}

/// A token already used at `used_at`: accepted as a retry within the client's reuse
/// interval; otherwise the family is revoked and the request refused.
async fn reuse_or_replay(
    refresh: &impl RefreshStore,
    client: &Client,
    family_id: &str,
    used_at: u64,
    now: u64,
) -> Result<(), OAuthError> {
    let interval = client.refresh_reuse_interval;
    if interval > 0 && now.saturating_sub(used_at) <= interval {
        return Ok(());
    }
    refresh.revoke_family(family_id, now).settle().await?;
    Err(OAuthError::invalid_grant(
        "refresh token was already used; every token of this grant is now revoked",
    ))
}
