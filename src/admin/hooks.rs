//! Hooks of the claims pipeline: `/api/v2/hooks` (list, create) and `/api/v2/hooks/{id}`
//! (get, `PATCH`, delete). A hook's HMAC secret is sealed under the key-encryption key (the
//! hook id as associated data) and shown once, when made or replaced.

use super::call::Call;
use super::check;
use super::error::{error_code, from_oauth, from_store, invalid, members, not_found, Reply};
use crate::model::config::Config;
use crate::model::{OnFailure, StoredHook, Trigger};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, Stores};
use serde_json::{json, Value};

const CONFLICT: &str = "A hook with this id already exists.";

/// The hook as the API shows it: never its secret.
fn view(h: &StoredHook) -> Value {
    json!({
        "id": h.hook_id,
        "name": h.name,
        "trigger": h.trigger,
        "position": h.position,
        "enabled": h.enabled,
        "url": h.url,
        "service": h.service,
        "timeout_ms": h.timeout_ms,
        "on_failure": h.on_failure,
    })
}

/// `POST` and `PATCH` bodies (`url` and `service`: exactly one, after the change).
#[derive(Debug, Default)]
struct HookBody {
    name: Option<String>,
    trigger: Option<Trigger>,
    position: Option<i64>,
    enabled: Option<bool>,
    /// `Some(None)`: sent as `null` (cleared).
    url: Option<Option<String>>,
    service: Option<Option<String>>,
    /// A new HMAC secret; on create one is made when absent.
    secret: Option<String>,
    timeout_ms: Option<u64>,
    on_failure: Option<OnFailure>,
}

impl HookBody {
    /// The body of a create or an update, read member by member; any other member is
    /// refused.
    fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "name",
                "trigger",
                "position",
                "enabled",
                "url",
                "service",
                "secret",
                "timeout_ms",
                "on_failure",
            ],
        )?;
        // `null` clears an endpoint; absent leaves it.
        let (url, service) = (f.nullable_text("url")?, f.nullable_text("service")?);
        let trigger = match f.text("trigger")?.as_deref() {
            None => None,
            Some("post-login") => Some(Trigger::PostLogin),
            Some("credentials-exchange") => Some(Trigger::CredentialsExchange),
            Some(_) => {
                return Err(invalid(
                    "at trigger: expected post-login or credentials-exchange",
                ))
            }
        };
        let on_failure = match f.text("on_failure")?.as_deref() {
            None => None,
            Some("deny") => Some(OnFailure::Deny),
            Some("skip") => Some(OnFailure::Skip),
            Some(_) => return Err(invalid("at on_failure: expected deny or skip")),
        };
        let position = match f.0.remove("position").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| invalid("at position: expected a whole number"))?,
            ),
        };
        Ok(Self {
            name: f.text("name")?,
            trigger,
            position,
            enabled: f.flag("enabled")?,
            url,
            service,
            secret: f.text("secret")?,
            timeout_ms: f.number("timeout_ms")?,
            on_failure,
        })
    }
}

/// A new hook before its body is applied: the defaults (post-login, enabled, 2 s, deny).
fn blank(hook_id: String) -> StoredHook {
    StoredHook {
        hook_id,
        name: String::new(),
        trigger: Trigger::PostLogin,
        position: 0,
        enabled: true,
        url: None,
        service: None,
        secret_enc: String::new(),
        timeout_ms: 2000,
        on_failure: OnFailure::Deny,
    }
}

/// `hook` with the body's fields set and checked (a URL against `config`'s issuer); the plain secret to seal, if any.
fn apply(
    config: &Config,
    mut h: StoredHook,
    b: HookBody,
) -> Result<(StoredHook, Option<String>), Reply> {
    if let Some(name) = b.name {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(invalid("name must be 1 to 100 characters"));
        }
        h.name = name;
    }
    h.trigger = b.trigger.unwrap_or(h.trigger);
    h.position = b.position.unwrap_or(h.position);
    h.enabled = b.enabled.unwrap_or(h.enabled);
    if let Some(url) = b.url {
        h.url = url;
    }
    if let Some(service) = b.service {
        h.service = service;
    }
    if let Some(t) = b.timeout_ms {
        if !(100..=10_000).contains(&t) {
            return Err(invalid("timeout_ms is 100 to 10000"));
        }
        h.timeout_ms = t;
    }
    h.on_failure = b.on_failure.unwrap_or(h.on_failure);
    match (&h.url, &h.service) {
        (Some(url), None) => check::callable("url", url, config)?,
        (None, Some(service)) => {
            let ok = !service.is_empty()
                && service.len() <= 64
                && service
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_');
            if !ok {
                return Err(invalid("service is a binding name: letters, digits and _"));
            }
        }
        _ => return Err(invalid("give exactly one of url and service")),
    }
    if let Some(s) = &b.secret {
        if s.len() < 32 || s.len() > 256 {
            return Err(invalid("secret is 32 to 256 characters"));
        }
    }
    Ok((h, b.secret))
}

/// Seals `secret` into the hook and stores it.
async fn save<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    mut hook: StoredHook,
    secret: Option<String>,
    status: u16,
) -> Reply {
    if let Some(secret) = &secret {
        let Some(kek) = call.issuer.kek else {
            return error_code(500, "server_error", "KEY_ENCRYPTION_KEY is not set");
        };
        match kek.seal(call.issuer.random, &hook.hook_id, secret.as_bytes()) {
            Ok(sealed) => hook.secret_enc = sealed,
            Err(e) => return from_oauth(&e),
        }
    }
    match call.issuer.stores.claims().put_hook(&hook).settle().await {
        Ok(()) => {
            let mut v = view(&hook);
            if let Some(secret) = secret {
                v["secret"] = json!(secret);
            }
            Reply::json(status, &v)
        }
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `GET /api/v2/hooks`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.claims().hooks().settle().await {
        Ok(hooks) => Reply::json(200, &Value::Array(hooks.iter().map(view).collect())),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

async fn find<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    id: &str,
) -> Result<Option<StoredHook>, Reply> {
    let hooks = call.issuer.stores.claims().hooks().settle().await;
    let hooks = hooks.map_err(|e| from_store(e, CONFLICT, call.issuer.log))?;
    Ok(hooks.into_iter().find(|h| h.hook_id == id))
}

/// `GET /api/v2/hooks/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match find(call, call.id()).settle().await {
        Ok(Some(h)) => Reply::json(200, &view(&h)),
        Ok(None) => not_found("hook"),
        Err(r) => r,
    }
}

/// `POST /api/v2/hooks`: the answer carries the secret, the only time it is shown.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let mut body: HookBody = attempt!(HookBody::read(call.req.body));
    if body.name.is_none() || body.trigger.is_none() {
        return invalid("Missing required property: name and trigger");
    }
    let hook_id = attempt!(call.new_id("hook_"));
    if body.secret.is_none() {
        match call.issuer.random.token(32) {
            Ok(s) => body.secret = Some(s),
            Err(e) => return from_oauth(&e.into()),
        }
    }
    let blank = blank(hook_id);
    match apply(call.issuer.config, blank, body) {
        Ok((hook, secret)) => save(call, hook, secret, 201).settle().await,
        Err(r) => r,
    }
}

/// `PATCH /api/v2/hooks/{id}`.
pub async fn patch<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let body: HookBody = attempt!(HookBody::read(call.req.body));
    let before = match find(call, call.id()).settle().await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found("hook"),
        Err(r) => return r,
    };
    match apply(call.issuer.config, before, body) {
        Ok((hook, secret)) => save(call, hook, secret, 200).settle().await,
        Err(r) => r,
    }
}

/// `DELETE /api/v2/hooks/{id}`.
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .claims()
        .delete_hook(call.id())
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("hook"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(issuer: &str, url: &str) -> Result<(), u16> {
        let config = Config::new(issuer).unwrap();
        let body = HookBody::read(
            serde_json::json!({ "name": "h", "trigger": "post-login", "url": url })
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let blank = blank("h1".into());
        apply(&config, blank, body)
            .map(|_| ())
            .map_err(|r| r.status)
    }

    #[test]
    fn plain_http_hooks_only_to_this_machine_and_only_for_a_local_issuer() {
        let local = "http://127.0.0.1:8787/";
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/hook",
            "https://hooks.example.com/h",
        ] {
            assert_eq!(saved(local, url), Ok(()), "{url}");
        }
        assert_eq!(saved(local, "http://hooks.example.com/h"), Err(400));
        assert_eq!(saved(local, "http://10.0.0.1/h"), Err(400));
        let public = "https://id.example.com/";
        assert_eq!(saved(public, "http://127.0.0.1:9000/hook"), Err(400));
        assert_eq!(saved(public, "https://localhost/hook"), Err(400));
        assert_eq!(saved(public, "https://hooks.example.com/h"), Ok(()));
    }
}
