//! Randomness comes in through a trait so tests can fix it.

use crate::error::CryptoError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A source of cryptographically secure random bytes.
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError>;

    /// `n` random bytes, base64url-encoded: identifiers such as `jti` (RFC 6749 §10.10).
    fn token(&self, n: usize) -> Result<String, CryptoError> {
        let mut buf = vec![0u8; n];
        self.fill(&mut buf)?;
        Ok(URL_SAFE_NO_PAD.encode(buf))
    }

    /// `n` random bytes in lower-case hex: record ids (`auth0|…`, `rol_…`, log ids).
    fn hex(&self, n: usize) -> Result<String, CryptoError> {
        let mut buf = vec![0u8; n];
        self.fill(&mut buf)?;
        Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// The platform's CSPRNG: the OS natively, `crypto.getRandomValues` in the Worker.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::getrandom(buf).map_err(|e| CryptoError::new("getrandom", e))
    }
}
