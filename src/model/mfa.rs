//! Second factors as stored: the tenant's factors and policy (Auth0's Guardian settings) and a
//! user's authenticators.

/// The factors a tenant turns on and off, by Auth0's names (`/api/v2/guardian/factors/{name}`).
pub const FACTORS: [&str; 4] = [OTP, RECOVERY_CODE, WEBAUTHN_ROAMING, WEBAUTHN_PLATFORM];
/// An authenticator app (TOTP).
pub const OTP: &str = "otp";
/// Recovery codes.
pub const RECOVERY_CODE: &str = "recovery-code";
/// A security key.
pub const WEBAUTHN_ROAMING: &str = "webauthn-roaming";
/// The device's own authenticator (a passkey).
pub const WEBAUTHN_PLATFORM: &str = "webauthn-platform";

/// The id under which a user's recovery codes are listed as one authentication method.
pub fn recovery_code_id(user_id: &str) -> String {
    format!("{RECOVERY_CODE}|{user_id}")
}

/// Auth0's policy that asks every user for a second factor.
pub const ALL_APPLICATIONS: &str = "all-applications";

/// When a sign-in asks for a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPolicy {
    /// No factor is on: none is asked.
    Never,
    /// Users may enroll; those who did are asked (Auth0's policies `[]` with a factor on).
    Optional,
    /// Every user is asked, and one with no factor enrolls at the next sign-in (Auth0's
    /// `["all-applications"]`).
    Always,
}

/// The tenant's settings: which factors are on, the policy as Auth0 states it, and the
/// remembered browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guardian {
    /// The names of the factors turned on.
    pub enabled: Vec<String>,
    /// `true`: `["all-applications"]`; `false`: `[]`.
    pub all_applications: bool,
    pub remember: RememberBrowser,
}

/// The remembered browser, as Auth0's `/api/v2/guardian/settings` states it: a browser whose
/// user ticked "Remember this browser" after a second factor skips the policy's factor for a
/// while. Off as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RememberBrowser {
    /// The factor's page offers the box (`display_remember_me_checkbox`); while `false`, no
    /// browser skips the factor, those remembered before included.
    pub checkbox: bool,
    /// The box is ticked at first (`remember_me_default_value`).
    pub ticked: bool,
    /// Seconds a remembered browser skips the factor after its last use
    /// (`mfa_session_inactivity_timeout`, 1 hour to 30 days).
    pub inactivity: u64,
    /// Seconds it skips the factor in all (`mfa_session_overall_timeout`, 1 hour to 90 days).
    pub overall: u64,
}

/// 30 days: how long a browser is remembered as shipped.
pub const REMEMBER_DEFAULT: u64 = 30 * 86_400;

impl Default for RememberBrowser {
    fn default() -> Self {
        RememberBrowser {
            checkbox: false,
            ticked: false,
            inactivity: REMEMBER_DEFAULT,
            overall: REMEMBER_DEFAULT,
        }
    }
}

impl Guardian {
    pub fn is_enabled(&self, factor: &str) -> bool {
        self.enabled.iter().any(|f| f == factor)
    }

    /// A WebAuthn factor is on: security keys, or the device's own passkeys.
    pub fn webauthn(&self) -> bool {
        self.is_enabled(WEBAUTHN_ROAMING) || self.is_enabled(WEBAUTHN_PLATFORM)
    }

    /// A factor users can enroll as a second step is on: the authenticator app or WebAuthn
    /// (recovery codes come with an app and are no factor of their own).
    pub fn any_factor(&self) -> bool {
        self.is_enabled(OTP) || self.webauthn()
    }

    /// The policy in effect.
    pub fn policy(&self) -> MfaPolicy {
        match (self.any_factor(), self.all_applications) {
            (false, _) => MfaPolicy::Never,
            (true, false) => MfaPolicy::Optional,
            (true, true) => MfaPolicy::Always,
        }
    }
}

/// The user profile's `multifactor` value of a user with a confirmed factor (Auth0's name for
/// its own MFA).
pub const GUARDIAN: &str = "guardian";

/// A TOTP authenticator's type, as Auth0's MFA API names it (`authenticator_type`).
pub const TOTP: &str = "totp";

/// One authenticator of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticator {
    /// `totp|dev_` and 16 letters or digits.
    pub id: String,
    pub user_id: String,
    /// [`TOTP`], [`WEBAUTHN_ROAMING`] or [`WEBAUTHN_PLATFORM`].
    pub kind: String,
    pub name: Option<String>,
    /// The TOTP secret, sealed under the key-encryption key.
    pub secret_sealed: Option<String>,
    /// The last time step accepted (TOTP); for a WebAuthn credential, the issue time of the
    /// last challenge accepted (not ordered: each challenge is spent once).
    pub last_step: Option<u64>,
    /// A first code proved the enrollment.
    pub confirmed: bool,
    pub created_at: u64,
    pub last_auth_at: Option<u64>,
    /// A WebAuthn credential's id (base64url), its public key (a JWK with `alg`) and its
    /// signature counter as last seen.
    pub credential: Option<Credential>,
}

/// A WebAuthn credential of an authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub public_jwk: String,
    pub sign_count: u32,
}
