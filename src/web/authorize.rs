//! `/authorize` and the hosted login form over HTTP: the request's parameters in; a code, an
//! error for the client, the login form or the issuer's error page out. What is checked and
//! decided is [`crate::oauth::authorize`]'s; this file owns the cookies and the pages.
//!
//! Cookies, all `__Host-` (host-only, `Path=/`, `Secure`), `HttpOnly` and `SameSite=Lax`:
//! `__Host-session` names the sign-in session with a MAC; `__Host-csrf` is the login form's
//! double-submit token, which the form must repeat.

use super::pages::{self, LoginForm};
use crate::error::{ErrorCode, OAuthError, StoreError};
use crate::model::config::paths;
use crate::model::log::kinds;
use crate::model::{Session, Subject, User};
use crate::oauth::authorize::{
    self, decide, new_code, origin, AuthorizeRequest, Next, Refusal, ReplyTo, ResponseMode, WayBack,
};
use crate::oauth::events::Actor;
use crate::oauth::grant::password::{failure_kind, sign_in, Account};
use crate::oauth::issuer::Issuer;
use crate::oauth::logout::{AfterLogout, Dialect, LogoutCheck};
use crate::oauth::params::Params;
use crate::oauth::signup::MIN_PASSWORD_CHARS;
use crate::oauth::token::front::front_channel;
use crate::oauth::{session, signup};
use crate::port::crypto::Crypto;
use crate::port::{
    ClientStore, ExchangeStore, SessionStore, SignIn, Stores, SubjectStore, UserKey,
};
use crate::web::{HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

const SESSION_COOKIE: &str = "__Host-session";
const CSRF_COOKIE: &str = "__Host-csrf";
/// How long a login form stays usable.
const CSRF_LIFETIME: u64 = 3_600;
/// The login form's own fields, not part of the authorization request it carries.
const FORM_FIELDS: [&str; 3] = ["email", "password", "csrf"];

fn cookie(name: &str, value: &str, max_age: u64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// `GET` or `POST /authorize`.
pub async fn authorize<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let params = match req.method.as_str() {
        "POST" => req.body_params(),
        _ => Params::from_form(req.query.as_bytes()),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return error_page(issuer, &e),
    };
    let request = match authorize::check(issuer.stores.clients(), &params).await {
        Ok(r) => r,
        Err(refusal) => return refuse(issuer, refusal),
    };
    let session = match current_session(issuer, req).await {
        Ok(s) => s,
        Err(e) => return error_page(issuer, &e),
    };
    let now = issuer.clock.now();
    match (decide(&request, session.as_ref(), now), session) {
        (Next::Code, Some(session)) => {
            let read = issuer.stores.subjects().subject(
                UserKey::Id(&session.user_id),
                request.organization.as_deref(),
                request.api_audience(),
            );
            let mut subject = match read.await {
                Ok(s) => s,
                Err(e) => return failed(issuer, &request, &e.into()),
            };
            let Some(user) = subject.user.take() else {
                return show_form(issuer, &request, &params, None, 200);
            };
            let signed_in = SignedIn {
                session: &session,
                user,
                subject,
                login: None,
                signed_up: false,
            };
            sign_in_done(issuer, &request, signed_in).await
        }
        (Next::LoginRequired, _) | (Next::Code, None) => {
            let e = OAuthError::new(ErrorCode::LoginRequired, "the user is not signed in");
            reply_error(issuer, &e, &request.reply_to)
        }
        (Next::Login, _) => show_form(issuer, &request, &params, None, 200),
    }
}

/// The way back of the client a form names, if it is known and registered one.
async fn way_back<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    params: &Params,
) -> Option<WayBack> {
    let client_id = params.get("client_id")?;
    let client = issuer.stores.clients().client(client_id).await.ok()??;
    WayBack::of(&client)
}

/// The parameters of a posted form whose CSRF token matches its cookie ([`same_form`]); else
/// the page to show.
async fn form_params<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<Params, HttpResponse> {
    let params = req.body_params().map_err(|e| error_page(issuer, &e))?;
    same_form(issuer, req, &params).await?;
    Ok(params)
}

/// Whether the posted `params` carry the CSRF token of the cookie their page set; else the
/// page that says why not.
async fn same_form<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
    params: &Params,
) -> Result<(), HttpResponse> {
    let presented = params.get("csrf").unwrap_or("");
    let refusal = match req.cookie(CSRF_COOKIE).filter(|c| !c.is_empty()) {
        // The cookie never came back: cookies are blocked, or the page was not served over
        // https (the cookie is `Secure`), or the client is no browser.
        None => Some(
            "Your browser did not send back this page's cookie, so the form cannot be trusted. \
             Allow cookies for this site (over https), then sign in again.",
        ),
        Some(expected) if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) => {
            Some("This sign-in form has expired or was opened in another tab.")
        }
        Some(_) => None,
    };
    if let Some(message) = refusal {
        let e = OAuthError::invalid_request(message).with_status(403);
        let back = way_back(issuer, params).await;
        return Err(error_page_for(issuer, &e, back.as_ref()));
    }
    Ok(())
}

/// A posted login or sign-up form: its parameters, CSRF-checked, and the authorization request
/// it carries, checked again; else the page or redirect that answers it.
async fn posted_request<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<(Params, AuthorizeRequest), HttpResponse> {
    let params = form_params(issuer, req).await?;
    match authorize::check(issuer.stores.clients(), &params).await {
        Ok(request) => Ok((params, request)),
        Err(refusal) => Err(refuse(issuer, refusal)),
    }
}

/// `POST /u/signup`: the sign-up form. The user is created with the session and the code, in
/// one batch, and only if the `post-login` pipeline allows the sign-in.
pub async fn signup<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let (params, request) = match posted_request(issuer, req).await {
        Ok((params, r)) => (params, AuthorizeRequest { signup: true, ..r }),
        Err(answer) => return answer,
    };
    if !issuer.config.signup {
        let e = OAuthError::invalid_request("sign-up is not offered").with_status(403);
        return failed(issuer, &request, &e);
    }
    let (email, password) = (params.get("email"), params.get("password"));
    if let Some(message) = signup::refuse(email, password) {
        return show_form(issuer, &request, &params, Some(message), 400);
    }
    let (email, password) = (email.unwrap_or(""), password.unwrap_or(""));
    let connection = issuer.config.default_connection.as_str();
    let lower = crate::model::email::normalize(email).to_ascii_lowercase();
    let key = UserKey::Email {
        connection,
        email_lower: &lower,
    };
    let read = issuer.stores.subjects().subject(
        key,
        request.organization.as_deref(),
        request.api_audience(),
    );
    let subject = match read.await {
        Ok(s) if s.user.is_none() => s,
        Ok(_) => {
            let message = "An account with this email already exists: sign in instead.";
            return show_form(issuer, &request, &params, Some(message), 400);
        }
        Err(e) => return failed(issuer, &request, &e.into()),
    };
    let facts = issuer.facts();
    let created = signup::new_user(
        issuer.crypto,
        issuer.random,
        issuer.config,
        facts.now,
        email,
        password,
    );
    let user = match created.await {
        Ok(u) => u,
        Err(e) => return failed(issuer, &request, &e),
    };
    let session = match session::start(issuer.random, &user.user_id, facts.now) {
        Ok(s) => s,
        Err(e) => return failed(issuer, &request, &e),
    };
    let (user_id, email) = (user.user_id.clone(), user.email.clone());
    let signed_in = SignedIn {
        session: &session,
        user,
        subject,
        login: None,
        signed_up: true,
    };
    let resp = sign_in_done(issuer, &request, signed_in).await;
    if resp.status < 400 {
        let who = (Some(user_id.as_str()), email.as_deref());
        log_sign_in(issuer, &request, kinds::SIGNUP, "Sign-up", who);
    }
    resp
}

/// Records a sign-in event of the hosted login page: who (`user id`, email) and with which
/// client.
fn log_sign_in<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    request: &AuthorizeRequest,
    kind: &str,
    description: &str,
    (user_id, user_name): (Option<&str>, Option<&str>),
) {
    let actor = Actor {
        client_id: Some(&request.client.client_id),
        user_id,
        user_name,
    };
    let details =
        serde_json::json!({ "prompt": "login", "connection": issuer.config.default_connection });
    issuer.record(kind, description, actor, details);
}

/// `POST /u/login`: the login form.
pub async fn login<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let (params, request) = match posted_request(issuer, req).await {
        Ok(posted) => posted,
        Err(answer) => return answer,
    };
    let (Some(email), Some(password)) = (params.get("email"), params.get("password")) else {
        return show_form(
            issuer,
            &request,
            &params,
            Some("Enter your email and password."),
            400,
        );
    };
    let facts = issuer.facts();
    let connection = issuer.config.default_connection.as_str();
    let (crypto, random) = (issuer.crypto, issuer.random);
    let account = Account {
        connection,
        username: email,
        password,
    };
    let signed_in = sign_in(
        issuer.stores,
        crypto,
        random,
        &facts,
        &account,
        request.organization.as_deref(),
        request.api_audience(),
    );
    let (user, subject, login) = match signed_in.await {
        Ok(ok) => ok,
        Err(e) if e.code == ErrorCode::InvalidGrant => {
            let message = e
                .description
                .as_deref()
                .unwrap_or("Wrong email or password.");
            let kind = failure_kind(&e);
            log_sign_in(issuer, &request, kind, message, (None, Some(email)));
            return show_form(issuer, &request, &params, Some(message), 400);
        }
        Err(e) => return failed(issuer, &request, &e),
    };
    let session = match session::start(issuer.random, &user.user_id, facts.now) {
        Ok(s) => s,
        Err(e) => return failed(issuer, &request, &e),
    };
    let (user_id, user_email) = (user.user_id.clone(), user.email.clone());
    let signed_in = SignedIn {
        session: &session,
        user,
        subject,
        login: Some(login),
        signed_up: false,
    };
    let resp = sign_in_done(issuer, &request, signed_in).await;
    if resp.status < 400 {
        let who = (Some(user_id.as_str()), user_email.as_deref());
        log_sign_in(issuer, &request, kinds::LOGIN, "Successful login", who);
    }
    resp
}

/// `GET`/`POST /oidc/logout` and `GET /v2/logout`: ends the session the cookie names (in
/// storage and in the browser), then sends the user to the checked return URL, or shows that
/// they are signed out. `/oidc/logout` without a verified hint for the signed-in user first
/// shows a confirmation page, whose form (CSRF-checked) POSTs back here.
pub async fn logout<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
    dialect: Dialect,
) -> HttpResponse {
    let params = match req.method.as_str() {
        "POST" => req.body_params(),
        _ => Params::from_form(req.query.as_bytes()),
    };
    let params = match params {
        Ok(p) => p,
        Err(e) => return error_page(issuer, &e),
    };
    // Our own confirmation form, posted back: only with its CSRF token.
    let confirmed = req.method == "POST" && params.get("confirm").is_some();
    if confirmed {
        if let Err(page) = same_form(issuer, req, &params).await {
            return page;
        }
    }
    let session = req
        .cookie(SESSION_COOKIE)
        .zip(issuer.kek)
        .and_then(|(value, kek)| session::session_id(kek, value));
    // Whose session it is matters only against a hint's `sub`.
    let signed_in = match (&session, params.get("id_token_hint")) {
        (Some(id), Some(_)) if !confirmed => match issuer.stores.sessions().session(id).await {
            Ok(s) => s.map(|s| s.user_id),
            Err(e) => return error_page(issuer, &e.into()),
        },
        _ => None,
    };
    let check = LogoutCheck {
        clients: issuer.stores.clients(),
        keys: issuer.stores.keys(),
        crypto: issuer.crypto,
        config: issuer.config,
    };
    let after = check
        .check(&params, dialect, signed_in.as_deref(), confirmed)
        .await;
    let (after, refused) = match (after, dialect) {
        (Ok(after), _) => (after, None),
        // Auth0's logout ends the session whatever; RP-Initiated Logout keeps it on an
        // invalid request (§4), so a forged request changes nothing.
        (Err(e), Dialect::Auth0) => (AfterLogout::default(), Some(e)),
        (Err(e), Dialect::Oidc) => return error_page(issuer, &e),
    };
    if after.confirm {
        return confirm_logout(issuer, &params, &after);
    }
    if let Some(id) = session {
        if let Err(e) = issuer.stores.sessions().delete_session(&id).await {
            return error_page(issuer, &e.into());
        }
    }
    let cleared = cookie(SESSION_COOKIE, "", 0);
    let resp = match (refused, after.redirect) {
        (Some(e), _) => error_page(issuer, &e),
        (None, Some(url)) => HttpResponse::empty(302)
            .with_header("location", &url)
            .no_store(),
        (None, None) => html_response(200, pages::signed_out(), &pages::csp(&[], false, None)),
    };
    resp.with_header("set-cookie", &cleared)
}

/// The logout confirmation page: the request's parameters (but the hint) carried in a form
/// that POSTs back with a fresh CSRF token; its CSP lets the redirect after it reach the
/// return URL.
fn confirm_logout<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    params: &Params,
    after: &AfterLogout,
) -> HttpResponse {
    let (csrf, mut carried) =
        match form_state(issuer, params, &["id_token_hint", "csrf", "confirm"]) {
            Ok(state) => state,
            Err(page) => return page,
        };
    // The hint named the client; the form carries it on without the hint.
    if let (None, Some(client_id)) = (params.get("client_id"), &after.client_id) {
        carried.push(("client_id".into(), client_id.clone()));
    }
    let html = pages::confirm_logout(paths::END_SESSION, &carried, &csrf);
    let to: Vec<&str> = after.redirect.as_deref().map(origin).into_iter().collect();
    html_response(200, html, &pages::csp(&to, false, None))
        .with_header("set-cookie", &cookie(CSRF_COOKIE, &csrf, CSRF_LIFETIME))
}

/// The session the request's cookie names, if its MAC holds and it is stored.
async fn current_session<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> Result<Option<Session>, OAuthError> {
    let (Some(kek), Some(value)) = (issuer.kek, req.cookie(SESSION_COOKIE)) else {
        return Ok(None);
    };
    let Some(id) = session::session_id(kek, value) else {
        return Ok(None);
    };
    Ok(issuer.stores.sessions().session(&id).await?)
}

/// A user who just signed in, up, or through a live session.
struct SignedIn<'a> {
    session: &'a Session,
    user: User,
    /// The user's organization and access, read for the authorization request.
    subject: Subject,
    /// A password just entered: its bookkeeping.
    login: Option<crate::port::Login>,
    /// The user is new and still to be stored.
    signed_up: bool,
}

/// A signed-in user: the organization is checked, the code issued and stored with the login
/// and the new session (when `login` is a password just entered), and the client answered.
async fn sign_in_done<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    request: &AuthorizeRequest,
    signed_in: SignedIn<'_>,
) -> HttpResponse {
    let SignedIn {
        session,
        user,
        subject,
        login,
        signed_up,
    } = signed_in;
    let Some(kek) = issuer.kek else {
        return error_page(
            issuer,
            &OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"),
        );
    };
    let facts = issuer.facts();
    let (pipeline, ports) = (issuer.pipeline(), issuer.stores);
    let new_user = signed_up.then(|| user.clone());
    let approved = authorize::approve(ports, &pipeline, &facts, request, session, user, subject);
    let issuance = match approved.await {
        Ok(issuance) => issuance,
        Err(e) if e.code == ErrorCode::ServerError => return failed(issuer, request, &e),
        Err(e) => return reply_error(issuer, &e, &request.reply_to),
    };
    let org_id = issuance.organization.as_ref().map(|o| o.org_id.clone());
    let issued = request
        .response_type
        .code
        .then(|| {
            new_code(
                issuer.random,
                &facts,
                request,
                &session.user_id,
                session,
                org_id,
            )
        })
        .transpose();
    let (code, record) = match issued {
        Ok(c) => c.unzip(),
        Err(e) => return failed(issuer, request, &e),
    };
    // Tokens in the response (implicit, hybrid) are signed before anything is stored.
    let keys = issuer.keys();
    let minted = front_channel(
        &keys,
        &facts,
        &issuance,
        request.response_type,
        code.as_deref(),
    );
    let tokens = match minted.await {
        Ok(t) => t,
        Err(e) => return failed(issuer, request, &e),
    };
    let new_session = (login.is_some() || signed_up).then_some(session);
    // Single sign-on through a live session keeps it alive: its idle expiry moves on.
    let touched = Session {
        idle_expires_at: facts.now + session::IDLE_LIFETIME,
        ..session.clone()
    };
    let touched = new_session.is_none().then_some(&touched);
    let stored = issuer
        .stores
        .exchange()
        .commit_authorization(
            &SignIn {
                new_user: new_user.as_ref(),
                login: login.as_ref(),
                session: new_session,
                touched,
                code: record.as_ref(),
            },
            facts.now,
        )
        .await;
    if let Err(e) = stored {
        // A sign-up whose address is taken by a look-alike the form's exact check missed.
        if signed_up && matches!(e, StoreError::Conflict(_)) {
            let taken = OAuthError::invalid_request(
                "An account with this email, or one that looks the same, already exists: sign in instead.",
            )
            .with_status(409);
            return failed(issuer, request, &taken);
        }
        return failed(issuer, request, &e.into());
    }
    let fields = authorize::success(
        code.as_deref(),
        tokens,
        &request.reply_to,
        &issuer.config.issuer,
    );
    let resp = reply(&fields, &request.reply_to);
    match new_session {
        Some(s) => resp.with_header(
            "set-cookie",
            &cookie(
                SESSION_COOKIE,
                &session::cookie_value(kek, &s.session_id),
                session::ABSOLUTE_LIFETIME,
            ),
        ),
        None => resp,
    }
}

/// The login form (or the sign-up form, for `screen_hint=signup` when sign-up is offered),
/// carrying the authorization request, with a fresh CSRF token.
fn show_form<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    request: &AuthorizeRequest,
    params: &Params,
    error: Option<&str>,
    status: u16,
) -> HttpResponse {
    let (csrf, carried) = match form_state(issuer, params, &FORM_FIELDS) {
        Ok(state) => state,
        Err(page) => return page,
    };
    let email = params.get("email").or(request.login_hint.as_deref());
    let signup = request.signup && issuer.config.signup;
    // The link to the other form: the same authorization request, with or without the hint.
    let mut other: Vec<(String, String)> = carried
        .iter()
        .filter(|(k, _)| k != "screen_hint")
        .cloned()
        .collect();
    if !signup {
        other.push(("screen_hint".into(), "signup".into()));
    }
    let other = format!(
        "{}?{}",
        paths::AUTHORIZE,
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&other)
            .finish()
    );
    let rule = format!("At least {MIN_PASSWORD_CHARS} characters, and not your email address.");
    let form = LoginForm {
        password_rule: signup.then_some(rule.as_str()),
        client_name: &request.client.name,
        action: if signup { paths::SIGNUP } else { paths::LOGIN },
        request: &carried,
        csrf: &csrf,
        email,
        error,
        other: issuer.config.signup.then_some(other.as_str()),
    };
    let html = if signup {
        pages::signup(&form)
    } else {
        pages::login(&form)
    };
    let origin = origin(&request.reply_to.redirect_uri);
    html_response(status, html, &pages::csp(&[origin], false, None))
        .with_header("set-cookie", &cookie(CSRF_COOKIE, &csrf, CSRF_LIFETIME))
}

/// What a form that posts back carries: a fresh CSRF token, and the request's parameters but
/// the form's own fields (`leave`).
fn form_state<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    params: &Params,
    leave: &[&str],
) -> Result<(String, Vec<(String, String)>), HttpResponse> {
    let csrf = issuer
        .random
        .token(16)
        .map_err(|e| error_page(issuer, &e.into()))?;
    let carried = params
        .pairs()
        .iter()
        .filter(|(k, _)| !leave.contains(&k.as_str()))
        .cloned()
        .collect();
    Ok((csrf, carried))
}

/// One of the issuer's pages, which no one may frame.
fn html_response(status: u16, html: String, csp: &str) -> HttpResponse {
    framable_html(status, html, csp).with_header("x-frame-options", "DENY")
}

/// A page whose framing `csp`'s `frame-ancestors` alone decides.
fn framable_html(status: u16, html: String, csp: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
        body: html.into_bytes(),
    }
    .with_header("content-security-policy", csp)
    .no_store()
}

fn refuse<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Page(e, back) => error_page_for(issuer, &e, back.as_ref()),
        Refusal::Redirect(e, reply_to) => reply_error(issuer, &e, &reply_to),
    }
}

fn reply_error<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    e: &OAuthError,
    reply_to: &ReplyTo,
) -> HttpResponse {
    issuer.log_error(e);
    reply(
        &authorize::failure(e, reply_to, &issuer.config.issuer),
        reply_to,
    )
}

/// Sends `fields` back to the client by its response mode.
fn reply(fields: &[(String, String)], reply_to: &ReplyTo) -> HttpResponse {
    match reply_to.mode {
        ResponseMode::Query | ResponseMode::Fragment => {
            let mut url = reply_to.redirect_uri.clone();
            let encoded = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            let separator = match reply_to.mode {
                ResponseMode::Fragment => '#',
                _ if url.contains('?') => '&',
                _ => '?',
            };
            url.push(separator);
            url.push_str(&encoded);
            HttpResponse::empty(302)
                .with_header("location", &url)
                .no_store()
        }
        ResponseMode::FormPost => {
            let action = reply_to.redirect_uri.as_str();
            let html = pages::form_post(action, fields);
            html_response(200, html, &pages::csp(&[origin(action)], true, None))
        }
        ResponseMode::WebMessage => {
            // Loaded in the client's hidden iframe: it may be framed by that origin only.
            let target = origin(&reply_to.redirect_uri);
            let html = pages::web_message(target, fields);
            framable_html(200, html, &pages::csp(&[], true, Some(target)))
        }
    }
}

/// The issuer's own error page: for a request whose client or redirect URI is not trusted,
/// and for failures of the issuer itself.
fn error_page<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, e: &OAuthError) -> HttpResponse {
    error_page_for(issuer, e, None)
}

/// The error page of a checked authorization request: it offers the client's way back.
fn failed<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    request: &AuthorizeRequest,
    e: &OAuthError,
) -> HttpResponse {
    error_page_for(issuer, e, WayBack::of(&request.client).as_ref())
}

/// The error page, saying what happened and what the person can do, with a link back to the
/// client's `initiate_login_uri` when it is known.
fn error_page_for<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    e: &OAuthError,
    back: Option<&WayBack>,
) -> HttpResponse {
    issuer.log_error(e);
    let (message, advice) = match e.code {
        ErrorCode::ServerError => (
            "The sign-in service failed.",
            "Try again in a moment. If it keeps failing, tell the application's support.",
        ),
        _ => (
            e.description.as_deref().unwrap_or(e.code.as_str()),
            "Go back to the application and start signing in again.",
        ),
    };
    let back = back.map(|b| (b.client_name.as_str(), b.url.as_str()));
    html_response(
        e.http_status(),
        pages::error(message, advice, back),
        &pages::csp(&[], false, None),
    )
}

#[cfg(test)]
mod tests {
    use crate::oauth::authorize::origin;

    #[test]
    fn origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://a.example:8443/cb?x=1"),
            "https://a.example:8443"
        );
        assert_eq!(origin("http://127.0.0.1:3000"), "http://127.0.0.1:3000");
        assert_eq!(origin("com.example.app://cb#f"), "com.example.app://cb");
    }
}
