//! /userinfo (OIDC Core §5.3) as an RFC 6750 protected resource, with the in-memory store.

mod common;

use common::*;
use serde_json::json;

fn user_token(t: &Tenant, scope: &str) -> String {
    let body = t.password(&format!("&scope={}", enc(scope))).json_body();
    body["access_token"].as_str().unwrap().to_string()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn error_of(resp: &edge_issuer::web::HttpResponse) -> (u16, String) {
    (
        resp.status,
        resp.header("www-authenticate").unwrap_or("").to_string(),
    )
}

#[test]
fn claims_follow_the_token_scope_and_are_read_fresh() {
    let t = Tenant::new();
    let token = user_token(&t, "openid email");
    let resp = t.userinfo("GET", &[("authorization", &bearer(&token))], "");
    assert_eq!(resp.status, 200, "{:?}", t.log.borrow());
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(
        resp.json_body(),
        json!({ "sub": USER_ID, "email": USER_EMAIL, "email_verified": true })
    );
    t.edit_user(|u| u.email = Some("ada@analytical.engine".into()));
    let again = t
        .userinfo("GET", &[("authorization", &bearer(&token))], "")
        .json_body();
    assert_eq!(again["email"], "ada@analytical.engine");
}

#[test]
fn bearer_scheme_is_case_insensitive_and_post_form_works() {
    let t = Tenant::new();
    let token = user_token(&t, "openid profile");
    let lower = t.userinfo("GET", &[("authorization", &format!("bearer {token}"))], "");
    assert_eq!(lower.status, 200);
    assert_eq!(lower.json_body()["name"], "Ada Lovelace");
    let form = t.userinfo(
        "POST",
        &[("content-type", "application/x-www-form-urlencoded")],
        &format!("access_token={token}"),
    );
    assert_eq!(form.status, 200);
}

#[test]
fn error_table_follows_rfc6750() {
    let t = Tenant::new();
    let token = user_token(&t, "openid");
    let m2m = t
        .token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
        .json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let id_token = t.password("&scope=openid").json_body()["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let api_only = t
        .password("&scope=read:data&audience=https%3A%2F%2Fapi.example.com")
        .json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut tampered = token.clone();
    // Another character in the signature (the one there decides which, so it always changes).
    let at = token.len() - 5;
    tampered.replace_range(
        at..at + 1,
        if &token[at..at + 1] == "A" { "B" } else { "A" },
    );

    // No token at all: 401, a challenge, no error code (§3.1).
    let (status, challenge) = error_of(&t.userinfo("GET", &[], ""));
    assert_eq!(status, 401);
    assert_eq!(challenge, "Bearer realm=\"https://id.example.com/\"");

    let cases: Vec<(&str, String, &str)> = vec![
        ("garbage", bearer("not.a.jwt"), "invalid_token"),
        ("tampered signature", bearer(&tampered), "invalid_token"),
        ("an ID token", bearer(&id_token), "invalid_token"),
        (
            "a token for another API only",
            bearer(&api_only),
            "invalid_token",
        ),
        ("a client_credentials token", bearer(&m2m), "invalid_token"),
    ];
    for (what, header, code) in cases {
        let resp = t.userinfo("GET", &[("authorization", &header)], "");
        let (status, challenge) = error_of(&resp);
        assert_eq!(status, 401, "{what}");
        assert!(
            challenge.contains(&format!("error=\"{code}\"")),
            "{what}: {challenge}"
        );
    }
    let m2m_resp = t.userinfo("GET", &[("authorization", &bearer(&m2m))], "");
    let description = m2m_resp.json_body()["error_description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(description.contains("no end-user subject"), "{description}");

    // Both header and body: invalid_request, 400.
    let both = t.userinfo(
        "POST",
        &[
            ("authorization", &bearer(&token)),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        &format!("access_token={token}"),
    );
    assert_eq!(both.status, 400);
    assert!(error_of(&both).1.contains("error=\"invalid_request\""));
}

#[test]
fn expired_tokens_and_removed_users_are_invalid_token() {
    let t = Tenant::new();
    let token = user_token(&t, "openid");
    t.clock.advance(86_400);
    let (status, challenge) =
        error_of(&t.userinfo("GET", &[("authorization", &bearer(&token))], ""));
    assert_eq!(status, 401);
    assert!(challenge.contains("expired"));

    let t = Tenant::new();
    let token = user_token(&t, "openid");
    t.store.drop_user(USER_ID);
    let (status, _) = error_of(&t.userinfo("GET", &[("authorization", &bearer(&token))], ""));
    assert_eq!(status, 401);
}

#[test]
fn a_token_of_another_issuer_is_refused() {
    let t = Tenant::new();
    let token = user_token(&t, "openid");
    let other = Tenant::new(); // its own keys
    let (status, challenge) =
        error_of(&other.userinfo("GET", &[("authorization", &bearer(&token))], ""));
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"));
}

#[test]
fn cors_answers_registered_web_origins_only() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| {
        c.web_origins = vec!["https://app.example.com".into()]
    });
    fn origin(o: &str) -> [(&'static str, &str); 1] {
        [("origin", o)]
    }
    let ok = t.userinfo("OPTIONS", &origin("https://app.example.com"), "");
    assert_eq!(ok.status, 204);
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(ok
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    assert_eq!(ok.header("access-control-allow-credentials"), None);

    // Another origin, a near miss, or none: no CORS headers at all.
    for other in [
        "https://evil.example",
        "https://app.example.com:8443",
        "null",
    ] {
        let refused = t.userinfo("OPTIONS", &origin(other), "");
        assert_eq!(
            refused.header("access-control-allow-origin"),
            None,
            "{other}"
        );
        assert_eq!(
            refused.header("access-control-allow-methods"),
            None,
            "{other}"
        );
    }
    assert_eq!(
        t.userinfo("OPTIONS", &[], "")
            .header("access-control-allow-origin"),
        None
    );
}

#[test]
fn discovery_and_the_jwks_are_public_documents_any_origin_may_read() {
    let t = Tenant::new();
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ] {
        for origin in ["https://verifier.elsewhere.example", "null"] {
            for method in ["GET", "OPTIONS"] {
                let resp = t.send(edge_issuer::web::HttpRequest {
                    method: method.into(),
                    path: path.into(),
                    headers: vec![("origin".into(), origin.into())],
                    ..Default::default()
                });
                assert_eq!(
                    resp.header("access-control-allow-origin"),
                    Some("*"),
                    "{method} {path} from {origin}"
                );
                assert_eq!(resp.header("access-control-allow-credentials"), None);
            }
        }
    }
    // The revoked list is for gateways, not browsers: no CORS for an unregistered origin.
    let listed = t.send(edge_issuer::web::HttpRequest {
        method: "GET".into(),
        path: "/.well-known/revoked-jtis".into(),
        headers: vec![("origin".into(), "https://verifier.elsewhere.example".into())],
        ..Default::default()
    });
    assert_eq!(listed.header("access-control-allow-origin"), None);
}

#[test]
fn an_api_that_asks_for_rs256_gets_rs256_access_tokens_which_userinfo_accepts() {
    let t = Tenant::new();
    t.store.put_api(edge_issuer::model::Api {
        signing_alg: "RS256".into(),
        ..api(API, &["read:data"], false, &["read:data"])
    });
    let body = t
        .password(&format!("&audience={}&scope=openid%20read:data", enc(API)))
        .json_body();
    let at = body["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(at).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let claims = verify_jwt(&t, at, API);
    assert_eq!(claims["scope"], "openid read:data");
    let info = t.userinfo("GET", &[("authorization", &format!("Bearer {at}"))], "");
    assert_eq!(info.status, 200, "{:?}", info.json_body());
    assert_eq!(info.json_body()["sub"], USER_ID);

    // A token whose header names RS256, signed (over that very header) by the ES256 key its
    // `kid` names: the signature is good, so only the check of the alg against the key's can
    // refuse it. The same token with its header left at ES256 is accepted.
    let es = t.password("&scope=openid").json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let resign = |alg: &str| {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use edge_issuer::port::crypto::{Alg, Crypto, SigningKey};
        use edge_issuer::port::KeyStore;
        let parts: Vec<&str> = es.split('.').collect();
        let mut header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let kid = header["kid"].as_str().unwrap().to_string();
        let stored = pollster::block_on(t.store.all_keys())
            .unwrap()
            .into_iter()
            .find(|k| k.kid == kid)
            .unwrap();
        let key = SigningKey {
            kid: kid.clone(),
            alg: Alg::ES256,
            pkcs8: edge_issuer::model::secret::Secret::new(
                t.kek.open(&kid, &stored.private_key_enc).unwrap(),
            ),
        };
        header["alg"] = alg.into();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            parts[1]
        );
        let signature = pollster::block_on(
            edge_issuer::port::native_crypto::NativeCrypto.sign(&key, input.as_bytes()),
        )
        .unwrap();
        // The low-s form, as the issuer's verifier requires (a high s is a second encoding).
        let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        let signature = signature.normalize_s().unwrap_or(signature);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    };
    let call = |token: String| t.userinfo("GET", &[("authorization", &bearer(&token))], "");
    assert_eq!(
        call(resign("ES256")).status,
        200,
        "the re-signed token as it was"
    );
    // The key `kid` names is an ES256 key: no key of this issuer is both that kid and RS256.
    let (status, challenge) = error_of(&call(resign("RS256")));
    assert_eq!(status, 401);
    assert!(
        challenge.contains("error=\"invalid_token\"")
            && challenge.contains("not signed by a key of this issuer"),
        "{challenge}"
    );
}

#[test]
fn every_response_carries_the_security_headers() {
    let t = Tenant::new();
    let token = t.password("&scope=openid").json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let responses = [
        ("discovery", t.get("/.well-known/openid-configuration")),
        ("jwks", t.get("/.well-known/jwks.json")),
        ("an unknown path", t.get("/nope")),
        ("a login page", t.get("/authorize?client_id=demo-app")),
        ("a token error", t.token("grant_type=nope", None)),
        (
            "userinfo",
            t.userinfo("GET", &[("authorization", &format!("Bearer {token}"))], ""),
        ),
        ("a refused userinfo", t.userinfo("GET", &[], "")),
        ("the management API", t.get("/api/v2/users")),
    ];
    for (what, resp) in responses {
        assert_eq!(
            resp.header("x-content-type-options"),
            Some("nosniff"),
            "{what}"
        );
        assert_eq!(
            resp.header("referrer-policy"),
            Some("no-referrer"),
            "{what}"
        );
        // The test issuer is https.
        assert_eq!(
            resp.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{what}"
        );
        let named = |n: &str| resp.headers.iter().filter(|(h, _)| h == n).count();
        assert_eq!(named("referrer-policy"), 1, "{what}: once");
    }
    let mut plain = Tenant::new();
    plain.config = edge_issuer::model::config::Config::new("http://127.0.0.1:8787/").unwrap();
    let resp = plain.get("/.well-known/openid-configuration");
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        resp.header("strict-transport-security"),
        None,
        "no HSTS over http"
    );
}
