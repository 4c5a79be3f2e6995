//! The remembered browser: after a second factor on the hosted page, a user who ticked
//! "Remember this browser" (offered when the tenant's settings say so) gets a cookie that
//! lets this browser skip the factor the tenant's policy asks for, for a while.
//!
//! The cookie holds when it was made and when it was last used, with a MAC over those and
//! the user's id under a key derived from the key-encryption key: it names no one, holds for
//! one user only, and no storage holds it or is read to check it beyond the user row the
//! sign-in reads anyway.
//!
//! Who may skip: the one user it names, in the browser that holds it, while the tenant's
//! settings offer the box (while off, no browser skips the factor), within the inactivity and
//! overall timeouts, and only if it was made after the user's browsers were last forgotten
//! (a factor reset or removal, `invalidate-remember-browser`). It answers the policy only:
//! a second factor asked for by `acr_values`, a rule or a hook is always asked, and a sign-in
//! that skipped the factor does not claim it (its `amr` has no `mfa`).

use crate::model::mfa::RememberBrowser;
use crate::model::User;
use crate::oauth::keys::Kek;
use crate::oauth::session::{signed, verified};

const PURPOSE: &str = "edge-issuer remembered browser v1";

/// A remembered browser, as its cookie says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    /// When the user ticked the box (Unix seconds).
    pub issued_at: u64,
    /// When the cookie last let a sign-in skip the factor, or was made.
    pub last_used: u64,
}

impl Remembered {
    /// The cookie's value for `user_id`: `<issued>.<last used>.<MAC>`, the MAC over the user's
    /// id too, which the cookie does not show.
    pub fn cookie_value(&self, kek: &Kek, user_id: &str) -> String {
        let value = format!("{user_id}\n{}.{}", self.issued_at, self.last_used);
        let signed = signed(kek, PURPOSE, &value);
        signed[user_id.len() + 1..].to_string()
    }

    /// What a cookie value says, if its MAC holds for `user_id`.
    pub fn open(kek: &Kek, value: &str, user_id: &str) -> Option<Self> {
        let whole = format!("{user_id}\n{value}");
        let checked = verified(kek, PURPOSE, &whole)?;
        let (issued, last) = checked[user_id.len() + 1..].split_once('.')?;
        Some(Remembered {
            issued_at: issued.parse().ok()?,
            last_used: last.parse().ok()?,
        })
    }

    /// Whether it lets `user` (whose it is) skip the policy's second factor at `now` under
    /// `settings`.
    pub fn honoured(&self, settings: &RememberBrowser, user: &User, now: u64) -> bool {
        settings.checkbox
            && self.issued_at > user.browsers_forgotten_at
            && now < self.expires_at(settings)
    }

    /// When it stops being honoured, unless used again before.
    pub fn expires_at(&self, settings: &RememberBrowser) -> u64 {
        let overall = self.issued_at.saturating_add(settings.overall);
        overall.min(self.last_used.saturating_add(settings.inactivity))
    }

    /// The same browser used at `now`.
    pub fn used(self, now: u64) -> Self {
        Remembered {
            last_used: now,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(first: char) -> Kek {
        Kek::from_base64(&format!(
            "{first}AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
        ))
        .unwrap()
    }

    fn user(id: &str, forgotten: u64) -> User {
        User {
            user_id: id.into(),
            browsers_forgotten_at: forgotten,
            ..User::default()
        }
    }

    const ON: RememberBrowser = RememberBrowser {
        checkbox: true,
        ticked: false,
        inactivity: 3_600,
        overall: 86_400,
    };

    #[test]
    fn a_cookie_holds_for_its_user_and_a_forged_one_for_no_one() {
        let r = Remembered {
            issued_at: 1_000,
            last_used: 2_000,
        };
        let value = r.cookie_value(&kek('A'), "auth0|u.1");
        assert!(value.starts_with("1000.2000."), "{value}");
        assert_eq!(
            Remembered::open(&kek('A'), &value, "auth0|u.1"),
            Some(r.clone())
        );
        assert_eq!(
            Remembered::open(&kek('A'), &value, "auth0|u.2"),
            None,
            "another user"
        );
        assert_eq!(
            Remembered::open(&kek('H'), &value, "auth0|u.1"),
            None,
            "another key"
        );
        let later = value.replacen(".2000.", ".9000.", 1);
        assert_eq!(
            Remembered::open(&kek('A'), &later, "auth0|u.1"),
            None,
            "altered"
        );
        let session = crate::oauth::session::cookie_value(&kek('A'), "auth0|u.1\n1000.2000");
        let tag = session.rsplit_once('.').unwrap().1;
        let borrowed = format!("1000.2000.{tag}");
        assert_eq!(
            Remembered::open(&kek('A'), &borrowed, "auth0|u.1"),
            None,
            "a session's MAC"
        );
    }

    #[test]
    fn it_is_honoured_within_both_timeouts_after_the_last_forgetting() {
        let r = Remembered {
            issued_at: 10_000,
            last_used: 10_000,
        };
        assert!(r.honoured(&ON, &user("u", 0), 10_001));
        assert!(!r.honoured(&ON, &user("u", 10_000), 10_001), "forgotten");
        let off = RememberBrowser {
            checkbox: false,
            ..ON
        };
        assert!(!r.honoured(&off, &user("u", 0), 10_001), "setting off");
        assert!(!r.honoured(&ON, &user("u", 0), 13_600), "inactive an hour");
        let used = r.clone().used(13_000);
        assert!(used.honoured(&ON, &user("u", 0), 16_599), "used since");
        let kept_using = r.used(96_000);
        assert!(
            !kept_using.honoured(&ON, &user("u", 0), 96_400),
            "a day in all"
        );
    }
}
