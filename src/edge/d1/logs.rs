//! Log events (schema in `migrations/0006_logs.sql`).

use super::codec::{int, json, json_arg, num, opt};
use super::D1Store;
use crate::error::StoreError;
use crate::model::{Listed, LogEvent, LogQuery};
use crate::port::LogStore;
use serde::Deserialize;
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
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

impl LogStore for D1Store {
    async fn append_logs(&self, events: &[LogEvent], keep_after: u64) -> Result<(), StoreError> {
        let insert = format!(
            "INSERT INTO logs ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (log_id) DO NOTHING"
        );
        let rows = events
            .iter()
            .map(|e| {
                Ok(vec![
                    e.log_id.as_str().into(),
                    num(e.date),
                    e.kind.as_str().into(),
                    e.description.as_str().into(),
                    opt(&e.client_id),
                    opt(&e.user_id),
                    opt(&e.user_name),
                    opt(&e.ip),
                    json_arg(&e.details)?,
                ])
            })
            .collect::<Result<Vec<Vec<JsValue>>, StoreError>>()?;
        let prune = [num(keep_after)];
        let mut statements: Vec<(&str, &[JsValue])> = rows
            .iter()
            .map(|r| (insert.as_str(), r.as_slice()))
            .collect();
        statements.push(("DELETE FROM logs WHERE date < ?1", &prune));
        // Only ever written after the response (edge::RequestEvents): not a round trip of
        // any request.
        self.batch_after_response(&statements).await
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
            .await?;
        rows.try_map(LogEvent::try_from)
    }

    async fn log(&self, log_id: &str) -> Result<Option<LogEvent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM logs WHERE log_id = ?1");
        let row: Option<LogRow> = self.first(&sql, &[log_id.into()]).await?;
        row.map(LogEvent::try_from).transpose()
    }
}
