//! End users and their password attempts.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Imported, Job, Listed, LockoutPolicy, User, UserChanges, UserQuery};

/// End users. Always read from the system of record, never a cache, so a changed role,
/// metadata or block shows at the next token or userinfo request.
pub trait UserStore {
    /// The user with this id.
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError>;
    /// Stores a new user. An id already stored, or an email already used in the user's
    /// connection (compared ignoring ASCII case), is [`StoreError::Conflict`] and stores
    /// nothing.
    async fn create_user(&self, user: &User) -> Result<(), StoreError>;
    /// Makes `changes` to the user in one atomic write, its metadata merged into what is
    /// stored at that moment ([`crate::model::merge_metadata`]), so concurrent patches of
    /// different properties both last; returns the user as changed, or `None` when there is
    /// no such user, or when a merged metadata document would exceed
    /// [`crate::model::MAX_METADATA_BYTES`] (nothing is then written). An email taken in the
    /// connection is [`StoreError::Conflict`].
    async fn update_user(
        &self,
        user_id: &str,
        changes: &UserChanges,
        now: u64,
    ) -> Result<Option<User>, StoreError>;
    /// Deletes the user with everything that is theirs (roles, memberships, sessions, codes,
    /// refresh tokens); reports whether there was one.
    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError>;
    /// One page of the users `query` selects, with how many it selects in all, read in one
    /// round trip.
    async fn list_users(&self, query: &UserQuery) -> Result<Listed<User>, StoreError>;
    /// Stores imported users (one atomic write per [`IMPORT_CHUNK`] users): each new user is
    /// inserted; one whose email is taken in its connection is replaced when `upsert`
    /// (keeping its id, creation time and login count), else left alone (`Duplicate`). The
    /// outcome of each, in order.
    /// Gives up to `limit` users stored before email keys their
    /// [`crate::model::email::key`]; answers how many it keyed (0 once all have one). A user
    /// whose key another user of the connection holds already (a look-alike pair from before
    /// the rule) gets a key of its own that matches no address: both keep signing in, and no
    /// third look-alike can be made.
    async fn backfill_email_keys(&self, limit: u32) -> Result<u32, StoreError>;
    async fn import_users(&self, users: &[User], upsert: bool)
        -> Result<Vec<Imported>, StoreError>;
    /// Links the user `secondary` into `primary` (Auth0's account linking): the secondary's
    /// identities become the primary's, and it is no user of its own any more (not read or
    /// listed; its sessions end and its refresh tokens are revoked), while its row keeps the
    /// email and password its database identity signs in with, which then sign the primary
    /// in. Users linked into the secondary follow it. `false` (nothing changed) unless both
    /// exist, differ and neither is linked.
    async fn link_user(&self, primary: &str, secondary: &str, now: u64)
        -> Result<bool, StoreError>;
    /// Unlinks the identity `provider|identity_id` from `primary`: it returns to its own
    /// user, which is a user again. `false` (nothing changed) when `primary` holds no such
    /// linked identity (its own, primary identity cannot be unlinked).
    async fn unlink_identity(
        &self,
        primary: &str,
        provider: &str,
        identity_id: &str,
    ) -> Result<bool, StoreError>;
    /// The provider tokens kept on `user_id`'s identities: `(provider, identity id, sealed)`.
    async fn identity_tokens(
        &self,
        user_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError>;
    /// Stores a job's outcome.
    async fn put_job(&self, job: &Job) -> Result<(), StoreError>;
    /// A job by id.
    async fn job(&self, job_id: &str) -> Result<Option<Job>, StoreError>;
}

/// Users written per atomic batch of an import: 10,000 users are 20 batches.
pub const IMPORT_CHUNK: usize = 500;

/// Password attempts per (user key, IP) (RFC 6749 §4.3.2), and the same counter for other
/// per-user budgets (self-service writes).
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
    /// it ([`crate::port::ExchangeStore::commit_login`]).
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError>;
}
