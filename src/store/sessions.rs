//! Single sign-on sessions.

use super::codec::{int, num, opt};
use super::sql::{Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Authenticated, Listed, Paging, Session};
use crate::port::settled::Settle;
use crate::port::SessionStore;

crate::row! {
    struct SessionRow {
        session_id: String,
        user_id: String,
        auth_time: f64,
        created_at: f64,
        idle_expires_at: f64,
        absolute_expires_at: f64,
        connection: Option<String>,
        amr: Option<String>,
        acr: Option<String>,
    }
}

const SESSION_COLUMNS: &str = "session_id, user_id, auth_time, created_at, idle_expires_at, \
    absolute_expires_at, connection, amr, acr";

/// Stores a new session.
pub(super) const INSERT_SESSION: &str = "INSERT INTO sessions (session_id, user_id, \
    auth_time, created_at, idle_expires_at, absolute_expires_at, connection, amr, acr) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

pub(super) fn session_args(s: &Session) -> Vec<Value> {
    let [connection, amr, acr] = Authenticated::columns(s.authenticated.as_ref());
    vec![
        s.session_id.as_str().into(),
        s.user_id.as_str().into(),
        num(s.auth_time),
        num(s.created_at),
        num(s.idle_expires_at),
        num(s.absolute_expires_at),
        opt(&connection),
        opt(&amr),
        opt(&acr),
    ]
}

/// Moves a session's idle expiry, never past its absolute one.
pub(super) const TOUCH_SESSION: &str = "UPDATE sessions \
    SET idle_expires_at = min(?2, absolute_expires_at) WHERE session_id = ?1";

pub(super) fn touch_args(s: &Session) -> Vec<Value> {
    vec![s.session_id.as_str().into(), num(s.idle_expires_at)]
}

impl<B: Sql> SessionStore for SqlStore<B> {
    async fn session(&self, session_id: &str) -> Result<Option<Session>, StoreError> {
        let row: Option<SessionRow> = self
            .first(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE session_id = ?1"),
                &[session_id.into()],
            )
            .settle()
            .await?;
        Ok(row.map(Session::from))
    }

    async fn touch_session(
        &self,
        session_id: &str,
        idle_expires_at: u64,
    ) -> Result<(), StoreError> {
        self.run(TOUCH_SESSION, &[session_id.into(), num(idle_expires_at)])
            .settle()
            .await
            .map(|_| ())
    }

    async fn delete_session(&self, session_id: &str) -> Result<(), StoreError> {
        self.run(
            "DELETE FROM sessions WHERE session_id = ?1",
            &[session_id.into()],
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn user_sessions(
        &self,
        user_id: &str,
        paging: Paging,
    ) -> Result<Listed<Session>, StoreError> {
        let rows: Listed<SessionRow> = self
            .page(
                SESSION_COLUMNS,
                "FROM sessions WHERE user_id = ?1",
                "rowid",
                &[user_id.into()],
                paging,
            )
            .settle()
            .await?;
        rows.try_map(|r| Ok(Session::from(r)))
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        self.run("DELETE FROM sessions WHERE user_id = ?1", &[user_id.into()])
            .settle()
            .await
            .map(|_| ())
    }
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            session_id: r.session_id,
            user_id: r.user_id,
            auth_time: int(r.auth_time),
            created_at: int(r.created_at),
            idle_expires_at: int(r.idle_expires_at),
            absolute_expires_at: int(r.absolute_expires_at),
            authenticated: Authenticated::from_columns(r.connection, r.amr, r.acr),
        }
    }
}
