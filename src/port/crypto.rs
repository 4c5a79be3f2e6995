//! The crypto port: what the core needs from the platform's cryptography. In the Worker it is
//! WebCrypto (`edge::webcrypto`); natively, [`super::native_crypto::NativeCrypto`] (pure Rust).
#![allow(async_fn_in_trait)]

use crate::error::CryptoError;
use crate::model::secret::Secret;

/// JWS algorithms this issuer signs with (RFC 7518 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256 SHA-256: access tokens and, by default, ID tokens.
    ES256,
    /// RSASSA-PKCS1-v1_5 SHA-256: ID tokens of clients that ask for it (OIDC Discovery §3
    /// requires RS256 support).
    RS256,
}

impl Alg {
    /// Every algorithm this issuer signs with; the JWKS publishes an active key of each.
    pub const ALL: [Alg; 2] = [Alg::ES256, Alg::RS256];

    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::RS256 => "RS256",
        }
    }

    /// Parses an `alg` value this issuer signs with.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A decrypted private signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    /// PKCS#8 DER of the private key.
    pub pkcs8: Secret<Vec<u8>>,
}

/// The public half of a generated key, as the members of its JWK (base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// A P-256 point (RFC 7518 §6.2.1).
    Ec { x: String, y: String },
    /// An RSA modulus and exponent (RFC 7518 §6.3.1).
    Rsa { n: String, e: String },
}

/// A freshly generated key: the private half as PKCS#8 DER, the public half as JWK members.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub pkcs8: Secret<Vec<u8>>,
    pub public: PublicKey,
}

/// Platform cryptography.
pub trait Crypto {
    /// The JWS signature of `input` with `key` (RFC 7518 §3.3, §3.4: ES256 gives `r || s`).
    async fn sign(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// Checks an `alg` signature against a public JWK (JSON text) whose kid is `kid`.
    async fn verify(
        &self,
        alg: Alg,
        kid: &str,
        public_jwk: &str,
        input: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError>;

    /// A new key for `alg`: a P-256 key for ES256, a 2048-bit RSA key with exponent 65537
    /// for RS256.
    async fn generate_key(&self, alg: Alg) -> Result<GeneratedKey, CryptoError>;

    /// PBKDF2-HMAC-SHA256 with a 32-byte output (RFC 8018 §5.2).
    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], CryptoError>;
}
