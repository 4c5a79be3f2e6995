//! Log events: stored, listed, and recorded off the request's path.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{Listed, LogEvent, LogQuery};

/// Stored log events.
pub trait LogStore {
    /// Stores `events` and, in the same operation, deletes every event older than
    /// `keep_after` (the retention limit).
    async fn append_logs(&self, events: &[LogEvent], keep_after: u64) -> Result<(), StoreError>;
    /// A page of events, newest first unless the query says otherwise (ties by insertion).
    async fn list_logs(&self, query: &LogQuery) -> Result<Listed<LogEvent>, StoreError>;
    /// One event by id.
    async fn log(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError>;
}

/// Where a request's log events go. Recording never waits and never fails the request: the
/// Worker keeps the request's events and stores them after the response is sent
/// (`ctx.waitUntil`), so a log write is on no request's critical path.
pub trait EventSink {
    /// Records one event.
    fn record(&self, event: LogEvent);
}
