//! Signing keys as stored, and where each is in its life.

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
    /// When the key was made, and so first published.
    pub created_at: u64,
    pub state: KeyState,
    /// When it became the current key.
    pub current_since: Option<u64>,
    /// When it stopped being the current key.
    pub current_until: Option<u64>,
    /// When it was revoked.
    pub revoked_at: Option<u64>,
    /// The order in which its algorithm's keys became current (1 for the first); `None`
    /// while it is a next key. Times are in seconds and tie; this does not.
    #[serde(default)]
    pub promotion: Option<u64>,
}

impl StoredKey {
    /// Whether its public half is in the JWKS (every state but revoked).
    pub fn published(&self) -> bool {
        self.state != KeyState::Revoked
    }
}

/// Where a key is in its life: `next` → `current` → `previous` → dropped, or `revoked` from
/// `previous`. Per algorithm there is at most one `next` and one `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published ahead of use, so verifiers that cache the JWKS hold it before it signs.
    Next,
    /// Signs (once it has been published for the lead time; see `oauth::keys::lifecycle`).
    Current,
    /// No longer signs; published until every token it signed has expired, then dropped.
    Previous,
    /// Withdrawn from the JWKS at once: tokens it signed no longer verify.
    Revoked,
}

impl KeyState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Revoked => "revoked",
        }
    }
}
