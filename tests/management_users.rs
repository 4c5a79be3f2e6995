//! The management API's users routes through the route table: what an admin script and an
//! SPA acting on its own user see.

mod common;

use common::*;
use edge_issuer::web::HttpResponse;
use serde_json::{json, Value};

const SCOPES: [&str; 64] = MGMT_SCOPES;

fn tenant() -> Tenant {
    management_tenant()
}

fn call(t: &Tenant, method: &str, path: &str, token: &str, body: Option<Value>) -> HttpResponse {
    manage(t, method, path, token, body)
}

fn user_path(id: &str) -> String {
    format!("/api/v2/users/{}", enc(id))
}

/// The demo user's own token for the management API, with `scope`.
fn own_token(t: &Tenant, scope: &str) -> String {
    let body = t
        .password(&format!("&audience={}&scope={}", enc(MGMT), enc(scope)))
        .json_body();
    body["access_token"].as_str().unwrap().to_string()
}

fn new_user(email: &str) -> Value {
    json!({
        "connection": "Username-Password-Authentication",
        "email": email,
        "password": "a long enough password",
        "user_metadata": {"lang": "en"},
        "app_metadata": {"plan": "gold"},
    })
}

#[test]
fn an_admin_creates_finds_changes_and_deletes_a_user() {
    let t = tenant();
    let admin = admin_token(&t, &SCOPES);
    let created = call(
        &t,
        "POST",
        "/api/v2/users",
        &admin,
        Some(new_user("grace@example.com")),
    );
    assert_eq!(created.status, 201, "{:?}", created.json_body());
    let user = created.json_body();
    let id = user["user_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("auth0|"), "{id}");
    assert_eq!(
        user["identities"][0]["connection"],
        "Username-Password-Authentication"
    );
    assert!(user.get("password_hash").is_none() && !user.to_string().contains("pbkdf2"));
    assert_eq!(user["created_at"], "2027-01-15T08:00:00.000Z");

    // The new user signs in with the password the admin set.
    let form = format!(
        "grant_type=password&username=grace%40example.com&password={}",
        enc("a long enough password")
    );
    assert_eq!(t.token(&form, Some((APP_ID, APP_SECRET))).status, 200);

    let got = call(&t, "GET", &user_path(&id), &admin, None);
    assert_eq!(got.status, 200);
    assert_eq!(got.json_body()["email"], "grace@example.com");
    assert_eq!(got.json_body()["logins_count"], 1);

    // Found by email (any case) and by app_metadata.
    let by_email = call(
        &t,
        "GET",
        "/api/v2/users-by-email?email=GRACE%40example.com",
        &admin,
        None,
    );
    assert_eq!(by_email.json_body().as_array().map(Vec::len), Some(1));
    let q = enc(r#"app_metadata.plan:"gold""#);
    let found = call(
        &t,
        "GET",
        &format!("/api/v2/users?q={q}&include_totals=true"),
        &admin,
        None,
    );
    assert_eq!(found.json_body()["total"], 1);
    assert_eq!(found.json_body()["users"][0]["user_id"], id);

    // PATCH merges metadata at the top level; null removes.
    let patched = call(
        &t,
        "PATCH",
        &user_path(&id),
        &admin,
        Some(json!({"user_metadata": {"theme": "dark", "lang": null}, "name": "Grace"})),
    );
    assert_eq!(patched.status, 200);
    assert_eq!(
        patched.json_body()["user_metadata"],
        json!({"theme": "dark"})
    );
    assert_eq!(patched.json_body()["app_metadata"], json!({"plan": "gold"}));
    assert_eq!(patched.json_body()["name"], "Grace");

    let deleted = call(&t, "DELETE", &user_path(&id), &admin, None);
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert_eq!(call(&t, "GET", &user_path(&id), &admin, None).status, 404);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let t = tenant();
    let admin = admin_token(&t, &SCOPES);
    let cases = [
        json!({"connection": "Username-Password-Authentication", "email": "nope", "password": "long enough pw"}),
        json!({"connection": "Username-Password-Authentication", "email": "a@b.co", "password": "short"}),
        json!({"connection": "Username-Password-Authentication", "email": "a@b.co", "password": "long enough pw", "is_admin": true}),
        json!({"connection": "Username-Password-Authentication", "email": "a@b.co", "password": "long enough pw", "picture": "javascript:x"}),
        json!({"connection": "Username-Password-Authentication", "email": "a@b.co", "password": "long enough pw", "user_metadata": {"a.b": 1}}),
        json!({"connection": "Username-Password-Authentication", "email": "a@b.co", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "x"}}}),
        json!({"connection": "Username-Password-Authentication", "email": 7, "password": "long enough pw"}),
    ];
    for body in cases {
        let resp = call(&t, "POST", "/api/v2/users", &admin, Some(body.clone()));
        invalid_body(&resp, &body.to_string());
    }
    let other = json!({"connection": "elsewhere", "email": "a@b.co", "password": "long enough pw"});
    let resp = call(&t, "POST", "/api/v2/users", &admin, Some(other));
    assert_eq!(resp.json_body()["errorCode"], "inexistent_connection");
    // The demo user's email, in another case: taken.
    let resp = call(
        &t,
        "POST",
        "/api/v2/users",
        &admin,
        Some(new_user("ADA@example.COM")),
    );
    assert_eq!(resp.status, 409);
    let all = call(&t, "GET", "/api/v2/users?include_totals=true", &admin, None);
    assert_eq!(all.json_body()["total"], 1, "only the demo user");
    // Bad queries.
    for q in [
        "q=phone:1",
        "sort=password_hash:1",
        "per_page=500",
        "colour=red",
        "page=1&page=2",
    ] {
        let resp = call(&t, "GET", &format!("/api/v2/users?{q}"), &admin, None);
        assert_eq!(resp.status, 400, "{q}");
        assert_eq!(resp.json_body()["errorCode"], "invalid_query_string", "{q}");
    }
    // A PATCH that would outgrow the metadata limit.
    let big = json!({"app_metadata": {"blob": "x".repeat(16 * 1024)}});
    let resp = call(&t, "PATCH", &user_path(USER_ID), &admin, Some(big));
    invalid_body(&resp, "oversized metadata");
    let got = call(&t, "GET", &user_path(USER_ID), &admin, None).json_body();
    assert_eq!(
        got["app_metadata"],
        json!({"roles": ["editor"], "plan": "pro"})
    );
}

#[test]
fn each_route_checks_its_scope() {
    let t = tenant();
    let reader = admin_token(&t, &["read:users"]);
    assert_eq!(call(&t, "GET", "/api/v2/users", &reader, None).status, 200);
    for (method, path) in [
        ("POST", "/api/v2/users".to_string()),
        ("PATCH", user_path(USER_ID)),
        ("DELETE", user_path(USER_ID)),
    ] {
        let resp = call(&t, method, &path, &reader, Some(json!({})));
        assert_eq!(resp.status, 403, "{method} {path}");
        assert!(resp
            .header("www-authenticate")
            .unwrap()
            .contains("insufficient_scope"));
    }
    assert_eq!(
        call(&t, "GET", "/api/v2/users", "garbage", None).status,
        401
    );
}

#[test]
fn pages_follow_insertion_order_and_new_users_do_not_shift_them() {
    let t = tenant();
    let admin = admin_token(&t, &SCOPES);
    for i in 0..5 {
        let resp = call(
            &t,
            "POST",
            "/api/v2/users",
            &admin,
            Some(new_user(&format!("u{i}@example.com"))),
        );
        assert_eq!(resp.status, 201);
    }
    let page = |n: u32| {
        call(
            &t,
            "GET",
            &format!("/api/v2/users?per_page=2&page={n}&fields=email"),
            &admin,
            None,
        )
        .json_body()
    };
    let first = page(0);
    assert_eq!(
        first,
        json!([{"email": USER_EMAIL}, {"email": "u0@example.com"}])
    );
    // Someone adds a user between two page reads.
    call(
        &t,
        "POST",
        "/api/v2/users",
        &admin,
        Some(new_user("late@example.com")),
    );
    assert_eq!(
        page(1),
        json!([{"email": "u1@example.com"}, {"email": "u2@example.com"}])
    );
    assert_eq!(page(3), json!([{"email": "late@example.com"}]));
    let sorted = call(
        &t,
        "GET",
        "/api/v2/users?sort=email:-1&per_page=1&fields=email",
        &admin,
        None,
    );
    assert_eq!(sorted.json_body(), json!([{"email": "u4@example.com"}]));
}

#[test]
fn blocking_a_user_stops_their_logins_and_refreshes_at_once() {
    let t = tenant();
    let admin = admin_token(&t, &SCOPES);
    let tokens = t.password("&scope=openid%20offline_access").json_body();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let resp = call(
        &t,
        "PATCH",
        &user_path(USER_ID),
        &admin,
        Some(json!({"blocked": true})),
    );
    assert_eq!(resp.json_body()["blocked"], true);
    assert_eq!(t.password("").status, 400);
    assert_eq!(t.refresh(refresh, "").json_body()["error"], "invalid_grant");
    call(
        &t,
        "PATCH",
        &user_path(USER_ID),
        &admin,
        Some(json!({"blocked": false})),
    );
    assert_eq!(t.password("").status, 200);
}

#[test]
fn an_imported_bcrypt_user_signs_in_with_their_old_password() {
    let t = tenant();
    let admin = admin_token(&t, &SCOPES);
    let hash = bcrypt::hash("old password 1", 4).unwrap();
    let body = json!({
        "connection": "Username-Password-Authentication",
        "email": "imported@example.com",
        "user_id": "legacy-42",
        "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": hash, "encoding": "utf8"}},
    });
    let resp = call(&t, "POST", "/api/v2/users", &admin, Some(body));
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    assert_eq!(resp.json_body()["user_id"], "auth0|legacy-42");
    let form = |pw: &str| {
        format!(
            "grant_type=password&username=imported%40example.com&password={}",
            enc(pw)
        )
    };
    assert_eq!(
        t.token(&form("wrong"), Some((APP_ID, APP_SECRET))).status,
        400
    );
    assert_eq!(
        t.token(&form("old password 1"), Some((APP_ID, APP_SECRET)))
            .status,
        200
    );
    // Upgraded at that login to the native hash; the old password still works.
    let stored = pollster::block_on(edge_issuer::port::UserStore::user(
        &t.store,
        "auth0|legacy-42",
    ))
    .unwrap()
    .unwrap();
    assert!(stored.password_hash.unwrap().starts_with("$pbkdf2-sha256$"));
    assert_eq!(
        t.token(&form("old password 1"), Some((APP_ID, APP_SECRET)))
            .status,
        200
    );
}

#[test]
fn a_user_reads_and_edits_only_their_own_user_metadata() {
    let t = tenant();
    let token = own_token(&t, "read:current_user update:current_user_metadata");
    let me = call(&t, "GET", &user_path(USER_ID), &token, None);
    assert_eq!(me.status, 200);
    assert_eq!(me.json_body()["email"], USER_EMAIL);
    let resp = call(
        &t,
        "PATCH",
        &user_path(USER_ID),
        &token,
        Some(json!({"user_metadata": {"theme": "light", "tz": "UTC"}})),
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.json_body()["user_metadata"],
        json!({"theme": "light", "tz": "UTC"})
    );

    // The four refusals: another user, app_metadata, another field, no scope.
    let other = "auth0|someone-else";
    let refusals = [
        ("GET", user_path(other), None, token.clone()),
        (
            "PATCH",
            user_path(other),
            Some(json!({"user_metadata": {"a": 1}})),
            token.clone(),
        ),
        (
            "PATCH",
            user_path(USER_ID),
            Some(json!({"app_metadata": {"plan": "free"}})),
            token.clone(),
        ),
        (
            "PATCH",
            user_path(USER_ID),
            Some(json!({"email": "me@evil.example"})),
            token.clone(),
        ),
        (
            "PATCH",
            user_path(USER_ID),
            Some(json!({"blocked": false})),
            token.clone(),
        ),
        (
            "PATCH",
            user_path(USER_ID),
            Some(json!({"user_metadata": {"a": 1}})),
            own_token(&t, "read:current_user"),
        ),
        ("GET", "/api/v2/users".to_string(), None, token.clone()),
        ("DELETE", user_path(USER_ID), None, token.clone()),
    ];
    for (method, path, body, tok) in refusals {
        let resp = call(&t, method, &path, &tok, body.clone());
        assert_eq!(resp.status, 403, "{method} {path} {body:?}");
    }
    let me = call(&t, "GET", &user_path(USER_ID), &token, None).json_body();
    assert_eq!(
        me["app_metadata"],
        json!({"roles": ["editor"], "plan": "pro"})
    );
    assert_eq!(me["email"], USER_EMAIL);
}

#[test]
fn self_service_writes_are_limited_per_user_per_minute() {
    let t = tenant();
    let token = own_token(&t, "update:current_user_metadata");
    let write = |i: u32| {
        call(
            &t,
            "PATCH",
            &user_path(USER_ID),
            &token,
            Some(json!({"user_metadata": {"n": i}})),
        )
    };
    for i in 0..10 {
        assert_eq!(write(i).status, 200, "write {i}");
    }
    let refused = write(10);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.json_body()["statusCode"], 429);
    // The refused write changed nothing; an admin is not limited.
    let admin = admin_token(&t, &SCOPES);
    let me = call(&t, "GET", &user_path(USER_ID), &admin, None).json_body();
    assert_eq!(me["user_metadata"]["n"], 9);
    assert_eq!(
        call(
            &t,
            "PATCH",
            &user_path(USER_ID),
            &admin,
            Some(json!({"name": "A"}))
        )
        .status,
        200
    );
    t.clock.advance(61);
    assert_eq!(write(11).status, 200);
}

#[test]
fn an_spa_calls_the_self_service_routes_across_origins_and_nothing_else() {
    let t = tenant();
    t.edit_client(APP_ID, |c| {
        c.web_origins = vec!["https://spa.example".into()]
    });
    let token = own_token(&t, "read:current_user update:current_user_metadata");
    let send = |method: &str, path: &str, origin: &str| {
        t.send(edge_issuer::web::HttpRequest {
            method: method.into(),
            path: path.into(),
            headers: vec![
                ("origin".into(), origin.into()),
                ("authorization".into(), format!("Bearer {token}")),
                ("access-control-request-method".into(), "PATCH".into()),
            ],
            ..Default::default()
        })
    };
    let me = user_path(USER_ID);
    let preflight = send("OPTIONS", &me, "https://spa.example");
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://spa.example")
    );
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, PATCH")
    );
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    let read = send("GET", &me, "https://spa.example");
    assert_eq!(read.status, 200);
    assert_eq!(
        read.header("access-control-allow-origin"),
        Some("https://spa.example")
    );
    // Another origin, or any admin route: no CORS headers, so the browser keeps the answer.
    assert_eq!(
        send("GET", &me, "https://evil.example").header("access-control-allow-origin"),
        None
    );
    for path in ["/api/v2/users", "/api/v2/clients"] {
        let resp = send("GET", path, "https://spa.example");
        assert_eq!(resp.header("access-control-allow-origin"), None, "{path}");
    }
}
