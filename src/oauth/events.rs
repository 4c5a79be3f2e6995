//! Log events as the protocol records them: who, what, from where; never a secret.

use super::facts::Facts;
use crate::model::LogEvent;
use crate::port::random::Random;
use crate::port::EventSink;
use serde_json::Value;

/// Who an event is about: the client, the user's id and the name (email) given or held.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor<'s> {
    pub client_id: Option<&'s str>,
    pub user_id: Option<&'s str>,
    pub user_name: Option<&'s str>,
}

/// Logs the internal detail of a server failure to `log`; the client never sees it.
pub fn log_failure(log: &dyn Fn(&str), e: &crate::error::OAuthError) {
    if e.code == crate::error::ErrorCode::ServerError {
        log(&e.to_string());
    }
}

/// Records a log event of `kind` at `facts.now`, from `facts.client_ip`.
pub fn record(
    events: &dyn EventSink,
    random: &dyn Random,
    facts: &Facts<'_>,
    kind: &str,
    description: &str,
    actor: Actor<'_>,
    details: Value,
) {
    // No id, no event: logging never fails the request.
    if let Some(e) = event(random, facts, kind, description, actor, details) {
        events.record(e);
    }
}

/// A log event of `kind` at `facts.now`, from `facts.client_ip`; `None` when no id could be
/// drawn.
pub fn event(
    random: &dyn Random,
    facts: &Facts<'_>,
    kind: &str,
    description: &str,
    actor: Actor<'_>,
    details: Value,
) -> Option<LogEvent> {
    Some(LogEvent {
        log_id: random.hex(16).ok()?,
        date: facts.now,
        kind: kind.to_string(),
        description: description.to_string(),
        client_id: actor.client_id.map(str::to_string),
        user_id: actor.user_id.map(str::to_string),
        user_name: actor.user_name.map(str::to_string),
        ip: facts.client_ip.map(str::to_string),
        details,
    })
}
