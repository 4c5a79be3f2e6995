//! PKCE (RFC 7636) with `S256` only: `plain` would put the verifier in the front channel.

use crate::error::{ErrorCode, OAuthError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. The same
/// alphabet and bounds hold for an `S256` challenge (43 characters of base64url).
fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// §4.3: the challenge of an authorization request, or why it cannot be accepted. A
/// challenge without a method is `plain` (§4.3), which this issuer refuses.
pub fn challenge(
    challenge: Option<&str>,
    method: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method was sent without code_challenge",
        )),
        (Some(_), None | Some("plain")) => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256: plain is not supported",
        )),
        (Some(c), Some("S256")) if c.len() == 43 && well_formed(c) => Ok(Some(c.to_string())),
        (Some(_), Some("S256")) => Err(OAuthError::invalid_request(
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        )),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        )),
    }
}

/// §4.6: whether `verifier` answers `challenge`. Both directions of a mismatch are refused:
/// a challenge with no verifier, and a verifier for a code that had no challenge (a
/// downgrade: the verifier would prove nothing).
pub fn verify(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    let invalid = |d: &str| OAuthError::new(ErrorCode::InvalidGrant, d);
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(invalid(
            "code_verifier was sent but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(invalid("code_verifier is required")),
        (Some(c), Some(v)) => {
            if !well_formed(v) {
                return Err(invalid("code_verifier is malformed"));
            }
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            if bool::from(computed.as_bytes().ct_eq(c.as_bytes())) {
                Ok(())
            } else {
                Err(invalid("code_verifier does not match the code_challenge"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        assert_eq!(verify(Some(CHALLENGE), Some(VERIFIER)), Ok(()));
        assert_eq!(
            challenge(Some(CHALLENGE), Some("S256")),
            Ok(Some(CHALLENGE.into()))
        );
    }

    #[test]
    fn plain_missing_and_downgraded_pkce_are_refused() {
        assert!(
            challenge(Some(CHALLENGE), None).is_err(),
            "no method is plain"
        );
        assert!(challenge(Some(VERIFIER), Some("plain")).is_err());
        assert!(challenge(None, Some("S256")).is_err());
        assert!(challenge(Some("short"), Some("S256")).is_err());
        assert_eq!(challenge(None, None), Ok(None));
        let code = |e: OAuthError| e.code;
        assert_eq!(
            verify(Some(CHALLENGE), None).map_err(code),
            Err(ErrorCode::InvalidGrant)
        );
        assert_eq!(
            verify(None, Some(VERIFIER)).map_err(code),
            Err(ErrorCode::InvalidGrant)
        );
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
        assert_eq!(
            verify(Some(CHALLENGE), Some(other)).map_err(code),
            Err(ErrorCode::InvalidGrant)
        );
        assert!(verify(Some(CHALLENGE), Some("too short")).is_err());
    }
}
