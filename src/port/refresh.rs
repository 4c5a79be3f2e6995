//! Refresh tokens, and the one atomic write of each exchange.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{AuthorizationCode, IssuedAccess, RefreshRecord, RevokedToken, Session, User};

/// Refresh tokens, stored by hash, grouped in families (one family per login). Revocation is
/// a property of the family, not of single tokens.
pub trait RefreshStore {
    /// Stores a new refresh token, creating its family on the first token, **unless the
    /// family is revoked**; reports whether it was stored.
    ///
    /// Contract: atomic with respect to [`RefreshStore::revoke_family`]: once a revocation
    /// has happened no later call stores a token of that family, and a token stored before
    /// it is revoked by it. No interleaving leaves a usable token in a revoked family.
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<bool, StoreError>;
    /// The token with this hash, used or not; `revoked_at` is its family's revocation time.
    async fn find_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Revokes the family: every token of it, stored now or later, is unusable (RFC 9700
    /// §4.14.2 reuse detection, RFC 7009), and the access tokens issued with its tokens that
    /// have not expired at `now` join the revoked access tokens. Revoking a revoked family
    /// keeps the first time.
    ///
    /// Contract: atomic: the family's revocation and its access tokens' listing happen
    /// together or not at all.
    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError>;

    /// Whether the access token `jti` is revoked (a fresh read).
    async fn access_revoked(&self, jti: &str) -> Result<bool, StoreError>;

    /// The revoked access tokens that have not expired at `now`, in `jti` order.
    async fn revoked_access_tokens(&self, now: u64) -> Result<Vec<RevokedToken>, StoreError>;

    /// Forgets revoked access tokens that expired before `now`, and the spent MFA tokens and
    /// passkey challenges that did; answers how many revoked tokens.
    async fn prune_revoked_access_tokens(&self, now: u64) -> Result<u32, StoreError>;
}

/// The writes of a sign-in at /authorize ([`ExchangeStore::commit_authorization`]).
#[derive(Debug, Clone, Copy)]
pub struct SignIn<'a> {
    /// A user who just signed up, to create.
    pub new_user: Option<&'a User>,
    /// A password just entered: its bookkeeping.
    pub login: Option<&'a Login>,
    /// A session that starts now.
    pub session: Option<&'a Session>,
    /// A live session used for single sign-on: its idle expiry moves to this session's
    /// `idle_expires_at` (never past its absolute expiry).
    pub touched: Option<&'a Session>,
    /// The code issued, if the response carries one (not for an implicit response).
    pub code: Option<&'a AuthorizationCode>,
    /// A sign-in at an upstream provider: its bookkeeping.
    pub upstream: Option<&'a UpstreamLogin>,
}

/// A sign-in at an upstream provider, as the commit records it: the login on the user, the
/// provider's profile on the identity, and (when the connection says so) on the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamLogin {
    pub user_id: String,
    pub provider: String,
    pub identity_id: String,
    /// The provider's profile (a JSON object's text): the identity's `profileData`.
    pub profile_data: String,
    pub is_social: bool,
    /// The provider's tokens, sealed, when the connection keeps them (`store_idp_tokens`);
    /// `None` clears what an earlier sign-in kept.
    pub tokens: Option<String>,
    /// The identity is new and joins `user_id`, a user made before (linked by verified
    /// email): it is stored, not updated.
    pub link: Option<String>,
    /// The user with the provider's profile fields written over theirs, when the connection
    /// updates them on this login (`set_user_root_attributes`).
    pub root: Option<User>,
}

/// A successful password login, as the commit records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user_id: String,
    /// The attempt counter to forget: connection + email, and the client IP.
    pub user_key: String,
    pub ip: String,
    /// A new password hash, when the stored one is of an older format or cost: for the
    /// credential the password was checked against (the user of `connection` with
    /// `email_lower`, which may be an account linked into `user_id`).
    pub rehash: Option<String>,
    pub connection: String,
    pub email_lower: String,
    /// A user the tenant's own user store just signed in for the first time (a custom
    /// database): stored with the login, in the same batch.
    pub new_user: Option<Box<User>>,
}

/// The writes of a token exchange, done **after** the claims pipeline allowed the issuance
/// and the tokens were signed, each exchange in one atomic storage operation (one D1 batch):
/// a failure anywhere before leaves storage as it was, so a client's retry is never taken
/// for a replay.
pub trait ExchangeStore {
    /// A password login: forgets the attempts of `(user_key, ip)`, sets `last_login = now`,
    /// counts the login, stores the rehash if any, and stores `refresh` (the first token of
    /// a new family) if any.
    ///
    /// Contract: all of it or none of it.
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError>;

    /// A rotation: marks the token `token_hash` used and stores `next` in its place, if and
    /// only if that token is unused, unexpired at `now`, issued to `client_id` and its family
    /// not revoked; reports whether it did.
    ///
    /// Contract: one atomic compare-and-set: of any number of concurrent calls for one token
    /// at most one returns `true`, and a call that returns `false` stored nothing.
    async fn commit_rotation(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
        next: &RefreshRecord,
    ) -> Result<bool, StoreError>;

    /// A sign-in at /authorize: creates the user of a sign-up, records the login (as
    /// [`ExchangeStore::commit_login`] does) when a password was entered, stores the session
    /// when one starts, and stores the code if there is one.
    ///
    /// Contract: all of it or none of it. A new user whose email is taken in its connection
    /// fails the whole operation with [`StoreError::Conflict`].
    async fn commit_authorization(&self, sign_in: &SignIn<'_>, now: u64) -> Result<(), StoreError>;

    /// A code redemption: marks the code `code_hash` used, records on it the access token
    /// issued from it and `refresh`'s family, and stores `refresh` (the first token of a new
    /// family) if any, if and only if the code is unused, unexpired at `now` and issued to
    /// `client_id`; reports whether it did. [`crate::port::CodeStore::revoke_code`] later
    /// revokes what was recorded.
    ///
    /// Contract: one atomic compare-and-set: of any number of concurrent calls for one code
    /// at most one returns `true`, and a call that returns `false` stored nothing.
    async fn commit_redemption(
        &self,
        code_hash: &str,
        client_id: &str,
        now: u64,
        access: &IssuedAccess,
        refresh: Option<&RefreshRecord>,
    ) -> Result<bool, StoreError>;
}
