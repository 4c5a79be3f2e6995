//! The only code that knows Cloudflare: the fetch entry, `Env` → configuration, the D1 and
//! KV stores, WebCrypto and the clock.

mod d1;
mod hooks;
mod http;
mod isolate_cache;
mod kv;
mod kv_cache;
mod webcrypto;

use crate::error::OAuthError;
use crate::model::config::Config;
use crate::oauth::issuer::Issuer;
use crate::oauth::keys::lifecycle::minimum_lead;
use crate::oauth::keys::{Kek, KeyCache, KeyRing};
use crate::port::clock::Clock;
use crate::port::random::OsRandom;
use crate::port::settled::Settle;
use crate::port::{HasRefresh, HasUsers};
use crate::web::{self, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use wasm_bindgen::JsCast;
use worker::{
    console_error, console_log, event, Context, Env, Result, ScheduleContext, ScheduledEvent,
};

/// The allocator: Talc, made for WebAssembly, in place of the default dlmalloc: a smaller
/// Worker (about 2 KiB gzip less), and faster allocation. One isolate runs one thread.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

thread_local! {
    /// The active signing key, kept for the life of the isolate.
    static KEY_CACHE: &'static KeyCache = Box::leak(Box::new(KeyCache::new()));
    /// Clients, APIs, pipelines, origins and the published keys, kept for `CACHE_TTL_SECONDS`.
    static ISOLATE_CACHE: &'static isolate_cache::IsolateCache =
        Box::leak(Box::new(isolate_cache::IsolateCache::new()));
    /// The configuration, read from the Worker's vars and secrets at the first request.
    static SETTINGS: std::cell::OnceCell<&'static Settings> = const { std::cell::OnceCell::new() };
}

/// What the vars and secrets configure. Read once per isolate: they cannot change while an
/// isolate lives (a new deployment or secret starts new isolates).
struct Settings {
    config: Config,
    /// `None` when `KEY_ENCRYPTION_KEY` is missing or malformed: signing fails closed.
    kek: Option<Kek>,
    /// The `BENCH` var is `1`: the measurement routes exist.
    bench: bool,
    /// How long the isolate's memory keeps clients, APIs, rules and hooks, origins and the
    /// published keys (`CACHE_TTL_SECONDS`, default 10).
    cache_ttl_seconds: u64,
}

/// The isolate's settings, read from `env` at the first request. A missing or bad `ISSUER`
/// is not kept: every request answers `server_error` until the deployment is fixed.
fn settings(env: &Env, log: &dyn Fn(&str)) -> std::result::Result<&'static Settings, OAuthError> {
    if let Some(s) = SETTINGS.with(|c| c.get().copied()) {
        return Ok(s);
    }
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    let mut config = var("ISSUER")
        .ok_or_else(|| OAuthError::server("ISSUER var is not set"))
        .and_then(|v| Config::new(&v))?;
    config.signup = var("SIGNUP").as_deref() != Some("off");
    config.reset_ends_sessions = var("PASSWORD_RESET_KEEPS_SESSIONS").as_deref() != Some("1");
    if let Some(n) = var("SELF_SERVICE_WRITES_PER_MINUTE").and_then(|v| v.trim().parse().ok()) {
        config.self_service_writes_per_minute = n;
    }
    if let Some(n) = var("LOG_RETENTION_DAYS").and_then(|v| v.trim().parse().ok()) {
        config.log_retention_days = n;
    }
    let secret = |name: &str| env.secret(name).ok().map(|v| v.to_string());
    // While the key-encryption key is being replaced, the old one opens what it sealed.
    let kek = secret("KEY_ENCRYPTION_KEY").and_then(|current| {
        let kek = Kek::from_base64(&current);
        let kek = match secret("KEY_ENCRYPTION_KEY_PREVIOUS") {
            Some(previous) => kek.and_then(|k| k.with_previous(&previous)),
            None => kek,
        };
        kek.map_err(|e| log(&e.to_string())).ok()
    });
    let bench = var("BENCH").as_deref() == Some("1");
    let cache_ttl_seconds = var("CACHE_TTL_SECONDS")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(10);
    if let Some(days) = var("SIGNING_KEY_ROTATION_DAYS").and_then(|v| v.trim().parse().ok()) {
        config.key_rotation_days = days;
    }
    // A lead below the least safe value may strand verifiers that cache the JWKS: allowed (a
    // test shortens it), and said in the log.
    let least = minimum_lead(cache_ttl_seconds);
    config.key_publish_lead = match var("SIGNING_KEY_LEAD_SECONDS")
        .and_then(|v| v.trim().parse().ok())
    {
        Some(lead) => {
            if lead < least {
                log(&format!("SIGNING_KEY_LEAD_SECONDS {lead} is below {least}: verifiers that cache the JWKS may meet a key they have not seen"));
            }
            lead
        }
        None => config.key_publish_lead.max(least),
    };
    let settings: &'static Settings = Box::leak(Box::new(Settings {
        config,
        kek,
        bench,
        cache_ttl_seconds,
    }));
    Ok(SETTINGS.with(|c| *c.get_or_init(|| settings)))
}

/// Wall-clock time from `Date.now()`.
struct WorkerClock;

impl Clock for WorkerClock {
    fn now(&self) -> u64 {
        (js_sys::Date::now() / 1000.0) as u64
    }
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let resp = match read_request(req).await {
        Ok(core_req) => serve(&core_req, &env, &ctx).settle().await,
        // Refused before the issuer is known: the headers that need no configuration.
        Err(e) => HttpResponse::error(&e).no_store().secured(false),
    };
    to_worker_response(resp)
}

/// The Cron Trigger (`[triggers]` in wrangler.toml): the signing keys' scheduled rotation,
/// the dropping of keys whose tokens have all expired, and re-encryption under a new KEK.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let log = |line: &str| console_error!("{line}");
    let settings = match settings(&env, &log) {
        Ok(s) => s,
        Err(e) => return log(&format!("scheduled: {e}")),
    };
    let db = match env.d1("DB") {
        Ok(db) => d1::store(db),
        Err(e) => return log(&format!("scheduled: D1 binding DB: {e}")),
    };
    // The same stores as requests use (so the key ring's code is the Worker's once), with no
    // KV write after the run.
    let stores = kv_cache::EdgeStores::new(
        db,
        kv::Kv::bound(&env, "CACHE"),
        None,
        ISOLATE_CACHE.with(|c| *c),
        settings.cache_ttl_seconds,
    );
    let ring = KeyRing {
        store: &stores,
        crypto: &webcrypto::WebCrypto,
        kek: settings.kek.as_ref(),
        rng: &OsRandom,
        clock: &WorkerClock,
        cache: KEY_CACHE.with(|c| *c),
        config: &settings.config,
    };
    let run =
        crate::oauth::maintenance::scheduled(&ring, &stores, stores.refresh(), stores.users());
    match run.settle().await {
        Ok(done) => console_log!(
            "scheduled: {}",
            serde_json::to_string(&done).unwrap_or_default()
        ),
        Err(e) => log(&format!("scheduled: {e}")),
    }
}

async fn serve(req: &HttpRequest, env: &Env, ctx: &Context) -> HttpResponse {
    let log = |line: &str| console_error!("{line}");
    let settings = match settings(env, &log) {
        Ok(s) => s,
        Err(e) => {
            log(&e.to_string());
            return HttpResponse::error(&e).secured(false);
        }
    };
    let db = match env.d1("DB") {
        Ok(db) => db,
        Err(e) => {
            log(&format!("D1 binding DB: {e}"));
            return HttpResponse::error(&OAuthError::server("no DB"))
                .secured(settings.config.https());
        }
    };
    let events = RequestEvents::default();
    let stores = kv_cache::EdgeStores::new(
        d1::store(db),
        kv::Kv::bound(env, "CACHE"),
        Some(ctx),
        ISOLATE_CACHE.with(|c| *c),
        settings.cache_ttl_seconds,
    );
    let http = http::EdgeHttp {
        local: settings.config.is_local(),
    };
    let postbox = http::EdgePostbox {
        ctx,
        local: settings.config.is_local(),
    };
    let issuer = Issuer {
        config: &settings.config,
        stores: &stores,
        crypto: &webcrypto::WebCrypto,
        kek: settings.kek.as_ref(),
        clock: &WorkerClock,
        random: &OsRandom,
        key_cache: KEY_CACHE.with(|c| *c),
        log: &log,
        // Set by Cloudflare's edge for every request; clients cannot forge it there.
        client_ip: req.header("cf-connecting-ip"),
        country: req.header("cf-ipcountry"),
        host: req.header("host"),
        remembered: req.cookie(web::REMEMBER_COOKIE),
        hooks: &hooks::EdgeHooks { env, http: &http },
        http: &http,
        events: &events,
        postbox: &postbox,
    };
    if settings.bench {
        match req.path.as_str() {
            webcrypto::BENCH_PATH => return webcrypto::bench_sign(&issuer, req).await,
            webcrypto::COUNTERS_PATH => return webcrypto::counters(),
            #[cfg(feature = "conformance")]
            CONFORMANCE_PATH => return conformance(env, &stores, req, issuer.clock.now()).await,
            #[cfg(feature = "conformance")]
            PANIC_PATH => return panic_on_purpose(&issuer, req).await,
            _ => {}
        }
    }
    let resp = web::handle(&issuer, req).settle().await;
    events.store_after_response(env, ctx, &settings.config, issuer.clock.now());
    resp
}

/// A request's log events, handed to the isolate's log buffer when the response is ready.
#[derive(Default)]
struct RequestEvents(std::cell::RefCell<Vec<crate::model::LogEvent>>);

impl crate::port::EventSink for RequestEvents {
    fn record(&self, event: crate::model::LogEvent) {
        self.0.borrow_mut().push(event);
    }
}

/// Successful token exchanges come by the hundred a second: their events wait in the
/// isolate's buffer and are stored together, at most this long after the first of them
/// (or at [`LOG_BUFFER_EVENTS`]); any other event (logins, refusals, management writes)
/// flushes the buffer at once.
const LOG_BUFFER_MS: f64 = 5_000.0;
/// See [`LOG_BUFFER_MS`].
const LOG_BUFFER_EVENTS: usize = 200;

thread_local! {
    /// Token-exchange events not yet stored, and when the oldest came.
    static LOG_BUFFER: std::cell::RefCell<(Vec<crate::model::LogEvent>, f64)> =
        const { std::cell::RefCell::new((Vec::new(), 0.0)) };
}

/// Adds `event` to the isolate's log buffer, stored with the next events that are due (work
/// after a response, such as an email's delivery, has no request of its own to flush with).
fn buffer_event(event: crate::model::LogEvent) {
    LOG_BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        if b.0.is_empty() {
            b.1 = js_sys::Date::now();
        }
        b.0.push(event);
    });
}

impl RequestEvents {
    /// Adds the request's events to the isolate's buffer and, when it is due, stores the
    /// buffer in one D1 batch through `ctx.waitUntil`, after the response: no request waits
    /// for a log write, and a busy token endpoint writes its events a few times a minute per
    /// isolate, not once per token. What an evicted isolate loses is at most
    /// [`LOG_BUFFER_MS`] of successful token exchanges.
    fn store_after_response(&self, env: &Env, ctx: &Context, config: &Config, now: u64) {
        use crate::model::log::kinds::{CLIENT_CREDENTIALS, CODE, REFRESH};
        let events = self.0.take();
        if events.is_empty() {
            return;
        }
        let urgent = events
            .iter()
            .any(|e| ![CLIENT_CREDENTIALS, REFRESH, CODE].contains(&e.kind.as_str()));
        let due = LOG_BUFFER.with(|b| {
            let mut b = b.borrow_mut();
            let now_ms = js_sys::Date::now();
            if b.0.is_empty() {
                b.1 = now_ms;
            }
            b.0.extend(events);
            let due = urgent || b.0.len() >= LOG_BUFFER_EVENTS || now_ms - b.1 >= LOG_BUFFER_MS;
            due.then(|| std::mem::take(&mut b.0))
        });
        let Some(due) = due else { return };
        let Ok(db) = env.d1("DB") else { return };
        let keep_after = now.saturating_sub(config.log_retention_days * 86_400);
        ctx.wait_until(async move {
            use crate::port::LogStore;
            if let Err(e) = d1::store(db).append_logs(&due, keep_after).settle().await {
                console_error!("logs: {e}");
            }
        });
    }
}

/// The storage ports' conformance suite against D1, served only when the `BENCH` var is `1`:
/// `GET /__bench/conformance?client_id=…&user_id=…&audience=…&run=…` (an existing client,
/// user and API).
/// Only in the test build (`conformance` feature, `scripts/build.sh conformance`): the suite
/// is about a tenth of the bundle, and a deployed Worker never runs it.
#[cfg(feature = "conformance")]
const CONFORMANCE_PATH: &str = "/__bench/conformance";

#[cfg(feature = "conformance")]
async fn conformance(
    env: &Env,
    cached: &kv_cache::EdgeStores<'_>,
    req: &HttpRequest,
    now: u64,
) -> HttpResponse {
    let param = |name: &str| {
        form_urlencoded::parse(req.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let db = match env.d1("DB") {
        Ok(db) => d1::store(db),
        Err(e) => return HttpResponse::error(&OAuthError::server(format!("DB: {e}"))),
    };
    let fixture = crate::port::conformance::Fixture {
        client_id: param("client_id"),
        user_id: param("user_id"),
        run_id: param("run"),
        now,
        audience: param("audience"),
    };
    let outcomes = crate::port::conformance::run(cached, &db, &fixture).await;
    HttpResponse::json(200, &serde_json::json!({ "outcomes": outcomes }))
}

/// A route that panics, in the test build only: `?after=read` panics after a storage read
/// (when the request is already waiting on the runtime), anything else at once. The end-to-end
/// test checks the panic is that request's 500 `server_error` and the next request works.
#[cfg(feature = "conformance")]
const PANIC_PATH: &str = "/__bench/panic";

#[cfg(feature = "conformance")]
async fn panic_on_purpose<P: crate::port::Stores, C: crate::port::crypto::Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    use crate::port::KeyStore;
    if req.query.contains("after=read") {
        let keys = issuer.stores.keys().published_keys_now().await;
        panic!(
            "a panic on purpose, after reading {} keys",
            keys.map_or(0, |k| k.len())
        );
    }
    panic!("a panic on purpose")
}

/// Reads the request into the core's form. A body over the limit is refused unread (by its
/// `Content-Length`) or as soon as the bytes read pass it (a chunked body), without waiting
/// for the rest. A body that cannot be read (a bad chunk, a connection closed before
/// `Content-Length` bytes came) is the client's fault: 400 `invalid_request`.
///
/// It reads the runtime's own `Request` object, not the `worker` crate's wrapper: building
/// that wrapper materializes the request's `cf` object (tens of properties copied into
/// JavaScript), which the issuer never reads, at a cost comparable to signing the token.
async fn read_request(req: web_sys::Request) -> std::result::Result<HttpRequest, OAuthError> {
    let too_large = || OAuthError::invalid_request("request body is too large").with_status(413);
    let headers = worker::Headers(req.headers());
    let declared = headers
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    // The runtime hands over a parsed, serialized URL: its path and query are read off the
    // string (parsing it again would link a URL parser and IDNA tables into the bundle).
    let url = req.url();
    let (path, query) = path_and_query(&url);
    let limit = web::max_body_bytes(path);
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let unreadable =
        |e: String| OAuthError::invalid_request(format!("the request body could not be read: {e}"));
    match (req.body(), declared) {
        (None, _) => {}
        (Some(_), Some(_)) => {
            // A declared length within the limit: one read (the runtime stops at that length).
            let promise = req.array_buffer().map_err(|e| unreadable(js_message(&e)))?;
            let buffer = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|e| unreadable(js_message(&e)))?;
            body = js_sys::Uint8Array::new(&buffer).to_vec();
        }
        (Some(stream), None) => {
            // No declared length (chunked): read as it comes and stop past the limit.
            let mut stream = worker::ByteStream::from(stream);
            while let Some(chunk) = stream.next().await {
                body.extend_from_slice(&chunk.map_err(|e| unreadable(e.to_string()))?);
                if body.len() > limit {
                    return Err(too_large());
                }
            }
        }
    }
    if declared.is_some_and(|n| body.len() < n) {
        return Err(OAuthError::invalid_request(
            "the request body is shorter than its Content-Length",
        ));
    }
    Ok(HttpRequest {
        method: req.method(),
        path: path.to_string(),
        query: query.to_string(),
        headers: headers.entries().collect(),
        body,
    })
}

/// What a JavaScript exception says: an `Error`'s message, or a thrown string.
fn js_message(e: &wasm_bindgen::JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "an exception without a message".into())
}

/// The path and the query of a serialized URL (`scheme://host[:port]/path?query#fragment`):
/// the path from the first `/` after the host up to `?` or `#` (`/` when there is none), the
/// query after the first `?` up to `#`.
fn path_and_query(url: &str) -> (&str, &str) {
    let url = url.split('#').next().unwrap_or("");
    let (before, query) = url.split_once('?').unwrap_or((url, ""));
    let after_scheme = before.find("://").map_or(0, |i| i + 3);
    let path = before[after_scheme..]
        .find('/')
        .map_or("/", |i| &before[after_scheme + i..]);
    (path, query)
}

/// The runtime's own `Response` (the `worker` crate's builder costs more and ships more): an
/// empty body is no body, as 204 and 304 require.
fn to_worker_response(mut resp: HttpResponse) -> Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &resp.headers {
        headers.append(name, value)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(resp.status);
    init.set_headers(&headers);
    let body = (!resp.body.is_empty()).then_some(resp.body.as_mut_slice());
    Ok(web_sys::Response::new_with_opt_u8_array_and_init(
        body, &init,
    )?)
}
