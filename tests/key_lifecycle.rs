//! The signing-key lifecycle with a fake clock: verifiers that cache the JWKS for its max-age
//! across rotations, the scheduled rotation and dropping of expired keys, revocation, and the
//! key-encryption key replaced without downtime.

mod common;

use common::*;
use edge_issuer::model::{ClientGrant, KeyState};
use edge_issuer::oauth::keys::{Kek, KeyCache, KEY_CACHE_SECONDS};
use edge_issuer::oauth::maintenance;
use edge_issuer::port::clock::Clock;
use edge_issuer::port::native_crypto::NativeCrypto;
use edge_issuer::port::KeyStore;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::{json, Value};

const RS_API: &str = "https://rs.example.com";
const KEY_SCOPES: [&str; 4] = [
    "read:signing_keys",
    "create:signing_keys",
    "update:signing_keys",
    "update:encryption_keys",
];

/// A tenant whose machine client also takes RS256 tokens (for a second API), and whose
/// management API defines the key scopes.
fn tenant() -> Tenant {
    let t = Tenant::new();
    t.store.put_api(edge_issuer::model::Api {
        signing_alg: "RS256".into(),
        ..api(RS_API, &["read:data"], false, &[])
    });
    t.store.put_grant(ClientGrant {
        client_id: M2M_ID.into(),
        audience: RS_API.into(),
        scopes: vec!["read:data".into()],
    });
    t.store.put_api(api(MGMT, &KEY_SCOPES, false, &[]));
    t
}

fn access_token(t: &Tenant, audience: &str) -> String {
    let resp = t.token(
        &format!("grant_type=client_credentials&audience={}", enc(audience)),
        Some((M2M_ID, M2M_SECRET)),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
    resp.json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn kid(jwt: &str) -> String {
    decode_header(jwt).unwrap().kid.unwrap()
}

/// A resource server that fetches the JWKS when its copy is older than the response's
/// `max-age`, and never otherwise: a token whose `kid` its copy lacks fails.
struct CachingVerifier {
    copy: Option<(u64, u64, JwkSet)>,
}

impl CachingVerifier {
    fn new() -> Self {
        Self { copy: None }
    }

    fn refresh_if_stale(&mut self, t: &Tenant) {
        let now = t.clock.now();
        if matches!(self.copy, Some((at, max_age, _)) if now < at + max_age) {
            return;
        }
        let resp = t.get("/.well-known/jwks.json");
        let max_age: u64 = resp
            .header("cache-control")
            .and_then(|v| v.split("max-age=").nth(1))
            .and_then(|v| v.parse().ok())
            .expect("max-age");
        self.copy = Some((now, max_age, serde_json::from_slice(&resp.body).unwrap()));
    }

    fn verifies(&mut self, t: &Tenant, jwt: &str, audience: &str) -> bool {
        self.refresh_if_stale(t);
        let (_, _, set) = self.copy.as_ref().unwrap();
        let header = decode_header(jwt).unwrap();
        let Some(jwk) = set.find(header.kid.as_deref().unwrap_or("")) else {
            return false;
        };
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[audience]);
        v.validate_exp = false;
        decode::<Value>(jwt, &DecodingKey::from_jwk(jwk).unwrap(), &v).is_ok()
    }
}

fn rotate(t: &Tenant) -> Value {
    let token = admin_token(t, &KEY_SCOPES);
    ok(
        &manage(t, "POST", "/api/v2/keys/signing/rotate", &token, None),
        201,
    )
}

/// Runs an hour in 30-second steps with verifiers whose JWKS copies were fetched at every
/// phase of the max-age, rotating twice (the second time before the first promoted key had
/// been published for the lead); answers the tokens no verifier could check.
fn strands_over_two_rotations(t: &Tenant) -> Vec<String> {
    let mut verifiers: Vec<CachingVerifier> = (0..10).map(|_| CachingVerifier::new()).collect();
    let mut stranded = Vec::new();
    let start = t.clock.now();
    for step in 0..120u64 {
        // Verifier i first fetches at step i, so their copies age out at different times.
        for (i, v) in verifiers.iter_mut().enumerate() {
            if step == i as u64 {
                v.refresh_if_stale(t);
            }
        }
        if step == 20 || step == 24 {
            rotate(t);
        }
        for audience in [API, RS_API] {
            let jwt = access_token(t, audience);
            for v in verifiers.iter_mut().take(step.min(10) as usize) {
                if !v.verifies(t, &jwt, audience) {
                    stranded.push(format!("t+{}s {}", t.clock.now() - start, kid(&jwt)));
                }
            }
        }
        t.clock.advance(30);
    }
    stranded
}

#[test]
fn a_verifier_caching_the_jwks_for_its_max_age_never_fails_across_two_rotations() {
    let t = tenant();
    t.get("/.well-known/jwks.json");
    let first = kid(&access_token(&t, API));
    let stranded = strands_over_two_rotations(&t);
    assert_eq!(stranded, Vec::<String>::new());
    // The rotations took effect: a key that was next when the hour began signs now.
    let last = kid(&access_token(&t, API));
    assert_ne!(last, first);
}

#[test]
fn without_the_publication_lead_the_same_verifiers_are_stranded() {
    // The test above can fail: with no lead, a promoted key signs at once, before verifiers'
    // copies of the JWKS show it.
    let mut t = tenant();
    t.config.key_publish_lead = 0;
    t.get("/.well-known/jwks.json");
    assert!(!strands_over_two_rotations(&t).is_empty());
}

#[test]
fn a_promoted_key_signs_once_published_for_the_lead_and_the_old_one_until_then() {
    let t = tenant();
    t.get("/.well-known/jwks.json");
    let before = kid(&access_token(&t, API));
    let jwks = t.get("/.well-known/jwks.json").json_body();
    let published: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["alg"] == "ES256")
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published.len(), 2, "current and next");
    let next = published
        .iter()
        .find(|k| **k != before)
        .unwrap()
        .to_string();
    let promoted = rotate(&t);
    assert_eq!(promoted["kid"], next.as_str());
    assert_eq!(promoted["current"], true);
    // The next key was made just now: it waits out the lead, the old key signs meanwhile.
    assert_eq!(kid(&access_token(&t, API)), before);
    t.clock.advance(t.config.key_publish_lead);
    assert_eq!(kid(&access_token(&t, API)), next);
}

#[test]
fn rotations_in_the_second_the_first_key_was_made_keep_it_signing_until_the_lead() {
    // The clock stands still: the first key, then three rotations, all in one second.
    let t = tenant();
    let first = kid(&access_token(&t, API));
    let mut verifier = CachingVerifier::new();
    verifier.refresh_if_stale(&t);
    let mut promoted = Vec::new();
    for _ in 0..3 {
        promoted.push(rotate(&t)["kid"].as_str().unwrap().to_string());
    }
    let token = access_token(&t, API);
    assert_eq!(
        kid(&token),
        first,
        "a key made this second must not sign yet"
    );
    assert!(verifier.verifies(&t, &token, API));
    t.clock.advance(t.config.key_publish_lead);
    assert_eq!(kid(&access_token(&t, API)), promoted[2]);
}

#[test]
fn the_schedule_rotates_after_its_period_and_drops_keys_whose_tokens_expired() {
    let t = tenant();
    let log = |_: &str| {};
    let issuer = t.issuer(&NativeCrypto, &log);
    let run = || {
        let ring = issuer.keys();
        pollster::block_on(maintenance::scheduled(
            &ring,
            issuer.stores,
            &t.store,
            &t.store,
        ))
        .unwrap()
    };
    // The first run makes the keys; then nothing is due for 30 days.
    assert_eq!(run().rotated, Vec::<&str>::new());
    assert_eq!(t.store.key_count(), 4);
    t.clock.advance(29 * 86_400);
    assert_eq!(run().rotated, Vec::<&str>::new());
    t.clock.advance(86_400);
    let done = run();
    assert_eq!(done.rotated, ["ES256", "RS256"]);
    assert_eq!(done.dropped, 0);
    assert_eq!(
        t.store.key_count(),
        6,
        "two previous, two current, two next"
    );
    // 30 days on the next rotation is due, and the first previous keys may still verify
    // tokens that live 30 days: they stay until those have expired too.
    t.clock.advance(30 * 86_400);
    let done = run();
    assert_eq!(done.rotated, ["ES256", "RS256"]);
    assert_eq!(done.dropped, 0);
    t.clock
        .advance(t.config.key_publish_lead + KEY_CACHE_SECONDS + 60 + 1);
    let done = run();
    assert_eq!((done.rotated.len(), done.dropped), (0, 2));
    let states: Vec<KeyState> = pollster::block_on(t.store.all_keys())
        .unwrap()
        .iter()
        .map(|k| k.state)
        .collect();
    assert_eq!(states.len(), 6);
    assert!(!states.contains(&KeyState::Revoked));
}

#[test]
fn only_a_previous_key_is_revoked_and_then_it_verifies_nothing() {
    let t = tenant();
    let token = admin_token(&t, &KEY_SCOPES);
    let user_token = t.password("&scope=openid").json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old = kid(&user_token);
    let at_userinfo = |jwt: &str| {
        t.userinfo("GET", &[("authorization", &format!("Bearer {jwt}"))], "")
            .status
    };
    assert_eq!(at_userinfo(&user_token), 200);
    // The current key cannot be revoked: rotate first.
    let refused = manage(
        &t,
        "PUT",
        &format!("/api/v2/keys/signing/{old}/revoke"),
        &token,
        None,
    );
    assert_eq!(ok(&refused, 409)["errorCode"], "invalid_key_state");
    assert_eq!(at_userinfo(&user_token), 200, "nothing changed");
    rotate(&t);
    let listed = ok(
        &manage(&t, "GET", "/api/v2/keys/signing", &token, None),
        200,
    );
    let entry = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == old.as_str())
            .cloned()
            .unwrap()
    };
    assert_eq!(entry(&listed)["previous"], true);
    let revoked = ok(
        &manage(
            &t,
            "PUT",
            &format!("/api/v2/keys/signing/{old}/revoke"),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(
        (&revoked["kid"], &revoked["revoked"]),
        (&json!(old), &json!(true))
    );
    assert!(revoked["revoked_at"].is_string());
    let jwks = t.get("/.well-known/jwks.json").json_body();
    assert!(!jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["kid"] == old.as_str()));
    assert_eq!(at_userinfo(&user_token), 401, "its tokens stop verifying");
    let revoked_admin = manage(&t, "GET", "/api/v2/keys/signing", &token, None);
    assert_eq!(revoked_admin.status, 401, "the admin token it signed too");
    let token = admin_token(&t, &KEY_SCOPES);
    let missing = manage(&t, "PUT", "/api/v2/keys/signing/nope/revoke", &token, None);
    assert_eq!(missing.status, 404);
    let one = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/keys/signing/{old}"),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(one["revoked"], true);
}

#[test]
fn the_key_routes_need_their_scopes() {
    let t = tenant();
    let reader = admin_token(&t, &["read:signing_keys"]);
    let list = manage(&t, "GET", "/api/v2/keys/signing", &reader, None);
    let keys = ok(&list, 200);
    assert_eq!(keys.as_array().unwrap().len(), 4, "made on first use");
    for key in keys.as_array().unwrap() {
        assert!(key["jwk"].get("d").is_none(), "no private part");
        assert!(key.get("private_key_enc").is_none());
    }
    for (method, path) in [
        ("POST", "/api/v2/keys/signing/rotate"),
        ("PUT", "/api/v2/keys/signing/x/revoke"),
        ("POST", "/api/v2/keys/encryption/rekey"),
    ] {
        assert_eq!(
            manage(&t, method, path, &reader, None).status,
            403,
            "{path}"
        );
    }
}

#[test]
fn the_key_encryption_key_is_replaced_without_downtime() {
    let mut t = tenant();
    hook(
        &t,
        edge_issuer::model::Trigger::CredentialsExchange,
        edge_issuer::model::OnFailure::Deny,
    );
    answer(&t, |_| Ok(b"{}".to_vec()));
    let old_kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let new_kek = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
    let before = access_token(&t, API);
    // An upstream connection, its client secret sealed under the old key.
    let mut scopes = KEY_SCOPES.to_vec();
    scopes.push("create:connections");
    t.store.put_api(api(MGMT, &scopes, false, &[]));
    let admin = admin_token(&t, &scopes);
    let google = json!({ "name": "google-oauth2", "strategy": "google-oauth2",
                         "options": { "client_id": "g", "client_secret": "google-secret" } });
    let connection = ok(
        &manage(&t, "POST", "/api/v2/connections", &admin, Some(google)),
        201,
    );
    let connection_id = connection["id"].as_str().unwrap().to_string();
    // Step 1: the new key, the old one kept as previous (a new deployment: new isolates).
    t.kek = Kek::from_base64(new_kek)
        .unwrap()
        .with_previous(old_kek)
        .unwrap();
    t.cache = KeyCache::new();
    assert_eq!(
        kid(&access_token(&t, API)),
        kid(&before),
        "old keys still open"
    );
    // Step 2: re-seal everything under the new key.
    let token = admin_token(&t, &KEY_SCOPES);
    let rekey = manage(&t, "POST", "/api/v2/keys/encryption/rekey", &token, None);
    assert_eq!(rekey.status, 204);
    // Step 3: the previous key removed; the keys and the hook's secret open with the new one
    // (the hook denies the grant if it cannot be called).
    t.kek = Kek::from_base64(new_kek).unwrap();
    t.cache = KeyCache::new();
    t.hooks.seen.borrow_mut().clear();
    assert_eq!(kid(&access_token(&t, API)), kid(&before));
    assert!(!t.hooks.seen.borrow().is_empty(), "the hook was called");
    let hook = pollster::block_on(async {
        use edge_issuer::port::ClaimsStore;
        t.store.hooks().await.unwrap().remove(0)
    });
    assert!(t.kek.open("h1", &hook.secret_enc).is_ok());
    // And the connection's secret.
    let stored = pollster::block_on(async {
        use edge_issuer::port::ConnectionStore;
        t.store.connection(&connection_id).await.unwrap().unwrap()
    });
    let sealed = stored.options["client_secret_sealed"].as_str().unwrap();
    assert_eq!(
        t.kek.open(&connection_id, sealed).unwrap(),
        b"google-secret"
    );
}

#[test]
fn without_rekeying_removing_the_previous_kek_fails_closed() {
    let mut t = tenant();
    access_token(&t, API);
    t.kek = Kek::from_base64("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc").unwrap();
    t.cache = KeyCache::new();
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json_body(), json!({ "error": "server_error" }));
}
