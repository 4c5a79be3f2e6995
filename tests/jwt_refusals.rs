//! The JWT checks at every endpoint that accepts our access tokens (/userinfo, the management
//! API, introspection): one table of hostile tokens, each refused everywhere, next to the one
//! well-formed token that every endpoint accepts (so a refusal is the check's doing).

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use edge_issuer::model::secret::Secret;
use edge_issuer::port::clock::Clock;
use edge_issuer::port::crypto::{Alg, Crypto, SigningKey};
use edge_issuer::port::native_crypto::NativeCrypto;
use edge_issuer::port::KeyStore;
use hmac::{Hmac, Mac};
use p256::ecdsa::Signature;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde_json::{json, Value};

const USERINFO: &str = "https://id.example.com/userinfo";

/// The tenant's current ES256 key, opened as the issuer opens it.
fn our_key(t: &Tenant) -> (SigningKey, String) {
    t.get("/.well-known/jwks.json");
    let stored = pollster::block_on(t.store.signing_keys("ES256"))
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let pkcs8 = t.kek.open(&stored.kid, &stored.private_key_enc).unwrap();
    let key = SigningKey {
        kid: stored.kid.clone(),
        alg: Alg::ES256,
        pkcs8: Secret::new(pkcs8),
    };
    (key, stored.public_jwk)
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// `header.claims` signed with `key` (ES256, low `s`), compact.
fn es256(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = pollster::block_on(NativeCrypto.sign(key, input.as_bytes())).unwrap();
    let sig = Signature::from_slice(&sig).unwrap();
    let sig = sig.normalize_s().unwrap_or(sig);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

fn header(kid: &str) -> Value {
    json!({ "alg": "ES256", "typ": "at+jwt", "kid": kid })
}

/// A user's token good at /userinfo and for the user's own profile on the management API.
fn claims(t: &Tenant, jti: &str) -> Value {
    let now = t.clock.now();
    json!({
        "iss": ISSUER, "sub": USER_ID, "aud": [MGMT, USERINFO], "client_id": APP_ID,
        "scope": "openid read:current_user", "gty": "password",
        "iat": now, "nbf": now, "exp": now + 600, "jti": jti,
    })
}

/// What each endpoint says about `jwt`: accepted at /userinfo, accepted by the management
/// API, active at introspection.
fn verdicts(t: &Tenant, jwt: &str) -> (bool, bool, bool) {
    let bearer = format!("Bearer {jwt}");
    let userinfo = t.userinfo("GET", &[("authorization", &bearer)], "");
    let path = format!("/api/v2/users/{}", enc(USER_ID));
    let management = manage(t, "GET", &path, jwt, None);
    let form = format!("token={}", enc(jwt));
    let introspection = form_post(t, "/oauth/introspect", &form, Some((M2M_ID, M2M_SECRET)));
    for (resp, what) in [(&userinfo, "userinfo"), (&management, "management")] {
        if resp.status == 200 {
            continue;
        }
        // A refusal is exactly RFC 6750's: 401 with an `invalid_token` challenge.
        assert_eq!(resp.status, 401, "{what}: {:?}", resp.json_body());
        let challenge = resp.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with(&format!("Bearer realm=\"{}", ISSUER.trim_end_matches('/')))
                && challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
    }
    if userinfo.status == 401 {
        assert_eq!(userinfo.json_body()["error"], "invalid_token");
    }
    if management.status == 401 {
        assert_eq!(management.json_body()["statusCode"], 401);
        assert_eq!(management.json_body()["error"], "Unauthorized");
    }
    assert_eq!(introspection.status, 200);
    (
        userinfo.status == 200,
        management.status == 200,
        introspection.json_body()["active"] == true,
    )
}

#[test]
fn every_endpoint_refuses_each_hostile_token() {
    let t = management_tenant();
    let (key, public_jwk) = our_key(&t);
    let kid = key.kid.clone();
    let valid = es256(&key, &header(&kid), &claims(&t, "ok"));
    assert_eq!(
        verdicts(&t, &valid),
        (true, true, true),
        "the well-formed token"
    );

    let now = t.clock.now();
    let with = |changes: Value| {
        let mut c = claims(&t, "x");
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        es256(&key, &header(&kid), &c)
    };
    let with_header = |extra: Value| {
        let mut h = header(&kid);
        for (k, v) in extra.as_object().unwrap() {
            h[k] = v.clone();
        }
        es256(&key, &h, &claims(&t, "x"))
    };
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": kid })),
        b64(&claims(&t, "x"))
    );
    // HS256 keyed with our public key (as JWK text and as its x coordinate): the classic
    // confusion of a verifier that takes the algorithm from the token.
    let hs256 = |secret: &[u8]| {
        let input = format!(
            "{}.{}",
            b64(&json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid })),
            b64(&claims(&t, "x"))
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    };
    let jwk: Value = serde_json::from_str(&public_jwk).unwrap();
    // The same valid token with its signature's `s` replaced by `n - s` (also valid ECDSA).
    let high_s = {
        let (input, sig) = valid.rsplit_once('.').unwrap();
        let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        let (r, s) = sig.split_scalars();
        let twin = Signature::from_scalars(r, -*s).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(twin.to_bytes()))
    };
    let zero_sig = format!(
        "{}.{}",
        valid.rsplit_once('.').unwrap().0,
        URL_SAFE_NO_PAD.encode([0u8; 64])
    );
    // A key of someone else's, named by its own thumbprint or by ours.
    let stranger = {
        let sk = p256::ecdsa::SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        SigningKey {
            kid: "stranger".into(),
            alg: Alg::ES256,
            pkcs8: Secret::new(sk.to_pkcs8_der().unwrap().as_bytes().to_vec()),
        }
    };
    let embedded_jwk = {
        let vk = p256::ecdsa::SigningKey::from_pkcs8_der(stranger.pkcs8.expose())
            .unwrap()
            .verifying_key()
            .to_owned();
        let point = vk.to_encoded_point(false);
        json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        })
    };
    let mut h_jwk = header(&kid);
    h_jwk["jwk"] = embedded_jwk;

    let cases: Vec<(&str, String, bool)> = vec![
        ("alg none, no signature", unsigned, true),
        (
            "HS256 keyed with the public JWK",
            hs256(public_jwk.as_bytes()),
            true,
        ),
        (
            "HS256 keyed with the public x",
            hs256(&URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap()),
            true,
        ),
        (
            "an unknown kid",
            es256(&key, &header("not-ours"), &claims(&t, "x")),
            true,
        ),
        (
            "a kid that is a path",
            es256(&key, &header("../../../../dev/null"), &claims(&t, "x")),
            true,
        ),
        (
            "a kid that is SQL",
            es256(&key, &header("x' OR '1'='1"), &claims(&t, "x")),
            true,
        ),
        (
            "no kid",
            es256(
                &key,
                &json!({ "alg": "ES256", "typ": "at+jwt" }),
                &claims(&t, "x"),
            ),
            true,
        ),
        (
            "a jku header",
            with_header(json!({ "jku": "https://evil.example/jwks.json" })),
            true,
        ),
        (
            "an x5u header",
            with_header(json!({ "x5u": "https://evil.example/cert.pem" })),
            true,
        ),
        (
            "an x5c header",
            with_header(json!({ "x5c": ["MIIB"] })),
            true,
        ),
        (
            "an embedded jwk, signed by its key",
            es256(&stranger, &h_jwk, &claims(&t, "x")),
            true,
        ),
        (
            "an embedded jwk, signed by ours",
            es256(&key, &h_jwk, &claims(&t, "x")),
            true,
        ),
        (
            "crit",
            with_header(json!({ "crit": ["exp"], "exp": 1 })),
            true,
        ),
        (
            "typ JWT (an ID token's)",
            with_header(json!({ "typ": "JWT" })),
            true,
        ),
        (
            "no typ",
            es256(
                &key,
                &json!({ "alg": "ES256", "kid": kid }),
                &claims(&t, "x"),
            ),
            true,
        ),
        ("a high-S signature", high_s, true),
        ("a zero signature", zero_sig, true),
        (
            "a stranger's key under its own kid",
            es256(&stranger, &header("stranger"), &claims(&t, "x")),
            true,
        ),
        (
            "a stranger's key under our kid",
            es256(&stranger, &header(&kid), &claims(&t, "x")),
            true,
        ),
        ("expired", with(json!({ "exp": now - 1 })), true),
        ("not yet valid", with(json!({ "nbf": now + 3600 })), true),
        (
            "another issuer",
            with(json!({ "iss": "https://evil.example/" })),
            true,
        ),
        (
            "an issuer that differs by a slash",
            with(json!({ "iss": "https://id.example.com" })),
            true,
        ),
        // Introspection describes a token whatever its audience: the resource server decides.
        (
            "another audience",
            with(json!({ "aud": "https://evil.example/api" })),
            false,
        ),
    ];
    for (what, jwt, introspection_refuses) in cases {
        let (userinfo, management, active) = verdicts(&t, &jwt);
        assert!(!userinfo, "/userinfo accepted: {what}");
        assert!(!management, "the management API accepted: {what}");
        assert_eq!(active, !introspection_refuses, "introspection: {what}");
    }
}

#[test]
fn every_es256_token_we_issue_has_a_low_s() {
    // WebCrypto may sign with either `s`; the issuer keeps the low one, or half of its own
    // tokens would fail the check above.
    let t = Tenant::new();
    for _ in 0..40 {
        let jwt = t
            .token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
            .json_body()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let sig = URL_SAFE_NO_PAD
            .decode(jwt.rsplit_once('.').unwrap().1)
            .unwrap();
        let sig = Signature::from_slice(&sig).unwrap();
        assert!(sig.normalize_s().is_none(), "a high s was issued");
    }
}
