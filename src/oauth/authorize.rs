//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2): checks an authorization
//! request, decides between a code now (a live session), the login form, or an error, and
//! issues the code.
//!
//! The client and its `redirect_uri` are checked first, the URI by exact string match
//! against the client's registered list (RFC 9700 §4.1.3). Until both pass, an error is shown
//! on the issuer's own page and never sent to the URI ([`Refusal::Page`]); after, errors go
//! back to the client ([`Refusal::Redirect`]) with `state` and `iss` (RFC 9207).

use super::claims::pipeline::{enrich, Pipeline};
use super::facts::Facts;
use super::grant::authorization_code::{hash_code, CODE_LIFETIME};
use super::grant::password::user_issuance;
use super::params::Params;
use super::pkce;
use super::response_type::ResponseType;
use crate::error::{ErrorCode, OAuthError};
use crate::model::{
    AuthorizationCode, Client, GrantType, Issuance, RefreshPlan, Scope, Session, Subject, User,
};
use crate::port::random::Random;
use crate::port::{ClaimsStore, ClientStore, HasClients};

/// How the response reaches the client (OAuth 2.0 Multiple Response Types §2.1, Form Post
/// Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query (the default for `code`).
    Query,
    /// Parameters in the redirect URI's fragment (the default, and the only redirect, for
    /// types that carry tokens: a fragment never reaches a server or a Referer).
    Fragment,
    /// An auto-submitting HTML form POSTs them to the redirect URI.
    FormPost,
    /// Auth0's `web_message`: a page in a hidden iframe posts them to the redirect URI's
    /// origin (`window.postMessage`), which must be one of the client's web origins.
    WebMessage,
}

/// Where and how a response (or an error after the redirect URI was trusted) goes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// Where a person stuck on the issuer's error page can start again: the client's registered
/// `initiate_login_uri` (the tenant registered it, so linking it redirects nowhere new).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WayBack {
    pub client_name: String,
    pub url: String,
}

impl WayBack {
    /// The client's way back, if it registered one.
    pub fn of(client: &Client) -> Option<Self> {
        let url = client.initiate_login_uri.clone()?;
        Some(Self {
            client_name: client.name.clone(),
            url,
        })
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The client or its redirect URI could not be trusted: shown on the issuer's error
    /// page, never redirected; with the client's way back when the client is known.
    Page(OAuthError, Option<WayBack>),
    /// Sent back to the client's redirect URI.
    Redirect(OAuthError, ReplyTo),
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no form; a code now or `login_required`.
    pub none: bool,
    /// `login`: the form even with a live session.
    pub login: bool,
}

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizeRequest {
    pub client: Client,
    /// What the response carries: a code, tokens, or both.
    pub response_type: ResponseType,
    pub reply_to: ReplyTo,
    /// The scope asked for; the user's grant is decided when the code is redeemed.
    pub scope: Scope,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub audience: Option<String>,
    pub organization: Option<String>,
    /// `screen_hint=signup`.
    pub signup: bool,
}

impl AuthorizeRequest {
    /// The API the code's tokens are for: `audience`, else the client's default.
    pub fn api_audience(&self) -> Option<&str> {
        self.audience
            .as_deref()
            .or(self.client.default_audience.as_deref())
    }
}

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
        reply_to,
        client,
    })
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
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

/// What to do with a checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Issue a code in this session now (single sign-on).
    Code,
    /// Show the login form.
    Login,
    /// `prompt=none` and no usable session.
    LoginRequired,
}

/// OIDC Core §3.1.2.1 and §3.1.2.3: a live session answers at once, unless `prompt=login` or a
/// `max_age` older than the session's authentication asks for a new login.
pub fn decide(request: &AuthorizeRequest, session: Option<&Session>, now: u64) -> Next {
    let fresh_enough = |s: &Session| {
        request
            .max_age
            .is_none_or(|max| now.saturating_sub(s.auth_time) <= max)
    };
    let usable = session.filter(|s| s.is_live(now) && fresh_enough(s) && !request.prompt.login);
    match (usable, request.prompt.none) {
        (Some(_), _) => Next::Code,
        (None, true) => Next::LoginRequired,
        (None, false) => Next::Login,
    }
}

/// The `post-login` pipeline at sign-in time, on the issuance the code would give: a rule or
/// hook that denies sends `access_denied` with its message back to the client, before any
/// code exists. Also refuses a blocked user (an SSO session outlives a block otherwise), an
/// `organization` that does not exist or the user is not a member of (`access_denied`), and
/// an `audience` that names no API, as `subject` (read for the request's organization and
/// [`AuthorizeRequest::api_audience`]) found them. Returns the enriched issuance, as the
/// response's tokens carry it (implicit and hybrid), for `session`: its `auth_time` and `sid`,
/// the request's `nonce`. The pipeline runs again when a code is redeemed, so the code's tokens
/// carry claims as fresh as the redemption.
pub async fn approve<P>(
    ports: &P,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    request: &AuthorizeRequest,
    session: &Session,
    user: User,
    subject: Subject,
) -> Result<Issuance, OAuthError>
where
    P: HasClients,
{
    if user.blocked {
        return Err(OAuthError::new(ErrorCode::AccessDenied, "user is blocked"));
    }
    let api = match request.api_audience() {
        Some(aud) => Some(ports.clients().api(aud).await?.ok_or_else(|| {
            OAuthError::invalid_request(format!("audience {aud} is not a registered API"))
        })?),
        None => None,
    };
    let client = &request.client;
    let organization = request.organization.as_deref();
    let issued = user_issuance(
        facts,
        client,
        user,
        subject,
        api,
        Some(&request.scope),
        organization,
    );
    let mut issuance = issued.map_err(|e| match e.code {
        // The organization asked for is unknown, or the user is not a member of it.
        ErrorCode::InvalidRequest | ErrorCode::InvalidGrant => OAuthError {
            code: ErrorCode::AccessDenied,
            ..e
        },
        _ => e,
    })?;
    // Tokens in the response are the implicit grant's (the event says so); a code's issuance
    // keeps what the pipeline saw before (the sign-in core will name the code flow).
    if request.response_type.front_channel() {
        issuance.grant = GrantType::Implicit;
    }
    issuance.auth_time = Some(session.auth_time);
    issuance.nonce.clone_from(&request.nonce);
    issuance.session_id = Some(session.session_id.clone());
    issuance.refresh = RefreshPlan::None;
    match enrich(pipeline, facts, &mut issuance).await {
        Ok(enrichment) => {
            issuance.custom = enrichment.claims;
            Ok(issuance)
        }
        Err(e) if e.code == ErrorCode::ServerError => Err(e),
        Err(e) => Err(OAuthError {
            code: ErrorCode::AccessDenied,
            ..e
        }),
    }
}

/// A new code for `request`, signed in as `user_id` in `session`: the value for the client
/// and the record to store (by hash).
pub fn new_code(
    random: &dyn Random,
    facts: &Facts<'_>,
    request: &AuthorizeRequest,
    user_id: &str,
    session: &Session,
    org_id: Option<String>,
) -> Result<(String, AuthorizationCode), OAuthError> {
    let value = random.token(32)?;
    let record = AuthorizationCode {
        code_hash: hash_code(&value),
        client_id: request.client.client_id.clone(),
        user_id: user_id.to_string(),
        redirect_uri: request.reply_to.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scope.to_wire(),
        audience: request
            .audience
            .clone()
            .or_else(|| request.client.default_audience.clone()),
        org_id,
        session_id: Some(session.session_id.clone()),
        auth_time: session.auth_time,
        created_at: facts.now,
        expires_at: facts.now + CODE_LIFETIME,
        used_at: None,
        family_id: None,
    };
    Ok((value, record))
}

/// The parameters of a successful response (§4.1.2, OIDC Core §3.2.2.5, RFC 9207): the code
/// if any, the front-channel `tokens` if any, `state`, `iss`.
pub fn success(
    code: Option<&str>,
    tokens: Vec<(String, String)>,
    reply_to: &ReplyTo,
    issuer: &str,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = code
        .map(|c| ("code".to_string(), c.to_string()))
        .into_iter()
        .chain(tokens)
        .collect();
    if let Some(state) = &reply_to.state {
        out.push(("state".into(), state.clone()));
    }
    out.push(("iss".into(), issuer.to_string()));
    out
}

/// The parameters of an error response (§4.1.2.1, RFC 9207).
pub fn failure(e: &OAuthError, reply_to: &ReplyTo, issuer: &str) -> Vec<(String, String)> {
    let body = e.body();
    let mut out = vec![("error".to_string(), e.code.as_str().to_string())];
    if let Some(d) = body["error_description"].as_str() {
        out.push(("error_description".into(), d.to_string()));
    }
    if let Some(state) = &reply_to.state {
        out.push(("state".into(), state.clone()));
    }
    out.push(("iss".into(), issuer.to_string()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
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
