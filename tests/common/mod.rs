//! A tenant on SQLite with the real migrations, and a way to call the issuer as the Worker
//! does.
#![allow(dead_code)]

pub mod authenticator;

use edge_issuer::error::{CryptoError, OutboundError};
use edge_issuer::model::config::Config;
use edge_issuer::model::secret::hash_client_secret;
use edge_issuer::model::{Api, Client, ClientGrant, User};
use edge_issuer::oauth::issuer::Issuer;
use edge_issuer::oauth::keys::{Kek, KeyCache};
use edge_issuer::port::clock::{Clock, FixedClock};
use edge_issuer::port::crypto::{Alg, Crypto, GeneratedKey, SigningKey};
use edge_issuer::port::native_crypto::NativeCrypto;
use edge_issuer::port::random::OsRandom;
pub use edge_issuer::store::sql::Source;
use edge_issuer::store::sqlite::{wall_clock, yield_now, Sqlite};
use edge_issuer::store::SqlStore;
use edge_issuer::web::{handle, HttpRequest, HttpResponse};

pub const ISSUER: &str = "https://id.example.com/";
pub const API: &str = "https://api.example.com";
pub const M2M_ID: &str = "demo-m2m";
pub const M2M_SECRET: &str = "m2m-secret";
pub const NOW: u64 = 1_800_000_000;
pub const APP_ID: &str = "demo-app";
pub const APP_SECRET: &str = "app-secret";
pub const USER_ID: &str = "auth0|u1";
pub const USER_EMAIL: &str = "Ada@Example.com";
pub const USER_PASSWORD: &str = "correct horse battery staple";
/// Low PBKDF2 cost so tests are fast; the default (100,000) is what production uses.
pub const TEST_ITERATIONS: u32 = 1_000;

/// The stores of a tenant: the SQL ones, on SQLite.
pub type Store = SqlStore<Sqlite>;

/// A fresh store on a migrated database.
pub fn new_store() -> Store {
    SqlStore::new(Sqlite::migrated().expect("the migrations run"), wall_clock)
}

pub struct Tenant {
    pub config: Config,
    pub store: Store,
    /// Log events of the requests in progress, stored when they are answered.
    pub events: Events,
    pub kek: Kek,
    pub clock: FixedClock,
    pub cache: KeyCache,
    pub log: std::cell::RefCell<Vec<String>>,
    /// The client IP the platform reports.
    pub ip: String,
    /// Hook deliveries, answered in-process.
    pub hooks: FakeHooks,
    pub http: FakeHttp,
    /// Email messages handed over, in order.
    pub outbox: Outbox,
}

impl Tenant {
    /// One API with two scopes; `demo-m2m` granted `read:data` on it.
    pub fn new() -> Self {
        let store = new_store();
        store.put_api(Api {
            identifier: API.into(),
            name: "Example API".into(),
            scopes: vec!["read:data".into(), "write:data".into()],
            token_lifetime: 3600,
            rbac_enabled: false,
            token_permissions: false,
            user_grantable_scopes: vec!["read:data".into(), "write:data".into()],
            signing_alg: "ES256".into(),
        });
        store.put_client(Client {
            client_id: M2M_ID.into(),
            name: "Machine".into(),
            secret_hash: Some(hash_client_secret(M2M_SECRET)),
            grant_types: vec!["client_credentials".into()],
            default_audience: Some(API.into()),
            grants: vec![],
            ..client_defaults()
        });
        store.put_grant(ClientGrant {
            client_id: M2M_ID.into(),
            audience: API.into(),
            scopes: vec!["read:data".into()],
        });
        store.put_client(Client {
            client_id: APP_ID.into(),
            name: "App".into(),
            secret_hash: Some(hash_client_secret(APP_SECRET)),
            grant_types: vec!["password".into(), "refresh_token".into()],
            default_audience: None,
            ..client_defaults()
        });
        let hash = pollster::block_on(edge_issuer::oauth::password::hash(
            &NativeCrypto,
            &OsRandom,
            USER_PASSWORD,
            TEST_ITERATIONS,
        ))
        .unwrap();
        store.put_user(User {
            user_id: USER_ID.into(),
            connection: edge_issuer::model::config::DEFAULT_CONNECTION.into(),
            email: Some(USER_EMAIL.into()),
            email_verified: true,
            name: Some("Ada Lovelace".into()),
            given_name: Some("Ada".into()),
            nickname: Some("ada".into()),
            user_metadata: serde_json::json!({ "theme": "dark" }),
            app_metadata: serde_json::json!({ "roles": ["editor"], "plan": "pro" }),
            password_hash: Some(hash),
            created_at: NOW - 100,
            updated_at: NOW - 100,
            ..Default::default()
        });
        let mut config = Config::new(ISSUER).unwrap();
        config.password_iterations = TEST_ITERATIONS;
        Self {
            config,
            store,
            events: Events::default(),
            kek: Kek::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap(),
            clock: FixedClock::at(NOW),
            cache: KeyCache::new(),
            log: Default::default(),
            ip: "203.0.113.7".into(),
            hooks: FakeHooks::default(),
            http: FakeHttp::default(),
            outbox: Outbox::default(),
        }
    }

    /// Sends one request through the route table.
    pub fn send(&self, req: HttpRequest) -> HttpResponse {
        self.send_all(&NativeCrypto, vec![req]).remove(0)
    }

    /// Sends requests concurrently on one thread, as one Worker isolate serves them: each
    /// runs until it awaits, then the next goes on. With [`YieldingCrypto`] every request
    /// pauses at each cryptographic operation, where a Worker awaits WebCrypto.
    pub fn send_all<C: Crypto>(&self, crypto: &C, reqs: Vec<HttpRequest>) -> Vec<HttpResponse> {
        let log = |line: &str| self.log.borrow_mut().push(line.to_string());
        // One issuer a request, as the Worker lends it: with the request's own cookie.
        let issuers: Vec<_> = reqs
            .iter()
            .map(|r| Issuer {
                remembered: r.cookie(edge_issuer::web::REMEMBER_COOKIE),
                ..self.issuer(crypto, &log)
            })
            .collect();
        let all =
            futures_util::future::join_all(issuers.iter().zip(&reqs).map(|(i, r)| handle(i, r)));
        let answers = pollster::block_on(all);
        self.store_events();
        answers
    }

    /// Stores the log events recorded so far, as the Worker does after its responses.
    pub fn store_events(&self) {
        use edge_issuer::port::LogStore;
        let events = self.events.0.take();
        if !events.is_empty() {
            pollster::block_on(self.store.append_logs(&events, 0)).expect("log events stored");
        }
    }

    /// The issuer as the Worker lends it to a request, over this tenant.
    pub fn issuer<'a, C: Crypto>(
        &'a self,
        crypto: &'a C,
        log: &'a dyn Fn(&str),
    ) -> Issuer<'a, Store, C> {
        Issuer {
            config: &self.config,
            stores: &self.store,
            crypto,
            kek: Some(&self.kek),
            clock: &self.clock,
            random: &OsRandom,
            key_cache: &self.cache,
            log,
            client_ip: Some(self.ip.as_str()),
            country: Some("NZ"),
            host: None,
            remembered: None,
            hooks: &self.hooks,
            http: &self.http,
            events: &self.events,
            postbox: &self.outbox,
        }
    }

    /// Signs the tokens of an issuance directly, skipping every grant's checks: how a test
    /// holds a token that no grant would issue, to see what the routes do with it.
    pub fn mint(&self, issuance: &edge_issuer::model::Issuance) -> serde_json::Value {
        let log = |line: &str| self.log.borrow_mut().push(line.to_string());
        let issuer = self.issuer(&NativeCrypto, &log);
        let keys = issuer.keys();
        pollster::block_on(edge_issuer::oauth::token::issue(
            &keys,
            &issuer.facts(),
            issuance,
        ))
        .unwrap()
        .body
    }

    pub fn get(&self, path: &str) -> HttpResponse {
        self.send(HttpRequest {
            method: "GET".into(),
            path: path.into(),
            ..Default::default()
        })
    }

    /// POSTs a form to the token endpoint, with Basic credentials when given.
    pub fn token(&self, form: &str, basic: Option<(&str, &str)>) -> HttpResponse {
        let mut headers = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        if let Some((id, secret)) = basic {
            headers.push(("authorization".into(), basic_header(id, secret)));
        }
        self.send(HttpRequest {
            method: "POST".into(),
            path: "/oauth/token".into(),
            headers,
            body: form.as_bytes().to_vec(),
            ..Default::default()
        })
    }
}

impl Tenant {
    /// A password-grant request from `demo-app` with Basic authentication.
    pub fn password(&self, extra: &str) -> HttpResponse {
        let form = format!(
            "grant_type=password&username={}&password={}{extra}",
            enc(USER_EMAIL),
            enc(USER_PASSWORD)
        );
        self.token(&form, Some((APP_ID, APP_SECRET)))
    }

    /// A refresh request from `demo-app`.
    pub fn refresh(&self, token: &str, extra: &str) -> HttpResponse {
        let form = format!(
            "grant_type=refresh_token&refresh_token={}{extra}",
            enc(token)
        );
        self.token(&form, Some((APP_ID, APP_SECRET)))
    }

    /// Edits the user record through the store, as an admin would.
    pub fn edit_user(&self, f: impl FnOnce(&mut User)) {
        use edge_issuer::port::UserStore;
        let mut user = pollster::block_on(self.store.user(USER_ID))
            .unwrap()
            .unwrap();
        f(&mut user);
        self.store.put_user(user);
    }

    /// Replaces a client through the store.
    pub fn edit_client(&self, id: &str, f: impl FnOnce(&mut Client)) {
        use edge_issuer::port::ClientStore;
        let mut client = pollster::block_on(self.store.client(id)).unwrap().unwrap();
        f(&mut client);
        self.store.put_client(client);
    }

    /// A request to /userinfo with the given method, headers and form body.
    pub fn userinfo(&self, method: &str, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        self.send(HttpRequest {
            method: method.into(),
            path: "/userinfo".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            ..Default::default()
        })
    }
}

/// The management API's audience on the test issuer.
pub const MGMT: &str = "https://id.example.com/api/v2/";

/// An API with `scopes`, RBAC on or off, and the scopes users may hold with RBAC off.
pub fn api(identifier: &str, scopes: &[&str], rbac: bool, user_grantable: &[&str]) -> Api {
    let list = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    Api {
        identifier: identifier.into(),
        name: identifier.into(),
        scopes: list(scopes),
        token_lifetime: 600,
        rbac_enabled: rbac,
        token_permissions: false,
        user_grantable_scopes: list(user_grantable),
        signing_alg: "ES256".into(),
    }
}

/// A machine client `admin` granted `scopes` on the management API, and its token (the API
/// itself must be registered first).
pub fn admin_token(t: &Tenant, scopes: &[&str]) -> String {
    t.store.put_client(Client {
        client_id: "admin".into(),
        name: "Admin".into(),
        secret_hash: Some(hash_client_secret("admin-secret")),
        grant_types: vec!["client_credentials".into()],
        default_audience: Some(MGMT.into()),
        ..client_defaults()
    });
    t.store.put_grant(ClientGrant {
        client_id: "admin".into(),
        audience: MGMT.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    });
    let body = t
        .token(
            "grant_type=client_credentials",
            Some(("admin", "admin-secret")),
        )
        .json_body();
    body["access_token"].as_str().unwrap().to_string()
}

/// Form-urlencodes one value.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A client with the default token settings, to be completed with struct update syntax.
pub fn client_defaults() -> Client {
    serde_json::from_value(serde_json::json!({
        "client_id": "", "name": "", "secret_hash": null, "grant_types": [], "default_audience": null
    }))
    .unwrap()
}

/// A client `client_id` with the default settings.
pub fn client_defaults_with(client_id: &str) -> Client {
    Client {
        client_id: client_id.into(),
        name: client_id.into(),
        ..client_defaults()
    }
}

/// Verifies a JWT with `jsonwebtoken` (independent of the issuer's signer) against the
/// published JWKS, for `audience`, and returns its claims. `exp` is checked against the
/// tenant's fixed clock.
pub fn verify_jwt(tenant: &Tenant, jwt: &str, audience: &str) -> serde_json::Value {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
    let jwks: JwkSet = serde_json::from_slice(&tenant.get("/.well-known/jwks.json").body).unwrap();
    let header = decode_header(jwt).unwrap();
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[audience]);
    v.validate_exp = false;
    let claims = decode::<serde_json::Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("token verifies")
        .claims;
    assert!(
        claims["exp"].as_u64().unwrap() > tenant.clock.now(),
        "not expired"
    );
    claims
}

/// Answers a hook request body.
pub type Answerer = dyn Fn(&str) -> Result<Vec<u8>, OutboundError>;

/// A hook receiver in the test process: records each delivery and answers with a function of
/// the request body. It stands for the transport only; the pipeline around it is the real one.
#[derive(Default)]
pub struct FakeHooks {
    pub answer: std::cell::RefCell<Option<Box<Answerer>>>,
    pub seen: std::cell::RefCell<Vec<(String, String)>>,
}

impl edge_issuer::port::hooks::HookTransport for FakeHooks {
    fn deliver<'a>(
        &'a self,
        _hook: &'a edge_issuer::model::Hook,
        body: String,
        signature: String,
    ) -> edge_issuer::port::hooks::LocalBoxFuture<'a, Result<Vec<u8>, OutboundError>> {
        let result = match self.answer.borrow().as_ref() {
            Some(f) => f(&body),
            None => Err(OutboundError::Unreachable("no answer configured".into())),
        };
        self.seen.borrow_mut().push((body, signature));
        Box::pin(async move { result })
    }
}

/// Answers an outbound call.
pub type Server = dyn Fn(
    &edge_issuer::port::outbound::Call<'_>,
) -> Result<edge_issuer::port::outbound::Answer, OutboundError>;

/// The network as the test process stands it: an upstream provider's endpoints answered by a
/// function of the call; each call recorded (method and URL, body). Only the network is
/// stood in for: what the issuer sends and how it reads the answers are the real code.
#[derive(Default)]
pub struct FakeHttp {
    pub server: std::cell::RefCell<Option<std::rc::Rc<Server>>>,
    pub seen: std::cell::RefCell<Vec<(String, String, Option<String>)>>,
}

impl edge_issuer::port::outbound::Http for FakeHttp {
    fn call<'a>(
        &'a self,
        call: edge_issuer::port::outbound::Call<'a>,
    ) -> edge_issuer::port::hooks::LocalBoxFuture<
        'a,
        Result<edge_issuer::port::outbound::Answer, OutboundError>,
    > {
        let server = self.server.borrow().clone();
        self.seen.borrow_mut().push((
            call.method.to_string(),
            call.url.to_string(),
            call.body.clone(),
        ));
        let result = match server {
            Some(f) => f(&call),
            None => Err(OutboundError::Unreachable("no server configured".into())),
        };
        Box::pin(async move { result })
    }
}

/// The postbox of the tests: messages are kept, in order, as they would leave.
#[derive(Default)]
pub struct Outbox(pub std::cell::RefCell<Vec<edge_issuer::port::mail::Delivery>>);

impl edge_issuer::port::mail::Postbox for Outbox {
    fn post(&self, delivery: edge_issuer::port::mail::Delivery) {
        self.0.borrow_mut().push(delivery);
    }
}

impl Outbox {
    /// The messages so far, as the JSON their bodies are.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        self.0
            .borrow()
            .iter()
            .map(|d| serde_json::from_str(&d.body).expect("a JSON message"))
            .collect()
    }

    /// The link of the last message.
    pub fn last_link(&self) -> String {
        let last = self.messages().pop().expect("a message was sent");
        last["link"]
            .as_str()
            .expect("the message has a link")
            .to_string()
    }
}

/// The native crypto, pausing once before each operation (as a Worker awaits WebCrypto) and
/// counting PBKDF2 runs, i.e. password verifications.
#[derive(Default)]
pub struct YieldingCrypto {
    pub pbkdf2_runs: std::cell::Cell<usize>,
}

impl Crypto for YieldingCrypto {
    async fn sign(&self, key: &SigningKey, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        yield_now().await;
        NativeCrypto.sign(key, input).await
    }

    async fn verify(
        &self,
        alg: Alg,
        kid: &str,
        public_jwk: &str,
        input: &[u8],
        signature: &[u8],
    ) -> Result<bool, CryptoError> {
        yield_now().await;
        NativeCrypto
            .verify(alg, kid, public_jwk, input, signature)
            .await
    }

    async fn generate_key(&self, alg: Alg) -> Result<GeneratedKey, CryptoError> {
        yield_now().await;
        NativeCrypto.generate_key(alg).await
    }

    async fn pbkdf2_sha256(
        &self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> Result<[u8; 32], CryptoError> {
        yield_now().await;
        self.pbkdf2_runs.set(self.pbkdf2_runs.get() + 1);
        NativeCrypto.pbkdf2_sha256(password, salt, iterations).await
    }
}

/// A token-endpoint form request with Basic authentication.
pub fn token_request(form: &str, (id, secret): (&str, &str)) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        path: "/oauth/token".into(),
        headers: vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("authorization".into(), basic_header(id, secret)),
        ],
        body: form.as_bytes().to_vec(),
        ..Default::default()
    }
}

/// A hook `h1` on `trigger` at an https URL, answered by [`FakeHooks`] through [`answer`].
pub fn hook(
    t: &Tenant,
    trigger: edge_issuer::model::Trigger,
    on_failure: edge_issuer::model::OnFailure,
) {
    t.store.put_hook(edge_issuer::model::StoredHook {
        hook_id: "h1".into(),
        name: "enrich".into(),
        trigger,
        position: 0,
        enabled: true,
        url: Some("https://hooks.example.com/enrich".into()),
        service: None,
        secret_enc: t.kek.seal(&OsRandom, "h1", b"hook-secret").unwrap(),
        timeout_ms: 2000,
        on_failure,
    });
}

/// How the tenant's hooks answer from now on: `Err` stands for a timeout or an outage.
pub fn answer(t: &Tenant, f: impl Fn(&str) -> Result<Vec<u8>, OutboundError> + 'static) {
    *t.hooks.answer.borrow_mut() = Some(Box::new(f));
}

/// Every management scope the tests of the management API use.
pub const MGMT_SCOPES: [&str; 64] = [
    "read:users",
    "read:user_idp_tokens",
    "read:connections",
    "create:connections",
    "update:connections",
    "delete:connections",
    "create:users",
    "update:users",
    "delete:users",
    "read:roles",
    "create:roles",
    "update:roles",
    "delete:roles",
    "read:organizations",
    "create:organizations",
    "update:organizations",
    "delete:organizations",
    "read:organization_members",
    "create:organization_members",
    "delete:organization_members",
    "read:organization_member_roles",
    "create:organization_member_roles",
    "delete:organization_member_roles",
    "read:sessions",
    "delete:sessions",
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "update:client_keys",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "read:resource_servers",
    "create:resource_servers",
    "update:resource_servers",
    "delete:resource_servers",
    "read:rules",
    "create:rules",
    "update:rules",
    "delete:rules",
    "read:hooks",
    "create:hooks",
    "update:hooks",
    "delete:hooks",
    "read:logs",
    "read:current_user",
    "update:current_user_metadata",
    "read:email_provider",
    "create:email_provider",
    "update:email_provider",
    "delete:email_provider",
    "read:email_templates",
    "create:email_templates",
    "update:email_templates",
    "create:user_tickets",
    "read:guardian_factors",
    "update:guardian_factors",
    "read:mfa_policies",
    "update:mfa_policies",
    "read:authentication_methods",
    "delete:authentication_methods",
    "delete:guardian_enrollments",
];

/// A tenant whose management API defines [`MGMT_SCOPES`], users holding the self-service ones.
pub fn management_tenant() -> Tenant {
    let t = Tenant::new();
    t.store.put_api(api(
        MGMT,
        &MGMT_SCOPES,
        false,
        &["read:current_user", "update:current_user_metadata"],
    ));
    t
}

/// A [`management_tenant`] with a public single-page app, `client_id`, that signs in with
/// the code flow and comes back to `callback`.
pub fn management_tenant_with_spa(client_id: &str, callback: &str) -> Tenant {
    let t = management_tenant();
    put_spa(&t, client_id, callback);
    t
}

/// Registers a public single-page app, `client_id`, that signs in with the code flow and
/// comes back to `callback`.
pub fn put_spa(t: &Tenant, client_id: &str, callback: &str) {
    t.store.put_client(Client {
        client_id: client_id.into(),
        name: "Single-page app".into(),
        secret_hash: None,
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![callback.into()],
        ..client_defaults()
    });
}

/// Calls the management API with a bearer token and an optional JSON body.
pub fn manage(
    t: &Tenant,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> HttpResponse {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    t.send(HttpRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {token}")),
        ],
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })
}

/// `POST /passwordless/start` with the JSON `body` (Auth0's passwordless API).
pub fn passwordless_start(t: &Tenant, body: &serde_json::Value) -> HttpResponse {
    t.send(HttpRequest {
        method: "POST".into(),
        path: "/passwordless/start".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        ..Default::default()
    })
}

/// The JSON body of `resp`, after checking its status.
pub fn ok(resp: &HttpResponse, status: u16) -> serde_json::Value {
    assert_eq!(resp.status, status, "{:?}", resp.json_body());
    resp.json_body()
}

/// Fault injection across one request. `prepare` makes a fresh tenant ready and returns what
/// the request needs; `send` makes the request. A clean run counts the store calls the
/// request makes; then for each call N, on a fresh tenant, call N fails: the request must
/// answer 500 `server_error`, leave every durable table as it was, and succeed when sent
/// again. Answers how many calls were walked.
pub fn walk_faults<T>(
    prepare: impl Fn() -> (Tenant, T),
    send: impl Fn(&Tenant, &T) -> HttpResponse,
) -> u32 {
    walk_faults_answering(prepare, send, |_| (500, Some("server_error")))
}

/// [`walk_faults`], where a failure of a call of each kind must answer `expect(kind)`: a
/// status and, for a JSON answer, its `error` code (an HTML page gives `None`).
pub fn walk_faults_answering<T>(
    prepare: impl Fn() -> (Tenant, T),
    send: impl Fn(&Tenant, &T) -> HttpResponse,
    expect: impl Fn(Source) -> (u16, Option<&'static str>),
) -> u32 {
    let (t, ready) = prepare();
    let before = t.store.calls();
    let clean = send(&t, &ready);
    assert!(
        clean.status < 400,
        "the clean run failed: {:?}",
        clean.json_body()
    );
    let calls = t.store.calls() - before;
    assert!(calls > 0, "the request made no store call");
    for n in 1..=calls {
        let (t, ready) = prepare();
        let state = t.store.durable_state();
        t.store.fail_call(Some(t.store.calls() + n));
        let failed = send(&t, &ready);
        let kind = t
            .store
            .db()
            .injected_failure()
            .expect("the failure was injected");
        t.store.fail_call(None);
        let (status, error) = expect(kind);
        assert_eq!(
            failed.status,
            status,
            "call {n} of {calls} ({kind:?}) failed but the request answered {}: {:?}",
            failed.status,
            failed.json_body()
        );
        if let Some(error) = error {
            assert_eq!(failed.json_body()["error"], error, "call {n} of {calls}");
        }
        assert!(
            t.store.durable_state() == state,
            "call {n} of {calls} failed and left something written"
        );
        let again = send(&t, &ready);
        assert!(
            again.status < 400,
            "after call {n} of {calls} failed, the retry answered {}: {:?}",
            again.status,
            again.json_body()
        );
    }
    calls
}

/// A form `POST` to `path`, with Basic authentication as `who` if given.
pub fn form_post(t: &Tenant, path: &str, form: &str, who: Option<(&str, &str)>) -> HttpResponse {
    let mut headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some((id, secret)) = who {
        headers.push(("authorization".into(), basic_header(id, secret)));
    }
    t.send(HttpRequest {
        method: "POST".into(),
        path: path.into(),
        headers,
        body: form.as_bytes().to_vec(),
        ..Default::default()
    })
}

/// `POST /oauth/revoke` of `token` by the client `who` (Basic authentication).
pub fn revoke_request(t: &Tenant, token: &str, who: (&str, &str)) -> HttpResponse {
    form_post(
        t,
        "/oauth/revoke",
        &format!("token={}", enc(token)),
        Some(who),
    )
}

/// Log events recorded during requests, stored once they are answered ([`Tenant::store_events`]).
#[derive(Default)]
pub struct Events(pub std::cell::RefCell<Vec<edge_issuer::model::LogEvent>>);

impl edge_issuer::port::EventSink for Events {
    fn record(&self, event: edge_issuer::model::LogEvent) {
        self.0.borrow_mut().push(event);
    }
}

/// How a test sets up its tenant and looks at the database: each setter is made of the store's
/// own port operations (as the management API calls them), so the rows are the ones the
/// Worker writes; the measures are the SQLite backend's.
pub trait Seed {
    fn put_client(&self, client: Client);
    fn put_api(&self, api: Api);
    fn put_grant(&self, grant: ClientGrant);
    fn put_user(&self, user: User);
    fn drop_user(&self, user_id: &str) -> bool;
    fn put_hook(&self, hook: edge_issuer::model::StoredHook);
    fn put_role(&self, role_id: &str, name: &str, permissions: &[(&str, &str)]);
    fn assign_role(&self, user_id: &str, role_id: &str, org_id: Option<&str>);
    fn unassign_role(&self, user_id: &str, role_id: &str);
    fn put_org(&self, org: edge_issuer::model::Organization);
    fn add_member(&self, org_id: &str, user_id: &str);
    fn round_trips(&self) -> u32;
    fn cached_reads(&self) -> u32;
    fn calls(&self) -> u32;
    fn fail_call(&self, n: Option<u32>);
    fn fail_commits(&self, on: bool);
    fn durable_state(&self) -> String;
    fn refresh_records(&self) -> Vec<edge_issuer::model::RefreshRecord>;
    fn key_count(&self) -> usize;
}

impl Seed for Store {
    fn put_client(&self, client: Client) {
        use edge_issuer::port::RegistryStore;
        if !pollster::block_on(self.update_client(&client)).unwrap() {
            pollster::block_on(self.create_client(&client)).unwrap();
        }
    }

    fn put_api(&self, api: Api) {
        use edge_issuer::port::RegistryStore;
        if !pollster::block_on(self.update_api(&api)).unwrap() {
            pollster::block_on(self.create_api(&api)).unwrap();
        }
    }

    fn put_grant(&self, grant: ClientGrant) {
        use edge_issuer::port::RegistryStore;
        if !pollster::block_on(self.update_client_grant(&grant)).unwrap() {
            assert!(
                pollster::block_on(self.create_client_grant(&grant)).unwrap(),
                "the grant's client and API exist"
            );
        }
    }

    /// Creates the user, or makes the stored one equal to `user` (metadata replaced whole).
    fn put_user(&self, user: User) {
        use edge_issuer::model::UserChanges;
        use edge_issuer::port::UserStore;
        let Some(old) = pollster::block_on(self.user(&user.user_id)).unwrap() else {
            pollster::block_on(self.create_user(&user)).unwrap();
            return;
        };
        // A merge patch that leaves exactly the new members: the old ones it lacks set to null.
        let replace = |old: &serde_json::Value, new: &serde_json::Value| {
            let mut patch = new.as_object().cloned().unwrap_or_default();
            for key in old.as_object().into_iter().flat_map(|o| o.keys()) {
                patch.entry(key.clone()).or_insert(serde_json::Value::Null);
            }
            patch
        };
        let changes = UserChanges {
            email: Some(user.email.clone()),
            email_verified: Some(user.email_verified),
            name: Some(user.name.clone()),
            given_name: Some(user.given_name.clone()),
            family_name: Some(user.family_name.clone()),
            nickname: Some(user.nickname.clone()),
            picture: Some(user.picture.clone()),
            blocked: Some(user.blocked),
            password_hash: user
                .password_hash
                .clone()
                .filter(|h| old.password_hash.as_ref() != Some(h)),
            user_metadata: Some(replace(&old.user_metadata, &user.user_metadata)),
            app_metadata: Some(replace(&old.app_metadata, &user.app_metadata)),
        };
        pollster::block_on(self.update_user(&user.user_id, &changes, user.updated_at))
            .unwrap()
            .expect("the user is there");
    }

    fn drop_user(&self, user_id: &str) -> bool {
        use edge_issuer::port::UserStore;
        pollster::block_on(self.delete_user(user_id)).unwrap()
    }

    fn put_hook(&self, hook: edge_issuer::model::StoredHook) {
        use edge_issuer::port::ClaimsStore;
        pollster::block_on(ClaimsStore::put_hook(self, &hook)).unwrap();
    }

    fn put_role(&self, role_id: &str, name: &str, permissions: &[(&str, &str)]) {
        use edge_issuer::model::{Permission, Role};
        use edge_issuer::port::RoleStore;
        let role = Role {
            role_id: role_id.into(),
            name: name.into(),
            description: None,
        };
        pollster::block_on(self.create_role(&role)).unwrap();
        let permissions: Vec<Permission> = permissions
            .iter()
            .map(|(audience, permission)| Permission {
                audience: audience.to_string(),
                permission: permission.to_string(),
            })
            .collect();
        if !permissions.is_empty() {
            assert!(pollster::block_on(self.add_permissions(role_id, &permissions)).unwrap());
        }
    }

    fn assign_role(&self, user_id: &str, role_id: &str, org_id: Option<&str>) {
        use edge_issuer::port::RoleStore;
        let assigned =
            pollster::block_on(self.assign_roles(user_id, org_id.unwrap_or(""), &[role_id.into()]))
                .unwrap();
        assert!(assigned, "the user and the role exist");
    }

    fn unassign_role(&self, user_id: &str, role_id: &str) {
        use edge_issuer::port::RoleStore;
        pollster::block_on(self.remove_roles(user_id, "", &[role_id.into()])).unwrap();
    }

    fn put_org(&self, org: edge_issuer::model::Organization) {
        use edge_issuer::port::OrganizationStore;
        pollster::block_on(self.create_organization(&org)).unwrap();
    }

    fn add_member(&self, org_id: &str, user_id: &str) {
        use edge_issuer::port::OrganizationStore;
        assert!(pollster::block_on(self.add_members(org_id, &[user_id.into()])).unwrap());
    }

    fn round_trips(&self) -> u32 {
        self.db().round_trips()
    }

    fn cached_reads(&self) -> u32 {
        self.db().cached_reads()
    }

    fn calls(&self) -> u32 {
        self.db().calls()
    }

    fn fail_call(&self, n: Option<u32>) {
        self.db().fail_call(n);
    }

    fn fail_commits(&self, on: bool) {
        self.db().fail_commits(on);
    }

    fn durable_state(&self) -> String {
        self.db().durable_state().unwrap()
    }

    fn key_count(&self) -> usize {
        self.db()
            .peek("SELECT kid FROM signing_keys")
            .unwrap()
            .len()
    }

    /// Every refresh token, oldest first, as the refresh port finds it.
    fn refresh_records(&self) -> Vec<edge_issuer::model::RefreshRecord> {
        use edge_issuer::port::RefreshStore;
        let hashes = self
            .db()
            .peek("SELECT token_hash FROM refresh_tokens ORDER BY rowid")
            .unwrap();
        hashes
            .iter()
            .map(|row| {
                let hash = row["token_hash"].as_str().unwrap();
                pollster::block_on(self.find_refresh(hash))
                    .unwrap()
                    .unwrap()
            })
            .collect()
    }
}

/// Asserts the management API's refusal of a body: 400 in Auth0's shape, `errorCode`
/// `invalid_body`, and a message.
pub fn invalid_body(resp: &HttpResponse, what: &str) {
    assert_eq!(resp.status, 400, "{what}: {:?}", resp.json_body());
    let body = resp.json_body();
    assert_eq!(body["statusCode"], 400, "{what}");
    assert_eq!(body["error"], "Bad Request", "{what}");
    assert_eq!(body["errorCode"], "invalid_body", "{what}: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}"
    );
}

/// `name=value` of a Set-Cookie header of the response.
pub fn set_cookie(resp: &HttpResponse, name: &str) -> Option<String> {
    resp.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

/// The hidden fields of the login form, as a form body.
pub fn form_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|chunk| {
            let attr = |a: &str| {
                let start = chunk.find(&format!("{a}=\"")).unwrap() + a.len() + 2;
                let end = start + chunk[start..].find('"').unwrap();
                chunk[start..end]
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

/// A browser's `GET` of `path_and_query`, sending `cookies` (none when empty).
pub fn get(t: &Tenant, path_and_query: &str, cookies: &str) -> HttpResponse {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut headers = vec![];
    if !cookies.is_empty() {
        headers.push(("cookie".to_string(), cookies.to_string()));
    }
    t.send(edge_issuer::web::HttpRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers,
        body: vec![],
    })
}

/// A browser's form `POST` of `form` to `path`, sending `cookies`.
pub fn post_form(t: &Tenant, path: &str, form: &str, cookies: &str) -> HttpResponse {
    t.send(edge_issuer::web::HttpRequest {
        method: "POST".into(),
        path: path.into(),
        query: String::new(),
        headers: vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("cookie".into(), cookies.into()),
        ],
        body: form.as_bytes().to_vec(),
    })
}

/// The ID token of the code a hosted sign-in redirected to `callback` with (a `303`),
/// redeemed by public `client` with PKCE's `verifier`, verified.
pub fn code_id_token(
    t: &Tenant,
    resp: &HttpResponse,
    client: &str,
    callback: &str,
    verifier: &str,
) -> serde_json::Value {
    assert_eq!(resp.status, 303, "{}", String::from_utf8_lossy(&resp.body));
    let location = resp.header("location").unwrap();
    let query = location.strip_prefix(&format!("{callback}?")).unwrap();
    let code = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let form = format!(
        "grant_type=authorization_code&client_id={client}&code={}&redirect_uri={}&code_verifier={verifier}",
        enc(&code),
        enc(callback)
    );
    let resp = form_post(t, "/oauth/token", &form, None);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    verify_jwt(t, resp.json_body()["id_token"].as_str().unwrap(), client)
}
