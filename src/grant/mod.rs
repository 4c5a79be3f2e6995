//! The grants of the token endpoint, one file each; [`GrantType`] is the closed set the
//! endpoint dispatches on.

pub mod client_credentials;

use crate::error::{ErrorCode, OAuthError};

/// The grant types this issuer implements (RFC 6749 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    /// RFC 6749 §4.4.
    ClientCredentials,
}

impl GrantType {
    /// Every supported grant, as published in discovery.
    pub const ALL: [GrantType; 1] = [GrantType::ClientCredentials];

    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    /// Parses `grant_type`; anything else is `unsupported_grant_type` (RFC 6749 §5.2).
    pub fn parse(value: &str) -> Result<Self, OAuthError> {
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
    fn parse_knows_only_implemented_grants() {
        assert_eq!(
            GrantType::parse("client_credentials").unwrap(),
            GrantType::ClientCredentials
        );
        for other in ["implicit", "CLIENT_CREDENTIALS", "urn:x", "password"] {
            let e = GrantType::parse(other).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedGrantType, "{other}");
        }
    }
}
