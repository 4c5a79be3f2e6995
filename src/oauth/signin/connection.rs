//! Which connection a sign-in goes through.

use crate::error::OAuthError;
use crate::model::Connection;

/// The connection a sign-in of `client_id` goes through: the one `named` (by `connection=` at
/// /authorize, `realm` at the token endpoint), which must be enabled for the client; else the
/// tenant's `default` connection when it is enabled for the client, else the first database
/// connection enabled, else the first upstream one. `invalid_request` says which is missing.
pub fn choose<'c>(
    connections: &'c [Connection],
    client_id: &str,
    named: Option<&str>,
    default: &str,
) -> Result<&'c Connection, OAuthError> {
    let usable = |c: &&Connection| c.enabled_for(client_id);
    if let Some(name) = named {
        return connections
            .iter()
            .filter(usable)
            .find(|c| c.name == name)
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "the connection {name} does not exist or is not enabled for this client"
                ))
            });
    }
    connections
        .iter()
        .filter(usable)
        .find(|c| c.name == default)
        .or_else(|| connections.iter().filter(usable).find(|c| c.is_database()))
        .or_else(|| connections.iter().find(usable))
        .ok_or_else(|| OAuthError::invalid_request("no connection is enabled for this client"))
}

/// `connection` when it takes passwords (a database connection); else `invalid_request`.
pub fn with_passwords(connection: &Connection) -> Result<&Connection, OAuthError> {
    match connection.is_database() {
        true => Ok(connection),
        false => Err(OAuthError::invalid_request(format!(
            "the connection {} signs users in at their provider, not with a password",
            connection.name
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn connection(name: &str, clients: &[&str]) -> Connection {
        Connection {
            id: format!("con_{name}"),
            name: name.into(),
            strategy: "auth0".into(),
            display_name: None,
            options: Map::new(),
            metadata: Map::new(),
            enabled_clients: clients.iter().map(|c| c.to_string()).collect(),
            created_at: 0,
        }
    }

    #[test]
    fn only_a_connection_enabled_for_the_client_is_chosen() {
        let all = [
            connection("staff", &["spa", "admin"]),
            connection("Default", &["spa"]),
        ];
        let name = |r: Result<&Connection, OAuthError>| r.map(|c| c.name.clone());
        assert_eq!(
            name(choose(&all, "spa", None, "Default")),
            Ok("Default".into())
        );
        assert_eq!(
            name(choose(&all, "admin", None, "Default")),
            Ok("staff".into())
        );
        assert_eq!(
            name(choose(&all, "spa", Some("staff"), "Default")),
            Ok("staff".into())
        );
        assert!(choose(&all, "admin", Some("Default"), "Default").is_err());
        assert!(choose(&all, "spa", Some("nope"), "Default").is_err());
        assert!(choose(&all, "other", None, "Default").is_err());
    }
}
