//! A custom database: a database connection whose users live in the tenant's own user store,
//! asked `login(email, password)` over the signed hook delivery. The store stands in the test
//! process behind the transport; the issuer's side (what it sends, how it reads the answer,
//! what it stores) is the real code. Import mode (Auth0's lazy migration), the mode without
//! it, the password grant and the hosted login, and every way the store can fail.

mod common;

use common::*;
use edge_issuer::error::OutboundError;
use edge_issuer::oauth::claims::hooks::signature;
use edge_issuer::web::HttpResponse;
use serde_json::{json, Value};

const REALM: &str = "legacy";
const SECRET: &str = "a-signing-secret-of-thirty-two-chars!";
const EMAIL: &str = "lee@legacy.example";
const PASSWORD: &str = "the legacy password";

/// The store: Lee with the right password, 401 for anything else.
fn store(t: &Tenant) {
    answer(t, |body| {
        let request: Value = serde_json::from_str(body).unwrap();
        assert_eq!(request["action"], "login");
        assert_eq!(request["connection"], REALM);
        if request["email"] == EMAIL && request["password"] == PASSWORD {
            Ok(json!({
                "user_id": 4242, "email": "Lee@Legacy.example", "email_verified": true,
                "name": "Lee Legacy", "app_metadata": { "roles": ["admin"], "org": "acme" },
            })
            .to_string()
            .into_bytes())
        } else {
            Err(OutboundError::Status(401))
        }
    });
}

fn connect(t: &Tenant, import_mode: bool) -> Value {
    let token = admin_token(t, &MGMT_SCOPES);
    ok(
        &manage(
            t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({
                "name": REALM, "strategy": "auth0",
                "options": {
                    "enabledDatabaseCustomization": true, "import_mode": import_mode,
                    "customScripts": { "login": "https://users.legacy.example/login" },
                    "configuration": { "signing_secret": SECRET },
                },
                "enabled_clients": [APP_ID],
            })),
        ),
        201,
    )
}

fn login(t: &Tenant, password: &str) -> HttpResponse {
    let form = format!(
        "grant_type=http://auth0.com/oauth/grant-type/password-realm&realm={REALM}&username={}&password={}&scope=openid%20profile",
        enc(EMAIL),
        enc(password)
    );
    t.token(&form, Some((APP_ID, APP_SECRET)))
}

fn calls(t: &Tenant) -> usize {
    t.hooks.seen.borrow().len()
}

fn stored_users(t: &Tenant) -> Value {
    let token = admin_token(t, &MGMT_SCOPES);
    let q = enc(&format!("identities.connection:\"{REALM}\""));
    ok(
        &manage(t, "GET", &format!("/api/v2/users?q={q}"), &token, None),
        200,
    )
}

#[test]
fn import_mode_signs_in_through_the_store_once_then_here() {
    let t = management_tenant();
    store(&t);
    let created = connect(&t, true);
    let options = &created["options"];
    assert!(
        options.get("configuration").is_none(),
        "the secret is never shown"
    );
    assert!(!created.to_string().contains(SECRET));

    let first = ok(&login(&t, PASSWORD), 200);
    assert_eq!(calls(&t), 1, "the store answered the first login");
    let id = verify_jwt(&t, first["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["sub"], "auth0|4242");
    assert_eq!(id["name"], "Lee Legacy");
    // The request was signed as hooks are.
    let (body, signed) = t.hooks.seen.borrow()[0].clone();
    let at: u64 = signed[2..signed.find(',').unwrap()].parse().unwrap();
    assert_eq!(signed, signature(SECRET, at, &body));

    let users = stored_users(&t);
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(
        users[0]["app_metadata"]["org"], "acme",
        "the store's profile"
    );
    assert_eq!(users[0]["logins_count"], 1);

    // Imported: the next logins are checked here, with no call out.
    ok(&login(&t, PASSWORD), 200);
    let wrong = login(&t, "not the password");
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json_body()["error"], "invalid_grant");
    assert_eq!(calls(&t), 1, "no call after the import");
    assert_eq!(stored_users(&t)[0]["logins_count"], 2);
}

#[test]
fn without_import_mode_the_store_answers_every_login_and_no_password_is_kept() {
    let t = management_tenant();
    store(&t);
    connect(&t, false);
    ok(&login(&t, PASSWORD), 200);
    ok(&login(&t, PASSWORD), 200);
    assert_eq!(calls(&t), 2);
    let refused = login(&t, "not the password");
    assert_eq!(refused.json_body()["error"], "invalid_grant");
    assert_eq!(calls(&t), 3, "the store, not a kept hash, said no");
    let users = stored_users(&t);
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["logins_count"], 2);
}

#[test]
fn a_store_that_fails_or_answers_garbage_fails_closed_and_nothing_is_stored() {
    let t = management_tenant();
    connect(&t, true);
    for (what, answer_with) in [
        ("timeout", Err(OutboundError::Timeout(5000))),
        ("outage", Err(OutboundError::Status(503))),
        ("garbage", Ok(b"<html>busy</html>".to_vec())),
        (
            "no user_id",
            Ok(br#"{"email":"lee@legacy.example"}"#.to_vec()),
        ),
        (
            "another user's profile",
            Ok(br#"{"user_id":"1","email":"someone@else.example"}"#.to_vec()),
        ),
        (
            "an id this issuer does not take",
            Ok(br#"{"user_id":"a b","email":"lee@legacy.example"}"#.to_vec()),
        ),
    ] {
        answer(&t, move |_| answer_with.clone());
        let resp = login(&t, PASSWORD);
        assert_eq!(resp.status, 500, "{what}: {:?}", resp.json_body());
        assert_eq!(resp.json_body()["error"], "server_error", "{what}");
        assert_eq!(stored_users(&t).as_array().unwrap().len(), 0, "{what}");
    }
    assert!(t
        .log
        .borrow()
        .iter()
        .any(|l| l.contains("no answer within 5000 ms")));
}

#[test]
fn the_hosted_login_signs_a_store_user_in() {
    let t = management_tenant();
    store(&t);
    connect(&t, true);
    t.edit_client(APP_ID, |c| {
        c.grant_types.push("authorization_code".into());
        c.redirect_uris = vec!["https://app.example.com/callback".into()];
    });
    let authorize = format!(
        "/authorize?response_type=code&client_id={APP_ID}&redirect_uri={}&scope=openid&state=s&connection={REALM}",
        enc("https://app.example.com/callback")
    );
    let page = get(&t, &authorize, "");
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", EMAIL);
    form.append_pair("password", PASSWORD);
    let resp = post_form(&t, "/u/login", &form.finish(), &csrf);
    assert_eq!(resp.status, 303, "{}", String::from_utf8_lossy(&resp.body));
    assert!(resp.header("location").unwrap().contains("code="));
    assert_eq!(calls(&t), 1);
    assert_eq!(stored_users(&t)[0]["user_id"], "auth0|4242");
}

#[test]
fn custom_database_options_are_checked_when_saved() {
    let t = management_tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    for (options, what) in [
        (
            json!({ "enabledDatabaseCustomization": true }),
            "no login endpoint",
        ),
        (
            json!({ "enabledDatabaseCustomization": true, "customScripts": { "login": "https://x.example/login" } }),
            "no secret",
        ),
        (
            json!({ "customScripts": { "login": "function login(email, password, callback) {}" } }),
            "a script",
        ),
        (
            json!({ "customScripts": { "login": "https://10.0.0.7/login" }, "configuration": { "signing_secret": SECRET } }),
            "a private address",
        ),
        (
            json!({ "customScripts": { "get_user": "https://x.example/get" } }),
            "get_user",
        ),
        (
            json!({ "configuration": { "signing_secret": "short" } }),
            "a short secret",
        ),
    ] {
        let resp = manage(
            &t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({ "name": "legacy2", "strategy": "auth0", "options": options })),
        );
        invalid_body(&resp, what);
    }
}

/// The sign-up form through the store's connection, posted with `email`.
fn sign_up(t: &Tenant, email: &str) -> HttpResponse {
    t.edit_client(APP_ID, |c| {
        c.grant_types = vec!["authorization_code".into(), "password".into()];
        c.redirect_uris = vec!["https://app.example.com/callback".into()];
    });
    let authorize = format!(
        "/authorize?response_type=code&client_id={APP_ID}&redirect_uri={}&scope=openid&state=s&connection={REALM}&screen_hint=signup",
        enc("https://app.example.com/callback")
    );
    let page = get(t, &authorize, "");
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", email);
    form.append_pair("password", "a brand new passphrase 7");
    post_form(t, "/u/signup", &form.finish(), &csrf)
}

#[test]
fn sign_up_in_import_mode_asks_the_store_first_and_without_import_mode_is_closed() {
    let t = management_tenant();
    // The store knows Lee; `get_user` of anyone else is 404.
    answer(&t, |body| {
        let request: Value = serde_json::from_str(body).unwrap();
        assert_eq!(request["action"], "get_user");
        assert!(
            request.get("password").is_none(),
            "no password is sent to get_user"
        );
        if request["email"] == EMAIL {
            Ok(json!({ "user_id": 4242, "email": EMAIL })
                .to_string()
                .into_bytes())
        } else {
            Err(OutboundError::Status(404))
        }
    });
    connect(&t, true);
    // Lee's address, still in the store: taken, nothing stored (Lee migrates by signing in).
    let taken = sign_up(&t, "Lee@Legacy.example");
    let page = String::from_utf8_lossy(&taken.body);
    assert_eq!(taken.status, 400, "{page}");
    assert!(page.contains("already exists"), "{page}");
    assert_eq!(calls(&t), 1);
    assert_eq!(stored_users(&t), json!([]));
    // A new address: the user is made here.
    let made = sign_up(&t, "new@legacy.example");
    assert_eq!(made.status, 303, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(stored_users(&t)[0]["email"], "new@legacy.example");

    // Without import mode the store holds every user, and its `create` is not called: no
    // sign-up through that connection.
    let t = management_tenant();
    store(&t);
    connect(&t, false);
    let closed = sign_up(&t, "new@legacy.example");
    assert_eq!(
        closed.status,
        403,
        "{}",
        String::from_utf8_lossy(&closed.body)
    );
    assert_eq!(calls(&t), 0);
}
