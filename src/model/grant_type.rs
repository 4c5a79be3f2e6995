//! The grant types of the token endpoint.

use crate::error::{ErrorCode, OAuthError};

/// Auth0's extension grant for the password grant with a connection (`realm`).
pub const PASSWORD_REALM: &str = "http://auth0.com/oauth/grant-type/password-realm";

/// Auth0's passwordless grant: an emailed code (`otp`) for the address (`username`) of the
/// passwordless connection `realm`.
pub const PASSWORDLESS_OTP: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";

/// Auth0's MFA grants: the `mfa_token` of a password grant that answered `mfa_required`, with
/// a code of the user's authenticator app (`otp`), or with a recovery code (`recovery_code`).
pub const MFA_OTP: &str = "http://auth0.com/oauth/grant-type/mfa-otp";
pub const MFA_RECOVERY_CODE: &str = "http://auth0.com/oauth/grant-type/mfa-recovery-code";

/// The grant types this issuer implements (RFC 6749 §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.1, with PKCE (RFC 7636).
    AuthorizationCode,
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.3 (off unless the client enables it).
    Password,
    /// RFC 6749 §6.
    RefreshToken,
    /// Auth0's passwordless OTP grant ([`PASSWORDLESS_OTP`]), an extension grant (RFC 6749
    /// §4.5).
    PasswordlessOtp,
    /// Auth0's MFA grants ([`MFA_OTP`], [`MFA_RECOVERY_CODE`]).
    MfaOtp,
    MfaRecoveryCode,
    /// OIDC Core §3.2 (and the hybrid flow's front-channel tokens): tokens from the
    /// authorization endpoint. A client grant type, never a token endpoint's `grant_type`:
    /// not in [`GrantType::ALL`], so [`GrantType::parse`] refuses it.
    Implicit,
}

impl GrantType {
    /// Every supported grant, as published in discovery.
    pub const ALL: [GrantType; 7] = [
        GrantType::AuthorizationCode,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::RefreshToken,
        GrantType::PasswordlessOtp,
        GrantType::MfaOtp,
        GrantType::MfaRecoveryCode,
    ];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
            GrantType::RefreshToken => "refresh_token",
            GrantType::PasswordlessOtp => PASSWORDLESS_OTP,
            GrantType::MfaOtp => MFA_OTP,
            GrantType::MfaRecoveryCode => MFA_RECOVERY_CODE,
            GrantType::Implicit => "implicit",
        }
    }

    /// Whether `value` names a grant a client may be allowed: the token endpoint's, and
    /// `implicit`.
    pub fn client_may_hold(value: &str) -> bool {
        value == GrantType::Implicit.as_str() || Self::parse(value).is_ok()
    }

    /// The `gty` claim of access tokens (Auth0's names).
    pub fn gty(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::ClientCredentials => "client-credentials",
            GrantType::Password => "password",
            GrantType::RefreshToken => "refresh_token",
            GrantType::PasswordlessOtp => "passwordless",
            GrantType::MfaOtp => "mfa-otp",
            GrantType::MfaRecoveryCode => "mfa-recovery-code",
            GrantType::Implicit => "implicit",
        }
    }

    /// The grant of a `gty` claim.
    pub fn from_gty(gty: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([GrantType::Implicit])
            .find(|g| g.gty() == gty)
    }

    /// Parses `grant_type`; anything else is `unsupported_grant_type` (RFC 6749 §5.2).
    /// Auth0's `password-realm` grant is the password grant with `realm` naming the
    /// connection (Auth0's SDKs send it when a realm is set).
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
        if value == PASSWORD_REALM {
            return Ok(GrantType::Password);
        }
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == value)
            .ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!("grant_type {value} is not supported"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0_password_realm_is_the_password_grant() {
        assert_eq!(
            GrantType::parse(PASSWORD_REALM).unwrap(),
            GrantType::Password
        );
    }

    #[test]
    fn parse_knows_only_implemented_grants() {
        for g in GrantType::ALL {
            assert_eq!(GrantType::parse(g.as_str()).unwrap(), g);
        }
        for other in [
            "implicit",
            "CLIENT_CREDENTIALS",
            "urn:x",
            "AUTHORIZATION_CODE",
        ] {
            let e = GrantType::parse(other).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedGrantType, "{other}");
        }
    }
}
