//! How a user proved who they are, as a sign-in's session, codes and refresh tokens keep it.

use serde::{Deserialize, Serialize};

/// The connection a user signed in through, the methods they proved (RFC 8176 `amr` values,
/// such as `pwd`) in the order proven, and the authentication context class: an upstream
/// provider's `acr`, or [`MULTI_FACTOR_ACR`] after a second factor here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// The connection's name.
    pub connection: String,
    pub methods: Vec<String>,
    pub acr: Option<String>,
}

impl Authenticated {
    /// A password of `connection`.
    pub fn password(connection: &str) -> Self {
        Self {
            connection: connection.to_string(),
            methods: vec![Method::PASSWORD.into()],
            acr: None,
        }
    }

    /// A one-time code or link of the passwordless `connection`.
    pub fn one_time(connection: &str) -> Self {
        Self {
            connection: connection.to_string(),
            methods: vec![Method::ONE_TIME.into()],
            acr: None,
        }
    }

    /// The stored form: the columns `connection`, `amr` (space-separated) and `acr`.
    pub fn columns(this: Option<&Self>) -> [Option<String>; 3] {
        match this {
            Some(a) => [
                Some(a.connection.clone()),
                Some(a.methods.join(" ")),
                a.acr.clone(),
            ],
            None => [None, None, None],
        }
    }

    /// From the stored columns; `None` for rows stored before they existed.
    pub fn from_columns(
        connection: Option<String>,
        amr: Option<String>,
        acr: Option<String>,
    ) -> Option<Self> {
        Some(Self {
            acr,
            connection: connection?,
            methods: amr?
                .split(' ')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// The authentication context class of a sign-in with a second factor, as an authorization
/// request asks for one (`acr_values`) and an ID token reports it (`acr`): the OpenID PAPE
/// policy URI Auth0 uses too.
pub const MULTI_FACTOR_ACR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

impl Authenticated {
    /// Whether a second factor was proven.
    pub fn multi_factor(&self) -> bool {
        self.methods.iter().any(|m| m == Method::MULTI_FACTOR)
    }
}

/// RFC 8176 authentication method reference values this issuer reports.
pub struct Method;

impl Method {
    /// A password.
    pub const PASSWORD: &'static str = "pwd";
    /// A one-time code or link sent by email (RFC 8176 `otp`; not a second factor: NIST SP
    /// 800-63B §3.1.3.1 does not count email as out-of-band).
    pub const ONE_TIME: &'static str = "otp";
    /// More than one factor (RFC 8176 `mfa`): a password and a second factor, or a passkey
    /// that verified its user (something held and something known or been).
    pub const MULTI_FACTOR: &'static str = "mfa";
    /// A key held in hardware (RFC 8176 `hwk`): a WebAuthn credential that cannot be backed
    /// up, such as a security key.
    pub const HARDWARE_KEY: &'static str = "hwk";
    /// A key held in software (RFC 8176 `swk`): a WebAuthn credential that may be synced
    /// between devices (a synced passkey, the authenticator's backup-eligible flag).
    pub const SOFTWARE_KEY: &'static str = "swk";
    /// A user-presence test (RFC 8176 `user`): the authenticator's touch or gesture.
    pub const PRESENCE: &'static str = "user";
}
