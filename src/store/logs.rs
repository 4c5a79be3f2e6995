//! Log events (schema in `migrations/0006_logs.sql`).

use super::codec::{int, json, json_arg, num, opt};
use super::sql::Sql;
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Listed, LogEvent, LogQuery};
use crate::port::settled::Settle;
use crate::port::LogStore;

crate::row! {
    struct LogRow {
        log_id: String,
        date: f64,
        r#type: String,
        description: String,
        client_id: Option<String>,
        user_id: Option<String>,
        user_name: Option<String>,
        ip: Option<String>,
        details: String,
    }
}

impl TryFrom<LogRow> for LogEvent {
    type Error = StoreError;

    fn try_from(r: LogRow) -> Result<Self, StoreError> {
        Ok(LogEvent {
            log_id: r.log_id,
            date: int(r.date),
            kind: r.r#type,
            description: r.description,
            client_id: r.client_id,
            user_id: r.user_id,
            user_name: r.user_name,
            ip: r.ip,
            details: json("details", &r.details)?,
        })
    }
}

const COLUMNS: &str = "log_id, date, type, description, client_id, user_id, user_name, ip, details";

impl<B: Sql> LogStore for SqlStore<B> {
    async fn append_logs(&self, events: &[LogEvent], keep_after: u64) -> Result<(), StoreError> {
        // One statement for every event, which travel as one JSON argument (D1 caps bound
        // parameters at 100 and counts statements), and the retention prune, in one batch.
        let rows: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                serde_json::json!({
                    "log_id": e.log_id, "date": e.date, "type": e.kind,
                    "description": e.description, "client_id": e.client_id,
                    "user_id": e.user_id, "user_name": e.user_name, "ip": e.ip,
                    "details": e.details,
                })
            })
            .collect();
        let insert = format!(
            "INSERT INTO logs ({COLUMNS}) SELECT value->>'log_id', value->>'date', \
             value->>'type', value->>'description', value->>'client_id', value->>'user_id', \
             value->>'user_name', value->>'ip', json(value->'details') FROM json_each(?1) \
             WHERE true ON CONFLICT (log_id) DO NOTHING"
        );
        let rows = [json_arg(&rows)?];
        let prune = [num(keep_after)];
        // Only ever written after the response (edge::RequestEvents): not a round trip of
        // any request.
        self.batch_after_response(&[
            (insert.as_str(), &rows),
            ("DELETE FROM logs WHERE date < ?1", &prune),
        ])
        .settle()
        .await
    }

    async fn list_logs(&self, q: &LogQuery) -> Result<Listed<LogEvent>, StoreError> {
        let arg = |v: &Option<String>| opt(v);
        let dir = if q.ascending { "ASC" } else { "DESC" };
        let rows: Listed<LogRow> = self
            .page(
                COLUMNS,
                "FROM logs WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR user_id = ?2) \
                 AND (?3 IS NULL OR client_id = ?3)",
                &format!("date {dir}, rowid {dir}"),
                &[arg(&q.kind), arg(&q.user_id), arg(&q.client_id)],
                q.paging,
            )
            .settle()
            .await?;
        rows.try_map(LogEvent::try_from)
    }

    async fn log(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM logs WHERE log_id = ?1");
        let row: Option<LogRow> = self.first(&sql, &[log_id.into()]).settle().await?;
        row.map(LogEvent::try_from).transpose()
    }
}
