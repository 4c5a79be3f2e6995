//! A tenant in the in-memory store, and a way to call the issuer as the Worker does.
#![allow(dead_code)]

use edge_issuer::clock::FixedClock;
use edge_issuer::config::Config;
use edge_issuer::http::{handle, HttpRequest, HttpResponse};
use edge_issuer::issuer::Issuer;
use edge_issuer::random::OsRandom;
use edge_issuer::secret::hash_client_secret;
use edge_issuer::store::memory::MemoryStore;
use edge_issuer::store::{Api, Client, ClientGrant};
use edge_issuer::token::keys::{Kek, KeyCache};
use edge_issuer::token::P256Signer;

pub const ISSUER: &str = "https://id.example.com/";
pub const API: &str = "https://api.example.com";
pub const M2M_ID: &str = "demo-m2m";
pub const M2M_SECRET: &str = "m2m-secret";
pub const NOW: u64 = 1_800_000_000;

pub struct Tenant {
    pub config: Config,
    pub store: MemoryStore,
    pub kek: Kek,
    pub clock: FixedClock,
    pub cache: KeyCache,
    pub log: std::cell::RefCell<Vec<String>>,
}

impl Tenant {
    /// One API with two scopes; `demo-m2m` granted `read:data` on it.
    pub fn new() -> Self {
        let store = MemoryStore::new();
        store.put_api(Api {
            identifier: API.into(),
            name: "Example API".into(),
            scopes: vec!["read:data".into(), "write:data".into()],
            token_lifetime: 3600,
        });
        store.put_client(Client {
            client_id: M2M_ID.into(),
            name: "Machine".into(),
            secret_hash: Some(hash_client_secret(M2M_SECRET)),
            grant_types: vec!["client_credentials".into()],
            default_audience: Some(API.into()),
            grants: vec![],
        });
        store.put_grant(ClientGrant {
            client_id: M2M_ID.into(),
            audience: API.into(),
            scopes: vec!["read:data".into()],
        });
        Self {
            config: Config::new(ISSUER).unwrap(),
            store,
            kek: Kek::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").unwrap(),
            clock: FixedClock::at(NOW),
            cache: KeyCache::new(),
            log: Default::default(),
        }
    }

    /// Sends one request through the route table.
    pub fn send(&self, req: HttpRequest) -> HttpResponse {
        let log = |line: &str| self.log.borrow_mut().push(line.to_string());
        let issuer = Issuer {
            config: &self.config,
            store: &self.store,
            signer: &P256Signer,
            kek: Some(&self.kek),
            clock: &self.clock,
            random: &OsRandom,
            key_cache: &self.cache,
            log: &log,
        };
        pollster::block_on(handle(&issuer, &req))
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

pub fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}
