//! Auth0's MFA API routes: `POST /mfa/associate`, `GET /mfa/authenticators` (the MFA token as
//! a bearer) and `POST /mfa/challenge` (the MFA token and the client in the body). JSON
//! answers, never cached.

use super::account::{body_client, field, oauth_body};
use super::token::client_error_response;
use crate::error::OAuthError;
use crate::oauth::issuer::Issuer;
use crate::oauth::mfa::api;
use crate::port::crypto::Crypto;
use crate::port::mfa::MfaStore;
use crate::port::settled::Settle;
use crate::port::Stores;
use crate::web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value};

fn answer<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    result: Result<Value, OAuthError>,
) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::json(200, &v).no_store(),
        Err(e) => client_error_response(issuer, &e).no_store(),
    }
}

/// `authenticator_types`: a list of strings (a form sends one value).
fn types(m: &Map<String, Value>) -> Result<Vec<String>, OAuthError> {
    let bad = || OAuthError::invalid_request("authenticator_types must be a list of strings");
    match m.get("authenticator_types") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        _ => Err(bad()),
    }
}

pub async fn associate<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let result = async {
        let now = issuer.clock.now();
        let token = api::bearer(issuer.kek, req.header("authorization"), now)?;
        let asked = types(&oauth_body(req)?)?;
        let kek = issuer
            .kek
            .ok_or_else(|| OAuthError::server("no key-encryption key"))?;
        let guardian = issuer.stores.guardian().settle().await?;
        let store = issuer.stores.mfa();
        let (mine, _) = store.authenticators(&token.user_id).settle().await?;
        api::associate(
            store,
            &mine,
            guardian,
            kek,
            issuer.random,
            issuer.config,
            &token,
            &asked,
            now,
        )
        .settle()
        .await
    };
    answer(issuer, result.settle().await)
}

pub async fn authenticators<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let result = async {
        let token = api::bearer(issuer.kek, req.header("authorization"), issuer.clock.now())?;
        api::authenticators(issuer.stores.mfa(), &token)
            .settle()
            .await
    };
    answer(issuer, result.settle().await)
}

pub async fn challenge<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let result = async {
        let mut m = oauth_body(req)?;
        let client = body_client(issuer, req, &mut m).settle().await?;
        let token = api::opened(issuer.kek, &field(&mut m, "mfa_token")?, issuer.clock.now())?;
        let kinds = field(&mut m, "challenge_type")?;
        api::challenge(
            issuer.stores.mfa(),
            &token,
            &client.client.client_id,
            &kinds,
        )
        .settle()
        .await
    };
    answer(issuer, result.settle().await)
}
