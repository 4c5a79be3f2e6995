//! Log events in memory, as D1 keeps them: retention applied at each append, newest first.

use super::{page, MemoryStore};
use crate::error::StoreError;
use crate::model::{Listed, LogEvent, LogQuery};
use crate::port::{EventSink, HasLogs, LogStore};

impl LogStore for MemoryStore {
    async fn append_logs(&self, events: &[LogEvent], keep_after: u64) -> Result<(), StoreError> {
        let _trip = self.round_trip()?;
        let mut logs = self.logs.borrow_mut();
        logs.extend(events.iter().cloned());
        logs.retain(|e| e.date >= keep_after);
        Ok(())
    }

    async fn list_logs(&self, query: &LogQuery) -> Result<Listed<LogEvent>, StoreError> {
        let _trip = self.round_trip()?;
        let logs = self.logs.borrow();
        let mut found: Vec<LogEvent> = logs.iter().filter(|e| query.matches(e)).cloned().collect();
        // Stable: insertion order breaks ties, newest first reverses both, as D1's
        // `ORDER BY date DESC, rowid DESC` does.
        if !query.ascending {
            found.reverse();
            found.sort_by_key(|e| std::cmp::Reverse(e.date));
        } else {
            found.sort_by_key(|e| e.date);
        }
        Ok(page(found, query.paging))
    }

    async fn log(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        let _trip = self.round_trip()?;
        Ok(self
            .logs
            .borrow()
            .iter()
            .find(|e| e.log_id == log_id)
            .cloned())
    }
}

/// Tests record straight into the store (the Worker stores after the response).
impl EventSink for MemoryStore {
    fn record(&self, event: LogEvent) {
        self.logs.borrow_mut().push(event);
    }
}

impl HasLogs for MemoryStore {
    fn logs(&self) -> &impl LogStore {
        self
    }
}
