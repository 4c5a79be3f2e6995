//! Checking an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3): the
//! client and its exact redirect URI first, then everything else, whose errors go back to the
//! client.

use super::{origin, AuthorizeRequest, Prompt, Refusal, ReplyTo, ResponseMode, WayBack};
use crate::error::{ErrorCode, OAuthError};
use crate::model::{GrantType, Scope};
use crate::oauth::params::Params;
use crate::oauth::pkce;
use crate::oauth::response_type::ResponseType;
use crate::port::settled::Settle;
use crate::port::ClientStore;

/// Checks an authorization request's parameters (RFC 6749 §4.1.1, RFC 7636 §4.3).
pub async fn check(
    clients: &impl ClientStore,
    params: &Params,
) -> Result<AuthorizeRequest, Refusal> {
    let page = |e: OAuthError| Refusal::Page(e, None);
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page(OAuthError::invalid_request("client_id is required")))?;
    let client = clients
        .client(client_id)
        .settle()
        .await
        .map_err(|e| page(e.into()))?
        .ok_or_else(|| {
            page(OAuthError::invalid_request(
                "client_id is not a known client",
            ))
        })?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| page(OAuthError::invalid_request("redirect_uri is required")))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refusal::Page(
            OAuthError::invalid_request("redirect_uri is not registered for this client"),
            WayBack::of(&client),
        ));
    }

    // From here on, errors go back to the client, in the fragment for types that carry
    // tokens (MRTE §5; OIDC Core §3.2.2.6).
    let response_type = params.get("response_type").and_then(ResponseType::parse);
    let front = response_type.is_some_and(ResponseType::front_channel);
    let default_mode = if front {
        ResponseMode::Fragment
    } else {
        ResponseMode::Query
    };
    let (mode, mode_error) = match params.get("response_mode") {
        None => (default_mode, None),
        Some("query") if front => (
            default_mode,
            Some(OAuthError::invalid_request(
                "response_mode query cannot carry tokens: use fragment or form_post",
            )),
        ),
        Some("query") => (ResponseMode::Query, None),
        Some("fragment") => (ResponseMode::Fragment, None),
        Some("form_post") => (ResponseMode::FormPost, None),
        Some("web_message") if client.web_origins.iter().any(|o| o == origin(redirect_uri)) => {
            (ResponseMode::WebMessage, None)
        }
        Some("web_message") => (
            default_mode,
            Some(OAuthError::invalid_request(
                "response_mode web_message needs the redirect_uri's origin among the client's web origins",
            )),
        ),
        Some(other) => (
            default_mode,
            Some(OAuthError::invalid_request(format!(
                "response_mode {other} is not supported"
            ))),
        ),
    };
    let reply_to = ReplyTo {
        redirect_uri: redirect_uri.to_string(),
        mode,
        state: params.get("state").map(str::to_string),
    };
    let back = |e: OAuthError| Refusal::Redirect(e, reply_to.clone());
    if let Some(e) = mode_error {
        return Err(back(e));
    }
    // OIDC Core §6: request objects are not supported (discovery says so); a request that
    // sends one is refused rather than served without what the object asked for.
    for (name, code) in [
        ("request", ErrorCode::RequestNotSupported),
        ("request_uri", ErrorCode::RequestUriNotSupported),
    ] {
        if params.get(name).is_some() {
            let why = format!(
                "the {name} parameter is not supported: send the request's parameters in the URL"
            );
            return Err(back(OAuthError::new(code, why)));
        }
    }
    let response_type = match (params.get("response_type"), response_type) {
        (_, Some(t)) => t,
        (None, None) => {
            return Err(back(OAuthError::invalid_request(
                "response_type is required",
            )))
        }
        (Some(other), None) => {
            return Err(back(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!(
                    "response_type {other} is not supported; use code (or, for a client allowed \
                     the implicit grant, id_token, id_token token, code id_token, code token or \
                     code id_token token)"
                ),
            )))
        }
    };
    let unauthorized = |grant: &str| {
        back(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("client is not allowed the {grant} grant"),
        ))
    };
    if response_type.code && !client.allows(GrantType::AuthorizationCode.as_str()) {
        return Err(unauthorized(GrantType::AuthorizationCode.as_str()));
    }
    if front && !client.allows(GrantType::Implicit.as_str()) {
        return Err(unauthorized(GrantType::Implicit.as_str()));
    }
    let code_challenge = pkce::challenge(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    .map_err(back)?;
    if response_type.code && code_challenge.is_none() && client.is_public() {
        return Err(back(OAuthError::invalid_request(
            "a public client must use PKCE: code_challenge and code_challenge_method=S256",
        )));
    }
    let scope = params
        .get("scope")
        .map(Scope::parse)
        .transpose()
        .map_err(back)?
        .unwrap_or_default();
    // OIDC Core §3.2.2.1, §3.3.2.11: an ID token in the response needs `openid` and a nonce.
    if response_type.id_token {
        if !scope.tokens().iter().any(|t| t == "openid") {
            return Err(back(OAuthError::new(
                ErrorCode::InvalidScope,
                "response_type id_token needs the openid scope",
            )));
        }
        if params.get("nonce").is_none_or(str::is_empty) {
            return Err(back(OAuthError::invalid_request(
                "nonce is required when the response carries an ID token",
            )));
        }
    }
    let prompt = prompt(params.get("prompt")).map_err(back)?;
    let max_age = params
        .get("max_age")
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| OAuthError::invalid_request("max_age must be a number of seconds"))
        })
        .transpose()
        .map_err(back)?;
    let text = |name: &str| params.get(name).map(str::to_string);
    let words = |name: &str| {
        params
            .get(name)
            .unwrap_or("")
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    Ok(AuthorizeRequest {
        response_type,
        scope,
        nonce: text("nonce"),
        code_challenge,
        prompt,
        max_age,
        login_hint: text("login_hint"),
        audience: text("audience"),
        organization: text("organization"),
        signup: params.get("screen_hint") == Some("signup"),
        acr_values: words("acr_values"),
        ui_locales: words("ui_locales"),
        connection: text("connection"),
        reply_to,
        client,
    })
}

fn prompt(value: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    let values: Vec<&str> = value
        .unwrap_or("")
        .split(' ')
        .filter(|v| !v.is_empty())
        .collect();
    for v in &values {
        match *v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            // First-party clients: there is no consent screen to show.
            "consent" | "select_account" => {}
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "prompt {other} is not supported"
                )))
            }
        }
    }
    if prompt.none && values.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::super::{decide, Next};
    use super::*;
    use crate::model::{Client, Session};
    use crate::port::RegistryStore;
    use crate::store::sqlite::{wall_clock, Sqlite};
    use crate::store::SqlStore;
    use pollster::block_on;

    const REGISTERED: &str = "https://app.example.com/callback";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn store(public: bool) -> SqlStore<Sqlite> {
        let store = SqlStore::new(Sqlite::migrated().unwrap(), wall_clock);
        let client: Client = serde_json::from_value(serde_json::json!({
            "client_id": "spa", "name": "SPA",
            "secret_hash": if public { None } else { Some("sha256:x") },
            "grant_types": ["authorization_code", "refresh_token"],
            "default_audience": null,
            "redirect_uris": [REGISTERED],
        }))
        .unwrap();
        block_on(store.create_client(&client)).unwrap();
        store
    }

    fn params(extra: &[(&str, &str)]) -> Params {
        let mut pairs = vec![
            ("client_id", "spa"),
            ("redirect_uri", REGISTERED),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
        ];
        for (k, v) in extra {
            pairs.retain(|(n, _)| n != k);
            pairs.push((k, v));
        }
        Params::from_pairs(pairs.into_iter().map(|(k, v)| (k.into(), v.into()))).unwrap()
    }

    #[test]
    fn only_the_exact_registered_redirect_uri_is_trusted() {
        let store = store(true);
        assert!(block_on(check(&store, &params(&[]))).is_ok());
        for near_miss in [
            "https://app.example.com/callback/",
            "https://APP.example.com/callback",
            "https://app.example.com/Callback",
            "https://app.example.com/callback?x=1",
            "https://app.example.com/callback#f",
            "https://evil@app.example.com/callback",
            "https://app.example.com/x/../callback",
            "https://app.example.com:8443/callback",
            "http://app.example.com/callback",
            "https://app.example.com.evil.example/callback",
        ] {
            let refused = block_on(check(&store, &params(&[("redirect_uri", near_miss)])));
            assert!(
                matches!(refused, Err(Refusal::Page(..))),
                "{near_miss} must be refused on the issuer's page"
            );
        }
    }

    #[test]
    fn an_unknown_client_is_refused_on_the_page_and_later_errors_go_back() {
        let store = store(true);
        let unknown = block_on(check(&store, &params(&[("client_id", "nope")])));
        assert!(matches!(unknown, Err(Refusal::Page(..))));
        let token = block_on(check(&store, &params(&[("response_type", "token")])));
        match token {
            Err(Refusal::Redirect(e, to)) => {
                assert_eq!(e.code, ErrorCode::UnsupportedResponseType);
                assert_eq!(to.state.as_deref(), Some("s1"));
                assert_eq!(to.redirect_uri, REGISTERED);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn public_clients_need_s256_pkce() {
        let public = store(true);
        let without = params(&[("code_challenge", ""), ("code_challenge_method", "")]);
        assert!(matches!(
            block_on(check(&public, &without)),
            Err(Refusal::Redirect(..))
        ));
        let plain = params(&[("code_challenge_method", "plain")]);
        assert!(matches!(
            block_on(check(&public, &plain)),
            Err(Refusal::Redirect(..))
        ));
        let confidential = store(false);
        let ok = block_on(check(&confidential, &without)).unwrap();
        assert_eq!(ok.code_challenge, None);
    }

    fn session(auth_time: u64) -> Session {
        Session {
            session_id: "sid".into(),
            user_id: "u".into(),
            auth_time,
            created_at: auth_time,
            idle_expires_at: 1_000,
            absolute_expires_at: 2_000,
            authenticated: None,
        }
    }

    #[test]
    fn prompt_and_max_age_decide_between_a_code_the_form_and_login_required() {
        let store = store(true);
        let req = |extra: &[(&str, &str)]| block_on(check(&store, &params(extra))).unwrap();
        let s = session(100);
        assert_eq!(decide(&req(&[]), Some(&s), 500), Next::Code);
        assert_eq!(decide(&req(&[]), None, 500), Next::Login);
        assert_eq!(
            decide(&req(&[("prompt", "login")]), Some(&s), 500),
            Next::Login
        );
        assert_eq!(
            decide(&req(&[("prompt", "none")]), Some(&s), 500),
            Next::Code
        );
        assert_eq!(
            decide(&req(&[("prompt", "none")]), None, 500),
            Next::LoginRequired
        );
        // The session expired (idle), or authenticated longer ago than max_age.
        assert_eq!(decide(&req(&[]), Some(&s), 1_000), Next::Login);
        assert_eq!(
            decide(&req(&[("max_age", "300")]), Some(&s), 500),
            Next::Login
        );
        assert_eq!(
            decide(&req(&[("max_age", "400")]), Some(&s), 500),
            Next::Code
        );
        let bad = block_on(check(&store, &params(&[("prompt", "none login")])));
        assert!(matches!(bad, Err(Refusal::Redirect(..))));
    }
}
