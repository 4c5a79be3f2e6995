//! Signing in at the authorization endpoint: the login transaction, the authenticators that
//! prove who the user is, and the one step that completes every sign-in.
//!
//! A sign-in goes down into this module once per HTTP request and comes back once, as a
//! [`Screen`]: the answer to the client, a login page, or the issuer's error page. The web
//! layer renders it and sets its cookies; it decides nothing and stores nothing.
//!
//! - [`authorize`]: `/authorize`. A live session answers at once ([`complete`] through
//!   single sign-on); else the login page starts a [`LoginTransaction`].
//! - [`login`], [`signup`]: a posted page of a transaction. The authenticator of the page (the
//!   password form, [`password::authenticate`], is the first) yields an [`Authentication`],
//!   and [`complete`] ends the sign-in; after a password, a second factor first when the
//!   policy asks for one ([`second_factor`]).

pub mod complete;
pub mod connection;
mod error;
pub mod passkey;
pub mod password;
pub mod passwordless;
pub mod second_factor;
pub mod transaction;
pub mod upstream;
pub mod user_store;

pub use complete::{complete, Arrival};
pub use error::{FormProblem, SignInError};
pub use transaction::LoginTransaction;

use crate::error::{ErrorCode, OAuthError};
use crate::model::authentication::MULTI_FACTOR_ACR;
use crate::model::webauthn::challenge_for;
use crate::model::{Authenticated, Connection, Session, Subject, User};
use crate::oauth::authorize::{check, decide, AuthorizeRequest, Next, Refusal, ReplyTo, WayBack};
use crate::oauth::claims::pipeline::Pipeline;
use crate::oauth::events::{log_failure, record, Actor};
use crate::oauth::facts::Facts;
use crate::oauth::keys::{Kek, KeyRing};
use crate::oauth::mfa::passkey::{options as passkey_options, RelyingParty};
use crate::oauth::params::Params;
use crate::oauth::provision::{provision, Credential, Draft, Refused};
use crate::oauth::session;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, EventSink, KeyStore};
use crate::port::{ConnectionStore, SessionStore, Stores, SubjectStore, UserKey};
use complete::{log_sign_in, reply_error};
use password::Account;

/// What a sign-in uses: the storage ports, the platform, the key-encryption key (sessions'
/// MACs, sealed transactions), the claims pipeline, the signing keys (tokens in the
/// response), the request's facts, and where log events and internal failures go.
pub struct SignInFlow<'a, P, C, S, K> {
    pub ports: &'a P,
    pub crypto: &'a C,
    pub random: &'a dyn Random,
    /// `None` when the `KEY_ENCRYPTION_KEY` secret is missing: sign-in then fails closed.
    pub kek: Option<&'a Kek>,
    pub pipeline: Pipeline<'a, S>,
    pub keys: KeyRing<'a, K, C>,
    pub facts: Facts<'a>,
    pub events: &'a dyn EventSink,
    pub log: &'a dyn Fn(&str),
    /// The way out to upstream providers.
    pub http: &'a dyn crate::port::outbound::Http,
    /// The remembered-browser cookie the request carries, if any ([`crate::oauth::mfa::remember`]).
    pub remembered: Option<&'a str>,
}

impl<P, C, S, K> SignInFlow<'_, P, C, S, K> {
    /// Logs the internal detail of a failure; the browser never sees it.
    fn log_error(&self, e: &OAuthError) {
        log_failure(self.log, e);
    }

    /// Records a log event of `kind`.
    fn record(&self, kind: &str, description: &str, actor: Actor<'_>, details: serde_json::Value) {
        record(
            self.events,
            self.random,
            &self.facts,
            kind,
            description,
            actor,
            details,
        );
    }
}

/// What an authenticator proved: the user (with their organization and access as the
/// authorization request needs them), how, and when; the bookkeeping the commit writes.
#[derive(Debug, Clone)]
pub struct Authentication {
    pub user: User,
    pub subject: Subject,
    pub authenticated: Authenticated,
    /// When the user authenticated (the ID token's `auth_time`).
    pub auth_time: u64,
    /// A password just entered: its attempt counter to clear and its rehash.
    pub login: Option<crate::port::Login>,
    /// The user signed up in this step and is stored with the sign-in.
    pub new_user: bool,
    /// A sign-in at an upstream provider: what the commit records of it.
    pub upstream: Option<Box<crate::port::UpstreamLogin>>,
}

/// What the browser gets next.
#[derive(Debug)]
pub enum Screen {
    /// The response (or an error) for the client, by its response mode.
    Reply(Reply),
    /// A login or sign-up page of a transaction.
    Form(Box<LoginPage>),
    /// The issuer's own error page: the request cannot be answered to the client (its
    /// redirect URI is not trusted) or the issuer failed; with the client's way back if known.
    Error(SignInError, Option<WayBack>),
    /// The page asking for a second factor (and first enrolling one).
    Factor(Box<second_factor::FactorPage>),
    /// On to an upstream provider (`location`), with the cookie that binds the sign-in to
    /// this browser.
    Upstream { location: String, binding: String },
}

/// The response for the client.
#[derive(Debug)]
pub struct Reply {
    pub fields: Vec<(String, String)>,
    pub reply_to: ReplyTo,
    /// The value of the session cookie, when a session started.
    pub session: Option<String>,
    /// The remembered-browser cookie's value to set, and its `Max-Age`.
    pub remember: Option<(String, u64)>,
}

/// A login or sign-up page.
#[derive(Debug)]
pub struct LoginPage {
    /// The sign-up page (else the login page).
    pub signup: bool,
    /// Whether sign-up is offered (the page links to the other one).
    pub signup_offered: bool,
    pub client_name: String,
    /// The connection the page signs in through, when it has a display name to show.
    pub connection: Option<String>,
    /// The connection's password policy, in words (the sign-up page shows it).
    pub password_rule: String,
    /// The sealed transaction the form posts back.
    pub state: String,
    /// The transaction's CSRF token: the page's cookie.
    pub csrf: String,
    /// The email to fill in: the one posted, else the request's `login_hint`.
    pub email: Option<String>,
    /// Why the page is shown again.
    pub error: Option<SignInError>,
    /// The authorization request's parameters, for the link to the other page.
    pub params: Vec<(String, String)>,
    /// The client's redirect URI (the page may send the browser there).
    pub redirect_uri: String,
    /// Whether the page has the email and password form (a database connection).
    pub password: bool,
    /// Whether the page links to the "Forgot password?" form.
    pub reset_offered: bool,
    /// The upstream connections the client offers: (name, label), a button each.
    pub providers: Vec<(String, String)>,
    /// Whether the page has the "Email me a code" form (the client has a passwordless
    /// connection).
    pub code_offered: bool,
    /// The code was sent to [`LoginPage::email`]: the page asks for it.
    pub code_sent: bool,
    /// The options of "Sign in with a passkey" (JSON for the page's script), when passkeys
    /// are offered ([`passkey`]).
    pub passkey: Option<String>,
}

/// `/authorize`: the checked request answered from a live session (single sign-on), by the
/// login page, or with an error. `session_cookie` is the browser's session cookie, if any.
pub async fn authorize<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    params: &Params,
    session_cookie: Option<&str>,
) -> Screen {
    let request = match check(flow.ports.clients(), params).settle().await {
        Ok(r) => r,
        Err(refusal) => return refused(flow, refusal),
    };
    let back = || WayBack::of(&request.client);
    let session = match current_session(flow, session_cookie).settle().await {
        Ok(s) => s,
        Err(e) => return Screen::Error(e.into(), back()),
    };
    let now = flow.facts.now;
    match (decide(&request, session.as_ref(), now), session) {
        // A session of another connection than the one asked for signs in again.
        (Next::Code, Some(session))
            if request.connection.as_ref().is_some_and(|named| {
                session.authenticated.as_ref().map(|a| &a.connection) != Some(named)
            }) =>
        {
            sign_in_again(flow, &request, params).settle().await
        }
        (Next::Code, Some(session)) => {
            // A request for a second factor (`acr_values`) that the session's sign-in did not
            // prove signs in again, where the tenant offers one (a step-up).
            let step_up = request.acr_values.iter().any(|v| v == MULTI_FACTOR_ACR);
            let proven = session
                .authenticated
                .as_ref()
                .is_some_and(|a| a.multi_factor());
            if step_up && !proven {
                match flow.ports.guardian().settle().await {
                    Ok(g) if g.any_factor() => {
                        return sign_in_again(flow, &request, params).settle().await
                    }
                    Ok(_) => {}
                    Err(e) => return Screen::Error(e.into(), back()),
                }
            }
            // The session's connection must still be one this client signs in through.
            if let Some(signed_in) = &session.authenticated {
                let all = match flow.ports.connections().all_connections().settle().await {
                    Ok(all) => all,
                    Err(e) => return Screen::Error(e.into(), back()),
                };
                let default = &flow.facts.config.default_connection;
                let client_id = &request.client.client_id;
                let named = Some(signed_in.connection.as_str());
                if connection::choose(&all, client_id, named, default).is_err() {
                    return sign_in_again(flow, &request, params).settle().await;
                }
            }
            let read = flow.ports.subjects().subject(
                UserKey::Id(&session.user_id),
                request.organization.as_deref(),
                request.api_audience(),
            );
            let mut subject = match read.settle().await {
                Ok(s) => s,
                Err(e) => return Screen::Error(e.into(), back()),
            };
            let Some(user) = subject.user.take() else {
                // The session's user was deleted: sign in again.
                return sign_in_again(flow, &request, params).settle().await;
            };
            let arrival = Arrival::Sso {
                session,
                user,
                subject,
            };
            // A hook may still ask for a second factor: its page needs a login transaction.
            match LoginTransaction::new(flow.random, params, flow.facts.now) {
                Ok(tx) => complete(flow, &request, arrival, &tx).settle().await,
                Err(e) => Screen::Error(e.into(), back()),
            }
        }
        (Next::LoginRequired, _) | (Next::Code, None) => {
            let e = OAuthError::new(ErrorCode::LoginRequired, "the user is not signed in");
            reply_error(flow, &request, &e)
        }
        (Next::Login, _) => new_page(flow, &request, params).settle().await,
    }
}

/// `POST /u/login`: the password page of a transaction (`form`), posted with the browser's
/// CSRF `cookie`.
pub async fn login<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    form: &Params,
    cookie: Option<&str>,
) -> Screen {
    let (tx, request) = match resume(flow, form, cookie).settle().await {
        Ok(resumed) => resumed,
        Err(screen) => return screen,
    };
    let through = match connection_of(flow, &request).settle().await {
        Ok(t) => t,
        Err(screen) => return *screen,
    };
    let connection = &through.connection;
    if let Err(e) = connection::with_passwords(connection) {
        return Screen::Error(e.into(), WayBack::of(&request.client));
    }
    if let Some(json) = form.get("webauthn").filter(|j| !j.is_empty()) {
        return match passkey::sign_in(flow, &tx, &request, &through, json)
            .settle()
            .await
        {
            Ok(screen) => screen,
            Err(e @ SignInError::Failed(_)) => Screen::Error(e, WayBack::of(&request.client)),
            Err(e) => {
                passkey::log_refused(flow, &request, &connection.name);
                page_again(flow, &tx, &request, &through, form, e)
            }
        };
    }
    let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
        let e = SignInError::MissingCredentials;
        return page_again(flow, &tx, &request, &through, form, e);
    };
    let facts = flow.facts;
    let store = match user_store::StoreCall::of(flow.kek, connection, flow.pipeline.hooks) {
        Ok(call) => call.map(|call| (call, connection)),
        Err(e) => return Screen::Error(e, WayBack::of(&request.client)),
    };
    let account = Account {
        store,
        connection: &connection.name,
        username: email,
        password,
        brute_force_protection: connection.brute_force_protection(),
    };
    let proven = password::authenticate(
        flow.ports,
        flow.crypto,
        flow.random,
        &facts,
        &account,
        request.organization.as_deref(),
        request.api_audience(),
    );
    match proven.settle().await {
        Ok(signed_in) => {
            second_factor::after_first_factor(flow, &tx, &request, signed_in)
                .settle()
                .await
        }
        Err(e @ SignInError::Failed(_)) => Screen::Error(e, WayBack::of(&request.client)),
        Err(e) => {
            // The log says what the password grant would answer.
            let refused = e.clone().into_grant_error();
            let description = refused.description.as_deref().unwrap_or("Failed login");
            let who = (None, Some(email));
            log_sign_in(
                flow,
                &request,
                e.log_kind(),
                description,
                who,
                Some(&connection.name),
            );
            page_again(flow, &tx, &request, &through, form, e)
        }
    }
}

/// `POST /u/signup`: the sign-up page of a transaction. The user is created with the
/// session and the code, in one batch, and only if the `post-login` pipeline allows the
/// sign-in.
pub async fn signup<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    form: &Params,
    cookie: Option<&str>,
) -> (Screen, Option<SignedUp>) {
    let mut made = None;
    let screen = signup_page(flow, form, cookie, &mut made).settle().await;
    // The user is stored with the sign-in, or before the second factor's page.
    let stored = matches!(screen, Screen::Reply(_) | Screen::Factor(_));
    (screen, made.filter(|_| stored))
}

/// A user who signed up on the page, stored with the sign-in.
#[derive(Debug)]
pub struct SignedUp {
    pub user: User,
    pub client: crate::model::Client,
    pub connection: Connection,
}

async fn signup_page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    form: &Params,
    cookie: Option<&str>,
    made: &mut Option<SignedUp>,
) -> Screen {
    let (tx, request) = match resume(flow, form, cookie).settle().await {
        Ok((tx, r)) => (tx, AuthorizeRequest { signup: true, ..r }),
        Err(screen) => return screen,
    };
    let through = match connection_of(flow, &request).settle().await {
        Ok(t) => t,
        Err(screen) => return *screen,
    };
    let connection = &through.connection;
    if !signup_offered(flow, connection) || !connection.takes_signups() {
        return Screen::Error(SignInError::SignupDisabled, WayBack::of(&request.client));
    }
    let again = |e| page_again(flow, &tx, &request, &through, form, e);
    let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
        return again(SignInError::MissingCredentials);
    };
    let draft = Draft {
        email: email.to_string(),
        credential: Credential::Password(password.to_string()),
        ..Draft::default()
    };
    let now = flow.facts.now;
    let user = match new_user(flow, connection, draft).settle().await {
        Ok(u) => u,
        Err(e @ (SignInError::EmailTaken | SignInError::SignupRefused(_))) => return again(e),
        Err(e) => return Screen::Error(e, WayBack::of(&request.client)),
    };
    let lower = user.email.as_deref().unwrap_or("").to_ascii_lowercase();
    let key = UserKey::Email {
        connection: &connection.name,
        email_lower: &lower,
    };
    let read =
        flow.ports
            .subjects()
            .subject(key, request.organization.as_deref(), request.api_audience());
    let subject = match read.settle().await {
        Ok(s) if s.user.is_none() => s,
        Ok(_) => return again(SignInError::EmailTaken),
        Err(e) => return Screen::Error(e.into(), WayBack::of(&request.client)),
    };
    let authentication = Authentication {
        user,
        subject,
        authenticated: Authenticated::password(&connection.name),
        auth_time: now,
        login: None,
        new_user: true,
        upstream: None,
    };
    *made = Some(SignedUp {
        user: authentication.user.clone(),
        client: request.client.clone(),
        connection: connection.clone(),
    });
    second_factor::after_first_factor(flow, &tx, &request, authentication)
        .settle()
        .await
}

/// The new user of a sign-up (the page's, or `POST /dbconnections/signup`) through the
/// database `connection`: checked against its policy and hashed, not stored. In import mode,
/// an address the tenant's store still holds is its user's: signing it up here would keep
/// that user from ever migrating (Auth0 asks `get_user` too), so it is refused as taken.
pub async fn new_user<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    connection: &Connection,
    draft: Draft,
) -> Result<User, SignInError> {
    if let Some(call) = user_store::StoreCall::of(flow.kek, connection, flow.pipeline.hooks)? {
        let lower = crate::model::email::normalize(&draft.email).to_ascii_lowercase();
        if user_store::get_user(&call, &connection.name, &lower, flow.facts.now)
            .settle()
            .await?
        {
            return Err(SignInError::EmailTaken);
        }
    }
    let (config, now) = (flow.facts.config, flow.facts.now);
    let made = provision(flow.crypto, flow.random, config, now, connection, draft)
        .settle()
        .await;
    made.map_err(|refused| match refused {
        Refused::Failed(e) => e.into(),
        Refused::Field(_, why) => SignInError::SignupRefused(why),
        Refused::Password(why) => SignInError::SignupRefused(why.message()),
    })
}

/// The transaction a posted page carries, bound to this browser, and its authorization
/// request checked again; else the screen that answers.
async fn resume<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    form: &Params,
    cookie: Option<&str>,
) -> Result<(LoginTransaction, AuthorizeRequest), Screen> {
    let kek = flow.kek.ok_or_else(|| Screen::Error(no_kek(), None))?;
    let state = form.get("state").unwrap_or("");
    let now = flow.facts.now;
    let tx = LoginTransaction::open(kek, state, now).map_err(|e| Screen::Error(e, None))?;
    let params = tx.params().map_err(|e| Screen::Error(e.into(), None))?;
    let request = check(flow.ports.clients(), &params)
        .settle()
        .await
        .map_err(|refusal| refused(flow, refusal))?;
    tx.bound_to(cookie)
        .map_err(|e| Screen::Error(e, WayBack::of(&request.client)))?;
    Ok((tx, request))
}

/// The connection a sign-in goes through, and the upstream connections its page offers.
pub struct Through {
    pub connection: Connection,
    /// The client's upstream connections: (name, label), a button each on the page.
    pub providers: Vec<(String, String)>,
    /// The client's passwordless connection, if it has one.
    pub passwordless: Option<Connection>,
    /// Where passkeys sign in, when a WebAuthn factor is on, the connection is a database,
    /// and the page is at a host browsers take as RP ID.
    pub passkeys: Option<RelyingParty>,
}

/// The connection the sign-in of `request` goes through ([`connection::choose`]), with the
/// client's upstream connections; else the client's error.
async fn connection_of<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
) -> Result<Through, Box<Screen>> {
    let all = match flow.ports.connections().all_connections().settle().await {
        Ok(all) => all,
        Err(e) => {
            let screen = Screen::Error(e.into(), WayBack::of(&request.client));
            return Err(Box::new(screen));
        }
    };
    let default = &flow.facts.config.default_connection;
    let client_id = &request.client.client_id;
    let providers = all
        .iter()
        .filter(|c| c.is_upstream() && c.enabled_for(client_id))
        .map(|c| {
            let label = c.display_name.clone().unwrap_or_else(|| c.name.clone());
            (c.name.clone(), label)
        })
        .collect();
    let passwordless = all
        .iter()
        .find(|c| c.is_passwordless() && c.enabled_for(client_id))
        .cloned();
    let chosen = connection::choose(&all, client_id, request.connection.as_deref(), default);
    let c = match chosen {
        Ok(c) => c,
        Err(e) => return Err(Box::new(reply_error(flow, request, &e))),
    };
    // Passkeys sign in users of a database connection, where a WebAuthn factor is on.
    let mut passkeys = None;
    if c.is_database() {
        passkeys = match flow.ports.guardian().settle().await {
            Ok(g) if g.webauthn() => RelyingParty::of(flow.facts.config, flow.facts.host),
            Ok(_) => None,
            Err(e) => {
                let screen = Screen::Error(e.into(), WayBack::of(&request.client));
                return Err(Box::new(screen));
            }
        };
    }
    Ok(Through {
        passkeys,
        connection: c.clone(),
        providers,
        passwordless,
    })
}

/// Whether sign-up is offered through `connection`: the tenant offers it and the connection
/// does not turn it off (`disable_signup`).
fn signup_offered<P, C, S, K>(flow: &SignInFlow<'_, P, C, S, K>, connection: &Connection) -> bool {
    flow.facts.config.signup && !connection.signup_disabled()
}

/// A live session that cannot answer this request: the login page, or `login_required` for
/// `prompt=none`.
async fn sign_in_again<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    params: &Params,
) -> Screen {
    if request.prompt.none {
        let e = OAuthError::new(ErrorCode::LoginRequired, "the user must sign in again");
        return reply_error(flow, request, &e);
    }
    new_page(flow, request, params).settle().await
}

/// The login page of a new transaction for `request` (the sign-up page for
/// `screen_hint=signup` when sign-up is offered).
async fn new_page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    params: &Params,
) -> Screen {
    let through = match connection_of(flow, request).settle().await {
        Ok(t) => t,
        Err(screen) => return *screen,
    };
    // A named upstream connection goes straight to its provider.
    if request.connection.is_some() && through.connection.is_upstream() {
        return upstream::start(flow, request, params, &through.connection);
    }
    match LoginTransaction::new(flow.random, params, flow.facts.now) {
        Ok(tx) => page(flow, &tx, request, &through, None, None),
        Err(e) => Screen::Error(e.into(), WayBack::of(&request.client)),
    }
}

/// The page of `tx` again, after `error`, with a fresh CSRF token.
fn page_again<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    through: &Through,
    form: &Params,
    error: SignInError,
) -> Screen {
    match tx.renewed(flow.random, flow.facts.now) {
        Ok(tx) => page(flow, &tx, request, through, form.get("email"), Some(error)),
        Err(e) => Screen::Error(e.into(), WayBack::of(&request.client)),
    }
}

fn page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    through: &Through,
    email: Option<&str>,
    error: Option<SignInError>,
) -> Screen {
    let connection = &through.connection;
    let Some(kek) = flow.kek else {
        return Screen::Error(no_kek(), WayBack::of(&request.client));
    };
    let state = match tx.seal(kek, flow.random) {
        Ok(s) => s,
        Err(e) => return Screen::Error(e.into(), WayBack::of(&request.client)),
    };
    let offered = signup_offered(flow, connection) && connection.takes_signups();
    Screen::Form(Box::new(LoginPage {
        password: connection.is_database(),
        reset_offered: connection.is_database() && !connection.self_service_reset_disabled(),
        providers: through.providers.clone(),
        code_offered: through.passwordless.is_some(),
        code_sent: false,
        signup: request.signup && offered,
        signup_offered: offered,
        client_name: request.client.name.clone(),
        connection: connection.display_name.clone(),
        password_rule: connection.password_policy().describe(),
        state,
        csrf: tx.csrf.clone(),
        email: email.or(request.login_hint.as_deref()).map(str::to_string),
        error,
        params: tx.params.clone(),
        redirect_uri: request.reply_to.redirect_uri.clone(),
        passkey: through.passkeys.as_ref().map(|rp| {
            let challenge = challenge_for(&tx.csrf);
            let mut options = passkey_options(rp, &challenge, None, &[], "required");
            options["conditional"] = true.into();
            options.to_string()
        }),
    }))
}

fn refused<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    refusal: Refusal,
) -> Screen {
    match refusal {
        Refusal::Page(e, back) => Screen::Error(e.into(), back),
        Refusal::Redirect(e, reply_to) => {
            flow.log_error(&e);
            Screen::Reply(Reply {
                fields: crate::oauth::authorize::failure(&e, &reply_to, &flow.facts.config.issuer),
                reply_to,
                session: None,
                remember: None,
            })
        }
    }
}

fn no_kek() -> SignInError {
    SignInError::Failed(OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))
}

/// The session the browser's cookie names, if its MAC holds and it is stored.
async fn current_session<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    cookie: Option<&str>,
) -> Result<Option<Session>, OAuthError> {
    let (Some(kek), Some(value)) = (flow.kek, cookie) else {
        return Ok(None);
    };
    let Some(id) = session::session_id(kek, value) else {
        return Ok(None);
    };
    Ok(flow.ports.sessions().session(&id).settle().await?)
}
