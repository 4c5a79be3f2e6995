//! The MFA token of Auth0's MFA API: what the password grant answers with `mfa_required`, and
//! what `/mfa/*` and the MFA grants take. Sealed (AES-256-GCM under a key derived from the
//! key-encryption key for this purpose alone), so it costs no write to make; it lives 10
//! minutes, is bound to the client it was made for, and is spent, once, by the grant that
//! redeems it (`mfa_tokens_used`).

use crate::error::OAuthError;
use crate::oauth::keys::Kek;
use crate::port::random::Random;

const PURPOSE: &str = "edge-issuer mfa token v1";
/// How long an MFA token works (Auth0's: 10 minutes).
pub const LIFETIME: u64 = 600;

/// One password sign-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaToken {
    /// Random: names the token in `mfa_tokens_used`.
    pub jti: String,
    pub client_id: String,
    pub user_id: String,
    /// The connection the password was checked in.
    pub connection: String,
    /// When the password was checked.
    pub auth_time: u64,
    pub expires_at: u64,
    /// What the password grant asked for: `audience`, `scope`, `organization`, as sent.
    pub asked: Vec<(String, String)>,
}

impl MfaToken {
    /// The token's value.
    pub fn seal(&self, kek: &Kek, random: &dyn Random) -> Result<String, OAuthError> {
        let mut plain = form_urlencoded::Serializer::new(String::new());
        plain.append_pair("jti", &self.jti);
        plain.append_pair("client_id", &self.client_id);
        plain.append_pair("user_id", &self.user_id);
        plain.append_pair("connection", &self.connection);
        plain.append_pair("auth_time", &self.auth_time.to_string());
        plain.append_pair("exp", &self.expires_at.to_string());
        plain.extend_pairs(&self.asked);
        kek.seal_for(random, PURPOSE, plain.finish().as_bytes())
    }

    /// The token `value` carries, if it opens, is live and (when one is named) was made for
    /// `client_id`.
    pub fn open(kek: &Kek, value: &str, client_id: Option<&str>, now: u64) -> Option<Self> {
        let plain = kek.open_for(PURPOSE, value)?;
        let mut pairs =
            form_urlencoded::parse(&plain).map(|(k, v)| (k.into_owned(), v.into_owned()));
        let mut next = |name: &str| pairs.next().filter(|(k, _)| k == name).map(|(_, v)| v);
        let token = Self {
            jti: next("jti")?,
            client_id: next("client_id")?,
            user_id: next("user_id")?,
            connection: next("connection")?,
            auth_time: next("auth_time")?.parse().ok()?,
            expires_at: next("exp")?.parse().ok()?,
            asked: pairs.collect(),
        };
        let for_client = client_id.is_none_or(|c| c == token.client_id);
        (token.expires_at > now && for_client).then_some(token)
    }

    /// Made by the hosted login page ([`super::HOSTED`]): that page alone redeems it.
    pub fn hosted(&self) -> bool {
        self.asked(super::HOSTED.0) == Some(super::HOSTED.1)
    }

    /// A value the password grant asked for.
    pub fn asked(&self, name: &str) -> Option<&str> {
        self.asked
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
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
    fn a_token_opens_live_for_its_client_only() {
        let token = MfaToken {
            jti: "j".into(),
            client_id: "app".into(),
            user_id: "auth0|1".into(),
            connection: "db".into(),
            auth_time: 100,
            expires_at: 100 + LIFETIME,
            asked: vec![("audience".into(), "https://api".into())],
        };
        let value = token.seal(&kek(1), &OsRandom).unwrap();
        assert_eq!(
            MfaToken::open(&kek(1), &value, Some("app"), 101),
            Some(token.clone())
        );
        assert_eq!(token.asked("audience"), Some("https://api"));
        assert_eq!(MfaToken::open(&kek(1), &value, Some("other"), 101), None);
        assert_eq!(
            MfaToken::open(&kek(1), &value, None, 101),
            Some(token.clone())
        );
        assert_eq!(MfaToken::open(&kek(1), &value, None, 100 + LIFETIME), None);
        assert_eq!(MfaToken::open(&kek(2), &value, None, 101), None);
        let login_state = kek(1).seal_for(&OsRandom, "edge-issuer login transaction v1", b"x");
        assert_eq!(
            MfaToken::open(&kek(1), &login_state.unwrap(), None, 101),
            None
        );
    }
}
