//! Client grants (`/api/v2/client-grants`): which scopes of which API a client may get as
//! itself (client_credentials). A grant's id is `cgr_` and its client and API, encoded, so
//! it needs no column of its own.

use super::call::Call;
use super::check;
use super::error::{error_code, from_store, invalid, invalid_query, members, not_found, Reply};
use super::list::Query;
use crate::model::ClientGrant;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RegistryStore, Stores};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

const TAKEN: &str = "A grant of this client on this API already exists.";

/// The id of the grant of `client_id` on `audience`.
pub fn grant_id(client_id: &str, audience: &str) -> String {
    format!(
        "cgr_{}",
        URL_SAFE_NO_PAD.encode(format!("{client_id}\n{audience}"))
    )
}

/// The client and API a grant id names (identifiers have no newline).
fn parse_id(id: &str) -> Option<(String, String)> {
    let raw = URL_SAFE_NO_PAD.decode(id.strip_prefix("cgr_")?).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (client, audience) = text.rsplit_once('\n')?;
    Some((client.to_string(), audience.to_string()))
}

fn view(g: &ClientGrant) -> Value {
    json!({
        "id": grant_id(&g.client_id, &g.audience),
        "client_id": g.client_id,
        "audience": g.audience,
        "scope": g.scopes,
    })
}

#[derive(Debug)]
struct GrantBody {
    client_id: Option<String>,
    audience: Option<String>,
    scope: Vec<String>,
}

impl GrantBody {
    /// A grant's body: `scope` required, `client_id` and `audience` on create.
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(body, &["client_id", "audience", "scope"])?;
        Ok(Self {
            client_id: f.text("client_id")?,
            audience: f.text("audience")?,
            scope: f
                .texts("scope")?
                .ok_or_else(|| invalid("missing field `scope`"))?,
        })
    }
}

/// Checks that `scopes` are scopes of the API `audience`.
async fn check_scopes<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    audience: &str,
    scopes: &[String],
) -> Result<(), Reply> {
    check::list("scope", scopes, check::scope)?;
    let api = call
        .issuer
        .stores
        .registry()
        .registered_api(audience)
        .settle()
        .await
        .map_err(|e| from_store(e, TAKEN, call.issuer.log))?
        .ok_or_else(|| not_found("resource server"))?;
    match scopes.iter().find(|s| !api.scopes.contains(s)) {
        Some(s) => Err(error_code(
            400,
            "invalid_body",
            &format!("The scope {s} is not defined by the resource server {audience}"),
        )),
        None => Ok(()),
    }
}

/// `GET /api/v2/client-grants` (`client_id`, `audience` filters).
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &["client_id", "audience"]));
    let paging = attempt!(query.paging());
    let registry = call.issuer.stores.registry();
    match registry
        .list_client_grants(query.get("client_id"), query.get("audience"), paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("client_grants", l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/client-grants`.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: GrantBody = attempt!(GrantBody::read(call.req.body));
    let (Some(client_id), Some(audience)) = (body.client_id, body.audience) else {
        return invalid("Missing required property: client_id and audience");
    };
    let grant = ClientGrant {
        client_id,
        audience,
        scopes: body.scope,
    };
    save(call, grant, true).settle().await
}

/// `PATCH /api/v2/client-grants/{id}`: the grant's scopes.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let Some((client_id, audience)) = parse_id(call.id()) else {
        return not_found("client grant");
    };
    let body: GrantBody = attempt!(GrantBody::read(call.req.body));
    if body.client_id.is_some() || body.audience.is_some() {
        return invalid("only scope may change; make a new grant for another client or API");
    }
    let grant = ClientGrant {
        client_id,
        audience,
        scopes: body.scope,
    };
    save(call, grant, false).settle().await
}

/// Checks the grant's scopes and stores it, new (201) or in place of the one stored (200).
async fn save<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    grant: ClientGrant,
    new: bool,
) -> Reply {
    if let Err(r) = check_scopes(call, &grant.audience, &grant.scopes)
        .settle()
        .await
    {
        return r;
    }
    let registry = call.issuer.stores.registry();
    let stored = if new {
        registry.create_client_grant(&grant).settle().await
    } else {
        registry.update_client_grant(&grant).settle().await
    };
    match (stored, new) {
        (Ok(true), true) => Reply::json(201, &view(&grant)),
        (Ok(true), false) => Reply::json(200, &view(&grant)),
        (Ok(false), true) => not_found("client or resource server"),
        (Ok(false), false) => not_found("client grant"),
        (Err(e), _) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/client-grants/{id}`.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let Some((client_id, audience)) = parse_id(call.id()) else {
        return invalid_query("not a client grant id");
    };
    let registry = call.issuer.stores.registry();
    match registry
        .delete_client_grant(&client_id, &audience)
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_ids_round_trip_and_refuse_garbage() {
        let id = grant_id("abc", "https://api.example.com/");
        assert_eq!(
            parse_id(&id),
            Some(("abc".into(), "https://api.example.com/".into()))
        );
        for bad in ["", "cgr_", "cgr_!!", "rol_x", "cgr_YWJj"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
