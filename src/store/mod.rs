//! Storage ports: what the core needs from storage, with the security contract of each
//! operation written on it. D1 implements them in the Worker (`edge::d1`); [`memory`]
//! implements them for native tests and behaves the same way.
//
// The traits use `async fn` without `Send` bounds on purpose: Worker futures are `!Send`.
#![allow(async_fn_in_trait)]

pub mod conformance;
pub mod memory;
mod model;

pub use model::*;

use crate::claims::rules::Rule;
use crate::error::StoreError;

/// Read access to clients and APIs.
pub trait ClientStore {
    /// The client with this id (exact match), with its [`Client::grants`] joined to the APIs
    /// they name; a grant on an API that no longer exists is left out.
    async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    /// The API with this identifier, if registered (exact string match).
    async fn api(&self, identifier: &str) -> Result<Option<Api>, StoreError>;
}

/// Signing keys.
pub trait KeyStore {
    /// The active key for `alg`, if any.
    async fn active_key(&self, alg: &str) -> Result<Option<StoredKey>, StoreError>;

    /// Stores `key` as the active key for its alg **unless one is already active**, and
    /// reports whether it was stored.
    ///
    /// Contract: atomic. Two concurrent calls on a store with no active key leave exactly
    /// one active key; the loser must then read and use the winner's key.
    async fn insert_key_if_none_active(&self, key: &StoredKey) -> Result<bool, StoreError>;

    /// Every key whose public half is published in the JWKS, newest first.
    async fn published_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
}

/// End users. Always read from the system of record, never a cache, so a changed role,
/// metadata or block shows at the next token or userinfo request.
pub trait UserStore {
    /// The user with this id.
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError>;
    /// The user of `connection` whose email, ASCII-lower-cased, equals `email_lower`
    /// (emails compare case-insensitively; D1 indexes `lower(email)`).
    async fn user_by_email(
        &self,
        connection: &str,
        email_lower: &str,
    ) -> Result<Option<User>, StoreError>;
}

/// Password attempts per (user key, IP) (RFC 6749 §4.3.2).
pub trait AttemptStore {
    /// Counts one password attempt of `(user_key, ip)` **before** the password is verified
    /// and returns the attempts in the current window, this one included. The caller may
    /// verify only when the count is at most `policy.max_failures`.
    ///
    /// Contract: one atomic conditional increment, so of any number of concurrent attempts
    /// at most `max_failures` get a count within the limit. While a lock is in force
    /// (`locked_until > now`) the count only grows past the limit. A window older than
    /// `policy.window_seconds`, or an expired lock, restarts the count at 1. Reaching
    /// `max_failures` sets the lock to `now + policy.lock_seconds`; a successful login clears
    /// it ([`ExchangeStore::commit_login`]).
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError>;
}

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
    /// §4.14.2 reuse detection, RFC 7009). Revoking a revoked family keeps the first time.
    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<(), StoreError>;
}

/// A successful password login, as the commit records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user_id: String,
    /// The attempt counter to forget: connection + email, and the client IP.
    pub user_key: String,
    pub ip: String,
    /// A new password hash, when the stored one is of an older format or cost.
    pub rehash: Option<String>,
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
}

/// Rules and hooks of the claims pipeline.
pub trait ClaimsStore {
    /// The enabled rules and hooks of `trigger` (`post-login`, `credentials-exchange`), each
    /// in position order (ties by id).
    async fn pipeline(&self, trigger: &str) -> Result<(Vec<Rule>, Vec<StoredHook>), StoreError>;
    /// Inserts or replaces a rule by `rule_id`. Callers validate it first
    /// ([`Rule::validate`]); the new rule is in effect for the next request.
    async fn put_rule(&self, rule: &Rule) -> Result<(), StoreError>;
}

/// Roles, permissions and organizations.
pub trait DirectoryStore {
    /// The organization with this id, or else with this name.
    async fn organization(&self, id_or_name: &str) -> Result<Option<Organization>, StoreError>;
    /// Whether the user is a member of the organization.
    async fn is_member(&self, org_id: &str, user_id: &str) -> Result<bool, StoreError>;
    /// The user's role names and their permissions on `api`: global roles, plus the roles
    /// within `org` when one is given. Sorted, without duplicates.
    async fn user_access(
        &self,
        user_id: &str,
        org: Option<&Organization>,
        api: Option<&Api>,
    ) -> Result<UserAccess, StoreError>;
}

/// Everything the issuer stores.
pub trait Store:
    ClientStore
    + KeyStore
    + UserStore
    + AttemptStore
    + RefreshStore
    + ExchangeStore
    + ClaimsStore
    + DirectoryStore
{
}

impl<T> Store for T where
    T: ClientStore
        + KeyStore
        + UserStore
        + AttemptStore
        + RefreshStore
        + ExchangeStore
        + ClaimsStore
        + DirectoryStore
{
}
