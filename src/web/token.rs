//! The token endpoint (RFC 6749 §3.2): parse, authenticate the client, then check, enrich,
//! sign and commit. Every answer carries `Cache-Control: no-store` (§5.1).

use crate::error::{ErrorCode, OAuthError};
use crate::model::GrantType;
use crate::oauth::claims::pipeline::enrich;
use crate::oauth::client_auth::{authenticate, credentials};
use crate::oauth::grant::checked::Checked;
use crate::oauth::grant::{self, client_credentials, password, refresh_token};
use crate::oauth::issuer::Issuer;
use crate::oauth::token::issue;
use crate::port::crypto::Crypto;
use crate::port::Store;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /oauth/token`.
pub async fn token<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match exchange(issuer, req).await {
        Ok(body) => HttpResponse::json(200, &body),
        Err(e) => client_error_response(issuer, &e),
    };
    resp.no_store()
}

async fn exchange<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
    req: &HttpRequest,
) -> Result<serde_json::Value, OAuthError> {
    let params = req.body_params()?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let grant_type = GrantType::parse(grant_type)?;
    let client = authenticate(
        issuer.store,
        &credentials(req.header("authorization"), &params)?,
    )
    .await?;

    // Check: each grant yields an issuance and the writes it needs; nothing is stored yet.
    let Checked {
        mut issuance,
        commit,
    } = match grant_type {
        GrantType::ClientCredentials => {
            client_credentials::check(issuer.store, &client, &params).await?
        }
        GrantType::Password => password::check(issuer, &client, &params).await?,
        GrantType::RefreshToken => refresh_token::check(issuer, &client, &params).await?,
    };

    // Enrich: rules and hooks add custom claims, or deny.
    issuance.custom = enrich(issuer, &mut issuance).await?.claims;

    // Sign, then commit every write of the exchange at once.
    let minted = issue(issuer, &issuance).await?;
    grant::commit::commit(issuer, &issuance, commit, minted.refresh.as_ref()).await?;
    Ok(minted.body)
}

/// §5.2 error; `invalid_client` is 401 and, as RFC 9110 §15.5.2 requires of every 401,
/// carries a `WWW-Authenticate` challenge. Shared by the endpoints that authenticate clients.
pub fn client_error_response<S: Store, C: Crypto>(
    issuer: &Issuer<'_, S, C>,
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
