//! Clients: `/api/v2/clients` (list, create), `/api/v2/clients/{id}` (get, update, delete)
//! and `POST /api/v2/clients/{id}/rotate-secret`. A secret is shown once, when made; only
//! its hash is stored.

use super::call::Call;
use super::check;
use super::error::{from_store, invalid, members, not_found, Reply};
use super::list::Query;
use crate::model::secret::hash_client_secret;
use crate::model::{Client, GrantType};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{RegistryStore, Stores};
use serde_json::{json, Map, Value};

const TAKEN: &str = "A client with this id already exists.";

/// The client as the API shows it (Auth0's fields; `default_audience` is this issuer's).
pub fn view(c: &Client) -> Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "callbacks": c.redirect_uris,
        "web_origins": c.web_origins,
        "allowed_logout_urls": c.allowed_logout_urls,
        "initiate_login_uri": c.initiate_login_uri,
        "grant_types": c.grant_types,
        "client_metadata": c.client_metadata,
        "token_endpoint_auth_method": if c.is_public() { "none" } else { "client_secret_basic" },
        "is_first_party": true,
        "oidc_conformant": true,
        "jwt_configuration": { "alg": c.id_token_signed_response_alg },
        "refresh_token": {
            "rotation_type": "rotating",
            "expiration_type": "expiring",
            "token_lifetime": c.refresh_absolute_lifetime,
            "idle_token_lifetime": c.refresh_idle_lifetime,
            "leeway": c.refresh_reuse_interval,
            "infinite_token_lifetime": false,
            "infinite_idle_token_lifetime": false,
        },
        "default_audience": c.default_audience,
    })
}

#[derive(Debug)]
struct JwtConfiguration {
    alg: String,
}

#[derive(Debug, Default)]
struct RefreshSettings {
    rotation_type: Option<String>,
    expiration_type: Option<String>,
    token_lifetime: Option<u64>,
    idle_token_lifetime: Option<u64>,
    leeway: Option<u64>,
    infinite_token_lifetime: Option<bool>,
    infinite_idle_token_lifetime: Option<bool>,
}

/// `POST` and `PATCH` bodies: every field optional on PATCH; `name` required on POST.
/// `app_type`, `description`, `is_first_party` and `oidc_conformant` are accepted and
/// not stored (every client here is first-party and OIDC-conformant).
#[derive(Debug, Default)]
struct ClientBody {
    name: Option<String>,
    app_type: Option<String>,
    callbacks: Option<Vec<String>>,
    web_origins: Option<Vec<String>>,
    allowed_logout_urls: Option<Vec<String>>,
    initiate_login_uri: Option<String>,
    grant_types: Option<Vec<String>>,
    client_metadata: Option<Map<String, Value>>,
    token_endpoint_auth_method: Option<String>,
    jwt_configuration: Option<JwtConfiguration>,
    refresh_token: Option<RefreshSettings>,
    default_audience: Option<String>,
}

impl ClientBody {
    /// The body of a create or an update, read member by member; any other member is
    /// refused.
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "name",
                "description",
                "app_type",
                "is_first_party",
                "oidc_conformant",
                "callbacks",
                "web_origins",
                "allowed_logout_urls",
                "initiate_login_uri",
                "grant_types",
                "client_metadata",
                "token_endpoint_auth_method",
                "jwt_configuration",
                "refresh_token",
                "default_audience",
            ],
        )?;
        // Accepted with their types checked, and not stored.
        f.text("description")?;
        f.flag("is_first_party")?;
        f.flag("oidc_conformant")?;
        let jwt_configuration = match f.nested("jwt_configuration", &["alg"])? {
            Some(mut j) => match j.text("alg")? {
                Some(alg) => Some(JwtConfiguration { alg }),
                None => return Err(invalid("at jwt_configuration: missing field `alg`")),
            },
            None => None,
        };
        let refresh_token = match f.nested(
            "refresh_token",
            &[
                "rotation_type",
                "expiration_type",
                "token_lifetime",
                "idle_token_lifetime",
                "leeway",
                "infinite_token_lifetime",
                "infinite_idle_token_lifetime",
            ],
        )? {
            Some(mut r) => Some(RefreshSettings {
                rotation_type: r.text("rotation_type")?,
                expiration_type: r.text("expiration_type")?,
                token_lifetime: r.number("token_lifetime")?,
                idle_token_lifetime: r.number("idle_token_lifetime")?,
                leeway: r.number("leeway")?,
                infinite_token_lifetime: r.flag("infinite_token_lifetime")?,
                infinite_idle_token_lifetime: r.flag("infinite_idle_token_lifetime")?,
            }),
            None => None,
        };
        Ok(Self {
            name: f.text("name")?,
            app_type: f.text("app_type")?,
            callbacks: f.texts("callbacks")?,
            web_origins: f.texts("web_origins")?,
            allowed_logout_urls: f.texts("allowed_logout_urls")?,
            initiate_login_uri: f.text("initiate_login_uri")?,
            grant_types: f.texts("grant_types")?,
            client_metadata: f.object("client_metadata")?,
            token_endpoint_auth_method: f.text("token_endpoint_auth_method")?,
            jwt_configuration,
            refresh_token,
            default_audience: f.text("default_audience")?,
        })
    }
}

/// `client` with the body's fields set, checked.
fn apply(mut c: Client, b: ClientBody) -> Result<Client, Reply> {
    if let Some(name) = b.name {
        if name.trim().is_empty() || name.chars().count() > 255 {
            return Err(invalid("name must be 1 to 255 characters"));
        }
        c.name = name;
    }
    if let Some(t) = &b.app_type {
        if !["spa", "native", "regular_web", "non_interactive"].contains(&t.as_str()) {
            return Err(invalid(
                "app_type is spa, native, regular_web or non_interactive",
            ));
        }
    }
    if let Some(v) = b.callbacks {
        check::list("callbacks", &v, check::url)?;
        c.redirect_uris = v;
    }
    if let Some(v) = b.web_origins {
        check::list("web_origins", &v, check::origin)?;
        c.web_origins = v;
    }
    if let Some(v) = b.allowed_logout_urls {
        check::list("allowed_logout_urls", &v, check::url)?;
        c.allowed_logout_urls = v;
    }
    // Auth0's rule: https; an empty string removes it.
    if let Some(v) = b.initiate_login_uri {
        if !v.is_empty() {
            check::url("initiate_login_uri", &v)?;
            if !v.starts_with("https://") {
                return Err(invalid("initiate_login_uri must be https"));
            }
        }
        c.initiate_login_uri = (!v.is_empty()).then_some(v);
    }
    if let Some(v) = b.grant_types {
        if let Some(g) = v.iter().find(|g| !GrantType::client_may_hold(g)) {
            return Err(invalid(&format!(
                "grant_types: {g} is not a grant type this issuer serves"
            )));
        }
        c.grant_types = v;
    }
    if let Some(m) = b.client_metadata {
        check::client_metadata(&m)?;
        c.client_metadata = Value::Object(m);
    }
    if let Some(j) = b.jwt_configuration {
        if !["RS256", "ES256"].contains(&j.alg.as_str()) {
            return Err(invalid("jwt_configuration.alg is RS256 or ES256"));
        }
        c.id_token_signed_response_alg = j.alg;
    }
    if let Some(r) = b.refresh_token {
        if r.rotation_type.as_deref().is_some_and(|t| t != "rotating")
            || r.expiration_type
                .as_deref()
                .is_some_and(|t| t != "expiring")
            || r.infinite_token_lifetime == Some(true)
            || r.infinite_idle_token_lifetime == Some(true)
        {
            return Err(invalid(
                "refresh tokens here always rotate and expire (rotating, expiring, finite lifetimes)",
            ));
        }
        c.refresh_absolute_lifetime = r.token_lifetime.unwrap_or(c.refresh_absolute_lifetime);
        c.refresh_idle_lifetime = r.idle_token_lifetime.unwrap_or(c.refresh_idle_lifetime);
        c.refresh_reuse_interval = r.leeway.unwrap_or(c.refresh_reuse_interval);
        let year = 365 * 86_400;
        if c.refresh_absolute_lifetime == 0
            || c.refresh_absolute_lifetime > 5 * year
            || c.refresh_idle_lifetime == 0
            || c.refresh_idle_lifetime > c.refresh_absolute_lifetime
            || c.refresh_reuse_interval > 60
        {
            return Err(invalid(
                "refresh_token: lifetimes are 1 s to 5 years, idle at most the absolute one, leeway at most 60 s",
            ));
        }
    }
    if let Some(a) = b.default_audience {
        c.default_audience = (!a.is_empty()).then_some(a);
    }
    match b.token_endpoint_auth_method.as_deref() {
        None | Some("client_secret_basic" | "client_secret_post") => {}
        Some("none") => c.secret_hash = None,
        Some(other) => {
            return Err(invalid(&format!(
                "token_endpoint_auth_method {other} is not one of none, client_secret_basic, client_secret_post"
            )))
        }
    }
    if c.is_public() && c.allows(GrantType::ClientCredentials.as_str()) {
        return Err(invalid(
            "a public client (none) cannot use client_credentials",
        ));
    }
    Ok(c)
}

/// A new secret (32 random bytes, base64url) and the client holding its hash.
fn with_new_secret<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    mut c: Client,
) -> Result<(Client, String), Reply> {
    let secret = call
        .issuer
        .random
        .token(32)
        .map_err(|e| super::error::from_oauth(&e.into()))?;
    c.secret_hash = Some(hash_client_secret(&secret));
    Ok((c, secret))
}

/// `GET /api/v2/clients`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let paging = attempt!(query.paging());
    match call
        .issuer
        .stores
        .registry()
        .list_clients(paging)
        .settle()
        .await
    {
        Ok(l) => query.reply("clients", l.items.iter().map(view).collect(), l.total),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// The grant types of a client created without `grant_types`: Auth0's defaults for its
/// `app_type` (the implicit grant among them, as Auth0 has it, for clients that use
/// `response_type=id_token`; code with PKCE is the better choice, RFC 9700 §2.1.2), never
/// `client_credentials` for a public client.
fn default_grant_types(app_type: Option<&str>, public: bool) -> Vec<String> {
    let browser = ["implicit", "authorization_code", "refresh_token"];
    let list: &[&str] = match app_type {
        Some("non_interactive") => &["client_credentials"],
        Some("spa" | "native") => &browser,
        Some("regular_web") | None if !public => &[
            "implicit",
            "authorization_code",
            "refresh_token",
            "client_credentials",
        ],
        _ => &browser,
    };
    list.iter().map(|g| g.to_string()).collect()
}

/// `POST /api/v2/clients`: the answer carries `client_secret`, the only time it is shown
/// (none for a public client, `token_endpoint_auth_method: none`).
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: ClientBody = attempt!(ClientBody::read(call.req.body));
    if body.name.is_none() {
        return invalid("Missing required property: name");
    }
    let public = body.token_endpoint_auth_method.as_deref() == Some("none");
    let grant_types = default_grant_types(body.app_type.as_deref(), public);
    let client_id = attempt!(call.new_id(""));
    let blank = Client {
        client_id,
        name: String::new(),
        secret_hash: None,
        grant_types,
        default_audience: None,
        grants: Vec::new(),
        refresh_absolute_lifetime: 30 * 86_400,
        refresh_idle_lifetime: 15 * 86_400,
        refresh_reuse_interval: 0,
        id_token_signed_response_alg: "RS256".into(),
        client_metadata: json!({}),
        redirect_uris: Vec::new(),
        web_origins: Vec::new(),
        allowed_logout_urls: Vec::new(),
        initiate_login_uri: None,
    };
    let (blank, secret) = if public {
        (blank, None)
    } else {
        match with_new_secret(call, blank) {
            Ok((c, s)) => (c, Some(s)),
            Err(r) => return r,
        }
    };
    let client = attempt!(apply(blank, body));
    match call
        .issuer
        .stores
        .registry()
        .create_client(&client)
        .settle()
        .await
    {
        Ok(()) => {
            let mut v = view(&client);
            if let Some(secret) = secret {
                v["client_secret"] = json!(secret);
            }
            Reply::json(201, &v)
        }
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

async fn current<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<Client, Reply> {
    match call
        .issuer
        .stores
        .registry()
        .registered_client(call.id())
        .settle()
        .await
    {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(not_found("client")),
        Err(e) => Err(from_store(e, TAKEN, call.issuer.log)),
    }
}

/// `GET /api/v2/clients/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    current(call)
        .settle()
        .await
        .map_or_else(|r| r, |c| Reply::json(200, &view(&c)))
}

/// `PATCH /api/v2/clients/{id}`.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: ClientBody = attempt!(ClientBody::read(call.req.body));
    let before = attempt!(current(call).settle().await);
    let made_confidential = before.is_public()
        && matches!(
            body.token_endpoint_auth_method.as_deref(),
            Some("client_secret_basic" | "client_secret_post")
        );
    let (before, secret) = if made_confidential {
        match with_new_secret(call, before) {
            Ok((c, s)) => (c, Some(s)),
            Err(r) => return r,
        }
    } else {
        (before, None)
    };
    let client = attempt!(apply(before, body));
    match call
        .issuer
        .stores
        .registry()
        .update_client(&client)
        .settle()
        .await
    {
        Ok(true) => {
            let mut v = view(&client);
            if let Some(secret) = secret {
                v["client_secret"] = json!(secret);
            }
            Reply::json(200, &v)
        }
        Ok(false) => not_found("client"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `POST /api/v2/clients/{id}/rotate-secret`: a new secret at once; the old one stops
/// working (refresh tokens stay valid: they are bound to the client, not its secret).
pub async fn rotate_secret<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let before = attempt!(current(call).settle().await);
    if before.is_public() {
        return invalid("a public client has no secret");
    }
    let (client, secret) = attempt!(with_new_secret(call, before));
    match call
        .issuer
        .stores
        .registry()
        .update_client(&client)
        .settle()
        .await
    {
        Ok(true) => {
            let mut v = view(&client);
            v["client_secret"] = json!(secret);
            Reply::json(200, &v)
        }
        Ok(false) => not_found("client"),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `DELETE /api/v2/clients/{id}`: with its grants, codes and refresh tokens.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .registry()
        .delete_client(call.id())
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}
