//! End users and their password attempts.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{LockoutPolicy, User};

/// End users. Always read from the system of record, never a cache, so a changed role,
/// metadata or block shows at the next token or userinfo request.
pub trait UserStore {
    /// The user with this id.
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError>;
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
    /// it ([`crate::port::ExchangeStore::commit_login`]).
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError>;
}
