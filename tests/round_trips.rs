//! Storage round trips per request, pinned: each port call of the in-memory store stands for
//! one D1 statement or batch. A change that adds a round trip to a flow fails here and must say
//! why. (On the Worker the isolate's memory also serves clients, APIs and each trigger's rules
//! and hooks, so those calls cost nothing there once warm: see tests/e2e/round_trips.test.mjs.)

mod common;

use common::*;

/// Round trips the request made.
fn trips(t: &Tenant, send: impl FnOnce(&Tenant) -> edge_issuer::web::HttpResponse) -> u32 {
    let before = t.store.round_trips();
    let resp = send(t);
    assert!(resp.status < 300, "{} {:?}", resp.status, resp.json_body());
    t.store.round_trips() - before
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
            // The client (with its grants) and the trigger's rules and hooks.
    assert_eq!(trips(&t, cc), 2, "client_credentials");

    let password = |t: &Tenant| {
        t.password(&format!(
            "&audience={}&scope=openid%20offline_access%20read:data",
            enc(API)
        ))
    };
    password(&t);
    // Client, API, attempt counter, user, roles and permissions (one batch), pipeline, and
    // the commit (one batch).
    assert_eq!(trips(&t, password), 7, "password");

    let refresh_token = password(&t).json_body()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    // Client, the token, user, API, roles and permissions, pipeline, the rotation (one batch).
    assert_eq!(
        trips(&t, |t| t.refresh(&refresh_token, "")),
        7,
        "refresh_token"
    );

    let access = password(&t).json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let userinfo =
        |t: &Tenant| t.userinfo("GET", &[("authorization", &format!("Bearer {access}"))], "");
    // Published keys, user, client, API, roles and permissions, pipeline.
    assert_eq!(trips(&t, userinfo), 6, "userinfo");

    // The JWKS reads the published keys; discovery reads nothing.
    assert_eq!(trips(&t, |t| t.get("/.well-known/jwks.json")), 1, "jwks");
    assert_eq!(
        trips(&t, |t| t.get("/.well-known/openid-configuration")),
        0,
        "discovery"
    );
}
