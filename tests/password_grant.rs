//! The password grant (RFC 6749 §4.3) with brute-force protection, ID tokens and password
//! hash upgrades, through the public API with the in-memory store.

mod common;

use common::*;
use edge_issuer::port::UserStore;
use serde_json::{json, Value};

fn user_hash(t: &Tenant) -> String {
    pollster::block_on(t.store.user(USER_ID))
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap()
}

#[test]
fn password_grant_issues_access_id_and_refresh_tokens() {
    let t = Tenant::new();
    let resp = t.password("&scope=openid%20profile%20email%20offline_access%20read:data&audience=https%3A%2F%2Fapi.example.com");
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let body = resp.json_body();
    assert_eq!(
        body["scope"],
        "openid profile email offline_access read:data"
    );
    assert!(
        body["refresh_token"].as_str().unwrap().len() >= 43,
        "256-bit refresh token"
    );

    let at = body["access_token"].as_str().unwrap();
    let claims = verify_jwt(&t, at, API);
    assert_eq!(claims["sub"], USER_ID);
    assert_eq!(claims["client_id"], APP_ID);
    assert_eq!(claims["gty"], "password");
    assert_eq!(
        claims["aud"],
        json!([API, "https://id.example.com/userinfo"])
    );

    let id = verify_jwt(&t, body["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["sub"], USER_ID);
    assert_eq!(id["azp"], APP_ID);
    assert_eq!(id["auth_time"], NOW);
    assert_eq!(id["iat"], NOW);
    assert_eq!(id["email"], USER_EMAIL);
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Ada Lovelace");
    assert!(id.get("nonce").is_none());
    // at_hash per OIDC Core §3.1.3.6, computed here independently.
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(at.as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(id["at_hash"], expected);
}

#[test]
fn without_openid_there_is_no_id_token_and_unknown_scopes_are_dropped() {
    let t = Tenant::new();
    let body = t
        .password("&scope=read:data%20admin:all&audience=https%3A%2F%2Fapi.example.com")
        .json_body();
    assert_eq!(body["scope"], "read:data");
    assert!(body.get("id_token").is_none());
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        verify_jwt(&t, body["access_token"].as_str().unwrap(), API)["aud"],
        API
    );
}

#[test]
fn without_an_api_the_token_is_for_userinfo_only() {
    let t = Tenant::new();
    let body = t.password("&scope=openid").json_body();
    let claims = verify_jwt(
        &t,
        body["access_token"].as_str().unwrap(),
        "https://id.example.com/userinfo",
    );
    assert_eq!(claims["aud"], "https://id.example.com/userinfo");
}

#[test]
fn offline_access_needs_the_refresh_grant_on_the_client() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| c.grant_types = vec!["password".into()]);
    let body = t.password("&scope=openid%20offline_access").json_body();
    assert_eq!(body["scope"], "openid");
    assert!(body.get("refresh_token").is_none());
}

#[test]
fn email_is_matched_case_insensitively() {
    let t = Tenant::new();
    let form = format!(
        "grant_type=password&username=ada%40example.COM&password={}",
        enc(USER_PASSWORD)
    );
    assert_eq!(t.token(&form, Some((APP_ID, APP_SECRET))).status, 200);
}

#[test]
fn wrong_password_and_unknown_user_answer_alike() {
    let t = Tenant::new();
    let wrong = t.token(
        "grant_type=password&username=ada%40example.com&password=nope",
        Some((APP_ID, APP_SECRET)),
    );
    let ghost = t.token(
        "grant_type=password&username=ghost%40example.com&password=nope",
        Some((APP_ID, APP_SECRET)),
    );
    for resp in [&wrong, &ghost] {
        assert_eq!(resp.status, 400);
        assert_eq!(
            resp.json_body(),
            json!({ "error": "invalid_grant", "error_description": "Wrong email or password." })
        );
    }
}

#[test]
fn missing_username_or_password_is_invalid_request() {
    let t = Tenant::new();
    for form in [
        "grant_type=password&password=x",
        "grant_type=password&username=x",
    ] {
        assert_eq!(
            t.token(form, Some((APP_ID, APP_SECRET))).json_body()["error"],
            "invalid_request"
        );
    }
}

#[test]
fn password_grant_is_off_unless_the_client_enables_it() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| c.grant_types = vec!["refresh_token".into()]);
    assert_eq!(t.password("").json_body()["error"], "unauthorized_client");
}

#[test]
fn unknown_audience_is_refused_before_any_attempt_is_counted() {
    let t = Tenant::new();
    // Wrong password and an unknown audience, ten times: refused as a bad request each time,
    // so none of them counts towards the lock.
    let bad = "grant_type=password&username=ada%40example.com&password=nope&audience=https%3A%2F%2Fnope.example";
    for _ in 0..10 {
        let resp = t.token(bad, Some((APP_ID, APP_SECRET)));
        assert_eq!(resp.json_body()["error"], "invalid_request");
    }
    assert_eq!(t.password("").status, 200, "not locked");
}

#[test]
fn ten_failures_lock_the_user_for_that_ip_for_fifteen_minutes() {
    let t = Tenant::new();
    let bad = "grant_type=password&username=ada%40example.com&password=nope";
    for _ in 0..9 {
        let d = t.token(bad, Some((APP_ID, APP_SECRET))).json_body();
        assert_eq!(d["error_description"], "Wrong email or password.");
    }
    let tenth = t.token(bad, Some((APP_ID, APP_SECRET))).json_body();
    assert!(tenth["error_description"]
        .as_str()
        .unwrap()
        .contains("blocked"));
    // Now even the right password is refused from this IP...
    let locked = t.password("").json_body();
    assert_eq!(locked["error"], "invalid_grant");
    assert!(locked["error_description"]
        .as_str()
        .unwrap()
        .contains("blocked"));
    // ...but not from another IP.
    let t2 = Tenant {
        ip: "198.51.100.1".into(),
        ..t
    };
    assert_eq!(t2.password("").status, 200);
    // And after the lock expires, from the first IP again.
    let t3 = Tenant {
        ip: "203.0.113.7".into(),
        ..t2
    };
    t3.clock.advance(15 * 60);
    assert_eq!(t3.password("").status, 200);
}

#[test]
fn a_burst_of_wrong_passwords_verifies_at_most_the_limit() {
    let t = Tenant::new();
    let crypto = YieldingCrypto::default();
    let bad = "grant_type=password&username=ada%40example.com&password=nope";
    let burst = (0..40)
        .map(|_| token_request(bad, (APP_ID, APP_SECRET)))
        .collect();
    let answers = t.send_all(&crypto, burst);
    assert!(answers
        .iter()
        .all(|r| r.json_body()["error"] == "invalid_grant"));
    assert_eq!(
        crypto.pbkdf2_runs.get(),
        10,
        "every request counted its attempt before any verified its password"
    );
    let wrong = answers
        .iter()
        .filter(|r| r.json_body()["error_description"] == "Wrong email or password.")
        .count();
    assert_eq!(
        wrong, 9,
        "the tenth verified attempt says the user is now locked"
    );
    // Locked: the right password is refused without being verified.
    let right = t.send_all(
        &crypto,
        vec![token_request(
            &format!(
                "grant_type=password&username={}&password={}",
                enc(USER_EMAIL),
                enc(USER_PASSWORD)
            ),
            (APP_ID, APP_SECRET),
        )],
    );
    assert!(right[0].json_body()["error_description"]
        .as_str()
        .unwrap()
        .contains("blocked"));
    assert_eq!(crypto.pbkdf2_runs.get(), 10);
}

#[test]
fn a_success_resets_the_failure_count() {
    let t = Tenant::new();
    let bad = "grant_type=password&username=ada%40example.com&password=nope";
    for _ in 0..9 {
        t.token(bad, Some((APP_ID, APP_SECRET)));
    }
    assert_eq!(t.password("").status, 200);
    for _ in 0..9 {
        t.token(bad, Some((APP_ID, APP_SECRET)));
    }
    assert_eq!(t.password("").status, 200, "nine new failures do not lock");
}

#[test]
fn blocked_user_gets_invalid_grant() {
    let t = Tenant::new();
    t.edit_user(|u| u.blocked = true);
    let body = t.password("").json_body();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_description"], "user is blocked");
}

#[test]
fn login_is_recorded() {
    let t = Tenant::new();
    t.password("");
    t.password("");
    let user = pollster::block_on(t.store.user(USER_ID)).unwrap().unwrap();
    assert_eq!(user.logins_count, 2);
    assert_eq!(user.last_login, Some(NOW));
}

#[test]
fn bcrypt_hash_is_upgraded_at_the_next_login() {
    let t = Tenant::new();
    // A bcrypt hash as identity-vendor exports carry them (cost 4 keeps the test fast).
    let bcrypt_hash = bcrypt::hash(USER_PASSWORD, 4).unwrap();
    t.edit_user(|u| u.password_hash = Some(bcrypt_hash.clone()));
    assert_eq!(t.password("").status, 200);
    let upgraded = user_hash(&t);
    assert!(upgraded.starts_with("$pbkdf2-sha256$i=1000$"), "{upgraded}");
    assert_eq!(t.password("").status, 200, "the upgraded hash verifies");
}

#[test]
fn lower_cost_hash_is_upgraded_at_the_next_login() {
    let mut t = Tenant::new();
    t.config.password_iterations = TEST_ITERATIONS * 2;
    assert_eq!(t.password("").status, 200);
    assert!(user_hash(&t).starts_with("$pbkdf2-sha256$i=2000$"));
}

#[test]
fn rs256_id_token_for_a_client_that_asks_for_it() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| c.id_token_signed_response_alg = "RS256".into());
    let body = t.password("&scope=openid").json_body();
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let claims: Value = verify_jwt(&t, id_token, APP_ID);
    assert_eq!(claims["sub"], USER_ID);
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(at).unwrap().alg,
        jsonwebtoken::Algorithm::ES256
    );
}

#[test]
fn auth0_password_realm_grant_is_the_password_grant_in_the_named_connection() {
    let t = Tenant::new();
    let form = |realm: &str| {
        format!(
            "grant_type={}&username={}&password={}&realm={realm}&scope=openid",
            enc("http://auth0.com/oauth/grant-type/password-realm"),
            enc(USER_EMAIL),
            enc(USER_PASSWORD)
        )
    };
    let ok = t.token(
        &form(edge_issuer::model::config::DEFAULT_CONNECTION),
        Some((APP_ID, APP_SECRET)),
    );
    assert_eq!(ok.status, 200, "{:?}", ok.json_body());
    // A realm that is no connection, or one not enabled for the client, is named.
    let unknown = t.token(&form("another-db"), Some((APP_ID, APP_SECRET)));
    assert_eq!(unknown.status, 400);
    let body = unknown.json_body();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "the connection another-db does not exist or is not enabled for this client"
    );
    // Another database connection enabled for the client: the user is not there.
    use edge_issuer::port::ConnectionStore;
    let other = edge_issuer::model::Connection {
        id: "con_another".into(),
        name: "another-db".into(),
        strategy: "auth0".into(),
        display_name: None,
        options: Default::default(),
        metadata: Default::default(),
        enabled_clients: vec![APP_ID.into()],
        created_at: NOW,
    };
    pollster::block_on(t.store.create_connection(&other)).unwrap();
    let elsewhere = t.token(&form("another-db"), Some((APP_ID, APP_SECRET)));
    assert_eq!(
        elsewhere.json_body()["error"],
        "invalid_grant",
        "no such user there"
    );
}

#[test]
fn id_tokens_default_to_rs256_for_a_client_that_names_no_algorithm() {
    let t = Tenant::new();
    let client: edge_issuer::model::Client = serde_json::from_value(serde_json::json!({
        "client_id": "x", "name": "x", "secret_hash": null, "grant_types": [],
        "default_audience": null
    }))
    .unwrap();
    assert_eq!(client.id_token_signed_response_alg, "RS256");
    let body = t.password("&scope=openid").json_body();
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
}
