//! The login transaction: what a sign-in that spans pages carries from one to the next.
//!
//! It is sealed (AES-256-GCM under a key derived from the key-encryption key for this purpose
//! alone) into the page's form as `state`, and bound to the browser by the CSRF cookie the
//! page sets, whose value it holds. Why sealed and not stored: showing the login form then
//! costs no storage write, posting it no extra read, and an abandoned sign-in leaves nothing
//! to clean up; each tab's form carries its own transaction. What it holds is checked again
//! at every step (the client is read again), so a client changed meanwhile is seen.

use super::error::{FormProblem, SignInError};
use crate::error::OAuthError;
use crate::oauth::keys::Kek;
use crate::oauth::params::Params;
use crate::port::random::Random;
use subtle::ConstantTimeEq;

const PURPOSE: &str = "edge-issuer login transaction v1";
/// How long a login page stays usable.
pub const LIFETIME: u64 = 3_600;

/// One sign-in in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginTransaction {
    /// The authorization request's parameters, as the client sent them.
    pub params: Vec<(String, String)>,
    /// The CSRF token the page set as a cookie: the browser must send the same one back.
    pub csrf: String,
    pub expires_at: u64,
}

impl LoginTransaction {
    /// A new transaction for the authorization request `params`, with a fresh CSRF token.
    pub fn new(random: &dyn Random, params: &Params, now: u64) -> Result<Self, OAuthError> {
        Ok(Self {
            params: params.pairs().to_vec(),
            csrf: random.token(16)?,
            expires_at: now + LIFETIME,
        })
    }

    /// The same request with a fresh CSRF token and lifetime: the form shown again.
    pub fn renewed(&self, random: &dyn Random, now: u64) -> Result<Self, OAuthError> {
        Ok(Self {
            params: self.params.clone(),
            csrf: random.token(16)?,
            expires_at: now + LIFETIME,
        })
    }

    /// The form's `state` value. Sealed in form encoding: the CSRF token and the expiry
    /// first, then the request's parameters.
    pub fn seal(&self, kek: &Kek, random: &dyn Random) -> Result<String, OAuthError> {
        let mut plain = form_urlencoded::Serializer::new(String::new());
        plain.append_pair("csrf", &self.csrf);
        plain.append_pair("exp", &self.expires_at.to_string());
        plain.extend_pairs(&self.params);
        kek.seal_for(random, PURPOSE, plain.finish().as_bytes())
    }

    /// What [`LoginTransaction::seal`] sealed.
    fn unsealed(plain: &[u8]) -> Option<Self> {
        let mut pairs =
            form_urlencoded::parse(plain).map(|(k, v)| (k.into_owned(), v.into_owned()));
        let (Some((c, csrf)), Some((e, exp))) = (pairs.next(), pairs.next()) else {
            return None;
        };
        (c == "csrf" && e == "exp").then_some(())?;
        Some(Self {
            csrf,
            expires_at: exp.parse().ok()?,
            params: pairs.collect(),
        })
    }

    /// The transaction a posted form's `state` carries, if it opens and is live.
    pub fn open(kek: &Kek, state: &str, now: u64) -> Result<Self, SignInError> {
        kek.open_for(PURPOSE, state)
            .and_then(|plain| Self::unsealed(&plain))
            .filter(|tx: &Self| tx.expires_at > now)
            .ok_or(SignInError::Form(FormProblem::Expired))
    }

    /// Whether the browser's CSRF `cookie` is this transaction's: the form was posted from
    /// the page that set it.
    pub fn bound_to(&self, cookie: Option<&str>) -> Result<(), SignInError> {
        let cookie = cookie
            .filter(|c| !c.is_empty())
            .ok_or(SignInError::Form(FormProblem::NoCookie))?;
        if !bool::from(self.csrf.as_bytes().ct_eq(cookie.as_bytes())) {
            return Err(SignInError::Form(FormProblem::OtherTab));
        }
        Ok(())
    }

    /// The authorization request's parameters.
    pub fn params(&self) -> Result<Params, OAuthError> {
        Params::from_pairs(self.params.iter().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::random::OsRandom;

    fn kek(byte: u8) -> Kek {
        Kek::of_byte(byte)
    }

    #[test]
    fn a_transaction_opens_only_sealed_live_and_with_its_cookie() {
        let params = Params::from_pairs([("client_id".into(), "spa".into())]).unwrap();
        let tx = LoginTransaction::new(&OsRandom, &params, 100).unwrap();
        let state = tx.seal(&kek(1), &OsRandom).unwrap();
        let open = |k: &Kek, s: &str, c: Option<&str>, now| {
            let tx = LoginTransaction::open(k, s, now)?;
            tx.bound_to(c).map(|()| tx)
        };
        assert_eq!(open(&kek(1), &state, Some(&tx.csrf), 101), Ok(tx.clone()));
        let form = |p| Err(SignInError::Form(p));
        assert_eq!(
            open(&kek(1), &state, None, 101),
            form(FormProblem::NoCookie)
        );
        assert_eq!(
            open(&kek(1), &state, Some("other"), 101),
            form(FormProblem::OtherTab)
        );
        assert_eq!(
            open(&kek(2), &state, Some(&tx.csrf), 101),
            form(FormProblem::Expired)
        );
        let late = 100 + LIFETIME;
        assert_eq!(
            open(&kek(1), &state, Some(&tx.csrf), late),
            form(FormProblem::Expired)
        );
        // One bit changed anywhere, or a value sealed for another purpose, opens nothing.
        let mut altered = state.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(
            open(&kek(1), &altered, Some(&tx.csrf), 101),
            form(FormProblem::Expired)
        );
        let other = kek(1)
            .seal_for(&OsRandom, "another purpose", b"{}")
            .unwrap();
        assert_eq!(
            open(&kek(1), &other, Some(&tx.csrf), 101),
            form(FormProblem::Expired)
        );
        // After the key is replaced, a page sealed under the previous one still works.
        use base64::Engine;
        let previous = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([1u8; 32]);
        let rotated = kek(2).with_previous(&previous).unwrap();
        assert_eq!(open(&rotated, &state, Some(&tx.csrf), 101), Ok(tx));
    }
}
