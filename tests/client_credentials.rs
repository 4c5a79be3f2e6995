//! The client_credentials grant through the public API with the in-memory store; tokens are
//! verified with `jsonwebtoken`, a library independent of the signer.

mod common;

use common::*;
use jsonwebtoken::jwk::{JwkSet, ThumbprintHash};
use jsonwebtoken::{decode_header, Algorithm};
use serde_json::{json, Value};

fn verify(tenant: &Tenant, jwt: &str) -> Value {
    verify_jwt(tenant, jwt, API)
}

fn ok_token(tenant: &Tenant, form: &str) -> Value {
    let resp = tenant.token(form, Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json_body()
}

#[test]
fn token_claims_follow_rfc9068() {
    let t = Tenant::new();
    let body = ok_token(&t, "grant_type=client_credentials");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read:data");
    assert!(body.get("refresh_token").is_none());

    let jwt = body["access_token"].as_str().unwrap();
    let header = decode_header(jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::ES256);

    let claims = verify(&t, jwt);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["sub"], M2M_ID);
    assert_eq!(claims["client_id"], M2M_ID);
    assert_eq!(claims["aud"], API);
    assert_eq!(claims["gty"], "client-credentials");
    assert_eq!(claims["scope"], "read:data");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["nbf"], NOW);
    assert_eq!(claims["exp"], NOW + 3600);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);
}

#[test]
fn each_token_has_its_own_jti() {
    let t = Tenant::new();
    let a = verify(
        &t,
        ok_token(&t, "grant_type=client_credentials")["access_token"]
            .as_str()
            .unwrap(),
    );
    let b = verify(
        &t,
        ok_token(&t, "grant_type=client_credentials")["access_token"]
            .as_str()
            .unwrap(),
    );
    assert_ne!(a["jti"], b["jti"]);
}

#[test]
fn token_responses_are_never_cached_error_or_not() {
    let t = Tenant::new();
    for resp in [
        t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET))),
        t.token("grant_type=client_credentials", Some((M2M_ID, "wrong"))),
        t.token("grant_type=nope", None),
    ] {
        assert_eq!(resp.header("cache-control"), Some("no-store"));
        assert_eq!(resp.header("pragma"), Some("no-cache"));
    }
}

#[test]
fn error_table_matches_rfc6749_5_2() {
    let t = Tenant::new();
    let good = Some((M2M_ID, M2M_SECRET));
    type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("", good, 400, "invalid_request"),
        ("grant_type=authorization_code", good, 400, "unauthorized_client"),
        ("grant_type=implicit", good, 400, "unsupported_grant_type"),
        ("grant_type=password&username=a&password=b", good, 400, "unauthorized_client"),
        ("grant_type=client_credentials", None, 401, "invalid_client"),
        ("grant_type=client_credentials", Some((M2M_ID, "bad")), 401, "invalid_client"),
        ("grant_type=client_credentials", Some(("ghost", M2M_SECRET)), 401, "invalid_client"),
        ("grant_type=client_credentials&scope=write:data", good, 400, "invalid_scope"),
        ("grant_type=client_credentials&scope=bad\"scope", good, 400, "invalid_scope"),
        ("grant_type=client_credentials&audience=https://other.example", good, 400, "invalid_request"),
        ("grant_type=client_credentials&resource=https://other.example", good, 400, "invalid_target"),
        ("grant_type=client_credentials&resource=not-a-uri", good, 400, "invalid_target"),
        (
            "grant_type=client_credentials&audience=https://api.example.com&resource=https://x.example",
            good,
            400,
            "invalid_request",
        ),
        ("grant_type=client_credentials&scope=a&scope=b", good, 400, "invalid_request"),
        (
            "grant_type=client_credentials&client_secret=m2m-secret",
            good,
            400,
            "invalid_request",
        ),
    ];
    for (form, basic, status, error) in cases {
        let resp = t.token(form, basic);
        assert_eq!(resp.status, status, "{form}");
        let body = resp.json_body();
        assert_eq!(body["error"], error, "{form}: {body}");
        if status == 401 {
            let challenge = resp.header("www-authenticate").unwrap_or("");
            assert!(challenge.starts_with("Basic realm="), "{form}");
        }
    }
    // Nothing failed was signed: no key was ever needed.
    assert_eq!(t.store.key_count(), 0);
}

#[test]
fn client_not_allowed_the_grant_is_unauthorized_client() {
    let t = Tenant::new();
    let mut client = pollster::block_on(async {
        use edge_issuer::port::ClientStore;
        t.store.client(M2M_ID).await.unwrap().unwrap()
    });
    client.grant_types = vec!["authorization_code".into()];
    t.store.put_client(client);
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.json_body()["error"], "unauthorized_client");
}

#[test]
fn audience_without_a_client_grant_is_unauthorized_client() {
    let t = Tenant::new();
    t.store.put_api(edge_issuer::model::Api {
        identifier: "https://billing.example.com".into(),
        name: "Billing".into(),
        scopes: vec![],
        token_lifetime: 60,
        rbac_enabled: false,
        token_permissions: false,
        user_grantable_scopes: vec![],
        signing_alg: "ES256".into(),
    });
    let resp = t.token(
        "grant_type=client_credentials&audience=https%3A%2F%2Fbilling.example.com",
        Some((M2M_ID, M2M_SECRET)),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json_body()["error"], "unauthorized_client");
}

#[test]
fn server_errors_hide_detail_from_the_client_and_log_it() {
    let mut t = Tenant::new();
    t.kek =
        edge_issuer::oauth::keys::Kek::from_base64("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc")
            .unwrap();
    // A key sealed under another KEK cannot be opened: the request fails closed.
    let other = Tenant::new();
    ok_token(&other, "grant_type=client_credentials");
    let stored = pollster::block_on(async {
        use edge_issuer::port::KeyStore;
        let keys = other.store.signing_keys("ES256").await.unwrap();
        keys.into_iter().next().unwrap()
    });
    pollster::block_on(async {
        use edge_issuer::port::KeyStore;
        t.store.insert_key(&stored).await.unwrap()
    });
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json_body(), json!({ "error": "server_error" }));
    assert!(t
        .log
        .borrow()
        .iter()
        .any(|l| l.contains("cannot be decrypted")));
}

#[test]
fn jwks_kid_is_the_rfc7638_thumbprint() {
    let t = Tenant::new();
    let jwks: JwkSet = serde_json::from_slice(&t.get("/.well-known/jwks.json").body).unwrap();
    // ES256 (access and ID tokens) and RS256 (ID tokens of clients that ask): for each, the
    // current key and the next one, published ahead of the next rotation.
    assert_eq!(jwks.keys.len(), 4);
    for jwk in &jwks.keys {
        assert_eq!(
            jwk.common.key_id.as_deref(),
            Some(jwk.thumbprint(ThumbprintHash::SHA256).unwrap().as_str())
        );
    }
}

#[test]
fn jwks_is_cacheable_with_an_etag() {
    let t = Tenant::new();
    let first = t.get("/.well-known/jwks.json");
    assert_eq!(first.header("cache-control"), Some("public, max-age=300"));
    let etag = first.header("etag").unwrap().to_string();
    let again = t.send(edge_issuer::web::HttpRequest {
        method: "GET".into(),
        path: "/.well-known/jwks.json".into(),
        headers: vec![("if-none-match".into(), etag.clone())],
        ..Default::default()
    });
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
}

#[test]
fn the_key_is_generated_once_and_reused() {
    let t = Tenant::new();
    ok_token(&t, "grant_type=client_credentials");
    ok_token(&t, "grant_type=client_credentials");
    assert_eq!(t.store.key_count(), 1, "one ES256 key for access tokens");
    t.get("/.well-known/jwks.json");
    t.get("/.well-known/jwks.json");
    assert_eq!(
        t.store.key_count(),
        4,
        "the JWKS adds the next ES256 key and the RS256 keys once"
    );
}

#[test]
fn discovery_lists_exactly_what_exists() {
    let t = Tenant::new();
    let meta = t.get("/.well-known/openid-configuration").json_body();
    assert_eq!(
        meta["issuer"], ISSUER,
        "issuer kept exactly, trailing slash and all"
    );
    assert_eq!(meta["token_endpoint"], "https://id.example.com/oauth/token");
    assert_eq!(
        meta["jwks_uri"],
        "https://id.example.com/.well-known/jwks.json"
    );
    assert_eq!(
        meta["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
            "http://auth0.com/oauth/grant-type/passwordless/otp",
            "http://auth0.com/oauth/grant-type/mfa-otp",
            "http://auth0.com/oauth/grant-type/mfa-recovery-code",
            "implicit"
        ])
    );
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );
    assert_eq!(meta["request_uri_parameter_supported"], false);
    assert_eq!(
        meta["authorization_endpoint"],
        "https://id.example.com/authorize"
    );
    // Every advertised endpoint answers on this issuer.
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "revocation_endpoint",
    ] {
        let path = meta[key]
            .as_str()
            .unwrap()
            .trim_start_matches("https://id.example.com");
        let resp = t.send(edge_issuer::web::HttpRequest {
            method: if key == "jwks_uri" { "GET" } else { "POST" }.into(),
            path: path.into(),
            ..Default::default()
        });
        assert_ne!(resp.status, 404, "{key}");
        assert_ne!(resp.status, 405, "{key}");
    }
    assert_eq!(
        t.get("/.well-known/oauth-authorization-server").json_body(),
        meta
    );
}

#[test]
fn wrong_method_is_405_and_unknown_path_404() {
    let t = Tenant::new();
    let get_token = t.get("/oauth/token");
    assert_eq!(get_token.status, 405);
    assert_eq!(get_token.header("allow"), Some("POST"));
    assert_eq!(t.get("/nope").status, 404);
}

#[test]
fn an_unknown_client_id_and_a_wrong_secret_answer_identically() {
    let t = Tenant::new();
    let form = "grant_type=client_credentials";
    let unknown = t.token(form, Some(("no-such-client", "whatever")));
    let wrong = t.token(form, Some((M2M_ID, "whatever")));
    let public_probe = t.token(&format!("{form}&client_id=no-such-client"), None);
    assert_eq!(unknown, wrong, "status, headers and body alike");
    assert_eq!(unknown.status, 401);
    assert_eq!(public_probe.json_body(), wrong.json_body());
}
