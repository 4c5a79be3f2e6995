//! Minting: a validated [`Issuance`] becomes signed JWTs and, where granted, a refresh token.

pub mod access;
pub mod id_token;
pub mod issue;
pub mod jws;
pub mod keys;
pub mod refresh;
pub mod verify;

use crate::grant::GrantType;
use crate::scope::Scope;
use crate::store::{Api, Client, User};

pub use issue::issue;

/// Whether and how to issue a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshPlan {
    None,
    /// A new family (first issue after a login).
    NewFamily,
    /// The next token of an existing family (rotation).
    Continue {
        family_id: String,
        absolute_expires_at: u64,
    },
}

/// A fully validated grant: who, for which client, API and scopes. Nothing is signed or stored
/// before a grant produced one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    pub grant: GrantType,
    pub client: Client,
    /// The end user; `None` for client_credentials.
    pub user: Option<User>,
    /// The API of the access token; `None` for a token only good at /userinfo.
    pub api: Option<Api>,
    pub scope: Scope,
    /// When the user authenticated.
    pub auth_time: Option<u64>,
    pub nonce: Option<String>,
    pub refresh: RefreshPlan,
}

impl Issuance {
    /// Whether the granted scope contains `s`.
    pub fn has_scope(&self, s: &str) -> bool {
        self.scope.tokens().iter().any(|t| t == s)
    }
}
