//! Authorization code grant (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5): the code is bound to
//! the client, the redirect URI and the challenge of its authorization request, and is
//! redeemed once.

use super::checked::{Checked, Commit};
use super::user::user_issuance;
use super::{granted_api, require_allowed};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{GrantType, Issuance, Scope};
use crate::oauth::client_auth::AuthenticatedClient;
use crate::oauth::facts::Facts;
use crate::oauth::params::Params;
use crate::oauth::pkce;
use crate::port::settled::Settle;
use crate::port::{CodeStore, HasClients, HasCodes, HasSubjects, SubjectStore};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// How long a code may wait for its redemption (RFC 6749 §4.1.2 recommends at most 10
/// minutes; one is plenty for a browser redirect).
pub const CODE_LIFETIME: u64 = 60;

/// The stored form of a code value.
pub fn hash_code(code: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code.as_bytes()))
}

/// §4.1.3: checks a code redemption into the issuance of the user who signed in, read fresh.
/// The code is consumed by the commit, after the pipeline allowed the issuance and the tokens
/// were signed. A code presented again revokes what was issued from it (§4.1.2).
pub async fn check<P>(
    ports: &P,
    facts: &Facts<'_>,
    client: &AuthenticatedClient,
    params: &Params,
) -> Result<Checked, OAuthError>
where
    P: HasCodes + HasSubjects + HasClients,
{
    let client = &client.client;
    require_allowed(client, GrantType::AuthorizationCode)?;
    let presented = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    let code_hash = hash_code(presented);
    // The code, its user, organization, roles and permissions: one round trip.
    let (code, mut subject) = ports
        .subjects()
        .code_subject(&code_hash)
        .settle()
        .await?
        .filter(|(c, _)| c.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("authorization code is invalid"))?;
    if code.used_at.is_some() {
        ports
            .codes()
            .revoke_code(&code_hash, facts.now)
            .settle()
            .await?;
        return Err(OAuthError::invalid_grant(
            "authorization code was already used; the tokens issued from it are revoked",
        ));
    }
    if code.expires_at <= facts.now {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the one of the authorization request",
        ));
    }
    pkce::verify(code.code_challenge.as_deref(), params.get("code_verifier"))?;

    let user = match subject.user.take() {
        Some(u) if !u.blocked => u,
        _ => {
            return Err(OAuthError::invalid_grant(
                "the user is blocked or no longer exists",
            ))
        }
    };
    let api = granted_api(ports.clients(), code.audience.as_deref(), "code")
        .settle()
        .await?;
    let requested = Scope::parse(&code.scope)?;
    let issuance = user_issuance(
        GrantType::AuthorizationCode,
        facts,
        client,
        user,
        subject,
        api,
        Some(&requested),
        code.org_id.as_deref(),
    )
    .map_err(|e| match e.code {
        // The organization of the sign-in is gone or the user left it.
        ErrorCode::InvalidRequest => OAuthError {
            code: ErrorCode::InvalidGrant,
            ..e
        },
        _ => e,
    })?;
    let issuance = Issuance {
        authenticated: code.authenticated.clone(),
        auth_time: Some(code.auth_time),
        nonce: code.nonce.clone(),
        session_id: code.session_id.clone(),
        ..issuance
    };
    Ok(Checked {
        issuance,
        commit: Commit::Redeem { code_hash },
    })
}

/// The commit's redemption found the code no longer redeemable: another request redeemed it
/// first (the code was used twice: what it yielded is revoked), or it expired meanwhile.
pub async fn lost_redemption(ports: &impl HasCodes, now: u64, code_hash: &str) -> OAuthError {
    // An expired or unknown code changes nothing; a redeemed one has its tokens revoked.
    match ports.codes().revoke_code(code_hash, now).settle().await {
        Ok(()) => OAuthError::invalid_grant("authorization code was already used"),
        Err(e) => e.into(),
    }
}
