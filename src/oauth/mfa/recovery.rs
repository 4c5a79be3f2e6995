//! Recovery codes: ten single-use codes shown once when a user enrolls a second factor, each
//! worth one sign-in when the authenticator is lost. Stored as SHA-256 only: a code has 100
//! random bits (NIST SP 800-63B §4.2 asks at least 64), so no slow hash is needed.

use crate::error::CryptoError;
use crate::model::secret::hash_client_secret;
use crate::port::random::Random;

/// How many codes a user holds after enrollment or regeneration.
pub const COUNT: usize = 10;
/// Characters per code: 5 bits each.
const LENGTH: usize = 20;
/// Crockford's base32 letters: no I, L, O or U, so nothing reads as another character.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new set of codes, as shown to the user.
pub fn new_codes(random: &dyn Random) -> Result<Vec<String>, CryptoError> {
    (0..COUNT).map(|_| new_code(random)).collect()
}

fn new_code(random: &dyn Random) -> Result<String, CryptoError> {
    let mut bytes = [0u8; LENGTH];
    random.fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

/// The stored form of a code as typed: spaces and dashes dropped, letters upper-cased.
pub fn code_hash(typed: &str) -> String {
    let normal: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hash_client_secret(&normal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::random::OsRandom;

    #[test]
    fn codes_are_ten_distinct_and_typed_loosely() {
        let codes = new_codes(&OsRandom).unwrap();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        let code = &codes[0];
        assert!(code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)));
        let typed = format!(
            " {}-{} ",
            code[..10].to_lowercase(),
            code[10..].to_lowercase()
        );
        assert_eq!(code_hash(&typed), code_hash(code));
        assert_ne!(code_hash(&codes[1]), code_hash(code));
    }
}
