//! The token endpoint (RFC 6749 §3.2) over HTTP: the body's parameters in, the token response
//! or error out, every answer with `Cache-Control: no-store` (§5.1). The exchange itself is
//! [`crate::oauth::exchange`]'s.

use crate::error::{ErrorCode, OAuthError};
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};

/// `POST /oauth/token`.
pub async fn token<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let resp = match exchange(issuer, req).settle().await {
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
    issuer
        .token_exchange()
        .run(req.header("authorization"), &params)
        .settle()
        .await
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
