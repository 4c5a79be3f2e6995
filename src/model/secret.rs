//! Secrets: a wrapper whose `Debug` hides the value, and hashing of client secrets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A value that must never reach a log: `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret value, for the one place that needs it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The stored form of a client secret: `sha256:` + base64url(SHA-256(secret)).
///
/// Client secrets are generated with at least 256 bits of entropy, so a fast hash suffices
/// (a slow KDF protects low-entropy passwords, not random secrets); only the hash is stored.
pub fn hash_client_secret(secret: &str) -> String {
    format!(
        "sha256:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()))
    )
}

/// Compares a presented secret with a stored hash in constant time.
pub fn verify_client_secret(presented: &str, stored_hash: &str) -> bool {
    let computed = hash_client_secret(presented);
    computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "[redacted]");
    }

    #[test]
    fn client_secret_hash_verifies_only_the_same_secret() {
        let stored = hash_client_secret("s3cret");
        assert!(stored.starts_with("sha256:"));
        assert!(verify_client_secret("s3cret", &stored));
        assert!(!verify_client_secret("s3cret ", &stored));
        assert!(!verify_client_secret("", &stored));
    }
}
