//! What a grant's check yields: the issuance to enrich and sign, and the writes its exchange
//! will make at the commit.

use crate::model::Issuance;
use crate::port::Login;

/// The writes of an exchange, performed by [`super::commit::commit`] after the issuance was allowed
/// and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// Nothing to write (client_credentials).
    Nothing,
    /// A code redemption: consume the code with this hash as the new family is stored.
    Redeem { code_hash: String },
    /// A password login: forget the attempts, count the login, store a rehash.
    Login(Login),
    /// A rotation: consume the refresh token with this hash as the new one is stored.
    Rotate { token_hash: String },
    /// A retry of a just-rotated token within the client's reuse interval: only the new
    /// token is stored.
    Retry,
}

/// A checked token request: the issuance to enrich and sign, and the writes to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub issuance: Issuance,
    pub commit: Commit,
}
