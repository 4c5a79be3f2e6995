//! Refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2):
//! every use consumes the token in one atomic step and issues the next of its family; a
//! consumed token presented again revokes the whole family.

use super::{require_allowed, user_may_hold, GrantType};
use crate::claims::OIDC_SCOPES;
use crate::client_auth::AuthenticatedClient;
use crate::crypto::Crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::http::params::Params;
use crate::issuer::Issuer;
use crate::scope::Scope;
use crate::store::{Client, RefreshRecord, Store};
use crate::token::refresh::hash_refresh_token;
use crate::token::{Issuance, RefreshPlan};

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// §6: validates a refresh request, rotates the token, and yields an [`Issuance`] whose data
/// is read fresh (the user, their profile and metadata, the API).
pub async fn validate<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Issuance, OAuthError> {
    let client = &client.client;
    let store = issuer.store;
    let now = issuer.clock.now();
    require_allowed(client, GrantType::RefreshToken)?;

    let presented = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let hash = hash_refresh_token(presented);
    let record = store
        .find_refresh(&hash)
        .await?
        .filter(|r| r.client_id == client.client_id)
        .ok_or_else(|| invalid_grant("refresh token is invalid"))?;
    if record.revoked_at.is_some() {
        return Err(invalid_grant("refresh token was revoked"));
    }
    if record.idle_expires_at <= now || record.absolute_expires_at <= now {
        return Err(invalid_grant("refresh token expired"));
    }
    // A used token is either a retry inside the reuse interval or a replay.
    if let Some(used_at) = record.used_at {
        reuse_or_replay(issuer, client, &record, used_at, now).await?;
    }

    // §6: the grant's scope stays with the family; `scope` may narrow the access token's
    // scope, never widen it. Nothing is consumed if this fails.
    let granted = Scope::parse(&record.scope)?;
    let scope = match params.get("scope").map(Scope::parse).transpose()? {
        Some(requested) => Scope::narrow(Some(&requested), granted.tokens())?,
        None => granted,
    };

    // Fresh data: a deleted or blocked user cannot refresh, and the family dies with them.
    let user = match store.user(&record.user_id).await? {
        Some(u) if !u.blocked => u,
        _ => {
            store.revoke_family(&record.family_id, now).await?;
            return Err(invalid_grant("the user is blocked or no longer exists"));
        }
    };
    // The organization must still exist and the user still be a member.
    let organization = match &record.org_id {
        Some(org_id) => {
            match super::select_organization(store, Some(org_id), &user.user_id).await {
                Ok(org) => org,
                Err(e) => {
                    store.revoke_family(&record.family_id, now).await?;
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let api = match &record.audience {
        Some(aud) => Some(
            store
                .api(aud)
                .await?
                .ok_or_else(|| invalid_grant("the API of this grant no longer exists"))?,
        ),
        None => None,
    };

    // Rotate: exactly one concurrent use wins; a loser is treated like a reuse.
    if record.used_at.is_none() && !store.consume_refresh(&hash, &client.client_id, now).await? {
        let again = store.find_refresh(&hash).await?;
        let used_at = again.as_ref().and_then(|r| r.used_at).unwrap_or(now);
        reuse_or_replay(issuer, client, &record, used_at, now).await?;
    }

    // Fresh authorization: API scopes the user may no longer hold (a lost permission, a scope
    // no longer user-grantable) leave the access token; the grant itself is kept.
    let access = store
        .user_access(&user.user_id, organization.as_ref(), api.as_ref())
        .await?;
    let kept: Vec<&str> = scope
        .tokens()
        .iter()
        .map(String::as_str)
        .filter(|t| {
            OIDC_SCOPES.contains(t)
                || api
                    .as_ref()
                    .is_some_and(|a| user_may_hold(issuer.config, a, &access.permissions, t))
        })
        .collect();
    let scope = Scope::parse(&kept.join(" "))?;

    // Rotation always continues the family with the grant's scope, narrowed or not.
    let refresh = RefreshPlan::Continue {
        family_id: record.family_id.clone(),
        absolute_expires_at: record.absolute_expires_at,
        grant_scope: record.scope.clone(),
    };
    Ok(Issuance {
        auth_time: Some(record.auth_time),
        refresh,
        ..Issuance::for_user(
            GrantType::RefreshToken,
            client.clone(),
            user,
            api,
            scope,
            organization,
            access,
        )
    })
}

/// A token already used at `used_at`: accepted as a retry within the client's reuse
/// interval; otherwise the family is revoked and the request refused.
async fn reuse_or_replay<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    client: &Client,
    record: &RefreshRecord,
    used_at: u64,
    now: u64,
) -> Result<(), OAuthError> {
    let interval = client.refresh_reuse_interval;
    if interval > 0 && now.saturating_sub(used_at) <= interval {
        return Ok(());
    }
    issuer.store.revoke_family(&record.family_id, now).await?;
    Err(invalid_grant(
        "refresh token was already used; every token of this grant is now revoked",
    ))
}
