//! Opaque refresh tokens: 256 random bits, stored only as a SHA-256 hash (RFC 6749 §10.10,
//! RFC 9700 §4.14).

use crate::error::OAuthError;
use crate::model::RefreshRecord;
use crate::model::{Issuance, RefreshPlan};
use crate::port::random::Random;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The stored form of a refresh token value.
pub fn hash_refresh_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The refresh token the plan asks for, and its record to store: the token's value goes to
/// the client, only the record (with the value's hash) to storage, at the commit.
pub fn new_refresh_token(
    rng: &dyn Random,
    now: u64,
    issuance: &Issuance,
) -> Result<Option<(String, RefreshRecord)>, OAuthError> {
    let Some(user) = &issuance.user else {
        return Ok(None);
    };
    let client = &issuance.client;
    let (family_id, absolute_expires_at, scope) = match &issuance.refresh {
        RefreshPlan::None => return Ok(None),
        RefreshPlan::NewFamily => (
            rng.token(16)?,
            now + client.refresh_absolute_lifetime,
            issuance.scope.to_wire(),
        ),
        RefreshPlan::Continue {
            family_id,
            absolute_expires_at,
            grant_scope,
        } => (family_id.clone(), *absolute_expires_at, grant_scope.clone()),
    };
    let token = rng.token(32)?;
    let record = RefreshRecord {
        token_hash: hash_refresh_token(&token),
        family_id,
        client_id: client.client_id.clone(),
        user_id: user.user_id.clone(),
        audience: issuance.api.as_ref().map(|a| a.identifier.clone()),
        scope,
        auth_time: issuance.auth_time.unwrap_or(now),
        created_at: now,
        idle_expires_at: (now + client.refresh_idle_lifetime).min(absolute_expires_at),
        absolute_expires_at,
        used_at: None,
        revoked_at: None,
        org_id: issuance.organization.as_ref().map(|o| o.org_id.clone()),
        // Set by `issue`, which mints the access token it goes with.
        access_jti: None,
        access_expires_at: None,
        authenticated: issuance.authenticated.clone(),
    };
    Ok(Some((token, record)))
}
