//! Signing keys as stored.

use serde::{Deserialize, Serialize};

/// A signing key as stored: public JWK in clear, private key encrypted
/// under the key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredKey {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    /// `v1.<nonce>.<ciphertext>`: the PKCS#8 private key under AES-256-GCM.
    pub private_key_enc: String,
    pub created_at: u64,
    pub state: KeyState,
}

/// Where a key is in its life. Every state is published in the JWKS; only an active key signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// The key of its algorithm that signs now (at most one per algorithm).
    Active,
    /// No longer signs; published until removed, so tokens it signed still verify.
    Retired { since: u64 },
}
