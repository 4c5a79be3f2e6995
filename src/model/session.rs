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
    /// How the user signed in (`None` for sessions stored before this was kept).
    #[serde(default)]
    pub authenticated: Option<super::Authenticated>,
}

impl Session {
    /// Whether the session can be used at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        now < self.idle_expires_at && now < self.absolute_expires_at
    }

    /// What the management API may show for the session: a digest of its id (the id is the
    /// cookie's secret; showing it would hand out the session).
    pub fn session_id_hint(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.session_id.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    }
}
