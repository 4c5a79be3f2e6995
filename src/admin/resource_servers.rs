//! Resource servers (APIs): `/api/v2/resource-servers` (list, create) and
//! `/api/v2/resource-servers/{id}` (get, update, delete), where `{id}` is the `id` this API
//! shows (`rs_` and the identifier, encoded) or the identifier itself, as Auth0 accepts.

use super::call::Call;
use super::check;
use super::error::{error_code, from_store, invalid, members, not_found, Fields, Reply};
use super::list::Query;
use crate::model::config::{DEFAULT_ACCESS_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
use crate::model::Api;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RegistryStore, Stores};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

const TAKEN: &str = "A resource server with this identifier already exists.";

fn rs_id(identifier: &str) -> String {
    format!("rs_{}", URL_SAFE_NO_PAD.encode(identifier))
}

/// The identifier a path's `{id}` names.
fn identifier(id: &str) -> String {
    id.strip_prefix("rs_")
        .and_then(|e| URL_SAFE_NO_PAD.decode(e).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| id.to_string())
}

/// The API as Auth0 shows a resource server (`user_grantable_scopes` is this issuer's).
pub fn view<P, C>(call: &Call<'_, '_, P, C>, a: &Api) -> Value {
    json!({
        "id": rs_id(&a.identifier),
        "identifier": a.identifier,
        "name": a.name,
        "scopes": a.scopes.iter().map(|s| json!({ "value": s, "description": "" })).collect::<Vec<_>>(),
        "signing_alg": a.signing_alg,
        "token_lifetime": a.token_lifetime,
        "enforce_policies": a.rbac_enabled,
        "token_dialect": if a.token_permissions { "access_token_authz" } else { "access_token" },
        "user_grantable_scopes": a.user_grantable_scopes,
        "is_system": a.identifier == call.issuer.config.management_audience(),
    })
}

#[derive(Debug, Default)]
struct ApiBody {
    identifier: Option<String>,
    name: Option<String>,
    /// The `value`s of the body's `scopes` (`[{value, description}]`).
    scopes: Option<Vec<String>>,
    signing_alg: Option<String>,
    token_lifetime: Option<u64>,
    enforce_policies: Option<bool>,
    token_dialect: Option<String>,
    user_grantable_scopes: Option<Vec<String>>,
}

impl ApiBody {
    /// The body of a create or an update, read member by member; any other member is
    /// refused. `allow_offline_access` and
    /// `skip_consent_for_verifiable_first_party_clients` are accepted and ignored (Auth0
    /// fields with no meaning here).
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "identifier",
                "name",
                "scopes",
                "signing_alg",
                "token_lifetime",
                "enforce_policies",
                "token_dialect",
                "user_grantable_scopes",
                "allow_offline_access",
                "skip_consent_for_verifiable_first_party_clients",
            ],
        )?;
        f.flag("allow_offline_access")?;
        f.flag("skip_consent_for_verifiable_first_party_clients")?;
        let scopes = match f.0.remove("scopes").filter(|v| !v.is_null()) {
            None => None,
            Some(Value::Array(entries)) => {
                let mut values = Vec::with_capacity(entries.len());
                for entry in entries {
                    let Value::Object(map) = entry else {
                        return Err(invalid(
                            "at scopes: expected a list of {value, description}",
                        ));
                    };
                    let mut e = Fields::of(map, "scopes", &["value", "description"])?;
                    e.text("description")?;
                    match e.text("value")? {
                        Some(v) => values.push(v),
                        None => return Err(invalid("at scopes: missing field `value`")),
                    }
                }
                Some(values)
            }
            Some(_) => {
                return Err(invalid(
                    "at scopes: expected a list of {value, description}",
                ))
            }
        };
        Ok(Self {
            identifier: f.text("identifier")?,
            name: f.text("name")?,
            scopes,
            signing_alg: f.text("signing_alg")?,
            token_lifetime: f.number("token_lifetime")?,
            enforce_policies: f.flag("enforce_policies")?,
            token_dialect: f.text("token_dialect")?,
            user_grantable_scopes: f.texts("user_grantable_scopes")?,
        })
    }
}

fn apply(mut a: Api, b: ApiBody) -> Result<Api, Reply> {
    if let Some(name) = b.name {
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(invalid("name must be 1 to 200 characters"));
        }
        a.name = name;
    }
    if let Some(scopes) = b.scopes {
        let names = scopes;
        check::list("scopes", &names, check::scope)?;
        a.scopes = names;
    }
    if let Some(alg) = b.signing_alg {
        if !["ES256", "RS256"].contains(&alg.as_str()) {
            return Err(invalid("signing_alg is ES256 or RS256"));
        }
        a.signing_alg = alg;
    }
    if let Some(t) = b.token_lifetime {
        if !(60..=MAX_TOKEN_LIFETIME).contains(&t) {
            return Err(invalid("token_lifetime is 60 to 2592000 seconds"));
        }
        a.token_lifetime = t;
    }
    a.rbac_enabled = b.enforce_policies.unwrap_or(a.rbac_enabled);
    match b.token_dialect.as_deref() {
        None => {}
        Some("access_token") => a.token_permissions = false,
        Some("access_token_authz") => a.token_permissions = true,
        Some(other) => {
            return Err(invalid(&format!(
                "token_dialect {other} is not access_token or access_token_authz"
            )))
        }
    }
    if let Some(g) = b.user_grantable_scopes {
        a.user_grantable_scopes = g;
    }
    if let Some(s) = a
        .user_grantable_scopes
        .iter()
        .find(|s| !a.scopes.contains(s))
    {
        return Err(invalid(&format!(
            "user_grantable_scopes: {s} is not a scope of this API"
        )));
    }
    Ok(a)
}

/// `GET /api/v2/resource-servers`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    match call
        .issuer
        .stores
        .registry()
        .list_apis(paging)
        .settle()
        .await
    {
        Ok(l) => {
            let items = l.items.iter().map(|a| view(call, a)).collect();
            query.reply("resource_servers", items, l.total)
        }
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/resource-servers`.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let mut body: ApiBody = attempt!(ApiBody::read(call.req.body));
    let Some(identifier) = body.identifier.take() else {
        return invalid("Missing required property: identifier");
    };
    if identifier.is_empty() || identifier.len() > 600 || identifier.chars().any(char::is_control) {
        return invalid("identifier must be 1 to 600 characters, no control characters");
    }
    let blank = Api {
        name: body.name.clone().unwrap_or_else(|| identifier.clone()),
        identifier,
        scopes: Vec::new(),
        token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
        rbac_enabled: false,
        token_permissions: false,
        user_grantable_scopes: Vec::new(),
        signing_alg: "ES256".into(),
    };
    let api = attempt!(apply(blank, body));
    match call
        .issuer
        .stores
        .registry()
        .create_api(&api)
        .settle()
        .await
    {
        Ok(()) => Reply::json(201, &view(call, &api)),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

async fn current<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<Api, Reply> {
    match call
        .issuer
        .stores
        .registry()
        .registered_api(&identifier(call.id()))
        .settle()
        .await
    {
        Ok(Some(a)) => Ok(a),
        Ok(None) => Err(not_found("resource server")),
        Err(e) => Err(from_store(e, TAKEN, call.issuer.log)),
    }
}

/// `GET /api/v2/resource-servers/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    current(call)
        .settle()
        .await
        .map_or_else(|r| r, |a| Reply::json(200, &view(call, &a)))
}

/// `PATCH /api/v2/resource-servers/{id}`.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: ApiBody = attempt!(ApiBody::read(call.req.body));
    let before = attempt!(current(call).settle().await);
    if body
        .identifier
        .as_ref()
        .is_some_and(|i| *i != before.identifier)
    {
        return invalid("identifier cannot change");
    }
    let api = attempt!(apply(before, body));
    match call
        .issuer
        .stores
        .registry()
        .update_api(&api)
        .settle()
        .await
    {
        Ok(true) => Reply::json(200, &view(call, &api)),
        Ok(false) => not_found("resource server"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/resource-servers/{id}`: with its grants and role permissions. The
/// management API itself cannot be deleted (every admin would be locked out).
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let identifier = identifier(call.id());
    if identifier == call.issuer.config.management_audience() {
        return error_code(
            400,
            "operation_not_supported",
            "The management API cannot be deleted.",
        );
    }
    match call
        .issuer
        .stores
        .registry()
        .delete_api(&identifier)
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}
