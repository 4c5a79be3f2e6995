//! Password attempts per user and IP.

use super::codec::{backend, num};
use super::sql::Sql;
use super::SqlStore;
use crate::error::StoreError;
use crate::model::LockoutPolicy;
use crate::port::settled::Settle;
use crate::port::AttemptStore;

crate::row! {
    struct Failures {
        failures: f64,
    }
}

impl<B: Sql> AttemptStore for SqlStore<B> {
    async fn count_attempt(
        &self,
        user_key: &str,
        ip: &str,
        now: u64,
        policy: &LockoutPolicy,
    ) -> Result<u32, StoreError> {
        // One statement: SQLite evaluates every SET expression against the old row, so the
        // lock check, the window restart (the lock expired or the window is over), the count
        // and the new lock are decided together and atomically.
        let row: Option<Failures> = self
            .first(
                "INSERT INTO login_failures (user_key, ip, window_start, failures, locked_until) \
                 VALUES (?1, ?2, ?3, 1, CASE WHEN 1 >= ?4 THEN ?3 + ?6 ELSE 0 END) \
                 ON CONFLICT (user_key, ip) DO UPDATE SET \
                   failures = CASE \
                     WHEN locked_until > ?3 THEN max(failures, ?4) + 1 \
                     WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN 1 \
                     ELSE failures + 1 END, \
                   window_start = CASE \
                     WHEN locked_until > ?3 THEN window_start \
                     WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN ?3 \
                     ELSE window_start END, \
                   locked_until = CASE \
                     WHEN locked_until > ?3 THEN locked_until \
                     WHEN (CASE WHEN locked_until > 0 OR window_start + ?5 <= ?3 THEN 1 \
                                ELSE failures + 1 END) >= ?4 THEN ?3 + ?6 \
                     ELSE 0 END \
                 RETURNING failures",
                &[
                    user_key.into(),
                    ip.into(),
                    num(now),
                    num(u64::from(policy.max_failures)),
                    num(policy.window_seconds),
                    num(policy.lock_seconds),
                ],
            )
            .settle()
            .await?;
        row.map(|r| r.failures as u32)
            .ok_or_else(|| backend("login_failures upsert returned no row"))
    }
}
