//! Sign-in sessions of the hosted login: their lifetimes, and the signed value of the session
//! cookie. The session itself lives in storage; the cookie only names it, with a MAC under a
//! key derived from the key-encryption key, so a forged or altered cookie is refused before
//! any storage read.

use super::keys::Kek;
use crate::error::OAuthError;
use crate::model::{Authenticated, Session};
use crate::port::random::Random;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A session ends after this long without a sign-in through it (3 days, Auth0's default).
pub const IDLE_LIFETIME: u64 = 3 * 86_400;
/// A session ends this long after the password was entered, used or not (30 days).
pub const ABSOLUTE_LIFETIME: u64 = 30 * 86_400;

const PURPOSE: &str = "edge-issuer session cookie v1";

/// A new session for `user_id`, who authenticated at `now` as `authenticated` says.
pub fn start(
    random: &dyn Random,
    user_id: &str,
    now: u64,
    authenticated: &Authenticated,
) -> Result<Session, OAuthError> {
    Ok(Session {
        session_id: random.token(32)?,
        user_id: user_id.to_string(),
        auth_time: now,
        created_at: now,
        idle_expires_at: now + IDLE_LIFETIME,
        absolute_expires_at: now + ABSOLUTE_LIFETIME,
        authenticated: Some(authenticated.clone()),
    })
}

fn mac(key: &[u8; 32], value: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(value.as_bytes());
    mac
}

/// `value` with a MAC under the key derived from the key-encryption key for `purpose`:
/// `<value>.<MAC>`.
pub fn signed(kek: &Kek, purpose: &str, value: &str) -> String {
    let tag = mac(&kek.derive(purpose), value).finalize().into_bytes();
    format!("{value}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The value a [`signed`] one carries, if its MAC for `purpose` holds.
pub fn verified<'v>(kek: &Kek, purpose: &str, signed: &'v str) -> Option<&'v str> {
    let (value, tag) = signed.rsplit_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    // A value signed before the key-encryption key was replaced checks against the previous
    // key until that key is retired.
    let keys = [Some(kek.derive(purpose)), kek.derive_previous(purpose)];
    keys.iter()
        .flatten()
        .any(|key| mac(key, value).verify_slice(&tag).is_ok())
        .then_some(value)
}

/// The cookie value naming `session_id`: `<id>.<MAC>`.
pub fn cookie_value(kek: &Kek, session_id: &str) -> String {
    signed(kek, PURPOSE, session_id)
}

/// The session id a cookie value names, if its MAC holds.
pub fn session_id(kek: &Kek, value: &str) -> Option<String> {
    verified(kek, PURPOSE, value).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::random::OsRandom;

    #[test]
    fn a_cookie_names_its_session_and_a_forged_one_nothing() {
        let kek = Kek::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let other = Kek::from_base64("HwECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap();
        let s = start(&OsRandom, "u", 100, &Authenticated::password("db")).unwrap();
        let value = cookie_value(&kek, &s.session_id);
        assert_eq!(session_id(&kek, &value), Some(s.session_id.clone()));
        assert_eq!(session_id(&other, &value), None, "another key");
        let swapped = value.replacen(&s.session_id, "someone-elses-session", 1);
        assert_eq!(session_id(&kek, &swapped), None, "another id");
        assert_eq!(session_id(&kek, &s.session_id), None, "no MAC");
        assert_eq!(s.idle_expires_at, 100 + IDLE_LIFETIME);
        assert_eq!(s.absolute_expires_at, 100 + ABSOLUTE_LIFETIME);
        assert!(s.is_live(100 + IDLE_LIFETIME - 1));
        assert!(!s.is_live(100 + IDLE_LIFETIME));
    }
}
