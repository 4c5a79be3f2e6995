//! The event rules and hooks see: the validated issuance, as JSON.

use crate::model::{Issuance, Trigger};
use crate::oauth::facts::Facts;
use serde_json::{json, Value};

/// Builds the event. Paths such as `user.app_metadata.roles`, `client.client_metadata.urn`,
/// `organization.id` and `user.email` address it. The password hash never appears.
pub fn event(trigger: Trigger, issuance: &Issuance, facts: &Facts<'_>) -> Value {
    let client = &issuance.client;
    let user = issuance.user.as_ref().map(|u| {
        json!({
            "user_id": u.user_id,
            "connection": u.connection,
            "email": u.email,
            "email_verified": u.email_verified,
            "name": u.name,
            "given_name": u.given_name,
            "family_name": u.family_name,
            "nickname": u.nickname,
            "picture": u.picture,
            "user_metadata": u.user_metadata,
            "app_metadata": u.app_metadata,
            "roles": issuance.roles,
            "permissions": issuance.permissions,
            "created_at": u.created_at,
            "last_login": u.last_login,
            "logins_count": u.logins_count,
        })
    });
    json!({
        "trigger": trigger.as_str(),
        "grant_type": issuance.grant.as_str(),
        "client": {
            "client_id": client.client_id,
            "name": client.name,
            "client_metadata": client.client_metadata,
        },
        "api": issuance.api.as_ref().map(|a| json!({ "identifier": a.identifier, "name": a.name })),
        "scopes": issuance.scope.tokens(),
        "user": user,
        "organization": issuance.organization.as_ref().map(|o| json!({
            "id": o.org_id, "name": o.name, "display_name": o.display_name,
        })),
        "request": { "ip": facts.client_ip, "country": facts.country },
        "time": facts.now,
    })
}
