//! RFC 9068 JWT access tokens.

use super::jws::{sign_compact, Signer, SigningKey};
use super::keys::ES256;
use crate::error::OAuthError;
use crate::random::Random;
use crate::scope::Scope;
use serde_json::json;

/// A fully validated grant: who, for which client, API and scopes. Nothing reaches the
/// minting step without being one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    /// `sub`: the client id for client_credentials.
    pub subject: String,
    pub client_id: String,
    /// `aud`: the API identifier.
    pub audience: String,
    pub scope: Scope,
    /// `gty`, as Auth0 names grant types in tokens (`client-credentials`).
    pub gty: &'static str,
    /// Lifetime in seconds.
    pub lifetime: u64,
}

/// A signed access token and what the token response says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    pub jwt: String,
    pub expires_in: u64,
}

/// Signs an RFC 9068 access token: header `typ: at+jwt` (§2.1), claims `iss exp aud sub
/// client_id iat jti` (§2.2) plus `nbf`, `scope` and `gty`.
pub async fn mint_access_token<S: Signer>(
    signer: &S,
    key: &SigningKey,
    rng: &dyn Random,
    issuer: &str,
    now: u64,
    issuance: &Issuance,
) -> Result<MintedToken, OAuthError> {
    let header = json!({ "alg": ES256, "typ": "at+jwt", "kid": key.kid });
    let claims = json!({
        "iss": issuer,
        "sub": issuance.subject,
        "aud": issuance.audience,
        "iat": now,
        "nbf": now,
        "exp": now + issuance.lifetime,
        "jti": rng.token(16)?,
        "client_id": issuance.client_id,
        "scope": issuance.scope.to_wire(),
        "gty": issuance.gty,
    });
    Ok(MintedToken {
        jwt: sign_compact(signer, key, &header, &claims).await?,
        expires_in: issuance.lifetime,
    })
}
