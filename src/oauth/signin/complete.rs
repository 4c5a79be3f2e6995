//! The one last step of every sign-in at /authorize: the `post-login` pipeline on the
//! issuance the response would give, the code (and, for implicit and hybrid responses, the
//! tokens), and one batch that stores the new user if any, the login's bookkeeping, the
//! session (new, or kept alive) and the code.

use super::second_factor;
use super::{Authentication, Reply, Screen, SignInError};
use super::{LoginTransaction, SignInFlow};
use crate::error::{ErrorCode, OAuthError, StoreError};
use crate::model::log::kinds;
use crate::model::{Authenticated, AuthorizationCode, GrantType, Issuance, RefreshPlan};
use crate::model::{Session, Subject, User};
use crate::oauth::authorize::{success, AuthorizeRequest, WayBack};
use crate::oauth::claims::pipeline::{enrich, Pipeline};
use crate::oauth::events::Actor;
use crate::oauth::facts::Facts;
use crate::oauth::grant::authorization_code::{hash_code, CODE_LIFETIME};
use crate::oauth::grant::user::user_issuance;
use crate::oauth::session;
use crate::oauth::token::front::front_channel;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, ClientStore, ExchangeStore, HasClients, KeyStore, SignIn, Stores};

/// How the user reached the last step.
pub enum Arrival {
    /// They just proved who they are: a new session starts.
    Fresh(Authentication),
    /// Through a live session (single sign-on): its idle expiry moves on.
    Sso {
        session: Session,
        user: User,
        subject: Subject,
    },
}

/// Completes a sign-in for `request`: the client gets a code (or tokens), an error it can act
/// on (`access_denied` from the pipeline, a blocked user, an organization the user is not in),
/// or the person the issuer's error page.
///
/// A post-login hook may ask for a second factor (`"multifactor": true`): a sign-in that
/// proved none goes to the second factor's page instead (of `tx`, the login transaction), where
/// the tenant offers one; the pipeline runs again when the factor is proven.
pub async fn complete<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    arrival: Arrival,
    tx: &LoginTransaction,
) -> Screen {
    let back = WayBack::of(&request.client);
    let failed = |e: SignInError| Screen::Error(e, back.clone());
    let Some(kek) = flow.kek else {
        return failed(SignInError::Failed(OAuthError::server(
            "KEY_ENCRYPTION_KEY secret is not set",
        )));
    };
    let facts = flow.facts;
    let (session, new_user, login, upstream, user, subject, fresh) = match arrival {
        Arrival::Fresh(a) => {
            let started =
                session::start(flow.random, &a.user.user_id, a.auth_time, &a.authenticated);
            let session = match started {
                Ok(s) => s,
                Err(e) => return failed(e.into()),
            };
            let new_user = a.new_user.then(|| a.user.clone());
            (
                session, new_user, a.login, a.upstream, a.user, a.subject, true,
            )
        }
        Arrival::Sso {
            session,
            user,
            subject,
        } => (session, None, None, None, user, subject, false),
    };
    let approved = approve(
        flow.ports,
        &flow.pipeline,
        &facts,
        request,
        &session,
        user,
        subject,
    );
    let (mut issuance, hook_asks) = match approved.settle().await {
        Ok(approved) => approved,
        Err(e) if e.code == ErrorCode::ServerError => return failed(SignInError::Failed(e)),
        Err(e) => return reply_error(flow, request, &e),
    };
    let proven = session
        .authenticated
        .as_ref()
        .is_some_and(Authenticated::multi_factor);
    if hook_asks && !proven {
        let offered = match flow.ports.guardian().settle().await {
            Ok(guardian) => guardian.any_factor(),
            Err(e) => return failed(e.into()),
        };
        // Where no factor is offered, the sign-in goes on, as `acr_values` is answered.
        if let Some(user) = issuance.user.take_if(|_| offered) {
            if request.prompt.none {
                let e = OAuthError::new(ErrorCode::LoginRequired, "a second factor is required");
                return reply_error(flow, request, &e);
            }
            let connection = user.connection.clone();
            let first = Authentication {
                user,
                subject: Subject::default(),
                authenticated: session.authenticated.clone().unwrap_or(Authenticated {
                    connection,
                    methods: Vec::new(),
                    acr: None,
                }),
                auth_time: session.auth_time,
                login,
                new_user: new_user.is_some(),
                upstream,
            };
            // Boxed: the page's answer completes the sign-in (a recursion of futures).
            return Box::pin(second_factor::ask(flow, tx, request, first, true)).await;
        }
    }
    let org_id = issuance.organization.as_ref().map(|o| o.org_id.clone());
    let issued = request
        .response_type
        .code
        .then(|| new_code(flow.random, &facts, request, &session, org_id))
        .transpose();
    let (code, record) = match issued {
        Ok(c) => c.unzip(),
        Err(e) => return failed(SignInError::Failed(e)),
    };
    // Tokens in the response (implicit, hybrid) are signed before anything is stored.
    let minted = front_channel(
        &flow.keys,
        &facts,
        &issuance,
        request.response_type,
        code.as_deref(),
    );
    let tokens = match minted.settle().await {
        Ok(t) => t,
        Err(e) => return failed(SignInError::Failed(e)),
    };
    // Single sign-on through a live session keeps it alive: its idle expiry moves on.
    let touched = Session {
        idle_expires_at: facts.now + session::IDLE_LIFETIME,
        ..session.clone()
    };
    let stored = flow
        .ports
        .exchange()
        .commit_authorization(
            &SignIn {
                new_user: new_user.as_ref(),
                login: login.as_ref(),
                session: fresh.then_some(&session),
                touched: (!fresh).then_some(&touched),
                code: record.as_ref(),
                upstream: upstream.as_deref(),
            },
            facts.now,
        )
        .settle()
        .await;
    match stored {
        // A sign-up whose address is taken by a look-alike the form's exact check missed.
        Err(StoreError::Conflict(_)) if new_user.is_some() => {
            return failed(SignInError::EmailTaken)
        }
        Err(e) => return failed(e.into()),
        Ok(()) => {}
    }
    if fresh {
        let user = issuance.user.as_ref();
        let (kind, description) = match new_user {
            Some(_) => (kinds::SIGNUP, "Sign-up"),
            None => (kinds::LOGIN, "Successful login"),
        };
        let who = (
            user.map(|u| u.user_id.as_str()),
            user.and_then(|u| u.email.as_deref()),
        );
        let connection = session
            .authenticated
            .as_ref()
            .map(|a| a.connection.as_str());
        log_sign_in(flow, request, kind, description, who, connection);
    }
    Screen::Reply(Reply {
        fields: success(
            code.as_deref(),
            tokens,
            &request.reply_to,
            &flow.facts.config.issuer,
        ),
        reply_to: request.reply_to.clone(),
        session: fresh.then(|| session::cookie_value(kek, &session.session_id)),
        remember: None,
    })
}

/// The client's error, sent back to it.
pub fn reply_error<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    e: &OAuthError,
) -> Screen {
    flow.log_error(e);
    Screen::Reply(Reply {
        fields: crate::oauth::authorize::failure(e, &request.reply_to, &flow.facts.config.issuer),
        reply_to: request.reply_to.clone(),
        session: None,
        remember: None,
    })
}

/// Records a sign-in event of the hosted login: who (user id, email), with which client and
/// connection.
pub fn log_sign_in<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    kind: &str,
    description: &str,
    (user_id, user_name): (Option<&str>, Option<&str>),
    connection: Option<&str>,
) {
    let actor = Actor {
        client_id: Some(&request.client.client_id),
        user_id,
        user_name,
    };
    let connection = connection.unwrap_or(&flow.facts.config.default_connection);
    let details = serde_json::json!({ "prompt": "login", "connection": connection });
    flow.record(kind, description, actor, details);
}

/// The `post-login` pipeline at sign-in time, on the issuance the code would give: a rule or
/// hook that denies sends `access_denied` with its message back to the client, before any
/// code exists. Also refuses a blocked user (an SSO session outlives a block otherwise), an
/// `organization` that does not exist or the user is not a member of (`access_denied`), and
/// an `audience` that names no API, as `subject` (read for the request's organization and
/// [`AuthorizeRequest::api_audience`]) found them. Returns the enriched issuance, as the
/// response's tokens carry it (implicit and hybrid), for `session`: its `auth_time` and `sid`,
/// the request's `nonce`. The pipeline runs again when a code is redeemed, so the code's tokens
/// carry claims as fresh as the redemption. And whether a hook asked for a second factor.
pub async fn approve<P>(
    ports: &P,
    pipeline: &Pipeline<'_, impl ClaimsStore>,
    facts: &Facts<'_>,
    request: &AuthorizeRequest,
    session: &Session,
    user: User,
    subject: Subject,
) -> Result<(Issuance, bool), OAuthError>
where
    P: HasClients,
{
    if user.blocked {
        return Err(OAuthError::new(ErrorCode::AccessDenied, "user is blocked"));
    }
    let api = match request.api_audience() {
        Some(aud) => Some(ports.clients().api(aud).settle().await?.ok_or_else(|| {
            OAuthError::invalid_request(format!("audience {aud} is not a registered API"))
        })?),
        None => None,
    };
    let client = &request.client;
    let organization = request.organization.as_deref();
    // Tokens in the response are the implicit grant's; a code's are the code flow's.
    let grant = match request.response_type.front_channel() {
        true => GrantType::Implicit,
        false => GrantType::AuthorizationCode,
    };
    let issued = user_issuance(
        grant,
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
    issuance.auth_time = Some(session.auth_time);
    issuance.nonce.clone_from(&request.nonce);
    issuance.session_id = Some(session.session_id.clone());
    issuance.refresh = RefreshPlan::None;
    issuance.authenticated.clone_from(&session.authenticated);
    issuance.transaction = Some(request.transaction());
    match enrich(pipeline, facts, &mut issuance).settle().await {
        Ok(enrichment) => {
            issuance.custom = enrichment.claims;
            Ok((issuance, enrichment.multifactor))
        }
        Err(e) if e.code == ErrorCode::ServerError => Err(e),
        Err(e) => Err(OAuthError {
            code: ErrorCode::AccessDenied,
            ..e
        }),
    }
}

/// A new code for `request`, signed in in `session`: the value for the client
/// and the record to store (by hash).
pub fn new_code(
    random: &dyn Random,
    facts: &Facts<'_>,
    request: &AuthorizeRequest,
    session: &Session,
    org_id: Option<String>,
) -> Result<(String, AuthorizationCode), OAuthError> {
    let value = random.token(32)?;
    let record = AuthorizationCode {
        code_hash: hash_code(&value),
        client_id: request.client.client_id.clone(),
        user_id: session.user_id.clone(),
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
        authenticated: session.authenticated.clone(),
    };
    Ok((value, record))
}
