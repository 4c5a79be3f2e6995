//! Why a sign-in did not go on, as types: the hosted pages word each one in one place
//! (`web::login`), the password grant gives each its `error_description`, and the log its
//! event kind.

use crate::error::{ErrorCode, OAuthError};
use crate::model::log::kinds;

/// What stopped a sign-in step.
#[derive(Debug, Clone, PartialEq)]
pub enum SignInError {
    /// The form lacks the email or the password.
    MissingCredentials,
    /// A wrong password, or an email no user of the connection has (answered the same, so
    /// the answer does not tell whether an account exists).
    WrongCredentials,
    /// Brute-force protection (RFC 6749 §4.3.2): too many failures for this user from this IP.
    Locked,
    /// A passwordless code or link that is wrong, used, expired, replaced or out of tries
    /// (one answer for all, as for a password).
    WrongCode,
    /// Too many passwordless codes asked for this address, or from this IP, for now.
    TooManyCodes,
    /// The user is blocked.
    Blocked,
    /// The password was right and a second factor is required: the sealed MFA token to go on
    /// with (the password grant's `mfa_required`).
    MfaRequired(String),
    /// A second factor's code or a recovery code that is wrong, used, or not the user's, or
    /// an MFA token that is expired, spent or another client's (one answer for all).
    WrongFactor,
    /// A security key or passkey's answer that is not for this page, not of a registered
    /// credential of the user, or does not verify (one answer for all).
    WrongKey,
    /// Sign-up is not offered here.
    SignupDisabled,
    /// The sign-up's email or password does not meet the policy: why, for the person.
    SignupRefused(String),
    /// The email (or an address that looks the same) already has an account.
    EmailTaken,
    /// The form cannot be trusted: it is expired or altered, was opened in another tab, or
    /// the browser sent no cookie back.
    Form(FormProblem),
    /// The authorization request is malformed or not allowed (before its redirect URI is
    /// trusted, so it is shown, never redirected).
    Request(OAuthError),
    /// The issuer failed (storage, a missing secret, a hook set to deny on failure).
    Failed(OAuthError),
}

/// Why a posted form is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// No CSRF cookie came back: cookies are blocked, the page was not served over https,
    /// or the client is no browser.
    NoCookie,
    /// The cookie is another page's (a newer form in another tab).
    OtherTab,
    /// The transaction is altered, sealed under a retired key, or older than its lifetime.
    Expired,
}

impl SignInError {
    /// The log event kind of a refused sign-in: a wrong password (`fp`), brute-force
    /// protection (`limit_wc`), a refused sign-up (`fs`), or another failure (`f`).
    pub fn log_kind(&self) -> &'static str {
        match self {
            Self::WrongCredentials => kinds::WRONG_PASSWORD,
            Self::Locked => kinds::BLOCKED,
            Self::MfaRequired(_) => kinds::MFA_REQUIRED,
            Self::SignupDisabled | Self::SignupRefused(_) | Self::EmailTaken => {
                kinds::FAILED_SIGNUP
            }
            _ => kinds::FAILED_LOGIN,
        }
    }

    /// The error of the password grant (RFC 6749 §5.2): a refused credential is
    /// `invalid_grant`, worded so it does not tell whether the email exists.
    pub fn into_grant_error(self) -> OAuthError {
        match self {
            Self::WrongCredentials => OAuthError::invalid_grant("Wrong email or password."),
            Self::Locked => OAuthError::invalid_grant(
                "Too many failed login attempts: this user is blocked from this IP address for now.",
            ),
            Self::Blocked => OAuthError::invalid_grant("user is blocked"),
            Self::MfaRequired(token) => OAuthError {
                mfa_token: Some(token),
                ..OAuthError::new(
                    ErrorCode::MfaRequired,
                    "Multifactor authentication required",
                )
            },
            Self::WrongFactor => OAuthError::invalid_grant("Invalid otp_code or mfa_token."),
            Self::WrongKey => OAuthError::invalid_grant("The security key or passkey was refused."),
            Self::WrongCode => OAuthError::invalid_grant("Wrong email or verification code."),
            Self::TooManyCodes => OAuthError::new(
                ErrorCode::TooManyRequests,
                "Too many codes were asked for; try again later.",
            ),
            Self::Request(e) | Self::Failed(e) => e,
            Self::MissingCredentials => {
                OAuthError::invalid_request("username and password are required")
            }
            Self::Form(_) => OAuthError::invalid_request("the form cannot be trusted"),
            // A passwordless code for an address with no user, where sign-up is off.
            Self::SignupDisabled => OAuthError::new(
                ErrorCode::AccessDenied,
                "Sign-up is disabled for this connection.",
            ),
            Self::SignupRefused(_) | Self::EmailTaken => {
                OAuthError::invalid_request("sign-up is not part of this grant")
            }
        }
    }
}

impl From<OAuthError> for SignInError {
    fn from(e: OAuthError) -> Self {
        match e.code {
            ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable => Self::Failed(e),
            _ => Self::Request(e),
        }
    }
}

impl From<crate::error::StoreError> for SignInError {
    fn from(e: crate::error::StoreError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<crate::error::CryptoError> for SignInError {
    fn from(e: crate::error::CryptoError) -> Self {
        Self::Failed(e.into())
    }
}
