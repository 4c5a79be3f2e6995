//! Logout: OpenID Connect RP-Initiated Logout 1.0 (`/oidc/logout`) and Auth0's `/v2/logout`.
//! Where the user goes afterwards is an exact match against the client's
//! `allowed_logout_urls`; anything else is refused on the issuer's page, never followed.
//!
//! `/oidc/logout` ends the session at once only for an `id_token_hint` this issuer signed
//! (expired or not, §2) whose `sub` is the signed-in user (or when no one is signed in);
//! without one, or for another user, the user is asked first (§2: "the OP MUST ask"), so a
//! cross-site link cannot sign anyone out. A hint that does not verify is an error. Auth0's
//! `/v2/logout` keeps Auth0's behaviour: no prompt, `client_id` plus an exact `returnTo`.

use crate::error::OAuthError;
use crate::model::config::Config;
use crate::model::Client;
use crate::oauth::keys::Kek;
use crate::oauth::params::Params;
use crate::oauth::session;
use crate::oauth::token::verify::verify_id_token_hint;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClientStore, KeyStore, SessionStore};
use serde_json::Value;

/// What a logout request came to.
#[derive(Debug)]
pub enum Logout {
    /// Ask the user first: show the confirmation page.
    Confirm(AfterLogout),
    /// The session (if any) is ended: clear the cookie, then go to `redirect` or say so;
    /// or show `refused` (Auth0's logout ends the session even for a request it refuses).
    Ended {
        redirect: Option<String>,
        refused: Option<OAuthError>,
    },
    /// Refused; nothing ended (RP-Initiated Logout §4: a forged request changes nothing).
    Refused(OAuthError),
}

/// A logout request: `params` (of the query or the form), `session_cookie` the browser's,
/// `confirmed` when it is the issuer's own confirmation form posted back (its CSRF token
/// already checked). `check` checks it; the session, named by the cookie under `kek`'s MAC,
/// is ended in `sessions` when the request says so.
pub async fn logout<S: ClientStore, K: KeyStore, C: Crypto>(
    check: &LogoutCheck<'_, S, K, C>,
    sessions: &impl SessionStore,
    kek: Option<&Kek>,
    request: (&Params, Dialect),
    session_cookie: Option<&str>,
    confirmed: bool,
) -> Logout {
    let (params, dialect) = request;
    let session = session_cookie
        .zip(kek)
        .and_then(|(value, kek)| session::session_id(kek, value));
    // Whose session it is matters only against a hint's `sub`.
    let signed_in = match (&session, params.get("id_token_hint")) {
        (Some(id), Some(_)) if !confirmed => match sessions.session(id).settle().await {
            Ok(s) => s.map(|s| s.user_id),
            Err(e) => return Logout::Refused(e.into()),
        },
        _ => None,
    };
    let after = check
        .check(params, dialect, signed_in.as_deref(), confirmed)
        .settle()
        .await;
    let (after, refused) = match (after, dialect) {
        (Ok(after), _) => (after, None),
        // Auth0's logout ends the session whatever; RP-Initiated Logout keeps it on an
        // invalid request (§4), so a forged request changes nothing.
        (Err(e), Dialect::Auth0) => (AfterLogout::default(), Some(e)),
        (Err(e), Dialect::Oidc) => return Logout::Refused(e),
    };
    if after.confirm {
        return Logout::Confirm(after);
    }
    if let Some(id) = session {
        if let Err(e) = sessions.delete_session(&id).settle().await {
            return Logout::Refused(e.into());
        }
    }
    Logout::Ended {
        redirect: after.redirect,
        refused,
    }
}

/// Which logout endpoint was called: their parameters differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// RP-Initiated Logout 1.0: `post_logout_redirect_uri`, `state`, `client_id`,
    /// `id_token_hint`.
    Oidc,
    /// Auth0: `returnTo`, `client_id`.
    Auth0,
}

/// What a logout request leads to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AfterLogout {
    /// The user must confirm before the session ends (no verified hint for them).
    pub confirm: bool,
    /// The checked URL to go to once signed out, with `state` appended (OIDC).
    pub redirect: Option<String>,
    /// The client that URL is registered for (named by `client_id` or the hint's audience),
    /// which a confirmation form carries on when the hint is not.
    pub client_id: Option<String>,
}

/// What checking a logout needs.
pub struct LogoutCheck<'a, S, K, C> {
    pub clients: &'a S,
    pub keys: &'a K,
    pub crypto: &'a C,
    pub config: &'a Config,
}

/// The `aud` of a verified ID token, as one client id (its first audience).
fn audience(claims: &serde_json::Map<String, Value>) -> Option<&str> {
    match claims.get("aud")? {
        Value::String(aud) => Some(aud),
        Value::Array(list) => list.first()?.as_str(),
        _ => None,
    }
}

impl<S: ClientStore, K: KeyStore, C: Crypto> LogoutCheck<'_, S, K, C> {
    /// Checks a logout request; `signed_in` is the user of the browser's session, if any.
    /// `confirmed` is a logout the user just confirmed on our page (CSRF-checked by the caller).
    pub async fn check(
        &self,
        params: &Params,
        dialect: Dialect,
        signed_in: Option<&str>,
        confirmed: bool,
    ) -> Result<AfterLogout, OAuthError> {
        let (target, state) = match dialect {
            Dialect::Oidc => (params.get("post_logout_redirect_uri"), params.get("state")),
            Dialect::Auth0 => (params.get("returnTo"), None),
        };
        let hint = match (dialect, params.get("id_token_hint")) {
            (Dialect::Oidc, Some(token)) if !confirmed => Some(
                verify_id_token_hint(self.keys, self.crypto, self.config, token)
                    .settle()
                    .await
                    .map_err(|e| {
                        OAuthError::invalid_request(format!(
                            "id_token_hint is not an ID token of this issuer: {}",
                            e.description.unwrap_or_default()
                        ))
                    })?,
            ),
            _ => None,
        };
        let hinted = hint.as_ref().and_then(audience);
        if let (Some(given), Some(hinted)) = (params.get("client_id"), hinted) {
            if given != hinted {
                return Err(OAuthError::invalid_request(
                    "client_id is not the audience of id_token_hint",
                ));
            }
        }
        let confirm = dialect == Dialect::Oidc
            && !confirmed
            && match &hint {
                None => true,
                Some(claims) => {
                    let sub = claims.get("sub").and_then(Value::as_str);
                    signed_in.is_some_and(|user| Some(user) != sub)
                }
            };
        let Some(target) = target else {
            return Ok(AfterLogout {
                confirm,
                ..AfterLogout::default()
            });
        };
        let client_id = params.get("client_id").or(hinted).ok_or_else(|| {
            OAuthError::invalid_request("client_id is required to return after logout")
        })?;
        let client: Client = self
            .clients
            .client(client_id)
            .settle()
            .await?
            .ok_or_else(|| OAuthError::invalid_request("client_id is not a known client"))?;
        if !client.allowed_logout_urls.iter().any(|u| u == target) {
            return Err(OAuthError::invalid_request(
                "the return URL is not an allowed logout URL of this client",
            ));
        }
        let mut redirect = target.to_string();
        if let Some(state) = state {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("state", state)
                .finish();
            redirect.push(if redirect.contains('?') { '&' } else { '?' });
            redirect.push_str(&query);
        }
        Ok(AfterLogout {
            confirm,
            redirect: Some(redirect),
            client_id: Some(client.client_id),
        })
    }
}
