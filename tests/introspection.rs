//! Introspection (RFC 7662), the revocation of a refresh family's access tokens, and the
//! revoked list gateways read, with the in-memory store and a fake clock.

mod common;

use common::*;
use edge_issuer::model::Client;
use serde_json::{json, Value};

const OFFLINE: &str = "&scope=openid%20offline_access";

fn introspect(t: &Tenant, token: &str, who: (&str, &str)) -> Value {
    let resp = form_post(
        t,
        "/oauth/introspect",
        &format!("token={}", enc(token)),
        Some(who),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    resp.json_body()
}

fn revoke(t: &Tenant, token: &str) {
    assert_eq!(revoke_request(t, token, (APP_ID, APP_SECRET)).status, 200);
}

fn text(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap().to_string()
}

fn jti(jwt: &str) -> String {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    text(&serde_json::from_slice(&bytes).unwrap(), "jti")
}

fn userinfo_status(t: &Tenant, jwt: &str) -> (u16, String) {
    let resp = t.userinfo("GET", &[("authorization", &format!("Bearer {jwt}"))], "");
    let challenge = resp.header("www-authenticate").unwrap_or("").to_string();
    (resp.status, challenge)
}

fn revoked_list(t: &Tenant) -> Vec<Value> {
    let resp = t.get("/.well-known/revoked-jtis");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("public, max-age=60"));
    assert!(resp.header("etag").is_some());
    let body = resp.json_body();
    assert_eq!(body["issuer"], ISSUER);
    body["revoked"].as_array().unwrap().clone()
}

#[test]
fn revoking_a_refresh_token_revokes_the_access_tokens_of_its_family() {
    let t = Tenant::new();
    let first = t.password(OFFLINE).json_body();
    t.clock.advance(10);
    let second = t.refresh(&text(&first, "refresh_token"), "").json_body();
    let other = t.password(OFFLINE).json_body();
    let (at1, at2, at3) = (
        text(&first, "access_token"),
        text(&second, "access_token"),
        text(&other, "access_token"),
    );
    for at in [&at1, &at2, &at3] {
        assert_eq!(userinfo_status(&t, at).0, 200);
    }
    assert!(revoked_list(&t).is_empty());

    revoke(&t, &text(&second, "refresh_token"));
    for at in [&at1, &at2] {
        let (status, challenge) = userinfo_status(&t, at);
        assert_eq!(status, 401);
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        assert!(challenge.contains("revoked"), "{challenge}");
        assert_eq!(
            introspect(&t, at, (M2M_ID, M2M_SECRET)),
            json!({ "active": false })
        );
    }
    assert_eq!(userinfo_status(&t, &at3).0, 200, "another login's token");
    assert_eq!(introspect(&t, &at3, (M2M_ID, M2M_SECRET))["active"], true);

    let mut listed: Vec<(String, u64)> = revoked_list(&t)
        .iter()
        .map(|r| (text(r, "jti"), r["exp"].as_u64().unwrap()))
        .collect();
    listed.sort();
    let mut expected = vec![(jti(&at1), NOW + 86_400), (jti(&at2), NOW + 10 + 86_400)];
    expected.sort();
    assert_eq!(listed, expected);
    // An entry leaves the list when its token expires.
    t.clock.advance(86_390);
    let left: Vec<String> = revoked_list(&t).iter().map(|r| text(r, "jti")).collect();
    assert_eq!(left, [jti(&at2)]);
    t.clock.advance(10);
    assert!(revoked_list(&t).is_empty());
}

#[test]
fn reuse_detection_revokes_the_familys_access_tokens_too() {
    let t = Tenant::new();
    let first = t.password(OFFLINE).json_body();
    let second = t.refresh(&text(&first, "refresh_token"), "").json_body();
    // The old refresh token again: reuse, the family is revoked.
    let reuse = t.refresh(&text(&first, "refresh_token"), "");
    assert_eq!(reuse.json_body()["error"], "invalid_grant");
    assert_eq!(userinfo_status(&t, &text(&second, "access_token")).0, 401);
}

#[test]
fn introspection_answers_for_active_access_tokens_and_nothing_else() {
    let t = Tenant::new();
    let at = text(
        &t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
            .json_body(),
        "access_token",
    );
    let active = introspect(&t, &at, (APP_ID, APP_SECRET));
    assert_eq!(active["active"], true);
    assert_eq!(active["token_type"], "Bearer");
    assert_eq!(active["client_id"], M2M_ID);
    assert_eq!(active["sub"], M2M_ID);
    assert_eq!(active["aud"], API);
    assert_eq!(active["scope"], "read:data");
    assert_eq!(active["iss"], ISSUER);
    assert_eq!(active["exp"], NOW + 3600);
    assert_eq!(active["iat"], NOW);
    assert_eq!(active["jti"], jti(&at).as_str());

    let inactive = json!({ "active": false });
    // Garbage, a tampered token, a token of another issuer, an expired token.
    assert_eq!(
        introspect(&t, "not-a-token", (APP_ID, APP_SECRET)),
        inactive
    );
    let mut tampered = at.clone();
    let at_end = tampered.len() - 3;
    let swap = if &at[at_end..at_end + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(at_end..at_end + 1, swap);
    assert_eq!(introspect(&t, &tampered, (APP_ID, APP_SECRET)), inactive);
    let elsewhere = Tenant::new();
    let foreign = text(
        &elsewhere
            .token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
            .json_body(),
        "access_token",
    );
    assert_eq!(introspect(&t, &foreign, (APP_ID, APP_SECRET)), inactive);
    t.clock.advance(3600);
    assert_eq!(introspect(&t, &at, (APP_ID, APP_SECRET)), inactive);
}

#[test]
fn a_refresh_token_is_introspected_only_by_its_own_client() {
    let t = Tenant::new();
    let login = t.password(OFFLINE).json_body();
    let rt = text(&login, "refresh_token");
    let mine = introspect(&t, &rt, (APP_ID, APP_SECRET));
    assert_eq!(mine["active"], true);
    assert_eq!(mine["token_type"], "refresh_token");
    assert_eq!(mine["client_id"], APP_ID);
    assert_eq!(mine["sub"], USER_ID);
    assert_eq!(mine["scope"], "openid offline_access");
    let theirs = introspect(&t, &rt, (M2M_ID, M2M_SECRET));
    assert_eq!(
        theirs,
        json!({ "active": false }),
        "another client learns nothing"
    );
    // Once rotated, the old token is no longer active; the new one is.
    let next = text(&t.refresh(&rt, "").json_body(), "refresh_token");
    assert_eq!(introspect(&t, &rt, (APP_ID, APP_SECRET))["active"], false);
    assert_eq!(introspect(&t, &next, (APP_ID, APP_SECRET))["active"], true);
    revoke(&t, &next);
    assert_eq!(introspect(&t, &next, (APP_ID, APP_SECRET))["active"], false);
}

#[test]
fn introspection_is_for_authenticated_confidential_clients() {
    let t = Tenant::new();
    t.store.put_client(Client {
        client_id: "spa".into(),
        name: "SPA".into(),
        grant_types: vec!["authorization_code".into()],
        ..client_defaults()
    });
    let at = text(
        &t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
            .json_body(),
        "access_token",
    );
    let form = format!("token={}", enc(&at));
    let public = form_post(
        &t,
        "/oauth/introspect",
        &format!("{form}&client_id=spa"),
        None,
    );
    assert_eq!(public.status, 401);
    assert_eq!(public.json_body()["error"], "invalid_client");
    let nobody = form_post(&t, "/oauth/introspect", &form, None);
    assert_eq!(nobody.status, 401);
    let wrong = form_post(&t, "/oauth/introspect", &form, Some((APP_ID, "wrong")));
    assert_eq!(wrong.status, 401);
    let no_token = form_post(&t, "/oauth/introspect", "", Some((APP_ID, APP_SECRET)));
    assert_eq!(no_token.status, 400);
    assert_eq!(no_token.json_body()["error"], "invalid_request");
    let get = t.get("/oauth/introspect");
    assert_eq!(get.status, 405);
    let meta = t.get("/.well-known/openid-configuration").json_body();
    assert_eq!(
        meta["introspection_endpoint"],
        "https://id.example.com/oauth/introspect"
    );
}

#[test]
fn a_revoked_users_token_is_refused_by_the_management_api() {
    let t = management_tenant();
    let login = t
        .password(&format!(
            "&scope=offline_access%20read:current_user&audience={}",
            enc(MGMT)
        ))
        .json_body();
    let at = text(&login, "access_token");
    let path = format!("/api/v2/users/{}", enc(USER_ID));
    assert_eq!(manage(&t, "GET", &path, &at, None).status, 200);
    revoke(&t, &text(&login, "refresh_token"));
    let refused = manage(&t, "GET", &path, &at, None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json_body()["errorCode"], "invalid_token");
}
