//! Single sign-on sessions.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Listed, Paging, Session};

/// Browser sessions of the hosted login, in the system of record so they can be listed and
/// revoked.
pub trait SessionStore {
    /// The session with this id, live or not (the caller checks [`Session::is_live`]).
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError>;
    /// Moves the session's idle expiry to `idle_expires_at` (never past its absolute expiry).
    async fn touch_session(&self, session_id: &str, idle_expires_at: u64)
        -> Result<(), StoreError>;
    /// Ends the session (logout). Deleting an absent session is not an error.
    async fn delete_session(&self, session_id: &str) -> Result<(), StoreError>;
    /// A page of the user's sessions, live or not, oldest first.
    async fn user_sessions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Session>, StoreError>;
    /// Ends every session of the user.
    async fn delete_user_sessions(&self, user_id: &str) -> Result<(), StoreError>;
}
