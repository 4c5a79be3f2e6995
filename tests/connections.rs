//! Connections and identities through the route table: the management API's connection
//! records and what they change at sign-in (enabled clients, sign-up, the password policy,
//! brute-force protection), and account linking on stored identities.

mod common;

use common::*;
use edge_issuer::web::HttpResponse;
use serde_json::{json, Value};

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const DEFAULT: &str = "Username-Password-Authentication";

fn tenant() -> Tenant {
    management_tenant_with_spa(SPA, CALLBACK)
}

fn admin(t: &Tenant) -> String {
    admin_token(t, &MGMT_SCOPES)
}

fn default_connection(t: &Tenant, token: &str) -> Value {
    let listed = ok(
        &manage(
            t,
            "GET",
            &format!("/api/v2/connections?name={DEFAULT}"),
            token,
            None,
        ),
        200,
    );
    listed[0].clone()
}

fn authorize(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CALLBACK)
    )
}

/// Opens the page of `extra`'s request and posts it to `action` with `email` and `password`.
fn post_page(t: &Tenant, extra: &str, action: &str, email: &str, password: &str) -> HttpResponse {
    let page = get(t, &authorize(extra), "");
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    let html = String::from_utf8(page.body.clone()).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", email);
    form.append_pair("password", password);
    post_form(t, action, &form.finish(), &csrf)
}

fn redirect_error(resp: &HttpResponse) -> (String, String) {
    let location = resp.header("location").expect("a redirect");
    let query = location.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |n: &str| {
        params
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (get("error"), get("error_description"))
}

#[test]
fn connections_are_created_read_changed_and_deleted_as_auth0_shapes_them() {
    let t = tenant();
    let token = admin(&t);
    let seeded = default_connection(&t, &token);
    assert_eq!(seeded["strategy"], "auth0");
    assert!(seeded["id"].as_str().unwrap().starts_with("con_"));
    assert_eq!(seeded["realms"], json!([DEFAULT]));
    assert!(seeded["enabled_clients"]
        .as_array()
        .unwrap()
        .contains(&json!(SPA)));

    let created = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(json!({
                "name": "staff", "strategy": "auth0", "display_name": "Staff",
                "options": { "passwordPolicy": "good", "brute_force_protection": true },
                "enabled_clients": [SPA, "no-such-client"],
            })),
        ),
        201,
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 20, "con_ and 16 characters: {id}");
    assert_eq!(
        created["enabled_clients"],
        json!([SPA]),
        "unknown clients are left out"
    );
    assert_eq!(created["options"]["passwordPolicy"], "good");
    let path = format!("/api/v2/connections/{id}");
    assert_eq!(ok(&manage(&t, "GET", &path, &token, None), 200), created);

    // A taken name, an unknown strategy, a bad option: refused, nothing stored.
    let before = t.store.durable_state();
    for (body, status) in [
        (json!({ "name": "staff", "strategy": "auth0" }), 409),
        (
            json!({ "name": "google", "strategy": "google-oauth2" }),
            400,
        ),
        (
            json!({ "name": "x", "strategy": "auth0", "options": { "requires_username": true } }),
            400,
        ),
        (
            json!({ "name": "x", "strategy": "auth0", "options": { "mfa": {} } }),
            400,
        ),
        (json!({ "name": "bad name", "strategy": "auth0" }), 400),
    ] {
        let resp = manage(
            &t,
            "POST",
            "/api/v2/connections",
            &token,
            Some(body.clone()),
        );
        assert_eq!(resp.status, status, "{body}: {:?}", resp.json_body());
    }
    assert_eq!(t.store.durable_state(), before);

    let changed = ok(
        &manage(
            &t,
            "PATCH",
            &path,
            &token,
            Some(json!({
                "options": { "disable_signup": true }, "enabled_clients": [APP_ID],
            })),
        ),
        200,
    );
    assert_eq!(
        changed["options"],
        json!({ "disable_signup": true }),
        "replaced whole"
    );
    assert_eq!(changed["enabled_clients"], json!([APP_ID]));
    let renamed = manage(&t, "PATCH", &path, &token, Some(json!({ "name": "other" })));
    assert_eq!(renamed.status, 400);

    // The clients route, as Auth0 pages and changes it.
    let clients = format!("{path}/clients");
    let body =
        json!([{ "client_id": SPA, "status": true }, { "client_id": APP_ID, "status": false }]);
    assert_eq!(
        manage(&t, "PATCH", &clients, &token, Some(body)).status,
        204
    );
    let listed = ok(&manage(&t, "GET", &clients, &token, None), 200);
    assert_eq!(listed, json!({ "clients": [{ "client_id": SPA }] }));

    let list = ok(
        &manage(
            &t,
            "GET",
            "/api/v2/connections?include_totals=true&strategy=auth0",
            &token,
            None,
        ),
        200,
    );
    assert_eq!(list["total"], 2);
    assert_eq!(manage(&t, "DELETE", &path, &token, None).status, 202);
    assert_eq!(manage(&t, "GET", &path, &token, None).status, 404);
    let default_path = format!("/api/v2/connections/{}", seeded["id"].as_str().unwrap());
    assert_eq!(
        manage(&t, "DELETE", &default_path, &token, None).status,
        400
    );

    // Each route needs its own scope.
    let reader = admin_token(&t, &["read:connections"]);
    assert_eq!(
        manage(&t, "GET", "/api/v2/connections", &reader, None).status,
        200
    );
    let refused = manage(
        &t,
        "POST",
        "/api/v2/connections",
        &reader,
        Some(json!({ "name": "y", "strategy": "auth0" })),
    );
    assert_eq!(refused.status, 403);
    assert_eq!(
        manage(&t, "DELETE", &default_path, &reader, None).status,
        403
    );
}

#[test]
fn sign_in_goes_only_through_a_connection_enabled_for_the_client() {
    let t = tenant();
    let token = admin(&t);
    let seeded = default_connection(&t, &token);
    let clients = format!(
        "/api/v2/connections/{}/clients",
        seeded["id"].as_str().unwrap()
    );
    // Asked by name: an unknown connection is the client's error.
    let unknown = get(&t, &authorize("&connection=nope"), "");
    assert_eq!(unknown.status, 302);
    let (error, description) = redirect_error(&unknown);
    assert_eq!(error, "invalid_request");
    assert!(description.contains("nope"), "{description}");
    // By name, enabled: the page.
    assert_eq!(
        get(&t, &authorize(&format!("&connection={DEFAULT}")), "").status,
        200
    );
    // Another connection, by name: its page, with its display name.
    let staff = json!({ "name": "staff", "strategy": "auth0", "display_name": "Staff", "enabled_clients": [SPA] });
    let staff = ok(
        &manage(&t, "POST", "/api/v2/connections", &token, Some(staff)),
        201,
    );
    let page = get(&t, &authorize("&connection=staff"), "");
    assert!(String::from_utf8_lossy(&page.body).contains("With your Staff account"));
    // Without a name, the tenant's default connection when it is enabled (no display name).
    let page = get(&t, &authorize(""), "");
    assert!(!String::from_utf8_lossy(&page.body).contains("With your"));
    let staff_path = format!("/api/v2/connections/{}", staff["id"].as_str().unwrap());
    assert_eq!(manage(&t, "DELETE", &staff_path, &token, None).status, 202);
    // Disabled for the client: no page, and the password grant of demo-app still works
    // only while demo-app is enabled.
    let off =
        json!([{ "client_id": SPA, "status": false }, { "client_id": APP_ID, "status": false }]);
    assert_eq!(manage(&t, "PATCH", &clients, &token, Some(off)).status, 204);
    let (error, _) = redirect_error(&get(&t, &authorize(""), ""));
    assert_eq!(error, "invalid_request");
    let password = t.password("");
    assert_eq!(password.status, 400);
    assert_eq!(password.json_body()["error"], "invalid_request");
}

#[test]
fn sign_up_follows_the_connections_policy_and_can_be_turned_off() {
    let t = tenant();
    let token = admin(&t);
    let seeded = default_connection(&t, &token);
    let path = format!("/api/v2/connections/{}", seeded["id"].as_str().unwrap());
    // The seeded policy: 8 characters, not the email, not a common password.
    let common = post_page(
        &t,
        "&screen_hint=signup",
        "/u/signup",
        "grace@example.com",
        "password123",
    );
    assert_eq!(common.status, 400);
    assert!(String::from_utf8_lossy(&common.body).contains("too common"));
    let personal = post_page(
        &t,
        "&screen_hint=signup",
        "/u/signup",
        "grace@example.com",
        "GRACE@example.com",
    );
    let html = String::from_utf8_lossy(&personal.body);
    assert!(html.contains("your email address or your name"), "{html}");
    // Containing the email's local part is fine unless the connection says otherwise.
    let containing = post_page(
        &t,
        "&screen_hint=signup",
        "/u/signup",
        "grace@example.com",
        "grace is here",
    );
    assert_eq!(containing.status, 303);
    // A stricter policy shows on the page before anyone submits, and applies.
    let good = json!({ "options": { "passwordPolicy": "good", "password_complexity_options": { "min_length": 12 } } });
    ok(&manage(&t, "PATCH", &path, &token, Some(good)), 200);
    let page = String::from_utf8(get(&t, &authorize("&screen_hint=signup"), "").body).unwrap();
    assert!(
        page.contains("At least 12 characters, with three of"),
        "{page}"
    );
    let weak = post_page(
        &t,
        "&screen_hint=signup",
        "/u/signup",
        "grace@example.com",
        "all lower case",
    );
    assert!(String::from_utf8_lossy(&weak.body).contains("Use three of"));
    let strong = post_page(
        &t,
        "&screen_hint=signup",
        "/u/signup",
        "hopper@example.com",
        "Lower and UPPER 42",
    );
    assert_eq!(
        strong.status,
        303,
        "{}",
        String::from_utf8_lossy(&strong.body)
    );
    // The management API applies the same policy.
    let created = manage(
        &t,
        "POST",
        "/api/v2/users",
        &token,
        Some(json!({
            "connection": DEFAULT, "email": "ada2@example.com", "password": "all lower case",
        })),
    );
    assert_eq!(created.status, 400);
    assert!(created.json_body()["message"]
        .as_str()
        .unwrap()
        .contains("PasswordStrengthError"));
    // disable_signup: no link, and the endpoint refuses.
    ok(
        &manage(
            &t,
            "PATCH",
            &path,
            &token,
            Some(json!({ "options": { "disable_signup": true } })),
        ),
        200,
    );
    let page = String::from_utf8(get(&t, &authorize(""), "").body).unwrap();
    assert!(!page.contains("Create an account"), "{page}");
    let refused = post_page(
        &t,
        "",
        "/u/signup",
        "alan@example.com",
        "Lower and UPPER 42",
    );
    assert_eq!(refused.status, 403);
}

#[test]
fn brute_force_protection_is_the_connections_to_turn_off() {
    let t = tenant();
    let token = admin(&t);
    let seeded = default_connection(&t, &token);
    let path = format!("/api/v2/connections/{}", seeded["id"].as_str().unwrap());
    let wrong = |t: &Tenant| {
        let form = format!(
            "grant_type=password&username={}&password=wrong",
            enc(USER_EMAIL)
        );
        t.token(&form, Some((APP_ID, APP_SECRET))).json_body()["error_description"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let limit = t.config.lockout.max_failures;
    for _ in 0..limit {
        wrong(&t);
    }
    assert!(wrong(&t).contains("Too many failed login attempts"));
    assert_eq!(t.password("").status, 400, "locked");
    ok(
        &manage(
            &t,
            "PATCH",
            &path,
            &token,
            Some(json!({ "options": { "brute_force_protection": false } })),
        ),
        200,
    );
    assert_eq!(
        wrong(&t),
        "Wrong email or password.",
        "no lock without protection"
    );
    assert_eq!(t.password("").status, 200);
}

#[test]
fn a_linked_account_signs_the_primary_user_in_and_unlinking_gives_it_back() {
    let t = tenant();
    let token = admin(&t);
    let second = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/users",
            &token,
            Some(json!({
                "connection": DEFAULT, "email": "ada.work@example.com",
                "password": "the work password", "user_id": "work",
            })),
        ),
        201,
    );
    assert_eq!(
        second["identities"],
        json!([{ "connection": DEFAULT, "provider": "auth0", "user_id": "work", "isSocial": false }])
    );
    let primary = format!("/api/v2/users/{}", enc(USER_ID));
    let link = format!("{primary}/identities");
    // Not itself, not an unknown user.
    let itself = json!({ "provider": "auth0", "user_id": USER_ID });
    assert_eq!(manage(&t, "POST", &link, &token, Some(itself)).status, 400);
    let nobody = json!({ "provider": "auth0", "user_id": "nobody" });
    assert_eq!(manage(&t, "POST", &link, &token, Some(nobody)).status, 404);
    let linked = ok(
        &manage(
            &t,
            "POST",
            &link,
            &token,
            Some(json!({ "provider": "auth0", "user_id": "work" })),
        ),
        201,
    );
    assert_eq!(linked.as_array().unwrap().len(), 2);
    assert_eq!(
        linked[0]["user_id"],
        USER_ID.strip_prefix("auth0|").unwrap(),
        "primary first"
    );
    assert_eq!(linked[1]["user_id"], "work");
    // The secondary is no user of its own any more.
    assert_eq!(
        manage(&t, "GET", "/api/v2/users/auth0%7Cwork", &token, None).status,
        404
    );
    let found = ok(
        &manage(
            &t,
            "GET",
            "/api/v2/users-by-email?email=ada.work@example.com",
            &token,
            None,
        ),
        200,
    );
    assert_eq!(found, json!([]));
    // Its password signs the primary user in.
    let form = format!(
        "grant_type=password&username={}&password={}&scope=openid",
        enc("ada.work@example.com"),
        enc("the work password")
    );
    let signed = t.token(&form, Some((APP_ID, APP_SECRET)));
    assert_eq!(signed.status, 200, "{:?}", signed.json_body());
    let id = verify_jwt(&t, signed.json_body()["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["sub"], USER_ID);
    // Searching by connection finds the primary, once.
    let q = enc(&format!("identities.connection:\"{DEFAULT}\""));
    let all = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/users?q={q}&include_totals=true"),
            &token,
            None,
        ),
        200,
    );
    assert_eq!(all["total"], 1);
    // The primary identity stays; the linked one comes back as its own user.
    let own = format!("{link}/auth0/{}", USER_ID.strip_prefix("auth0|").unwrap());
    assert_eq!(manage(&t, "DELETE", &own, &token, None).status, 400);
    let left = ok(
        &manage(&t, "DELETE", &format!("{link}/auth0/work"), &token, None),
        200,
    );
    assert_eq!(left.as_array().unwrap().len(), 1);
    let back = ok(
        &manage(&t, "GET", "/api/v2/users/auth0%7Cwork", &token, None),
        200,
    );
    assert_eq!(back["identities"][0]["user_id"], "work");
    let signed = t.token(&form, Some((APP_ID, APP_SECRET)));
    let id = verify_jwt(&t, signed.json_body()["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["sub"], "auth0|work");
    assert_eq!(
        manage(&t, "DELETE", &format!("{link}/auth0/work"), &token, None).status,
        404
    );
}

#[test]
fn a_session_answers_only_clients_its_connection_still_serves() {
    let t = tenant();
    let token = admin(&t);
    let resp = post_page(&t, "", "/u/login", USER_EMAIL, USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    assert_eq!(
        get(&t, &authorize(""), &session).status,
        302,
        "single sign-on"
    );
    let seeded = default_connection(&t, &token);
    let clients = format!(
        "/api/v2/connections/{}/clients",
        seeded["id"].as_str().unwrap()
    );
    let off = json!([{ "client_id": SPA, "status": false }]);
    assert_eq!(manage(&t, "PATCH", &clients, &token, Some(off)).status, 204);
    // prompt=none cannot show a page: login_required; without it, no connection is left for
    // the client, which is its error.
    let (error, _) = redirect_error(&get(&t, &authorize("&prompt=none"), &session));
    assert_eq!(error, "login_required");
    let (error, description) = redirect_error(&get(&t, &authorize(""), &session));
    assert_eq!(error, "invalid_request");
    assert!(description.contains("no connection"), "{description}");
}
