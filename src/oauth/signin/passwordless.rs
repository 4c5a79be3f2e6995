//! Passwordless sign-in by email (Auth0's `email` connection): a 6-digit code, or a link,
//! sent to an address, and redeemed once.
//!
//! Who may: anyone may ask for a code for any address (the answer is the same whether or not
//! the address has a user, and nothing is read to give it); only whoever reads that mailbox
//! can redeem it, for the client it was asked for, once, within 5 minutes and 5 tries, and
//! only the newest. A link completes the one login transaction it was made for (its redirect
//! URI, state, nonce and PKCE challenge), nothing else.
//!
//! - A code is stored as a SHA-256 over the connection, address, client and digits; a link as
//!   the SHA-256 of its 32 random bytes. Both are looked up by hash, never compared.
//! - Asking is counted per address and per IP (Auth0 answers 429 past its limits too).
//! - No log event carries a code or a link.
//!
//! Once a code or link is redeemed, [`signed_in`] finds the user of its address, made on the
//! first sign-in unless the connection takes no sign-ups; the address is verified by the
//! sign-in itself. The hosted pages, the links and the OTP grant share it.

use super::complete::log_sign_in;
use super::error::SignInError;
use super::second_factor::after_first_factor;
use super::{
    connection, connection_of, no_kek, page, page_again, refused, resume, Authentication,
    LoginTransaction, Screen, SignInFlow, Through,
};
use crate::error::OAuthError;
use crate::model::config::paths;
use crate::model::connection::EMAIL;
use crate::model::log::kinds;
use crate::model::mail::{self, code_hash, PasswordlessCode, CODE_LIFETIME};
use crate::model::Authenticated;
use crate::model::Client;
use crate::model::{Connection, LockoutPolicy};
use crate::oauth::authorize::{check, AuthorizeRequest, Refusal, WayBack};
use crate::oauth::facts::Facts;
use crate::oauth::mail::{ticket_hash, Envelope, Mailer};
use crate::oauth::params::Params;
use crate::oauth::provision::check_email;
use crate::oauth::provision::{provision, Credential, Draft, Refused};
use crate::port::crypto::Crypto;
use crate::port::mail::MailStore;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::AttemptStore;
use crate::port::{ClaimsStore, ConnectionStore, KeyStore, Stores};
use crate::port::{HasSubjects, Login, SubjectStore, UserKey};

/// Codes asked for per address (and connection), and per IP, in an hour.
const ASKS: LockoutPolicy = LockoutPolicy {
    max_failures: 10,
    window_seconds: 3_600,
    lock_seconds: 3_600,
};
const ASKS_PER_IP: LockoutPolicy = LockoutPolicy {
    max_failures: 50,
    ..ASKS
};

/// What a passwordless message carries.
#[derive(Debug, Clone, Copy)]
pub enum Send<'a> {
    /// A code to type (into the hosted page, or the client's own form for the OTP grant).
    Code,
    /// A link that completes a login transaction: `state` is the sealed transaction, `csrf`
    /// its CSRF token (the link is bound to it).
    Link { state: &'a str, csrf: &'a str },
}

/// The client a code is asked for: (id, name).
pub type For<'a> = (&'a str, &'a str);

/// Six decimal digits, uniform (64 random bits reduced: the bias is below 10^-13).
fn six_digits(random: &dyn Random) -> Result<String, OAuthError> {
    let mut bytes = [0u8; 8];
    random.fill(&mut bytes)?;
    Ok(format!("{:06}", u64::from_le_bytes(bytes) % 1_000_000))
}

impl<M: MailStore> Mailer<'_, M> {
    /// `POST /passwordless/start` and the hosted page's "Email me a code": a new code (or
    /// link) for `email` through the `email` connection, replacing the older one, sent to the
    /// address. The address is checked as sign-up checks it; asking is counted per address
    /// and per IP ([`SignInError::TooManyCodes`] past the budget).
    pub async fn start_passwordless<A: AttemptStore>(
        &self,
        attempts: &A,
        connection: &Connection,
        email: &str,
        client: For<'_>,
        send: Send<'_>,
    ) -> Result<(), SignInError> {
        let address = check_email(email).map_err(|_| {
            SignInError::Request(OAuthError::invalid_request("email is not a valid address"))
        })?;
        let lower = address.to_ascii_lowercase();
        let now = self.facts.now;
        let key = format!("passwordless\n{}\n{lower}", connection.name);
        let over = self.over_budget(attempts, &key, &ASKS, "passwordless", &ASKS_PER_IP);
        if over.settle().await? {
            return Err(SignInError::TooManyCodes);
        }
        let random = self.random;
        let (code, link) = match send {
            Send::Code => (six_digits(random)?, None),
            // A link's row takes no code: an unguessable one stands in.
            Send::Link { state, csrf } => {
                let value = random.token(32)?;
                let url = format!(
                    "{}?{}",
                    self.facts.config.url(paths::PASSWORDLESS_VERIFY),
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("verification_code", &value)
                        .append_pair("state", state)
                        .finish()
                );
                (random.token(32)?, Some((url, value, ticket_hash(csrf))))
            }
        };
        let name = &connection.name;
        self.store
            .put_passwordless(&PasswordlessCode {
                connection: name.clone(),
                email: lower.clone(),
                client_id: client.0.to_string(),
                code_hash: code_hash(name, &lower, client.0, &code),
                link_hash: link.as_ref().map(|(_, value, _)| ticket_hash(value)),
                binding: link.as_ref().map(|(_, _, binding)| binding.clone()),
                created_at: now,
                expires_at: now + CODE_LIFETIME,
            })
            .settle()
            .await?;
        let (template, kind, description) = match link {
            Some(_) => (
                mail::PASSWORDLESS_LINK,
                kinds::LINK_SENT,
                "A sign-in link was sent",
            ),
            None => (
                mail::PASSWORDLESS_CODE,
                kinds::CODE_SENT,
                "A sign-in code was sent",
            ),
        };
        let (outgoing, _) = self.outgoing(template).settle().await?;
        if let Some(outgoing) = outgoing {
            let url = link.as_ref().map(|(url, _, _)| url.as_str());
            self.post(
                &outgoing,
                Envelope {
                    address: &address,
                    user: None,
                    client_id: Some(client.0),
                    client_name: client.1,
                    url,
                    code: url.is_none().then_some(code.as_str()),
                },
            );
        }
        self.record(kind, description, (Some(client.0), None, Some(&lower)));
        Ok(())
    }
}

/// Redeems the code of `email` through `connection` for `client_id` at `now`:
/// [`SignInError::WrongCode`] when it is wrong (the try is counted), used, expired, replaced
/// or out of tries.
pub async fn redeem_code<M: MailStore>(
    store: &M,
    now: u64,
    (connection, email, client_id): (&str, &str, &str),
    code: &str,
) -> Result<(), SignInError> {
    let lower = crate::model::email::normalize(email).to_ascii_lowercase();
    let hash = code_hash(connection, &lower, client_id, code.trim());
    let key = (connection, lower.as_str(), client_id);
    match store.redeem_passwordless(key, &hash, now).settle().await? {
        true => Ok(()),
        false => Err(SignInError::WrongCode),
    }
}

/// Redeems a link's `value` at `now` for the login transaction whose CSRF token is `csrf`:
/// the code's row (its connection, address and client) when the link is live and was made
/// for that transaction.
pub async fn redeem_link<M: MailStore>(
    store: &M,
    now: u64,
    value: &str,
    csrf: &str,
) -> Result<PasswordlessCode, SignInError> {
    let row = store
        .redeem_passwordless_link(&ticket_hash(value), now)
        .settle()
        .await?;
    let binding = ticket_hash(csrf);
    row.filter(|r| r.binding.as_deref() == Some(binding.as_str()))
        .ok_or(SignInError::WrongCode)
}

/// The user of `email` through the passwordless `connection`, whose code was just redeemed,
/// read with the `organization` asked for and their access on `audience`; a new user
/// (`email|` and 24 hex digits, `email_verified`) when there is none, stored by the commit
/// with the sign-in.
#[allow(clippy::too_many_arguments)]
pub async fn signed_in<P: HasSubjects, C: Crypto>(
    ports: &P,
    crypto: &C,
    random: &dyn Random,
    facts: &Facts<'_>,
    connection: &Connection,
    email: &str,
    organization: Option<&str>,
    audience: Option<&str>,
) -> Result<Authentication, SignInError> {
    let address = crate::model::email::normalize(email);
    let lower = address.to_ascii_lowercase();
    let name = &connection.name;
    let key = UserKey::Email {
        connection: name,
        email_lower: &lower,
    };
    let mut subject = ports
        .subjects()
        .subject(key, organization, audience)
        .settle()
        .await?;
    let (config, now) = (facts.config, facts.now);
    let (user, new_user) = match subject.user.take() {
        Some(user) => (user, None),
        None if connection.signup_disabled() || !config.signup => {
            return Err(SignInError::SignupDisabled)
        }
        None => {
            let draft = Draft {
                email: address,
                email_verified: true,
                credential: Credential::Upstream(format!("{EMAIL}|{}", random.hex(12)?)),
                ..Draft::default()
            };
            let made = provision(crypto, random, config, now, connection, draft)
                .settle()
                .await;
            let user = made.map_err(|refused| match refused {
                Refused::Failed(e) => SignInError::Failed(e),
                _ => SignInError::SignupRefused("The address cannot be signed up.".into()),
            })?;
            (user.clone(), Some(Box::new(user)))
        }
    };
    if user.blocked {
        return Err(SignInError::Blocked);
    }
    let login = Login {
        user_id: user.user_id.clone(),
        user_key: format!("{name}\n{lower}"),
        ip: facts.client_ip.unwrap_or("unknown").to_string(),
        rehash: None,
        connection: name.clone(),
        email_lower: lower,
        new_user,
    };
    Ok(Authentication {
        user,
        subject,
        authenticated: Authenticated::one_time(name),
        auth_time: now,
        login: Some(login),
        new_user: false,
        upstream: None,
    })
}

/// A step of the hosted code pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `POST /u/passwordless/start`: the login page's "Email me a code" (`email`), or the
    /// code page's "Send a new code". The code goes to the address and the page asks for it.
    Ask,
    /// `POST /u/passwordless/verify`: the code typed (`email`, `code`). A wrong code shows
    /// the page again (the try is counted); the right one completes the sign-in.
    Verify,
}

/// A posted code page (`form`, with the browser's CSRF `cookie`) of a transaction whose
/// client has a passwordless connection.
pub async fn code_page_posted<P, C, S, K, M>(
    flow: &SignInFlow<'_, P, C, S, K>,
    mailer: &Mailer<'_, M>,
    step: Step,
    form: &Params,
    cookie: Option<&str>,
) -> Screen
where
    P: Stores,
    C: Crypto,
    S: ClaimsStore,
    K: KeyStore,
    M: MailStore,
{
    let (tx, request) = match resume(flow, form, cookie).settle().await {
        Ok(resumed) => resumed,
        Err(screen) => return screen,
    };
    let through = match connection_of(flow, &request).settle().await {
        Ok(t) => t,
        Err(screen) => return *screen,
    };
    let Some(connection) = &through.passwordless else {
        return no_passwordless(&request);
    };
    let client = &request.client;
    let again = |e| match step {
        Step::Ask => page_again(flow, &tx, &request, &through, form, e),
        Step::Verify => code_page(flow, &tx, &request, &through, form, Some(e)),
    };
    let email = form.get("email").filter(|e| !e.trim().is_empty());
    let (email, code) = match (step, email, form.get("code")) {
        (Step::Ask, Some(email), _) => (email, None),
        (Step::Verify, Some(email), Some(code)) => (email, Some(code)),
        _ => return again(SignInError::MissingCredentials),
    };
    let proven = match code {
        None => {
            let for_client = (client.client_id.as_str(), client.name.as_str());
            let attempts = flow.ports.attempts();
            let asked =
                mailer.start_passwordless(attempts, connection, email, for_client, Send::Code);
            match asked.settle().await {
                Ok(()) => return code_page(flow, &tx, &request, &through, form, None),
                Err(e) => Err(e),
            }
        }
        Some(code) => {
            let key = (connection.name.as_str(), email, client.client_id.as_str());
            match redeem_code(flow.ports.mail(), flow.facts.now, key, code)
                .settle()
                .await
            {
                Ok(()) => {
                    signed_in_for(flow, &request, connection, email)
                        .settle()
                        .await
                }
                Err(e) => Err(e),
            }
        }
    };
    match proven {
        Ok(authentication) => {
            after_first_factor(flow, &tx, &request, authentication)
                .settle()
                .await
        }
        Err(e @ SignInError::WrongCode) => {
            let name = Some(connection.name.as_str());
            log_sign_in(
                flow,
                &request,
                e.log_kind(),
                "Wrong code",
                (None, Some(email)),
                name,
            );
            again(e)
        }
        Err(e @ (SignInError::TooManyCodes | SignInError::Request(_))) => again(e),
        Err(e) => Screen::Error(e, WayBack::of(client)),
    }
}

/// `GET /passwordless/verify_redirect`: a link (`verification_code`) completing the login
/// transaction it was made for (`state`, sealed). The browser that opens it need not be the
/// one that asked: the transaction's redirect URI, state, nonce and PKCE challenge bind the
/// result to the application that asked.
pub async fn link<P, C, S, K>(flow: &SignInFlow<'_, P, C, S, K>, query: &Params) -> Screen
where
    P: Stores,
    C: Crypto,
    S: ClaimsStore,
    K: KeyStore,
{
    let Some(kek) = flow.kek else {
        return Screen::Error(no_kek(), None);
    };
    let now = flow.facts.now;
    let state = query.get("state").unwrap_or("");
    let tx = match LoginTransaction::open(kek, state, now) {
        Ok(tx) => tx,
        Err(e) => return Screen::Error(e, None),
    };
    let request = match tx.params() {
        Ok(params) => match check(flow.ports.clients(), &params).settle().await {
            Ok(r) => r,
            Err(refusal) => return refused(flow, refusal),
        },
        Err(e) => return Screen::Error(e.into(), None),
    };
    let back = || WayBack::of(&request.client);
    let value = query.get("verification_code").unwrap_or("");
    let row = match redeem_link(flow.ports.mail(), now, value, &tx.csrf)
        .settle()
        .await
    {
        Ok(row) if row.client_id == request.client.client_id => row,
        Ok(_) => return Screen::Error(SignInError::WrongCode, back()),
        Err(e) => return Screen::Error(e, back()),
    };
    let through = match connection_of(flow, &request).settle().await {
        Ok(t) => t,
        Err(screen) => return *screen,
    };
    let Some(connection) = through.passwordless.filter(|c| c.name == row.connection) else {
        return no_passwordless(&request);
    };
    match signed_in_for(flow, &request, &connection, &row.email)
        .settle()
        .await
    {
        Ok(authentication) => {
            after_first_factor(flow, &tx, &request, authentication)
                .settle()
                .await
        }
        Err(e) => Screen::Error(e, back()),
    }
}

/// `POST /passwordless/start` (Auth0's Authentication API): a code, or a link completing an
/// authorization request made of `auth_params` (checked as `/authorize` checks it), sent to
/// `email` through the passwordless connection `connection` of the authenticated `client`.
pub async fn api_start<P, C, S, K, M>(
    flow: &SignInFlow<'_, P, C, S, K>,
    mailer: &Mailer<'_, M>,
    client: &Client,
    connection: &str,
    email: &str,
    link: Option<Vec<(String, String)>>,
) -> Result<(), SignInError>
where
    P: Stores,
    C: Crypto,
    S: ClaimsStore,
    K: KeyStore,
    M: MailStore,
{
    let all = flow.ports.connections().all_connections().settle().await?;
    let default = &flow.facts.config.default_connection;
    let chosen = connection::choose(&all, &client.client_id, Some(connection), default)?;
    if !chosen.is_passwordless() {
        return Err(OAuthError::invalid_request(format!(
            "the connection {connection} is not a passwordless connection"
        ))
        .into());
    }
    let sealed = match link {
        None => None,
        Some(mut pairs) => {
            let kek = flow.kek.ok_or_else(no_kek)?;
            let set = |pairs: &mut Vec<(String, String)>, k: &str, v: &str| {
                pairs.retain(|(name, _)| name != k);
                pairs.push((k.into(), v.into()));
            };
            if !pairs.iter().any(|(k, _)| k == "response_type") {
                pairs.push(("response_type".into(), "code".into()));
            }
            set(&mut pairs, "client_id", &client.client_id);
            set(&mut pairs, "connection", connection);
            let params = Params::from_pairs(pairs)?;
            if let Err(Refusal::Page(e, _) | Refusal::Redirect(e, _)) =
                check(flow.ports.clients(), &params).settle().await
            {
                return Err(SignInError::Request(e));
            }
            let tx = LoginTransaction::new(flow.random, &params, flow.facts.now)?;
            Some((tx.seal(kek, flow.random)?, tx.csrf))
        }
    };
    let send = match &sealed {
        Some((state, csrf)) => Send::Link { state, csrf },
        None => Send::Code,
    };
    let client_for = (client.client_id.as_str(), client.name.as_str());
    let attempts = flow.ports.attempts();
    mailer
        .start_passwordless(attempts, chosen, email, client_for, send)
        .settle()
        .await
}

/// The user signed in by a redeemed code or link, for `request`.
async fn signed_in_for<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    connection: &Connection,
    email: &str,
) -> Result<Authentication, SignInError> {
    signed_in(
        flow.ports,
        flow.crypto,
        flow.random,
        &flow.facts,
        connection,
        email,
        request.organization.as_deref(),
        request.api_audience(),
    )
    .settle()
    .await
}

/// The page asking for the code sent to the form's `email`, with a fresh CSRF token.
fn code_page<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    tx: &LoginTransaction,
    request: &AuthorizeRequest,
    through: &Through,
    form: &Params,
    error: Option<SignInError>,
) -> Screen {
    let renewed = match tx.renewed(flow.random, flow.facts.now) {
        Ok(tx) => tx,
        Err(e) => return Screen::Error(e.into(), WayBack::of(&request.client)),
    };
    let mut screen = page(flow, &renewed, request, through, form.get("email"), error);
    if let Screen::Form(page) = &mut screen {
        page.code_sent = true;
    }
    screen
}

fn no_passwordless(request: &AuthorizeRequest) -> Screen {
    let e = OAuthError::invalid_request("this application offers no sign-in by email code");
    Screen::Error(SignInError::Request(e), WayBack::of(&request.client))
}
