//! The token endpoint (RFC 6749 §3.2): parse, authenticate the client, validate the grant,
//! then mint. Every answer carries `Cache-Control: no-store` (§5.1).

use crate::client_auth::{authenticate, credentials};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::{client_credentials, GrantType};
use crate::http::params::Params;
use crate::http::{HttpRequest, HttpResponse};
use crate::issuer::Issuer;
use crate::store::{ClientStore, KeyStore};
use crate::token::{mint_access_token, Signer};
use serde_json::json;

/// `POST /oauth/token`.
pub async fn token<S: ClientStore + KeyStore, G: Signer>(
    issuer: &Issuer<'_, S, G>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match exchange(issuer, req).await {
        Ok(resp) => resp,
        Err(e) => error_response(issuer, &e),
    };
    resp.no_store()
}

async fn exchange<S: ClientStore + KeyStore, G: Signer>(
    issuer: &Issuer<'_, S, G>,
    req: &HttpRequest,
) -> Result<HttpResponse, OAuthError> {
    let params = Params::from_body(req)?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let grant_type = GrantType::parse(grant_type)?;
    let creds = credentials(req, &params)?;
    let client = authenticate(issuer.store, &creds).await?;

    // Validate: each grant yields an Issuance or an error; nothing is signed before this.
    let issuance = match grant_type {
        GrantType::ClientCredentials => {
            client_credentials::validate(issuer.store, &client, &params).await?
        }
    };

    // Mint.
    let key = issuer.signing_key().await?;
    let now = issuer.clock.now();
    let token = mint_access_token(
        issuer.signer,
        &key,
        issuer.random,
        &issuer.config.issuer,
        now,
        &issuance,
    )
    .await?;
    // §4.4.3: no refresh token for client credentials.
    Ok(HttpResponse::json(
        200,
        &json!({
            "access_token": token.jwt,
            "token_type": "Bearer",
            "expires_in": token.expires_in,
            "scope": issuance.scope.to_wire(),
        }),
    ))
}

/// §5.2 error; `invalid_client` is 401 and, as RFC 9110 §15.5.2 requires of every 401,
/// carries a `WWW-Authenticate` challenge.
fn error_response<S: ClientStore + KeyStore, G: Signer>(
    issuer: &Issuer<'_, S, G>,
    e: &OAuthError,
) -> HttpResponse {
    issuer.log_error(e);
    let resp = HttpResponse::error(e);
    if e.code == ErrorCode::InvalidClient {
        let realm = issuer.config.issuer.replace('"', "");
        return resp.with_header("www-authenticate", &format!("Basic realm=\"{realm}\""));
    }
    resp
}
