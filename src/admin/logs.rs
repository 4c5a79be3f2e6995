//! Log events: `GET /api/v2/logs` (newest first; `q` by `type`, `user_id`, `client_id`;
//! `sort=date:1` for oldest first) and `GET /api/v2/logs/{id}`; and the `sapi`/`fapi` event
//! every management write records.

use super::call::{Call, Caller, Route};
use super::error::{from_store, invalid_query, not_found, Reply};
use super::list::{iso8601, Query};
use super::Request;
use crate::model::log::kinds::{API_WRITE, API_WRITE_FAILED};
use crate::model::{LogEvent, LogQuery};
use crate::oauth::events::Actor;
use crate::oauth::issuer::Issuer;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{LogStore, Stores};
use serde_json::{json, Value};

/// The event as Auth0 shows it.
fn view(e: &LogEvent) -> Value {
    json!({
        "log_id": e.log_id,
        "date": iso8601(e.date),
        "type": e.kind,
        "description": e.description,
        "client_id": e.client_id,
        "user_id": e.user_id,
        "user_name": e.user_name,
        "ip": e.ip,
        "details": e.details,
    })
}

/// Reads `q`: `field:"value"` terms joined by ` AND `, fields `type`, `user_id`, `client_id`.
fn parse_q(q: &str, into: &mut LogQuery) -> Result<(), String> {
    for term in q.split(" AND ").map(str::trim).filter(|t| !t.is_empty()) {
        let (field, value) = term.split_once(':').ok_or("q terms are field:value")?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        if value.is_empty() || value.contains('"') {
            return Err(format!("q has a bad value for {field}"));
        }
        let slot = match field {
            "type" => &mut into.kind,
            "user_id" => &mut into.user_id,
            "client_id" => &mut into.client_id,
            other => return Err(format!("searching logs by {other} is not supported")),
        };
        *slot = Some(value.to_string());
    }
    Ok(())
}

/// `GET /api/v2/logs`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &["q", "sort"]));
    // Auth0's `from` on logs is a log id, not a checkpoint: not offered rather than misread.
    if query.get("from").is_some() || query.get("take").is_some() {
        return invalid_query("from and take are not supported on logs: use page and per_page");
    }
    let paging = attempt!(query.paging());
    let ascending = match query.get("sort") {
        None | Some("date:-1") => false,
        Some("date:1") => true,
        Some(_) => return invalid_query("sort is date:1 or date:-1"),
    };
    let mut filter = LogQuery {
        kind: None,
        user_id: None,
        client_id: None,
        ascending,
        paging,
    };
    if let Some(Err(why)) = query.get("q").map(|q| parse_q(q, &mut filter)) {
        return invalid_query(&why);
    }
    match call.issuer.stores.logs().list_logs(&filter).settle().await {
        Ok(l) => query.reply("logs", l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, "Conflict.", call.issuer.log),
    }
}

/// `GET /api/v2/logs/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.logs().log(call.id()).settle().await {
        Ok(Some(e)) => Reply::json(200, &view(&e)),
        Ok(None) => not_found("log event"),
        Err(e) => from_store(e, "Conflict.", call.issuer.log),
    }
}

/// Records a management write (`sapi`, or `fapi` when refused): who, which route, the
/// status. Never the body.
pub fn record_write<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &Request<'_>,
    route: &Route,
    caller: &Caller,
    status: u16,
) {
    let kind = if status < 400 {
        API_WRITE
    } else {
        API_WRITE_FAILED
    };
    let actor = match caller {
        Caller::Machine { client_id, .. } => Actor {
            client_id: Some(client_id),
            ..Actor::default()
        },
        Caller::User { user_id } => Actor {
            user_id: Some(user_id),
            ..Actor::default()
        },
    };
    let description = format!("{} {}", route.method, route.path);
    let details = json!({ "method": req.method, "path": req.path, "status": status });
    issuer.record(kind, &description, actor, details);
}
