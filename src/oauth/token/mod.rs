//! Minting: a validated [`crate::model::Issuance`] becomes signed JWTs and, where granted, a refresh token.

pub mod access;
pub mod front;
pub mod id_token;
pub mod issue;
pub mod jws;
pub mod refresh;
pub mod verify;

pub use issue::{issue, Minted};
