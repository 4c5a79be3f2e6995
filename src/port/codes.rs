//! Authorization codes.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::AuthorizationCode;

/// Authorization codes, stored by hash. A code is issued by [`CodeStore::insert_code`] (or
/// with the login that produced it, [`crate::port::ExchangeStore::commit_authorization`]) and
/// redeemed once by [`crate::port::ExchangeStore::commit_redemption`].
pub trait CodeStore {
    /// Stores a new code. A hash already stored is [`StoreError::Conflict`].
    async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError>;
    /// The code with this hash, redeemed or not.
    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthorizationCode>, StoreError>;
    /// A redeemed code presented again (RFC 6749 §4.1.2): revokes everything issued from it,
    /// the access token recorded at its redemption (listed as revoked if unexpired at `now`)
    /// and the refresh family if one was issued (as [`crate::port::RefreshStore::revoke_family`]).
    /// An unknown or unredeemed code changes nothing.
    ///
    /// Contract: atomic: all of it or nothing.
    async fn revoke_code(&self, code_hash: &str, now: u64) -> Result<(), StoreError>;
}
