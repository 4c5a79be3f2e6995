//! Connections: `/api/v2/connections` (list, create), `/api/v2/connections/{id}` (get,
//! update, delete) and `/api/v2/connections/{id}/clients` (read, change), shaped as Auth0's.
//! The strategies built are the database (`auth0`) and any OpenID provider (`oidc`); others
//! are refused with a clear 400 until they are. An `oidc` connection's client secret is
//! sealed under the key-encryption key (never shown again), its endpoints found by discovery
//! when not given, and every URL it names checked against the outbound rule.

use super::call::Call;
use super::error::{error_code, from_store, invalid, members, not_found, Fields, Reply};
use super::list::Query;
use crate::model::connection::{ConnectionOptions, Endpoint, DATABASE, EMAIL, SEALED_STORE_SECRET};
use crate::model::upstream::{
    Upstream, UpstreamOptions, APPLE, ENDPOINTS, GITHUB, GOOGLE, OAUTH2, OIDC, SEALED_SECRET,
};
use crate::model::Connection;
use crate::port::crypto::Crypto;
use crate::port::outbound::refusal;
use crate::port::settled::Settle;
use crate::port::{ConnectionStore, Stores};
use serde_json::{json, Map, Value};

const TAKEN: &str = "A connection with the same name already exists";

/// The connection as Auth0 shows it.
pub fn view(c: &Connection) -> Value {
    let mut options = c.options.clone();
    options.remove(SEALED_SECRET);
    options.remove(SEALED_STORE_SECRET);
    json!({
        "id": c.id,
        "name": c.name,
        "display_name": c.display_name.clone().unwrap_or_else(|| c.name.clone()),
        "strategy": c.strategy,
        "options": options,
        "enabled_clients": c.enabled_clients,
        "realms": [c.name],
        "is_domain_connection": false,
        "metadata": c.metadata,
    })
}

/// A connection's body, as Auth0 takes it.
#[derive(Debug, Default)]
struct ConnectionBody {
    name: Option<String>,
    strategy: Option<String>,
    display_name: Option<String>,
    options: Option<Map<String, Value>>,
    enabled_clients: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
    /// Accepted with Auth0's meaning for a database connection: one realm, its name.
    realms: Option<Vec<String>>,
    /// Accepted when false (home realm discovery is for enterprise connections).
    is_domain_connection: Option<bool>,
}

impl ConnectionBody {
    /// The body of a create or an update; any other member is refused.
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "name",
                "strategy",
                "display_name",
                "options",
                "enabled_clients",
                "metadata",
                "realms",
                "is_domain_connection",
            ],
        )?;
        Ok(Self {
            name: f.text("name")?,
            strategy: f.text("strategy")?,
            display_name: f.text("display_name")?,
            options: f.object("options")?,
            enabled_clients: f.texts("enabled_clients")?,
            metadata: f.object("metadata")?,
            realms: f.texts("realms")?,
            is_domain_connection: f.flag("is_domain_connection")?,
        })
    }
}

/// Auth0's rule for a connection name: letters, digits and single inner hyphens, 1 to 128.
fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=128).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Why the options of an `email` connection are refused: its flags must be booleans. The
/// message itself is a template (`/api/v2/email-templates/passwordless_code`), not an option.
fn passwordless_refusal(options: &Map<String, Value>) -> Option<String> {
    ["disable_signup", "brute_force_protection"]
        .into_iter()
        .find(|f| options.get(*f).is_some_and(|v| !v.is_boolean()))
        .map(|f| format!("options.{f} must be true or false"))
}

fn apply(mut c: Connection, b: ConnectionBody) -> Result<Connection, Reply> {
    if let Some(display) = b.display_name {
        if display.trim().is_empty() || display.chars().count() > 128 {
            return Err(invalid("display_name must be 1 to 128 characters"));
        }
        c.display_name = Some(display);
    }
    if let Some(options) = b.options {
        let refused = match c.strategy.as_str() {
            DATABASE => ConnectionOptions::check(&options),
            EMAIL => passwordless_refusal(&options),
            upstream => UpstreamOptions::check(upstream, &options),
        };
        if let Some(why) = refused {
            return Err(invalid(&why));
        }
        // Auth0 replaces the whole options object.
        c.options = options;
    }
    if let Some(metadata) = b.metadata {
        let strings = metadata
            .iter()
            .all(|(k, v)| k.len() <= 255 && v.as_str().is_some_and(|s| s.len() <= 255));
        if metadata.len() > 10 || !strings {
            return Err(invalid(
                "metadata holds up to 10 string values of up to 255 characters",
            ));
        }
        c.metadata = metadata;
    }
    if let Some(clients) = b.enabled_clients {
        c.enabled_clients = clients;
    }
    if b.realms.is_some_and(|r| r != [c.name.clone()]) {
        return Err(invalid("realms of a database connection is [its name]"));
    }
    if b.is_domain_connection == Some(true) {
        return Err(invalid(
            "is_domain_connection is for enterprise connections, not supported yet",
        ));
    }
    Ok(c)
}

/// Stores under the option `key` the `secret` sent, sealed under the key-encryption key with
/// the connection's id; with none sent, the one `before` it (a change that does not send the
/// secret again keeps it).
fn keep_sealed<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    c: &mut Connection,
    key: &str,
    secret: Option<String>,
    before: Option<Value>,
) -> Result<(), Reply> {
    let sealed = match (secret, before) {
        (Some(secret), _) => {
            let Some(kek) = call.issuer.kek else {
                return Err(error_code(
                    500,
                    "server_error",
                    "KEY_ENCRYPTION_KEY is not set",
                ));
            };
            let sealed = kek
                .seal(call.issuer.random, &c.id, secret.as_bytes())
                .map_err(|e| super::error::from_oauth(&e))?;
            Value::from(sealed)
        }
        (None, Some(before)) => before,
        (None, None) => return Ok(()),
    };
    c.options.insert(key.into(), sealed);
    Ok(())
}

/// A database connection with a custom database made ready: its login endpoint checked
/// against the outbound rule, its signing secret (`configuration.signing_secret`) sealed (one
/// not sent again keeps the one `sealed` before), and both required once
/// `enabledDatabaseCustomization` is on.
fn user_store<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    mut c: Connection,
    sealed: Option<Value>,
) -> Result<Connection, Reply> {
    if !c.is_database() {
        return Ok(c);
    }
    let login = c.options.get("customScripts").and_then(|s| s.get("login"));
    if let Some(Endpoint::Url(url)) = login.and_then(Value::as_str).and_then(Endpoint::parse) {
        if let Some(why) = refusal(&url, call.issuer.config.is_local()) {
            return Err(invalid(&format!("customScripts.login: {why}")));
        }
    }
    let secret = c.options.remove("configuration").and_then(|m| {
        m.get("signing_secret")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    keep_sealed(call, &mut c, SEALED_STORE_SECRET, secret, sealed)?;
    let on = c.options.get("enabledDatabaseCustomization") == Some(&Value::Bool(true));
    if on && c.user_store().is_none() {
        return Err(invalid(
            "a custom database needs options.customScripts.login and \
             options.configuration.signing_secret",
        ));
    }
    Ok(c)
}

/// An `oidc` connection made ready to sign in through: its URLs checked against the outbound
/// rule, its endpoints discovered when not all given, its client secret sealed (a secret not
/// sent again keeps the one `sealed` before). Other strategies pass unchanged.
async fn upstream<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    mut c: Connection,
    sealed: Option<Value>,
) -> Result<Connection, Reply> {
    if !c.is_upstream() {
        return Ok(c);
    }
    let local = call.issuer.config.is_local();
    let check_urls = |options: &Map<String, Value>| -> Result<(), Reply> {
        for name in UpstreamOptions::URLS {
            if let Some(url) = options.get(name).and_then(Value::as_str) {
                if let Some(why) = refusal(url, local) {
                    return Err(invalid(&format!("{name}: {why}")));
                }
            }
        }
        Ok(())
    };
    check_urls(&c.options)?;
    let text = |name: &str| {
        c.options
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if c.strategy == OIDC && ENDPOINTS.iter().any(|e| text(e).is_none()) {
        let issuer = text("issuer");
        let url = match (text("discovery_url"), &issuer) {
            (Some(url), _) => url,
            (None, Some(i)) => format!(
                "{}/.well-known/openid-configuration",
                i.trim_end_matches('/')
            ),
            (None, None) => {
                return Err(invalid(
                    "options.issuer or options.discovery_url is required (or every endpoint)",
                ))
            }
        };
        let found = crate::oauth::upstream::discover(call.issuer.http, &url, issuer.as_deref())
            .settle()
            .await
            .map_err(|why| invalid(&why))?;
        check_urls(&found)?;
        for (name, value) in found {
            c.options.entry(name).or_insert(value);
        }
    }
    let secret = match c.options.remove("client_secret") {
        Some(Value::String(secret)) => Some(secret),
        _ => None,
    };
    // Apple's secret is the team's private key; it is kept as its PKCS#8 DER (base64).
    let secret = match c.options.remove("app_secret") {
        Some(Value::String(pem)) => Some(apple_key(&pem)?),
        _ => secret,
    };
    keep_sealed(call, &mut c, SEALED_SECRET, secret, sealed)?;
    if Upstream::of(&c).is_none() {
        return Err(invalid(match c.strategy.as_str() {
            OAUTH2 => {
                "an oauth2 connection needs options.authorizationURL, options.tokenURL, \
                 options.userinfo_endpoint, options.client_id and options.client_secret"
            }
            APPLE => {
                "an apple connection needs options.client_id (the Services ID), \
                 options.app_secret (the .p8 key), options.team_id and options.kid"
            }
            _ => "an upstream connection needs options.client_id and options.client_secret",
        }));
    }
    Ok(c)
}

/// The PKCS#8 DER (base64) of the `.p8` key `pem`, if it is a P-256 private key: its
/// algorithm `ecPublicKey` (1.2.840.10045.2.1) on the curve `prime256v1` (1.2.840.10045.3.1.7).
/// (Whether the key itself signs shows at the first sign-in, which logs why it cannot.)
fn apple_key(pem: &str) -> Result<String, Reply> {
    const EC_KEY: [u8; 9] = [6, 7, 0x2a, 0x86, 0x48, 0xce, 0x3d, 2, 1];
    const P256: [u8; 10] = [6, 8, 0x2a, 0x86, 0x48, 0xce, 0x3d, 3, 1, 7];
    // `-----BEGIN PRIVATE KEY-----`, the base64 lines, `-----END PRIVATE KEY-----`.
    let body: String = pem
        .split("-----")
        .nth(2)
        .unwrap_or(pem)
        .split_whitespace()
        .collect();
    let holds = |der: &[u8], oid: &[u8]| der.windows(oid.len()).any(|w| w == oid);
    match crate::oauth::upstream::secret_key(&body) {
        Some(key) if holds(key.pkcs8.expose(), &EC_KEY) && holds(key.pkcs8.expose(), &P256) => {
            Ok(body)
        }
        _ => Err(invalid(
            "app_secret is not a P-256 private key (the .p8 file's PEM text)",
        )),
    }
}

/// `GET /api/v2/connections`, optionally of one `strategy` or `name`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &["strategy", "name"]));
    let paging = attempt!(query.paging());
    let store = call.issuer.stores.connections();
    match store
        .list_connections(query.get("strategy"), query.get("name"), paging)
        .settle()
        .await
    {
        Ok(l) => {
            let items = l.items.iter().map(view).collect();
            query.reply("connections", items, l.total)
        }
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/connections`.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let mut body = attempt!(ConnectionBody::read(call.req.body));
    let (Some(name), Some(strategy)) = (body.name.take(), body.strategy.take()) else {
        return invalid("Missing required properties: name and strategy");
    };
    if !valid_name(&name) {
        return invalid(
            "name must be 1 to 128 letters, digits and single hyphens, not starting or ending with one",
        );
    }
    if ![DATABASE, EMAIL, OIDC, OAUTH2, GOOGLE, GITHUB, APPLE].contains(&strategy.as_str()) {
        return invalid(&format!(
            "strategy {strategy} is not supported yet: the database strategy ({DATABASE}), \
             passwordless email ({EMAIL}), any OpenID provider ({OIDC}), any OAuth 2.0 provider ({OAUTH2}), Google \
             ({GOOGLE}), GitHub ({GITHUB}) and Apple ({APPLE}) are"
        ));
    }
    let id = attempt!(call.new_id("con_"));
    let blank = Connection {
        // Auth0's shape: `con_` and 16 characters.
        id: id.chars().take(20).collect(),
        name,
        strategy,
        display_name: None,
        options: Map::new(),
        metadata: Map::new(),
        enabled_clients: Vec::new(),
        created_at: call.issuer.clock.now(),
    };
    let connection = attempt!(apply(blank, body));
    let connection = attempt!(upstream(call, connection, None).settle().await);
    let connection = attempt!(user_store(call, connection, None));
    match call
        .issuer
        .stores
        .connections()
        .create_connection(&connection)
        .settle()
        .await
    {
        Ok(()) => stored(call, &connection.id, 201).settle().await,
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// The connection as stored now (its enabled clients as the store kept them), with `status`.
async fn stored<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, id: &str, status: u16) -> Reply {
    match current_by(call, id).settle().await {
        Ok(c) => Reply::json(status, &view(&c)),
        Err(r) => r,
    }
}

async fn current_by<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    id: &str,
) -> Result<Connection, Reply> {
    match call
        .issuer
        .stores
        .connections()
        .connection(id)
        .settle()
        .await
    {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(not_found("connection")),
        Err(e) => Err(from_store(e, TAKEN, call.issuer.log)),
    }
}

/// `GET /api/v2/connections/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    stored(call, call.id(), 200).settle().await
}

/// `PATCH /api/v2/connections/{id}`: display name, options (replaced whole, as Auth0),
/// metadata and enabled clients; the name and strategy cannot change.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body = attempt!(ConnectionBody::read(call.req.body));
    let before = attempt!(current_by(call, call.id()).settle().await);
    if body.name.as_ref().is_some_and(|n| *n != before.name) {
        return invalid("name cannot change");
    }
    if body
        .strategy
        .as_ref()
        .is_some_and(|s| *s != before.strategy)
    {
        return invalid("strategy cannot change");
    }
    let sealed = before.options.get(SEALED_SECRET).cloned();
    let store_sealed = before.options.get(SEALED_STORE_SECRET).cloned();
    let connection = attempt!(apply(before, body));
    let connection = attempt!(upstream(call, connection, sealed).settle().await);
    let connection = attempt!(user_store(call, connection, store_sealed));
    match call
        .issuer
        .stores
        .connections()
        .update_connection(&connection)
        .settle()
        .await
    {
        Ok(true) => stored(call, &connection.id, 200).settle().await,
        Ok(false) => not_found("connection"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/connections/{id}`: with its users, as Auth0 (202, as Auth0 answers).
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let before = attempt!(current_by(call, call.id()).settle().await);
    if before.name == call.issuer.config.default_connection {
        return error_code(
            400,
            "operation_not_supported",
            "The tenant's default connection cannot be deleted: the password grant signs in through it.",
        );
    }
    match call
        .issuer
        .stores
        .connections()
        .delete_connection(&before.id)
        .settle()
        .await
    {
        Ok(_) => Reply::json(202, &json!({})),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/connections/{id}/clients`: the enabled clients, as Auth0 answers them
/// (`{clients: [{client_id}], next}`, by checkpoint: `take` and `from`).
pub async fn clients<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    let c = attempt!(current_by(call, call.id()).settle().await);
    let items: Vec<Value> = c
        .enabled_clients
        .iter()
        .skip(paging.offset as usize)
        .take(paging.limit as usize)
        .map(|id| json!({ "client_id": id }))
        .collect();
    let total = c.enabled_clients.len() as u64;
    let mut answer = attempt!(query.page("clients", items, total));
    // Auth0 answers the envelope whether or not the request paged by checkpoint.
    if let Value::Array(items) = answer {
        answer = json!({ "clients": items });
    }
    Reply::json(200, &answer)
}

/// `PATCH /api/v2/connections/{id}/clients`: `[{client_id, status}]`, enabling (`true`) or
/// disabling each client; 204.
pub async fn set_clients<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let list = match crate::model::strict_json::parse(call.req.body) {
        Ok(Value::Array(list)) => list,
        Ok(_) => return invalid("the body is [{client_id, status}]: expected an array"),
        Err(_) => return invalid("the body is not valid JSON"),
    };
    if list.is_empty() || list.len() > 50 {
        return invalid("send 1 to 50 {client_id, status} entries");
    }
    let mut changes: Vec<(String, bool)> = Vec::with_capacity(list.len());
    for entry in list {
        let Value::Object(map) = entry else {
            return invalid("each entry is {client_id, status}: expected an object");
        };
        let mut f = attempt!(Fields::of(map, "", &["client_id", "status"]));
        match (attempt!(f.text("client_id")), attempt!(f.flag("status"))) {
            (Some(id), Some(on)) => changes.push((id, on)),
            _ => return invalid("each entry needs client_id and status"),
        }
    }
    match call
        .issuer
        .stores
        .connections()
        .set_connection_clients(call.id(), &changes)
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("connection"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_auth0s_rule() {
        for ok in ["Username-Password-Authentication", "acme", "a-b-c", "A1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "a b", "a_b", "é", &"a".repeat(129)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
