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
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /oauth/token`.
pub async fn token<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match exchange(issuer, req).await {
        Ok(body) => HttpResponse::json(200, &body),
        Err(e) => client_error_response(issuer, &e),
    };
    resp.no_store()
}

async fn exchange<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<serde_json::Value, OAuthError> {
    let params = req.body_params()?;
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    let grant_type = GrantType::parse(grant_type)?;
    let (ports, facts) = (issuer.stores, issuer.facts());
    let client = authenticate(
        issuer.stores.clients(),
        &credentials(req.header("authorization"), &params)?,
    )
    .await?;

    // Check: each grant yields an issuance and the writes it needs; nothing is stored yet.
    let Checked {
        mut issuance,
        commit,
    } = match grant_type {
        GrantType::ClientCredentials => {
            client_credentials::check(ports.clients(), &client, &params).await?
        }
        GrantType::Password => {
            let (crypto, random) = (issuer.crypto, issuer.random);
            password::check(ports, crypto, random, &facts, &client, &params).await?
        }
        GrantType::RefreshToken => refresh_token::check(ports, &facts, &client, &params).await?,
    };

    // Enrich: rules and hooks add custom claims, or deny.
    issuance.custom = enrich(&issuer.pipeline(), &facts, &mut issuance)
        .await?
        .claims;

    // Sign, then commit every write of the exchange at once.
    let minted = issue(&issuer.keys()?, &facts, &issuance).await?;
    let refresh = minted.refresh.as_ref();
    grant::commit::commit(ports, facts.now, &issuance, commit, refresh).await?;
    Ok(minted.body)
}

/// §5.2 error; `invalid_client` is 401 and, as RFC 9110 §15.5.2 requires of every 401,
/// carries a `WWW-Authenticate` challenge. Shared by the endpoints that authenticate clients.
pub fn client_error_response<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
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
