//! The event rules and hooks see: the validated issuance, as JSON, shaped as Auth0's
//! `post-login` and `credentials-exchange` events where they have the same thing.

use crate::model::{GrantType, Issuance, Trigger};
use crate::oauth::facts::Facts;
use serde_json::{json, Value};

/// Auth0's protocol name of a token-endpoint grant (`event.transaction.protocol`).
fn protocol(grant: GrantType) -> &'static str {
    match grant {
        GrantType::AuthorizationCode => "oidc-basic-profile",
        GrantType::Implicit => "oidc-implicit-profile",
        GrantType::Password | GrantType::MfaOtp | GrantType::MfaRecoveryCode => "oauth2-password",
        GrantType::PasswordlessOtp => "oauth2-resource-owner",
        GrantType::RefreshToken => "oauth2-refresh-token",
        GrantType::ClientCredentials => "oauth2-client-credentials",
    }
}

/// Builds the event. Paths such as `user.app_metadata.roles`, `client.client_metadata.urn`,
/// `organization.id`, `user.email`, `grant_type`, `transaction.protocol`, `connection.name`
/// and `authentication.methods` address it. `grant_type` is the flow the tokens come from:
/// `authorization_code` for a browser sign-in with a code (at /authorize and at the code's
/// redemption), `implicit` for tokens in the authorization response. The password hash
/// never appears.
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
            "identities": u.identities,
        })
    });
    let transaction = match &issuance.transaction {
        Some(t) => json!({
            "protocol": t.protocol,
            "requested_scopes": t.requested_scopes,
            "redirect_uri": t.redirect_uri,
            "response_type": t.response_type,
            "response_mode": t.response_mode,
            "state": t.state,
            "prompt": t.prompt,
            "acr_values": t.acr_values,
            "login_hint": t.login_hint,
            "ui_locales": t.ui_locales,
        }),
        None => json!({
            "protocol": protocol(issuance.grant),
            "requested_scopes": issuance.scope.tokens(),
        }),
    };
    let signed_in = issuance.authenticated.as_ref();
    // The strategy is the provider of the user's identity in that connection (`github`,
    // `oidc`, …; `auth0` for a database).
    let connection = |name: &str| {
        let identity = issuance
            .user
            .as_ref()
            .and_then(|u| u.identities.iter().find(|i| i.connection == name));
        json!({ "name": name, "strategy": identity.map_or("auth0", |i| i.provider.as_str()) })
    };
    let connection = match (signed_in, &issuance.user) {
        (Some(a), _) => connection(&a.connection),
        (None, Some(u)) => connection(&u.connection),
        (None, None) => Value::Null,
    };
    let authentication = signed_in.map(|a| {
        let at = issuance.auth_time.map(crate::model::log::iso8601);
        let methods: Vec<Value> = a
            .methods
            .iter()
            .map(|m| json!({ "name": m, "timestamp": at }))
            .collect();
        json!({ "methods": methods })
    });
    json!({
        "trigger": trigger.as_str(),
        "transaction": transaction,
        "connection": connection,
        "authentication": authentication,
        "session": issuance.session_id.as_ref().map(|id| json!({ "id": id })),
        "stats": issuance.user.as_ref().map(|u| json!({ "logins_count": u.logins_count })),
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
