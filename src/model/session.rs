//! Single sign-on sessions of the hosted login.

use serde::{Deserialize, Serialize};

/// A browser session: the user signed in at `auth_time`; it ends at the first of its idle
/// and absolute expiry, or at logout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// 256-bit random, base64url; the cookie carries it, signed.
    pub session_id: String,
    pub user_id: String,
    pub auth_time: u64,
    pub created_at: u64,
    pub idle_expires_at: u64,
    pub absolute_expires_at: u64,
}

impl Session {
    /// Whether the session can be used at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        now < self.idle_expires_at && now < self.absolute_expires_at
    }
}
