//! Minting: validated issuances become signed JWTs.

pub mod access;
pub mod jws;
pub mod keys;

pub use access::{mint_access_token, Issuance};
pub use jws::{P256Signer, Signer, SigningKey};
