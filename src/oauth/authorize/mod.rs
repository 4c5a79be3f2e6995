//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2): the checked request
//! ([`check`]), the choice between a code now (a live session), the login form, or an error
//! ([`decide`]), and the parameters of the answer. Signing in and issuing the code is
//! [`crate::oauth::signin`]'s.
//!
//! The client and its `redirect_uri` are checked first, the URI by exact string match
//! against the client's registered list (RFC 9700 §4.1.3). Until both pass, an error is shown
//! on the issuer's own page and never sent to the URI ([`Refusal::Page`]); after, errors go
//! back to the client ([`Refusal::Redirect`]) with `state` and `iss` (RFC 9207).

mod check;

pub use check::check;

use super::response_type::ResponseType;
use crate::error::OAuthError;
use crate::model::{Client, Scope, Session, Transaction};

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

impl ResponseMode {
    /// The `response_mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
            Self::WebMessage => "web_message",
        }
    }
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
    /// `acr_values` (OIDC Core §3.1.2.1): voluntary; the pipeline sees them, and `acr` is
    /// reported only for a level this issuer meets.
    pub acr_values: Vec<String>,
    pub ui_locales: Vec<String>,
    /// `connection` (Auth0): the connection to sign in with, by name.
    pub connection: Option<String>,
}

impl AuthorizeRequest {
    /// The API the code's tokens are for: `audience`, else the client's default.
    pub fn api_audience(&self) -> Option<&str> {
        self.audience
            .as_deref()
            .or(self.client.default_audience.as_deref())
    }

    /// The request as the `post-login` event shows it (Auth0's `event.transaction`).
    pub fn transaction(&self) -> Transaction {
        let t = self.response_type;
        let protocol = match (t.code, t.front_channel()) {
            (true, true) => "oidc-hybrid-profile",
            (false, _) => "oidc-implicit-profile",
            (true, false) => "oidc-basic-profile",
        };
        let mut prompt = Vec::new();
        if self.prompt.none {
            prompt.push("none".to_string());
        }
        if self.prompt.login {
            prompt.push("login".to_string());
        }
        Transaction {
            protocol,
            requested_scopes: self.scope.tokens().to_vec(),
            redirect_uri: self.reply_to.redirect_uri.clone(),
            response_type: t.names().iter().map(|n| n.to_string()).collect(),
            response_mode: self.reply_to.mode.as_str(),
            state: self.reply_to.state.clone(),
            prompt,
            acr_values: self.acr_values.clone(),
            login_hint: self.login_hint.clone(),
            ui_locales: self.ui_locales.clone(),
        }
    }
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
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
