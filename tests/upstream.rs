//! Signing in at an upstream OpenID provider (an `oidc` connection), through the route table:
//! the provider stands in the test process behind the outbound port (discovery, JWKS, token
//! endpoint), signing its ID tokens with its own key; everything the issuer sends it and
//! does with its answers is the real code. Each refusal is checked to store nothing.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use edge_issuer::error::OutboundError;
use edge_issuer::port::crypto::{Alg, Crypto, PublicKey};
use edge_issuer::port::native_crypto::NativeCrypto;
use edge_issuer::port::outbound::{Answer, Call};
use edge_issuer::web::HttpResponse;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::rc::Rc;

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const OP: &str = "https://op.example.com";
const CONNECTION: &str = "acme-op";
const OP_CLIENT: &str = "edge-issuer";
const OP_SECRET: &str = "op-client-secret";
const CODE: &str = "op-code-1";

/// A signing key of the provider: its PKCS#8 and its public JWK.
struct OpKey {
    pkcs8: Vec<u8>,
    jwk: Value,
}

fn es256_key(kid: &str) -> OpKey {
    let key = pollster::block_on(NativeCrypto.generate_key(Alg::ES256)).unwrap();
    let PublicKey::Ec { x, y } = key.public else {
        unreachable!("an EC key")
    };
    OpKey {
        pkcs8: key.pkcs8.expose().clone(),
        jwk: json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256" }),
    }
}

/// The provider's side of one sign-in: what its token endpoint answers.
#[derive(Default)]
struct Provider {
    /// The PKCE challenge of the authorization request it was sent.
    challenge: String,
    /// The ID token's claims.
    claims: Value,
    /// Sign with this key instead of the published one.
    rogue: Option<Rc<OpKey>>,
    /// Redemptions seen.
    redeemed: u32,
}

struct Upstream {
    key: Rc<OpKey>,
    provider: Rc<RefCell<Provider>>,
}

impl Upstream {
    /// Stands the provider up behind the tenant's outbound port.
    fn serve(t: &Tenant) -> Self {
        let key = Rc::new(es256_key("op-key-1"));
        let provider = Rc::new(RefCell::new(Provider::default()));
        let (k, p) = (key.clone(), provider.clone());
        *t.http.server.borrow_mut() = Some(Rc::new(move |call: &Call<'_>| {
            let json = |v: Value| -> Result<Answer, OutboundError> {
                Ok(Answer {
                    status: 200,
                    body: v.to_string().into_bytes(),
                })
            };
            match (call.method, call.url) {
                ("GET", u) if u == format!("{OP}/.well-known/openid-configuration") => {
                    json(json!({
                        "issuer": OP,
                        "authorization_endpoint": format!("{OP}/auth"),
                        "token_endpoint": format!("{OP}/token"),
                        "jwks_uri": format!("{OP}/jwks"),
                        "userinfo_endpoint": format!("{OP}/me"),
                        "response_types_supported": ["code"],
                        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
                    }))
                }
                ("GET", u) if u == format!("{OP}/jwks") => json(json!({ "keys": [k.jwk] })),
                ("POST", u) if u == format!("{OP}/token") => {
                    let mut p = p.borrow_mut();
                    let form: Vec<(String, String)> =
                        form_urlencoded::parse(call.body.as_deref().unwrap_or("").as_bytes())
                            .into_owned()
                            .collect();
                    let field = |n: &str| {
                        form.iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let basic = call
                        .headers
                        .iter()
                        .find(|(n, _)| *n == "authorization")
                        .map(|(_, v)| v.clone());
                    let verifier = field("code_verifier");
                    let answers = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    let refused = field("code") != CODE
                        || answers != p.challenge
                        || basic != Some(basic_header(OP_CLIENT, OP_SECRET))
                        || !field("redirect_uri").starts_with(&format!(
                            "{}/login/callback/",
                            ISSUER.trim_end_matches('/')
                        ));
                    if refused {
                        return Ok(Answer {
                            status: 400,
                            body: br#"{"error":"invalid_grant"}"#.to_vec(),
                        });
                    }
                    p.redeemed += 1;
                    let signer = p.rogue.clone().unwrap_or(k.clone());
                    let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
                    header.kid = Some("op-key-1".into());
                    let id_token =
                        encode(&header, &p.claims, &EncodingKey::from_ec_der(&signer.pkcs8))
                            .unwrap();
                    json(
                        json!({ "access_token": "op-at", "token_type": "Bearer", "id_token": id_token }),
                    )
                }
                _ => Ok(Answer {
                    status: 404,
                    body: Vec::new(),
                }),
            }
        }));
        Upstream { key, provider }
    }
}

/// `POST /api/v2/connections` of a connection `name` of `strategy` for the SPA.
fn create_connection(
    t: &Tenant,
    token: &str,
    name: &str,
    strategy: &str,
    options: Value,
) -> HttpResponse {
    let body = json!({ "name": name, "strategy": strategy, "options": options,
                       "enabled_clients": [SPA] });
    manage(t, "POST", "/api/v2/connections", token, Some(body))
}

/// The redirect URI registered at the provider for the connection.
fn redirect_uri() -> String {
    format!(
        "{}/login/callback/{CONNECTION}",
        ISSUER.trim_end_matches('/')
    )
}

fn tenant() -> Tenant {
    management_tenant_with_spa(SPA, CALLBACK)
}

/// Creates the `oidc` connection through the management API (discovery by issuer).
fn connect(t: &Tenant) -> Value {
    let token = admin_token(t, &MGMT_SCOPES);
    ok(
        &manage(
            t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({
                "name": CONNECTION, "strategy": "oidc", "display_name": "Acme",
                "options": {
                    "type": "back_channel", "issuer": OP, "client_id": OP_CLIENT,
                    "client_secret": OP_SECRET, "scope": "openid profile email",
                },
                "enabled_clients": [SPA],
            })),
        ),
        201,
    )
}

fn authorize(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid%20profile%20email&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CALLBACK)
    )
}

fn query_of(location: &str) -> Vec<(String, String)> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn param(params: &[(String, String)], name: &str) -> String {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The browser's way to the provider: the redirect's parameters and the binding cookie.
fn to_provider(t: &Tenant, up: &Upstream) -> (Vec<(String, String)>, String) {
    let resp = get(t, &authorize(&format!("&connection={CONNECTION}")), "");
    assert_eq!(resp.status, 302, "{}", String::from_utf8_lossy(&resp.body));
    let location = resp.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("{OP}/auth?")), "{location}");
    let params = query_of(&location);
    assert_eq!(param(&params, "client_id"), OP_CLIENT);
    assert_eq!(param(&params, "code_challenge_method"), "S256");
    assert_eq!(param(&params, "redirect_uri"), redirect_uri());
    up.provider.borrow_mut().challenge = param(&params, "code_challenge");
    let cookie = set_cookie(&resp, "__Host-upstream").expect("the binding cookie");
    (params, cookie)
}

/// Claims an honest provider gives for `sub`, with the request's `nonce`.
fn claims(sub: &str, nonce: &str) -> Value {
    json!({
        "iss": OP, "aud": OP_CLIENT, "sub": sub, "nonce": nonce,
        "iat": NOW, "exp": NOW + 300, "auth_time": NOW - 5,
        "email": "grace@acme.example", "email_verified": true,
        "name": "Grace Hopper", "given_name": "Grace", "amr": ["pwd", "mfa"],
        "acr": "urn:example:loa:2",
        "groups": ["navy"],
    })
}

/// One sign-in at the provider whose ID token has `edit`ed claims; the callback's response.
fn sign_in(t: &Tenant, up: &Upstream, edit: impl FnOnce(&mut Value)) -> HttpResponse {
    let (params, cookie) = to_provider(t, up);
    let mut c = claims("u-1", &param(&params, "nonce"));
    edit(&mut c);
    up.provider.borrow_mut().claims = c;
    let back = format!(
        "/login/callback/{CONNECTION}?code={CODE}&state={}&iss={}",
        enc(&param(&params, "state")),
        enc(OP)
    );
    get(t, &back, &cookie)
}

fn redeem(t: &Tenant, resp: &HttpResponse) -> Value {
    // 303 after a form post (Apple's answer).
    assert!(
        matches!(resp.status, 302 | 303),
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    let location = resp.header("location").unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    let code = param(&query_of(location), "code");
    let form = format!(
        "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code),
        enc(CALLBACK)
    );
    ok(&post_form(t, "/oauth/token", &form, ""), 200)
}

fn id_claims(tokens: &Value) -> Value {
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[test]
fn an_openid_provider_signs_a_user_in_who_is_found_again_by_identity() {
    let t = tenant();
    let up = Upstream::serve(&t);
    let created = connect(&t);
    assert_eq!(created["strategy"], "oidc");
    let options = &created["options"];
    assert_eq!(
        options["token_endpoint"],
        format!("{OP}/token"),
        "discovered"
    );
    assert_eq!(options["jwks_uri"], format!("{OP}/jwks"));
    assert!(options.get("client_secret").is_none(), "never shown");
    assert!(options.get("client_secret_sealed").is_none(), "never shown");
    assert!(!created.to_string().contains(OP_SECRET));

    let first = redeem(&t, &sign_in(&t, &up, |_| {}));
    let id = id_claims(&first);
    assert_eq!(id["sub"], format!("oidc|{CONNECTION}|u-1"));
    assert_eq!(id["email"], "grace@acme.example");
    assert_eq!(id["name"], "Grace Hopper");
    assert_eq!(
        id["amr"],
        json!(["pwd", "mfa"]),
        "what the provider reported"
    );
    assert_eq!(
        id["auth_time"],
        NOW - 5,
        "when the user authenticated there"
    );
    assert_eq!(
        id["acr"], "urn:example:loa:2",
        "the class the provider reported"
    );

    // The same person again, renamed at the provider: the same user, the profile updated.
    let again = redeem(
        &t,
        &sign_in(&t, &up, |c| c["name"] = json!("Rear Admiral Hopper")),
    );
    let id = id_claims(&again);
    assert_eq!(id["sub"], format!("oidc|{CONNECTION}|u-1"));
    assert_eq!(id["name"], "Rear Admiral Hopper");
    assert_eq!(up.provider.borrow().redeemed, 2);

    let token = admin_token(&t, &MGMT_SCOPES);
    let users = ok(
        &manage(
            &t,
            "GET",
            &format!(
                "/api/v2/users?q={}",
                enc("identities.connection:\"acme-op\"")
            ),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    let user = &users[0];
    assert_eq!(user["logins_count"], 2);
    assert_eq!(user["identities"][0]["provider"], "oidc");
    assert_eq!(
        user["identities"][0]["user_id"],
        format!("{CONNECTION}|u-1")
    );
    assert_eq!(
        user["identities"][0]["profileData"]["groups"],
        json!(["navy"])
    );

    // A different subject with the same email is another user: never matched by email.
    let other = redeem(
        &t,
        &sign_in(&t, &up, |c| {
            c["sub"] = json!("u-2");
            c["email"] = json!("grace2@acme.example");
        }),
    );
    assert_eq!(id_claims(&other)["sub"], format!("oidc|{CONNECTION}|u-2"));
}

#[test]
fn the_login_page_offers_the_provider_and_a_named_connection_goes_straight_there() {
    let t = tenant();
    let _up = Upstream::serve(&t);
    connect(&t);
    let page = get(&t, &authorize(""), "");
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("Continue with Acme"), "{html}");
    assert!(html.contains("connection=acme-op"));
    assert!(
        html.contains("name=\"password\""),
        "the password form stays"
    );
}

/// Asserts the callback's answer is the client's `access_denied` (or `code`), saying `why`.
fn refused_to_client(resp: &HttpResponse, code: &str, why: &str) {
    assert_eq!(resp.status, 302, "{}", String::from_utf8_lossy(&resp.body));
    let params = query_of(resp.header("location").unwrap());
    assert_eq!(param(&params, "error"), code, "{params:?}");
    let description = param(&params, "error_description");
    assert!(description.contains(why), "{description}");
    assert_eq!(param(&params, "state"), "s", "the client's own state");
}

/// A change to an honest ID token's claims.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[test]
fn an_id_token_that_does_not_hold_is_refused_and_nothing_is_stored() {
    let t = tenant();
    let up = Upstream::serve(&t);
    connect(&t);
    let before = t.store.durable_state();
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "another issuer",
            Box::new(|c| c["iss"] = json!("https://evil.example.com")),
            "another issuer",
        ),
        (
            "another client",
            Box::new(|c| c["aud"] = json!("someone-else")),
            "another client",
        ),
        (
            "another azp",
            Box::new(|c| {
                c["aud"] = json!([OP_CLIENT, "x"]);
                c["azp"] = json!("x");
            }),
            "azp",
        ),
        (
            "another nonce",
            Box::new(|c| c["nonce"] = json!("replayed-nonce")),
            "nonce",
        ),
        (
            "expired",
            Box::new(|c| c["exp"] = json!(NOW - 120)),
            "expired",
        ),
        ("no subject", Box::new(|c| c["sub"] = json!("")), "subject"),
    ];
    for (what, edit, why) in cases {
        let resp = sign_in(&t, &up, edit);
        refused_to_client(&resp, "access_denied", why);
        assert_eq!(t.store.durable_state(), before, "{what}: nothing stored");
    }
    // Signed by a key the provider does not publish.
    up.provider.borrow_mut().rogue = Some(Rc::new(es256_key("op-key-1")));
    refused_to_client(&sign_in(&t, &up, |_| {}), "access_denied", "signature");
    assert_eq!(t.store.durable_state(), before);
    up.provider.borrow_mut().rogue = None;
    let _ = &up.key;
}

#[test]
fn a_forged_replayed_or_misdirected_answer_is_refused_and_nothing_is_stored() {
    let t = tenant();
    let up = Upstream::serve(&t);
    connect(&t);
    let before = t.store.durable_state();
    let (params, cookie) = to_provider(&t, &up);
    up.provider.borrow_mut().claims = claims("u-1", &param(&params, "nonce"));
    let state = enc(&param(&params, "state"));
    let callback = |query: &str, cookie: &str| {
        get(&t, &format!("/login/callback/{CONNECTION}?{query}"), cookie)
    };
    let page = |resp: &HttpResponse, status: u16| {
        assert_eq!(
            resp.status,
            status,
            "{}",
            String::from_utf8_lossy(&resp.body)
        );
        assert!(resp.header("location").is_none(), "the issuer's own page");
    };
    // A state the issuer never sealed, one for another connection, no binding cookie, or
    // another browser's: the issuer's page, the client never called.
    page(
        &callback(&format!("code={CODE}&state=forged"), &cookie),
        403,
    );
    page(
        &get(
            &t,
            &format!("/login/callback/other?code={CODE}&state={state}"),
            &cookie,
        ),
        403,
    );
    page(&callback(&format!("code={CODE}&state={state}"), ""), 403);
    page(
        &callback(
            &format!("code={CODE}&state={state}"),
            "__Host-upstream=another",
        ),
        403,
    );
    // The provider's refusal, and an answer naming another issuer (a mix-up).
    refused_to_client(
        &callback(
            &format!("error=access_denied&error_description=User%20cancelled&state={state}"),
            &cookie,
        ),
        "access_denied",
        "User cancelled",
    );
    refused_to_client(
        &callback(
            &format!("code={CODE}&state={state}&iss=https%3A%2F%2Fevil.example.com"),
            &cookie,
        ),
        "access_denied",
        "another issuer",
    );
    assert_eq!(up.provider.borrow().redeemed, 0, "no code was redeemed");
    assert_eq!(t.store.durable_state(), before, "nothing stored");

    // The real answer signs in once; the browser's binding is then cleared, so the same
    // answer again is refused.
    let resp = callback(
        &format!("code={CODE}&state={state}&iss={}", enc(OP)),
        &cookie,
    );
    assert_eq!(resp.status, 302);
    let cleared = resp.headers.iter().any(|(n, v)| {
        n == "set-cookie" && v.starts_with("__Host-upstream=;") && v.contains("Max-Age=0")
    });
    assert!(cleared, "{:?}", resp.headers);
    let after = t.store.durable_state();
    page(&callback(&format!("code={CODE}&state={state}"), ""), 403);
    assert_eq!(t.store.durable_state(), after);
}

#[test]
fn an_unreachable_provider_fails_closed() {
    let t = tenant();
    let up = Upstream::serve(&t);
    connect(&t);
    let (params, cookie) = to_provider(&t, &up);
    let state = enc(&param(&params, "state"));
    let before = t.store.durable_state();
    *t.http.server.borrow_mut() = Some(Rc::new(|_: &Call<'_>| Err(OutboundError::Timeout(5000))));
    let resp = get(
        &t,
        &format!("/login/callback/{CONNECTION}?code={CODE}&state={state}"),
        &cookie,
    );
    refused_to_client(&resp, "temporarily_unavailable", "could not be reached");
    assert_eq!(t.store.durable_state(), before);
    assert!(t
        .log
        .borrow()
        .iter()
        .any(|l| l.contains("no answer within 5000 ms")));
}

#[test]
fn oidc_connections_are_checked_when_saved() {
    let t = tenant();
    let _up = Upstream::serve(&t);
    let token = admin_token(&t, &MGMT_SCOPES);
    let before = t.store.durable_state();
    let create = |options: Value| {
        manage(
            &t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({ "name": "op2", "strategy": "oidc", "options": options })),
        )
    };
    for (options, what) in [
        (
            json!({ "issuer": "http://op.example.com", "client_id": "a", "client_secret": "b" }),
            "plain http",
        ),
        (
            json!({ "issuer": "https://169.254.169.254", "client_id": "a", "client_secret": "b" }),
            "metadata address",
        ),
        (
            json!({ "issuer": "https://elsewhere.example.com", "discovery_url": format!("{OP}/.well-known/openid-configuration"), "client_id": "a", "client_secret": "b" }),
            "another issuer's discovery",
        ),
        (json!({ "issuer": OP, "client_id": "a" }), "no secret"),
        (
            json!({ "issuer": OP, "client_id": "a", "client_secret": "b", "type": "front_channel" }),
            "front channel",
        ),
        (
            json!({ "client_id": "a", "client_secret": "b" }),
            "no issuer",
        ),
    ] {
        invalid_body(&create(options), what);
    }
    assert_eq!(t.store.durable_state(), before, "nothing stored");

    // A change that does not send the secret again keeps it.
    let created = connect(&t);
    let path = format!("/api/v2/connections/{}", created["id"].as_str().unwrap());
    let changed = ok(
        &manage(
            &t,
            "PATCH",
            &path,
            &token,
            Some(
                json!({ "options": { "issuer": OP, "client_id": OP_CLIENT, "scope": "openid email" } }),
            ),
        ),
        200,
    );
    assert_eq!(changed["options"]["scope"], "openid email");
    let up = Upstream::serve(&t);
    let resp = sign_in(&t, &up, |_| {});
    assert_eq!(resp.status, 302);
    assert!(
        resp.header("location").unwrap().contains("code="),
        "the secret still works"
    );
}

#[test]
fn an_upstream_sign_in_makes_the_round_trips_it_needs_and_no_more() {
    let t = tenant();
    let up = Upstream::serve(&t);
    connect(&t);
    redeem(&t, &sign_in(&t, &up, |_| {})); // warms the caches and the provider's keys
    let counts = |t: &Tenant| {
        (
            t.store.round_trips(),
            t.store.cached_reads(),
            t.http.seen.borrow().len(),
        )
    };
    let before = counts(&t);
    let (params, cookie) = to_provider(&t, &up);
    let after = counts(&t);
    // To the provider: the client and the connections, both in a warm isolate's memory; no
    // storage call and no outbound call.
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (0, 2, 0),
        "/authorize?connection="
    );
    up.provider.borrow_mut().claims = claims("u-1", &param(&params, "nonce"));
    let back = format!(
        "/login/callback/{CONNECTION}?code={CODE}&state={}",
        enc(&param(&params, "state"))
    );
    let before = counts(&t);
    let resp = get(&t, &back, &cookie);
    assert_eq!(resp.status, 302);
    let after = counts(&t);
    // The user by identity with organization, roles and permissions (one batch); the commit
    // (one batch). In memory: client, connections, the second factor's settings and rules
    // (is one due?), the pipeline. Out: the token endpoint only (the provider's keys are
    // kept in the isolate).
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (2, 5, 1),
        "/login/callback"
    );
}

#[test]
fn linking_by_verified_email_joins_a_user_only_when_both_sides_verified_it() {
    let t = tenant();
    let up = Upstream::serve(&t);
    let created = connect(&t);
    let token = admin_token(&t, &MGMT_SCOPES);
    let path = format!("/api/v2/connections/{}", created["id"].as_str().unwrap());
    let options = json!({ "issuer": OP, "client_id": OP_CLIENT, "link_verified_email": true });
    ok(
        &manage(
            &t,
            "PATCH",
            &path,
            &token,
            Some(json!({ "options": options })),
        ),
        200,
    );
    let sub = |resp: &HttpResponse| id_claims(&redeem(&t, resp))["sub"].clone();

    // The provider does not vouch for the address: a user of its own, no link.
    let unverified = sign_in(&t, &up, |c| {
        c["sub"] = json!("u-9");
        c["email"] = json!(USER_EMAIL);
        c["email_verified"] = json!(false);
    });
    assert_eq!(sub(&unverified), format!("oidc|{CONNECTION}|u-9"));

    // Both sides verified it: the sign-in joins the user made before, with their id.
    let verified = |t: &Tenant| {
        sign_in(t, &up, |c| {
            c["sub"] = json!("u-10");
            c["email"] = json!(USER_EMAIL);
        })
    };
    assert_eq!(sub(&verified(&t)), USER_ID);
    let user = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/users/{}", enc(USER_ID)),
            &token,
            None,
        ),
        200,
    );
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 2, "{user}");
    assert_eq!(identities[1]["user_id"], format!("{CONNECTION}|u-10"));
    assert_eq!(
        user["name"], "Ada Lovelace",
        "a linked identity does not rewrite the user"
    );
    // Found by identity from then on.
    assert_eq!(sub(&verified(&t)), USER_ID);

    // The user here has not verified the address: no link.
    let grace = json!({
        "connection": "Username-Password-Authentication", "email": "grace@example.com",
        "email_verified": false, "password": "a long enough password 1",
    });
    ok(
        &manage(&t, "POST", "/api/v2/users", &token, Some(grace)),
        201,
    );
    let other = sign_in(&t, &up, |c| {
        c["sub"] = json!("u-11");
        c["email"] = json!("grace@example.com");
    });
    assert_eq!(sub(&other), format!("oidc|{CONNECTION}|u-11"));
}

#[test]
fn google_is_a_preset_whose_users_are_social_identities() {
    let t = tenant();
    let up = Upstream::serve(&t);
    // Google's endpoints, answered by the test provider.
    let inner = t.http.server.borrow().clone().unwrap();
    *t.http.server.borrow_mut() = Some(Rc::new(move |call: &Call<'_>| {
        let url = match call.url {
            "https://oauth2.googleapis.com/token" => format!("{OP}/token"),
            "https://www.googleapis.com/oauth2/v3/certs" => format!("{OP}/jwks"),
            other => other.to_string(),
        };
        inner(&Call {
            url: &url,
            ..call.clone()
        })
    }));
    let token = admin_token(&t, &MGMT_SCOPES);
    let created = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({
                "name": "google-oauth2", "strategy": "google-oauth2",
                "options": { "client_id": OP_CLIENT, "client_secret": OP_SECRET,
                             "scope": ["email", "profile"], "email": true, "profile": true },
                "enabled_clients": [SPA],
            })),
        ),
        201,
    );
    assert!(!created.to_string().contains(OP_SECRET));
    assert!(
        t.http.seen.borrow().is_empty(),
        "Google's endpoints are known: no discovery"
    );

    let resp = get(&t, &authorize("&connection=google-oauth2"), "");
    let location = resp.header("location").unwrap().to_string();
    assert!(
        location.starts_with("https://accounts.google.com/o/oauth2/v2/auth?"),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(param(&params, "scope"), "openid email profile");
    up.provider.borrow_mut().challenge = param(&params, "code_challenge");
    let mut c = claims("g-1", &param(&params, "nonce"));
    c["iss"] = json!("accounts.google.com"); // the spelling Google's tokens may carry
    up.provider.borrow_mut().claims = c;
    let cookie = set_cookie(&resp, "__Host-upstream").unwrap();
    let back = format!(
        "/login/callback/google-oauth2?code={CODE}&state={}",
        enc(&param(&params, "state"))
    );
    let tokens = redeem(&t, &get(&t, &back, &cookie));
    assert_eq!(id_claims(&tokens)["sub"], "google-oauth2|g-1");
    let user = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/users/{}", enc("google-oauth2|g-1")),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(user["identities"][0]["provider"], "google-oauth2");
    assert_eq!(user["identities"][0]["user_id"], "g-1");
    assert_eq!(user["identities"][0]["isSocial"], true);
}

/// What the GitHub-shaped provider answers, and what it saw.
struct Hub {
    /// The primary email, and whether GitHub verified it.
    email: (&'static str, bool),
    /// Answer the code with GitHub's 200-and-an-error.
    refuse: bool,
    /// The PKCE challenge of the authorization request.
    challenge: String,
}

/// Stands GitHub (github.com and its API) behind the tenant's outbound port: its token
/// endpoint takes the client's credentials in the body and the PKCE verifier; its API wants a
/// bearer token and a User-Agent.
fn serve_github(t: &Tenant) -> Rc<RefCell<Hub>> {
    let hub = Rc::new(RefCell::new(Hub {
        email: ("grace@hub.example", true),
        refuse: false,
        challenge: String::new(),
    }));
    let h = hub.clone();
    *t.http.server.borrow_mut() = Some(Rc::new(move |call: &Call<'_>| {
        let h = h.borrow();
        let json = |status: u16, v: Value| -> Result<Answer, OutboundError> {
            Ok(Answer {
                status,
                body: v.to_string().into_bytes(),
            })
        };
        let header = |n: &str| {
            call.headers
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.as_str())
        };
        let authorized =
            header("authorization") == Some("Bearer gho_token") && header("user-agent").is_some();
        match (call.method, call.url) {
            ("POST", "https://github.com/login/oauth/access_token") => {
                let form: Vec<(String, String)> =
                    form_urlencoded::parse(call.body.as_deref().unwrap_or("").as_bytes())
                        .into_owned()
                        .collect();
                let verifier = param(&form, "code_verifier");
                let pkce = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if h.refuse
                    || param(&form, "code") != CODE
                    || param(&form, "client_id") != OP_CLIENT
                    || param(&form, "client_secret") != OP_SECRET
                    || pkce != h.challenge
                {
                    return json(
                        200,
                        json!({ "error": "bad_verification_code",
                                "error_description": "The code passed is incorrect or expired." }),
                    );
                }
                json(
                    200,
                    json!({ "access_token": "gho_token", "token_type": "bearer", "scope": "read:user,user:email" }),
                )
            }
            ("GET", "https://api.github.com/user") if authorized => json(
                200,
                json!({ "login": "grace", "id": 4242, "name": "Grace Hopper",
                        "avatar_url": "https://avatars.githubusercontent.com/u/4242",
                        "email": null, "company": "@navy" }),
            ),
            ("GET", "https://api.github.com/user/emails") if authorized => json(
                200,
                json!([
                    { "email": "old@hub.example", "primary": false, "verified": true },
                    { "email": h.email.0, "primary": true, "verified": h.email.1 },
                ]),
            ),
            _ => json(404, json!({ "message": "Not Found" })),
        }
    }));
    hub
}

/// Creates the `github` connection through the management API, with Auth0's options.
fn connect_github(t: &Tenant, extra: Value) {
    let token = admin_token(t, &MGMT_SCOPES);
    let mut options = json!({ "client_id": OP_CLIENT, "client_secret": OP_SECRET,
                              "email": true, "read_org": true, "profile": true });
    for (k, v) in extra.as_object().unwrap() {
        options[k] = v.clone();
    }
    let made = create_connection(t, &token, "github", "github", options);
    ok(&made, 201);
}

/// One sign-in through GitHub: the callback's response.
fn through_github(t: &Tenant, hub: &Rc<RefCell<Hub>>) -> HttpResponse {
    let resp = get(t, &authorize("&connection=github"), "");
    let location = resp.header("location").unwrap().to_string();
    assert!(
        location.starts_with("https://github.com/login/oauth/authorize?"),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(
        param(&params, "scope"),
        "read:user user:email read:org",
        "the switches' scopes"
    );
    hub.borrow_mut().challenge = param(&params, "code_challenge");
    let cookie = set_cookie(&resp, "__Host-upstream").unwrap();
    let back = format!(
        "/login/callback/github?code={CODE}&state={}",
        enc(&param(&params, "state"))
    );
    get(t, &back, &cookie)
}

#[test]
fn github_signs_a_user_in_with_the_primary_email_it_verified() {
    let t = tenant();
    let hub = serve_github(&t);
    connect_github(&t, json!({}));
    // A rule reads the connection's strategy from the event.
    let token = admin_token(&t, &MGMT_SCOPES);
    let rule = json!({ "name": "strategy", "trigger": "post-login", "assignments": [
        { "target": "id_token", "claim": "https://example.com/strategy", "path": "connection.strategy" }] });
    ok(
        &manage(&t, "POST", "/api/v2/rules", &token, Some(rule)),
        201,
    );
    let tokens = redeem(&t, &through_github(&t, &hub));
    let id = id_claims(&tokens);
    assert_eq!(id["https://example.com/strategy"], "github");
    assert!(id.get("acr").is_none(), "GitHub reports no class");
    assert_eq!(id["sub"], "github|4242", "GitHub's numeric id");
    assert_eq!(id["email"], "grace@hub.example", "the primary email");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["nickname"], "grace");
    assert_eq!(id["name"], "Grace Hopper");
    assert_eq!(
        id["picture"],
        "https://avatars.githubusercontent.com/u/4242"
    );
    let token = admin_token(&t, &MGMT_SCOPES);
    let user = ok(
        &manage(&t, "GET", "/api/v2/users/github%7C4242", &token, None),
        200,
    );
    let identity = &user["identities"][0];
    assert_eq!(identity["provider"], "github");
    assert_eq!(identity["user_id"], "4242");
    assert_eq!(identity["isSocial"], true);
    assert_eq!(identity["profileData"]["company"], "@navy");

    // The same account again is the same user.
    redeem(&t, &through_github(&t, &hub));
    let user = ok(
        &manage(&t, "GET", "/api/v2/users/github%7C4242", &token, None),
        200,
    );
    assert_eq!(user["logins_count"], 2);
}

#[test]
fn github_refusals_store_nothing_and_an_unverified_email_links_nobody() {
    let t = tenant();
    let hub = serve_github(&t);
    connect_github(&t, json!({ "link_verified_email": true }));
    let before = t.store.durable_state();
    // GitHub refuses a code with 200 and an error.
    hub.borrow_mut().refuse = true;
    refused_to_client(
        &through_github(&t, &hub),
        "access_denied",
        "bad_verification_code",
    );
    assert_eq!(t.store.durable_state(), before, "nothing stored");
    hub.borrow_mut().refuse = false;

    // A user here has the address; GitHub has it unverified: a new user, not a link.
    let token = admin_token(&t, &MGMT_SCOPES);
    let existing = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/users",
            &token,
            Some(json!({ "connection": "Username-Password-Authentication",
                         "email": "grace@hub.example", "email_verified": true,
                         "password": "a long enough passphrase 1" })),
        ),
        201,
    );
    hub.borrow_mut().email = ("grace@hub.example", false);
    let id = id_claims(&redeem(&t, &through_github(&t, &hub)));
    assert_eq!(id["sub"], "github|4242", "not linked");
    assert_eq!(id["email_verified"], false);
    let kept = ok(
        &manage(
            &t,
            "GET",
            &format!(
                "/api/v2/users/{}",
                enc(existing["user_id"].as_str().unwrap())
            ),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(kept["identities"].as_array().unwrap().len(), 1);
}

#[test]
fn an_oauth2_provider_signs_in_through_its_userinfo_and_profile_map() {
    let t = tenant();
    *t.http.server.borrow_mut() = Some(Rc::new(|call: &Call<'_>| {
        let body = match (call.method, call.url) {
            ("POST", "https://sso.corp.example/oauth/token") => {
                json!({ "access_token": "corp-at", "token_type": "Bearer" })
            }
            ("GET", "https://sso.corp.example/api/me") => json!({
                "data": { "uid": 77, "mail": "ada@corp.example", "checked": true,
                          "display": "Ada L." }
            }),
            _ => {
                return Ok(Answer {
                    status: 404,
                    body: Vec::new(),
                })
            }
        };
        Ok(Answer {
            status: 200,
            body: body.to_string().into_bytes(),
        })
    }));
    let token = admin_token(&t, &MGMT_SCOPES);
    let create = |options: Value| create_connection(&t, &token, "corp", "oauth2", options);
    // Auth0's profile script does not run here: refused, with what to give instead.
    let refused = create(
        json!({ "authorizationURL": "https://sso.corp.example/authorize",
        "tokenURL": "https://sso.corp.example/oauth/token", "client_id": "c", "client_secret": "s",
        "scripts": { "fetchUserProfile": "function (a, c, cb) {}" } }),
    );
    invalid_body(&refused, "profile_map");
    invalid_body(
        &create(
            json!({ "authorizationURL": "https://sso.corp.example/authorize",
            "tokenURL": "https://sso.corp.example/oauth/token", "client_id": "c",
            "client_secret": "s" }),
        ),
        "userinfo_endpoint",
    );
    invalid_body(
        &create(json!({ "profile_map": { "roles": "data.roles" } })),
        "profile_map",
    );
    ok(
        &create(json!({
            "authorizationURL": "https://sso.corp.example/authorize",
            "tokenURL": "https://sso.corp.example/oauth/token",
            "userinfo_endpoint": "https://sso.corp.example/api/me",
            "client_id": "c", "client_secret": "s", "scope": "profile",
            "profile_map": { "user_id": "data.uid", "email": "data.mail",
                             "email_verified": "data.checked", "name": "data.display" },
        })),
        201,
    );
    let resp = get(&t, &authorize("&connection=corp"), "");
    let location = resp.header("location").unwrap().to_string();
    assert!(location.starts_with("https://sso.corp.example/authorize?"));
    let params = query_of(&location);
    assert_eq!(
        param(&params, "scope"),
        "profile",
        "no openid: not an OpenID provider"
    );
    let cookie = set_cookie(&resp, "__Host-upstream").unwrap();
    let back = format!(
        "/login/callback/corp?code=c1&state={}",
        enc(&param(&params, "state"))
    );
    let id = id_claims(&redeem(&t, &get(&t, &back, &cookie)));
    assert_eq!(id["sub"], "oauth2|corp|77");
    assert_eq!(id["email"], "ada@corp.example");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Ada L.");
    let seen = t.http.seen.borrow();
    let (_, _, body) = seen
        .iter()
        .find(|(_, u, _)| u.ends_with("/oauth/token"))
        .unwrap();
    assert!(
        !body.as_deref().unwrap().contains("client_secret"),
        "client_secret_basic unless told"
    );
}

#[test]
fn the_providers_tokens_are_kept_only_when_asked_and_shown_only_with_read_user_idp_tokens() {
    let t = tenant();
    let hub = serve_github(&t);
    // Not asked: nothing kept, even for a caller who may read tokens.
    connect_github(&t, json!({}));
    redeem(&t, &through_github(&t, &hub));
    let all = admin_token(&t, &MGMT_SCOPES);
    let user = |token: &str| {
        ok(
            &manage(&t, "GET", "/api/v2/users/github%7C4242", token, None),
            200,
        )
    };
    assert!(user(&all)["identities"][0].get("access_token").is_none());

    // Asked: the next sign-in keeps them, sealed (the stored form is not the token).
    let listed = ok(&manage(&t, "GET", "/api/v2/connections", &all, None), 200);
    let connection = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "github")
        .unwrap();
    let id = connection["id"].as_str().unwrap();
    let options = connection["options"].clone();
    let keep = |on: bool| {
        let mut options = options.clone();
        options["store_idp_tokens"] = json!(on);
        let body = json!({ "options": options });
        let path = format!("/api/v2/connections/{id}");
        ok(&manage(&t, "PATCH", &path, &all, Some(body)), 200);
    };
    keep(true);
    redeem(&t, &through_github(&t, &hub));
    assert!(!t.store.durable_state().contains("gho_token"), "sealed");
    assert_eq!(user(&all)["identities"][0]["access_token"], "gho_token");

    // Without the scope, the same user shows no tokens.
    let no_tokens: Vec<&str> = MGMT_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "read:user_idp_tokens")
        .collect();
    let plain = admin_token(&t, &no_tokens);
    let shown = user(&plain);
    assert!(
        shown["identities"][0].get("access_token").is_none(),
        "{shown}"
    );
    assert!(!shown.to_string().contains("gho_token"));

    // Turned off again: the next sign-in clears them.
    keep(false);
    redeem(&t, &through_github(&t, &hub));
    assert!(user(&all)["identities"][0].get("access_token").is_none());
}

const APPLE_TEAM: &str = "TEAM123456";
const APPLE_KEY_ID: &str = "KEY7654321";
const APPLE_CLIENT: &str = "com.example.web";

/// Stands Apple behind the outbound port: its token endpoint takes only a client secret JWT
/// the team's key signed (checked with the key's public half) and answers an ID token of
/// Apple's signing key; its JWKS.
fn serve_apple(t: &Tenant, team: Rc<OpKey>, nonce: Rc<RefCell<String>>) -> Rc<RefCell<u32>> {
    let apple = Rc::new(es256_key("apple-1"));
    let redeemed = Rc::new(RefCell::new(0));
    let r = redeemed.clone();
    *t.http.server.borrow_mut() = Some(Rc::new(move |call: &Call<'_>| {
        let json = |status: u16, v: Value| -> Result<Answer, OutboundError> {
            Ok(Answer {
                status,
                body: v.to_string().into_bytes(),
            })
        };
        match (call.method, call.url) {
            ("GET", "https://appleid.apple.com/auth/keys") => {
                json(200, json!({ "keys": [apple.jwk] }))
            }
            ("POST", "https://appleid.apple.com/auth/token") => {
                let form: Vec<(String, String)> =
                    form_urlencoded::parse(call.body.as_deref().unwrap_or("").as_bytes())
                        .into_owned()
                        .collect();
                let secret = param(&form, "client_secret");
                let key = jsonwebtoken::DecodingKey::from_ec_components(
                    team.jwk["x"].as_str().unwrap(),
                    team.jwk["y"].as_str().unwrap(),
                )
                .unwrap();
                let mut rules = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
                rules.set_audience(&["https://appleid.apple.com"]);
                rules.set_issuer(&[APPLE_TEAM]);
                rules.validate_exp = false;
                let checked = jsonwebtoken::decode::<Value>(&secret, &key, &rules);
                let good = checked.as_ref().is_ok_and(|c| {
                    c.claims["sub"] == APPLE_CLIENT
                        && c.header.kid.as_deref() == Some(APPLE_KEY_ID)
                        && c.claims["exp"].as_u64().unwrap() <= NOW + 300
                });
                if !good
                    || param(&form, "client_id") != APPLE_CLIENT
                    || param(&form, "code") != CODE
                {
                    return json(400, json!({ "error": "invalid_client" }));
                }
                *r.borrow_mut() += 1;
                let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
                header.kid = Some("apple-1".into());
                let claims = json!({
                    "iss": "https://appleid.apple.com", "aud": APPLE_CLIENT, "sub": "000123.abc",
                    "iat": NOW, "exp": NOW + 600, "nonce": *nonce.borrow(),
                    "email": "x7@privaterelay.appleid.com", "email_verified": "true",
                    "is_private_email": "true",
                });
                let id_token =
                    encode(&header, &claims, &EncodingKey::from_ec_der(&apple.pkcs8)).unwrap();
                json(
                    200,
                    json!({ "access_token": "a", "token_type": "Bearer", "id_token": id_token }),
                )
            }
            _ => json(404, json!({})),
        }
    }));
    redeemed
}

#[test]
fn apple_signs_in_with_a_client_secret_the_teams_key_signs_and_a_form_post() {
    let t = tenant();
    let team = Rc::new(es256_key(APPLE_KEY_ID));
    let nonce = Rc::new(RefCell::new(String::new()));
    let redeemed = serve_apple(&t, team.clone(), nonce.clone());
    let token = admin_token(&t, &MGMT_SCOPES);
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&team.pkcs8)
    );
    let create = |options: Value| create_connection(&t, &token, "apple", "apple", options);
    let options = json!({ "client_id": APPLE_CLIENT, "team_id": APPLE_TEAM, "kid": APPLE_KEY_ID,
                          "app_secret": pem, "scope": ["name", "email"] });
    // A key that is not one, or a client_secret Apple does not take: refused.
    let mut garbage = options.clone();
    garbage["app_secret"] =
        json!("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----");
    invalid_body(&create(garbage), "app_secret");
    let mut secret = options.clone();
    secret["client_secret"] = json!("s");
    invalid_body(&create(secret), "app_secret");
    let created = ok(&create(options), 201);
    assert!(!created.to_string().contains("PRIVATE KEY"), "{created}");

    let resp = get(&t, &authorize("&connection=apple"), "");
    let location = resp.header("location").unwrap().to_string();
    assert!(
        location.starts_with("https://appleid.apple.com/auth/authorize?"),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(param(&params, "response_mode"), "form_post");
    assert_eq!(
        param(&params, "scope"),
        "name email",
        "Apple's scopes, no openid"
    );
    *nonce.borrow_mut() = param(&params, "nonce");
    let cookie = set_cookie(&resp, "__Host-upstream").unwrap();
    // Apple posts the answer back, with the name on the first authorization only.
    let user = r#"{"name":{"firstName":"Grace","lastName":"Hopper"},"email":"evil@example.com"}"#;
    let form = format!(
        "code={CODE}&state={}&user={}",
        enc(&param(&params, "state")),
        enc(user)
    );
    let tokens = redeem(&t, &post_form(&t, "/login/callback/apple", &form, &cookie));
    assert_eq!(*redeemed.borrow(), 1);
    let id = id_claims(&tokens);
    assert_eq!(id["sub"], "apple|000123.abc");
    assert_eq!(id["given_name"], "Grace");
    assert_eq!(id["family_name"], "Hopper");
    assert_eq!(id["name"], "Grace Hopper");
    assert_eq!(
        id["email"], "x7@privaterelay.appleid.com",
        "the ID token's, not the form's"
    );
    assert_eq!(id["email_verified"], true);
}

#[test]
fn a_second_factor_follows_the_providers_sign_in_when_the_policy_asks_for_one() {
    let t = tenant();
    let up = Upstream::serve(&t);
    connect(&t);
    let admin = admin_token(&t, &MGMT_SCOPES);
    let on = json!({ "enabled": true });
    let factor = manage(&t, "PUT", "/api/v2/guardian/factors/otp", &admin, Some(on));
    ok(&factor, 200);
    let always = json!(["all-applications"]);
    let policy = manage(&t, "PUT", "/api/v2/guardian/policies", &admin, Some(always));
    ok(&policy, 200);

    // The provider's sign-in (its own `mfa` notwithstanding) is followed by the issuer's own
    // second factor: first, setting up an app.
    let page = sign_in(&t, &up, |_| {});
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert_eq!(page.status, 200, "{html}");
    assert!(html.contains("<h1>Set up two-step sign-in</h1>"), "{html}");
    assert!(set_cookie(&page, "__Host-session").is_none());
    // The user and the identity are stored, so the app is the user's own.
    let user_id = format!("oidc|{CONNECTION}|u-1");
    let path = format!("/api/v2/users/{}", enc(&user_id));
    let user = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(user["logins_count"], 1);
    assert_eq!(user["identities"][0]["provider"], "oidc");

    let from = html.find("<code class=\"key\">").unwrap() + "<code class=\"key\">".len();
    let key = html[from..from + html[from..].find("</code>").unwrap()].replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").expect("the page's CSRF cookie");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html).iter().take(2));
    form.append_pair(
        "code",
        &edge_issuer::oauth::mfa::totp::code_at(&secret, NOW),
    );
    let done = post_form(&t, "/u/mfa", &form.finish(), &csrf);
    assert!(set_cookie(&done, "__Host-session").is_some());
    let id = id_claims(&redeem(&t, &done));
    assert_eq!(id["sub"], user_id);
    assert_eq!(id["amr"], json!(["pwd", "mfa", "otp"]));
    // The login was counted once, when the provider's answer was taken.
    let user = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(user["logins_count"], 1);
}
