//! Storage round trips per request, pinned: each port call of the in-memory store stands for
//! one D1 statement or batch. A change that adds a round trip to a flow fails here and must say
//! why. (On the Worker the isolate's memory also serves clients, APIs and each trigger's rules
//! and hooks, so those calls cost nothing there once warm: see tests/e2e/round_trips.test.mjs.)

mod common;

use common::*;

/// Storage round trips the request made, and reads a warm isolate answers from memory.
fn trips(t: &Tenant, send: impl FnOnce(&Tenant) -> edge_issuer::web::HttpResponse) -> (u32, u32) {
    let before = (t.store.round_trips(), t.store.cached_reads());
    let resp = send(t);
    assert!(resp.status < 300, "{} {:?}", resp.status, resp.json_body());
    (
        t.store.round_trips() - before.0,
        t.store.cached_reads() - before.1,
    )
}

#[test]
fn each_flow_makes_the_round_trips_it_needs_and_no_more() {
    let t = Tenant::new();
    let cc = |t: &Tenant| {
        t.token(
            &format!("grant_type=client_credentials&audience={}", enc(API)),
            Some((M2M_ID, M2M_SECRET)),
        )
    };
    cc(&t); // the first token creates the signing key
            // Only the client (with its grants) and the trigger's rules and hooks: both in memory.
    assert_eq!(trips(&t, cc), (0, 2), "client_credentials");

    let password = |t: &Tenant| {
        t.password(&format!(
            "&audience={}&scope=openid%20offline_access%20read:data",
            enc(API)
        ))
    };
    password(&t);
    // The attempt counter; the user with organization, roles and permissions (one batch);
    // the commit (one batch). In memory: client, connections, API, the MFA policy, and the
    // post-login rules (read for a rule that asks for a second factor, then by the pipeline).
    assert_eq!(trips(&t, password), (3, 6), "password");

    let refresh_token = password(&t).json_body()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // The token with its user, organization, roles and permissions (one batch); the rotation
    // (one batch). In memory: client, API, pipeline.
    assert_eq!(
        trips(&t, |t| t.refresh(&refresh_token, "")),
        (2, 3),
        "refresh_token"
    );

    let access = password(&t).json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let userinfo =
        |t: &Tenant| t.userinfo("GET", &[("authorization", &format!("Bearer {access}"))], "");
    // The user with organization, roles and permissions (one batch). In memory: the published
    // keys, client, API, pipeline.
    assert_eq!(trips(&t, userinfo), (1, 4), "userinfo");

    // The first JWKS makes the keys still missing (the next ES256 and RS256 keys; the current
    // ones signed the tokens above), one insert each, and reads the set back; after that it
    // shows the published keys, from memory. Discovery reads nothing.
    assert_eq!(
        trips(&t, |t| t.get("/.well-known/jwks.json")),
        (3, 1),
        "first jwks"
    );
    assert_eq!(
        trips(&t, |t| t.get("/.well-known/jwks.json")),
        (0, 1),
        "jwks"
    );
    assert_eq!(
        trips(&t, |t| t.get("/.well-known/openid-configuration")),
        (0, 0),
        "discovery"
    );
}

#[test]
fn a_token_signed_by_a_key_the_kept_set_lacks_reads_the_store_once() {
    let t = Tenant::new();
    let access = t
        .password(&format!("&audience={}&scope=openid", enc(API)))
        .json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let userinfo =
        |t: &Tenant| t.userinfo("GET", &[("authorization", &format!("Bearer {access}"))], "");
    assert_eq!(trips(&t, userinfo).0, 1, "a known kid: the user batch only");
    // A token naming a kid that is not published: the published set is read from the store
    // (it may have changed since it was kept), and the token is refused.
    let forged = forge_kid(&access, "no-such-key");
    let before = t.store.round_trips();
    let resp = t.userinfo("GET", &[("authorization", &format!("Bearer {forged}"))], "");
    assert_eq!(resp.status, 401);
    assert_eq!(
        t.store.round_trips() - before,
        1,
        "one fresh read of the keys"
    );
}

/// `token` with its header's `kid` replaced (its signature no longer matters: no key has it).
fn forge_kid(token: &str, kid: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let (header, rest) = token.split_once('.').unwrap();
    let mut h: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    h["kid"] = serde_json::Value::String(kid.into());
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(h.to_string()))
}
