//! Signing in at an upstream provider: an OpenID provider (`oidc`, `google-oauth2`), whose ID
//! token proves the sign-in, or a plain OAuth 2.0 provider (`oauth2`, `github`), whose
//! userinfo answer for the access token does.
//!
//! - [`start`]: the browser goes to the provider with the code flow's request. Its `state` is
//!   the sealed [`UpstreamTransaction`] (the authorization request, the connection, the PKCE
//!   verifier, the nonce), bound to this browser by a cookie whose value it holds, as the
//!   login transaction is: nothing is stored until the sign-in completes.
//! - [`callback`]: the provider's answer at `/login/callback/{connection}` (one redirect URI
//!   per connection, so an answer cannot be taken for another provider's: the mix-up defence
//!   with RFC 9207's `iss` when the provider sends it). The transaction must open, be the
//!   connection's and the browser's; the code is redeemed with the verifier; the ID token is
//!   verified ([`crate::oauth::upstream::verify_id_token`]), or the profile asked for with the
//!   access token ([`crate::oauth::upstream::profile`]); the user is found by identity
//!   (provider and the provider's subject, never by email) or made through the one
//!   provisioning path; then [`complete`] as every sign-in.
//!
//! The provider's refusal reaches the client as `access_denied`, an answer that cannot be
//! trusted as `access_denied` saying why, an unreachable provider as
//! `temporarily_unavailable`; before the transaction opens, the issuer's error page.

use super::second_factor::after_first_factor;
use super::{complete::log_sign_in, complete::reply_error, refused, FormProblem};
use super::{connection_of, Authentication, LoginTransaction, Screen, SignInError, SignInFlow};
use crate::error::{ErrorCode, OAuthError};
use crate::model::log::kinds;
use crate::model::upstream::{Proof, RootAttributes, Upstream, APPLE};
use crate::model::{Authenticated, Connection, Identity, User};
use crate::oauth::authorize::{check, AuthorizeRequest, WayBack};
use crate::oauth::keys::Kek;
use crate::oauth::params::Params;
use crate::oauth::provision::{check_email, provision, Credential, Draft, Refused};
use crate::oauth::upstream::UpstreamError;
use crate::oauth::upstream::{apple_name, authorization_url, client_secret_jwt, describe};
use crate::oauth::upstream::{profile, redeem, verify_id_token};
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::UserKey;
use crate::port::{ClaimsStore, KeyStore, Stores, SubjectStore, UpstreamLogin};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

const PURPOSE: &str = "edge-issuer upstream transaction v1";
/// How long the provider's answer may take to come back.
pub const LIFETIME: u64 = 600;

/// A sign-in at an upstream provider in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTransaction {
    /// The connection's name: the answer must come to its redirect URI.
    pub connection: String,
    /// The value of the cookie that binds the transaction to the browser.
    pub binding: String,
    /// The PKCE verifier (RFC 7636).
    pub verifier: String,
    /// The ID token's `nonce` (OIDC Core §3.1.2.1).
    pub nonce: String,
    pub expires_at: u64,
    /// The client's authorization request.
    pub params: Vec<(String, String)>,
}

impl UpstreamTransaction {
    /// The upstream `state`: sealed in form encoding.
    pub fn seal(&self, kek: &Kek, random: &dyn Random) -> Result<String, OAuthError> {
        let mut plain = form_urlencoded::Serializer::new(String::new());
        plain
            .append_pair("connection", &self.connection)
            .append_pair("binding", &self.binding)
            .append_pair("verifier", &self.verifier)
            .append_pair("nonce", &self.nonce)
            .append_pair("exp", &self.expires_at.to_string());
        plain.extend_pairs(&self.params);
        kek.seal_for(random, PURPOSE, plain.finish().as_bytes())
    }

    /// The transaction `state` carries, if it opens and is live.
    pub fn open(kek: &Kek, state: &str, now: u64) -> Option<Self> {
        let plain = kek.open_for(PURPOSE, state)?;
        let mut pairs =
            form_urlencoded::parse(&plain).map(|(k, v)| (k.into_owned(), v.into_owned()));
        let mut next = |name: &str| pairs.next().filter(|(k, _)| k == name).map(|(_, v)| v);
        let (connection, binding, verifier, nonce, exp) = (
            next("connection")?,
            next("binding")?,
            next("verifier")?,
            next("nonce")?,
            next("exp")?,
        );
        Some(Self {
            connection,
            binding,
            verifier,
            nonce,
            expires_at: exp.parse().ok().filter(|e| *e > now)?,
            params: pairs.collect(),
        })
    }

    /// Whether the browser's binding `cookie` is this transaction's.
    fn bound_to(&self, cookie: Option<&str>) -> Result<(), SignInError> {
        let cookie = cookie
            .filter(|c| !c.is_empty())
            .ok_or(SignInError::Form(FormProblem::NoCookie))?;
        match bool::from(self.binding.as_bytes().ct_eq(cookie.as_bytes())) {
            true => Ok(()),
            false => Err(SignInError::Form(FormProblem::OtherTab)),
        }
    }
}

/// The redirect URI registered at the provider for the connection `name`.
pub fn callback_uri(issuer: &str, name: &str) -> String {
    format!(
        "{}{}{name}",
        issuer.trim_end_matches('/'),
        crate::model::config::paths::LOGIN_CALLBACK
    )
}

/// Sends the browser to `connection`'s provider for the authorization request `params`.
pub(super) fn start<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    request: &AuthorizeRequest,
    params: &Params,
    connection: &Connection,
) -> Screen {
    let failed = |e: OAuthError| Screen::Error(e.into(), WayBack::of(&request.client));
    let Some(up) = Upstream::of(connection) else {
        return failed(OAuthError::server(format!(
            "the connection {} lacks endpoints or its client",
            connection.name
        )));
    };
    let Some(kek) = flow.kek else {
        return Screen::Error(super::no_kek(), WayBack::of(&request.client));
    };
    let fresh = |n| flow.random.token(n).map_err(OAuthError::from);
    let tx = match (fresh(16), fresh(32), fresh(16)) {
        (Ok(binding), Ok(verifier), Ok(nonce)) => UpstreamTransaction {
            connection: connection.name.clone(),
            binding,
            verifier,
            nonce,
            expires_at: flow.facts.now + LIFETIME,
            params: params.pairs().to_vec(),
        },
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return failed(e),
    };
    let state = match tx.seal(kek, flow.random) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let redirect_uri = callback_uri(&flow.facts.config.issuer, &connection.name);
    Screen::Upstream {
        location: authorization_url(&up, &redirect_uri, &state, &tx.nonce, &tx.verifier),
        binding: tx.binding,
    }
}

/// The provider's answer (`answer`: the callback's query or form) for the connection `name`,
/// with the browser's binding `cookie`.
pub async fn callback<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    name: &str,
    answer: &Params,
    cookie: Option<&str>,
) -> Screen {
    let Some(kek) = flow.kek else {
        return Screen::Error(super::no_kek(), None);
    };
    let now = flow.facts.now;
    let state = answer.get("state").unwrap_or("");
    let Some(tx) = UpstreamTransaction::open(kek, state, now).filter(|t| t.connection == name)
    else {
        return Screen::Error(SignInError::Form(FormProblem::Expired), None);
    };
    if let Err(e) = tx.bound_to(cookie) {
        return Screen::Error(e, None);
    }
    let params = match Params::from_pairs(tx.params.iter().cloned()) {
        Ok(p) => p,
        Err(e) => return Screen::Error(e.into(), None),
    };
    let request = match check(flow.ports.clients(), &params).settle().await {
        Ok(r) => r,
        Err(refusal) => return refused(flow, refusal),
    };
    // The request the transaction carries named this connection (`start` went from it): it
    // must still be one the client signs in through.
    let connection = match connection_of(flow, &request).settle().await {
        Ok(through) => through.connection,
        Err(screen) => return *screen,
    };
    let Some(up) = Upstream::of(&connection).filter(|_| connection.name == name) else {
        let e = OAuthError::invalid_request(format!("{name} is no upstream connection"));
        return reply_error(flow, &request, &e);
    };
    let signed_in = signed_in(flow, kek, &request, &connection, &up, &tx, answer);
    match signed_in.settle().await {
        // A second factor may follow, on the issuer's own page: a login transaction for it.
        Ok(authentication) => match LoginTransaction::new(flow.random, &params, now) {
            Ok(login) => {
                after_first_factor(flow, &login, &request, authentication)
                    .settle()
                    .await
            }
            Err(e) => Screen::Error(e.into(), WayBack::of(&request.client)),
        },
        Err(Failure::Screen(screen)) => *screen,
        Err(Failure::Upstream(e)) => {
            let (code, description) = match e {
                UpstreamError::Denied(why) => (
                    ErrorCode::AccessDenied,
                    format!("{name} refused the sign-in: {why}"),
                ),
                UpstreamError::Invalid(why) => (
                    ErrorCode::AccessDenied,
                    format!("the answer from {name} cannot be trusted: {why}"),
                ),
                UpstreamError::Unavailable(why) => {
                    (flow.log)(&format!("upstream {name}: {why}"));
                    (
                        ErrorCode::TemporarilyUnavailable,
                        format!("{name} could not be reached; try again"),
                    )
                }
            };
            log_sign_in(
                flow,
                &request,
                kinds::FAILED_LOGIN,
                &description,
                (None, None),
                Some(name),
            );
            reply_error(flow, &request, &OAuthError::new(code, description))
        }
    }
}

/// Why the callback did not sign anyone in.
enum Failure {
    Upstream(UpstreamError),
    Screen(Box<Screen>),
}

impl From<UpstreamError> for Failure {
    fn from(e: UpstreamError) -> Self {
        Self::Upstream(e)
    }
}

/// Who the provider's answer proves, once it holds.
async fn signed_in<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    kek: &Kek,
    request: &AuthorizeRequest,
    connection: &Connection,
    up: &Upstream,
    tx: &UpstreamTransaction,
    answer: &Params,
) -> Result<Authentication, Failure> {
    let screen =
        |e: SignInError| Failure::Screen(Box::new(Screen::Error(e, WayBack::of(&request.client))));
    if answer.get("error").is_some() {
        let fields = crate::model::object(
            ["error", "error_description"]
                .iter()
                .filter_map(|k| Some((k.to_string(), Value::from(answer.get(k)?)))),
        );
        return Err(UpstreamError::Denied(describe(&fields)).into());
    }
    // RFC 9207: an answer naming another issuer was meant for another provider.
    if answer.get("iss").is_some_and(|iss| !up.is_issuer(iss)) {
        return Err(UpstreamError::Invalid("it names another issuer (iss)".into()).into());
    }
    let Some(code) = answer.get("code").filter(|c| !c.is_empty()) else {
        return Err(UpstreamError::Invalid("it carries no code".into()).into());
    };
    let secret = kek
        .open(&connection.id, &up.sealed_secret)
        .ok()
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or_else(|| {
            screen(SignInError::Failed(OAuthError::server(
                "the connection's client secret does not open",
            )))
        })?;
    let secret = match &up.signed_secret {
        Some(signed) => {
            let now = flow.facts.now;
            client_secret_jwt(flow.crypto, up, signed, &secret, now)
                .settle()
                .await?
        }
        None => secret,
    };
    let redirect_uri = callback_uri(&flow.facts.config.issuer, &connection.name);
    let tokens = redeem(flow.http, up, &secret, code, &tx.verifier, &redirect_uri)
        .settle()
        .await?;
    let token = |name: &str| {
        tokens
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| UpstreamError::Invalid(format!("the token response has no {name}")))
    };
    let mut claims = match up.proof {
        Proof::IdToken { .. } => {
            let (crypto, now) = (flow.crypto, flow.facts.now);
            verify_id_token(crypto, flow.http, up, token("id_token")?, &tx.nonce, now)
                .settle()
                .await?
        }
        Proof::Profile { .. } => {
            profile(flow.http, up, token("access_token")?)
                .settle()
                .await?
        }
    };
    if let (APPLE, Some(user)) = (up.provider, answer.get("user")) {
        apple_name(&mut claims, user);
    }
    // What the connection keeps of the token response (`store_idp_tokens`).
    let kept = up.store_tokens.then(|| {
        let mut kept = Map::new();
        for name in ["access_token", "refresh_token", "expires_in"] {
            if let Some(v) = tokens.get(name) {
                kept.insert(name.into(), v.clone());
            }
        }
        kept
    });
    identify(flow, kek, request, connection, up, claims, kept)
        .settle()
        .await
        .map_err(|e| Failure::Screen(Box::new(e)))
}

/// The user the verified `claims` name: found by identity, else made; with what the commit
/// records.
async fn identify<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore>(
    flow: &SignInFlow<'_, P, C, S, K>,
    kek: &Kek,
    request: &AuthorizeRequest,
    connection: &Connection,
    up: &Upstream,
    claims: Map<String, Value>,
    kept: Option<Map<String, Value>>,
) -> Result<Authentication, Screen> {
    let back = || WayBack::of(&request.client);
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    // A social provider's ids are its own; any OpenID provider's are qualified by the
    // connection, as Auth0 does.
    let provider = up.provider;
    let identity_id = match up.qualified() {
        true => format!("{}|{sub}", connection.name),
        false => sub.to_string(),
    };
    let own_id = format!("{provider}|{identity_id}");
    let social = !up.qualified();
    // Sealed with the identity, so they open for no other.
    let tokens = match kept {
        Some(kept) => match kek.seal(
            flow.random,
            &own_id,
            Value::Object(kept).to_string().as_bytes(),
        ) {
            Ok(sealed) => Some(sealed),
            Err(e) => return Err(Screen::Error(e.into(), back())),
        },
        None => None,
    };
    let key = UserKey::Identity {
        provider,
        identity_id: &identity_id,
    };
    let read =
        flow.ports
            .subjects()
            .subject(key, request.organization.as_deref(), request.api_audience());
    let mut subject = read
        .settle()
        .await
        .map_err(|e| Screen::Error(e.into(), back()))?;
    let profile = Profile::of(&claims);
    let now = flow.facts.now;
    // A first sign-in may join a user made before, when the connection links by verified
    // email and both sides verified it (one extra read, on a first sign-in only).
    let mut link = None;
    if let (None, true, true, Some(email)) = (
        &subject.user,
        up.link_verified_email,
        profile.email_verified,
        &profile.email,
    ) {
        let email_lower = email.to_ascii_lowercase();
        let key = UserKey::VerifiedEmail {
            email_lower: &email_lower,
        };
        let read = flow.ports.subjects().subject(
            key,
            request.organization.as_deref(),
            request.api_audience(),
        );
        let found = read
            .settle()
            .await
            .map_err(|e| Screen::Error(e.into(), back()))?;
        if found.user.is_some() {
            subject = found;
            link = Some(connection.name.clone());
        }
    }
    let (mut user, new_user, root) = match subject.user.take() {
        Some(mut user) => {
            if user.blocked {
                let e = OAuthError::new(ErrorCode::AccessDenied, "user is blocked");
                return Err(reply_error(flow, request, &e));
            }
            // The provider's profile is the user's own only while the identity is the
            // user's first (not one linked into another user).
            let root = (up.root_attributes == RootAttributes::OnEachLogin
                && user.user_id == own_id
                && link.is_none())
            .then(|| {
                profile.write_over(&mut user);
                user.clone()
            });
            (user, false, root)
        }
        None => {
            let draft = Draft {
                email: profile.email.clone().unwrap_or_default(),
                email_verified: profile.email_verified,
                name: profile.name.clone(),
                given_name: profile.given_name.clone(),
                family_name: profile.family_name.clone(),
                nickname: profile.nickname.clone(),
                picture: profile.picture.clone(),
                credential: Credential::Upstream(own_id.clone()),
                ..Draft::default()
            };
            let config = flow.facts.config;
            let made = provision(flow.crypto, flow.random, config, now, connection, draft);
            match made.settle().await {
                Ok(user) => (user.clone(), true, Some(user)),
                Err(Refused::Failed(e)) => return Err(Screen::Error(e.into(), back())),
                Err(Refused::Field(_, why)) => {
                    let e = OAuthError::new(ErrorCode::AccessDenied, why);
                    return Err(reply_error(flow, request, &e));
                }
                Err(Refused::Password(_)) => {
                    return Err(Screen::Error(
                        OAuthError::server("an upstream user has no password").into(),
                        back(),
                    ))
                }
            }
        }
    };
    let profile_data = Profile::data(&claims);
    let identity = Identity {
        connection: connection.name.clone(),
        provider: provider.into(),
        user_id: identity_id.clone(),
        is_social: social,
        profile_data: profile_data.clone(),
    };
    // The pipeline sees the identity with the profile just given.
    match user
        .identities
        .iter_mut()
        .find(|i| i.provider == provider && i.user_id == identity_id)
    {
        Some(stored) => *stored = identity,
        None => user.identities.push(identity),
    }
    let auth_time = claims
        .get("auth_time")
        .and_then(Value::as_u64)
        .filter(|t| *t <= now)
        .unwrap_or(now);
    Ok(Authentication {
        authenticated: Authenticated {
            connection: connection.name.clone(),
            methods: amr(&claims),
            // The provider's class, as it said it (a short printable value, a URI at most).
            acr: claims
                .get("acr")
                .and_then(Value::as_str)
                .filter(|a| (1..=256).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_graphic()))
                .map(str::to_string),
        },
        auth_time,
        login: None,
        new_user,
        upstream: Some(Box::new(UpstreamLogin {
            user_id: user.user_id.clone(),
            provider: provider.into(),
            identity_id,
            profile_data: Value::Object(profile_data).to_string(),
            is_social: social,
            tokens,
            link,
            root,
        })),
        user,
        subject,
    })
}

/// The provider's `amr` (RFC 8176 values, as it reported them).
fn amr(claims: &Map<String, Value>) -> Vec<String> {
    let Some(Value::Array(list)) = claims.get("amr") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_str)
        .filter(|m| (1..=32).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_graphic()))
        .take(10)
        .map(str::to_string)
        .collect()
}

/// The profile fields a provider's claims give (OIDC Core §5.1), each kept only if it is
/// one a user may have here.
#[derive(Debug, Clone, Default)]
struct Profile {
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    nickname: Option<String>,
    picture: Option<String>,
}

impl Profile {
    fn of(claims: &Map<String, Value>) -> Self {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| {
                    let n = v.chars().count();
                    (1..=crate::oauth::provision::MAX_TEXT).contains(&n)
                        && !v.chars().any(char::is_control)
                })
                .map(str::to_string)
        };
        let email = text("email").and_then(|e| check_email(&e).ok());
        let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
            || claims.get("email_verified").and_then(Value::as_str) == Some("true");
        Self {
            email_verified: email.is_some() && verified,
            email,
            name: text("name"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            nickname: text("nickname").or_else(|| text("preferred_username")),
            picture: text("picture").filter(|p| {
                p.starts_with("https://") && p.len() <= 2048 && !p.contains(char::is_whitespace)
            }),
        }
    }

    /// The provider's profile on `user` (`set_user_root_attributes: on_each_login`).
    fn write_over(&self, user: &mut User) {
        let fields = [
            (&mut user.name, &self.name),
            (&mut user.given_name, &self.given_name),
            (&mut user.family_name, &self.family_name),
            (&mut user.nickname, &self.nickname),
            (&mut user.picture, &self.picture),
        ];
        for (field, value) in fields {
            if value.is_some() {
                field.clone_from(value);
            }
        }
        if self.email.is_some() {
            user.email.clone_from(&self.email);
            user.email_verified = self.email_verified;
        }
    }

    /// The identity's `profileData`: the provider's claims about the person, without those
    /// about the token.
    fn data(claims: &Map<String, Value>) -> Map<String, Value> {
        const TOKEN_CLAIMS: [&str; 13] = [
            "iss",
            "aud",
            "exp",
            "iat",
            "nbf",
            "nonce",
            "azp",
            "at_hash",
            "c_hash",
            "auth_time",
            "sid",
            "jti",
            "sub",
        ];
        crate::model::object(
            claims
                .iter()
                .filter(|(k, _)| !TOKEN_CLAIMS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone())),
        )
    }
}
