//! Scope grammar (RFC 6749 §3.3) and narrowing against what a client was granted.

use crate::error::{ErrorCode, OAuthError};

/// A scope value parsed per RFC 6749 §3.3: space-delimited tokens of
/// `%x21 / %x23-5B / %x5D-7E`, kept in request order without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(Vec<String>);

impl Scope {
    /// Parses a `scope` parameter; a malformed token is `invalid_scope`.
    pub fn parse(raw: &str) -> Result<Self, OAuthError> {
        let mut tokens: Vec<String> = Vec::new();
        for token in raw.split(' ') {
            if token.is_empty() {
                continue;
            }
            let legal = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !legal {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope contains a character RFC 6749 section 3.3 does not allow",
                ));
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_string());
            }
        }
        Ok(Self(tokens))
    }

    /// The scope tokens, in order.
    pub fn tokens(&self) -> &[String] {
        &self.0
    }

    /// The wire form: tokens joined by one space.
    pub fn to_wire(&self) -> String {
        self.0.join(" ")
    }

    /// Narrows a request to what was granted (RFC 6749 §3.3, §4.4.2): no request means every
    /// granted scope; asking for anything not granted is `invalid_scope`, naming it.
    pub fn narrow(requested: Option<&Scope>, granted: &[String]) -> Result<Scope, OAuthError> {
        let Some(requested) = requested else {
            return Ok(Scope(granted.to_vec()));
        };
        let missing: Vec<&str> = requested
            .0
            .iter()
            .filter(|t| !granted.contains(t))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("scope not granted to this client: {}", missing.join(" ")),
            ));
        }
        Ok(requested.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted() -> Vec<String> {
        vec!["read:data".into(), "write:data".into()]
    }

    #[test]
    fn parse_splits_on_spaces_and_drops_duplicates() {
        let s = Scope::parse("read:data  write:data read:data").unwrap();
        assert_eq!(s.tokens(), ["read:data", "write:data"]);
        assert_eq!(s.to_wire(), "read:data write:data");
    }

    #[test]
    fn parse_rejects_characters_outside_the_grammar() {
        for raw in ["read\"data", "a\\b", "caf\u{e9}", "tab\there"] {
            let e = Scope::parse(raw).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidScope, "{raw:?}");
        }
    }

    #[test]
    fn narrow_without_request_gives_everything_granted() {
        assert_eq!(Scope::narrow(None, &granted()).unwrap().tokens(), granted());
    }

    #[test]
    fn narrow_to_a_subset_keeps_the_subset() {
        let req = Scope::parse("write:data").unwrap();
        assert_eq!(
            Scope::narrow(Some(&req), &granted()).unwrap().to_wire(),
            "write:data"
        );
    }

    #[test]
    fn narrow_beyond_the_grant_is_invalid_scope_naming_the_extra() {
        let req = Scope::parse("read:data admin").unwrap();
        let e = Scope::narrow(Some(&req), &granted()).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidScope);
        assert!(e.description.unwrap().ends_with(": admin"));
    }
}
