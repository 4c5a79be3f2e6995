//! Bulk user import: Auth0's export format, uploaded as a file (multipart) or as JSON;
//! imported users sign in with their old passwords; bad rows are reported, not stored.

mod common;

use common::*;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

fn upload(t: &Tenant, token: &str, users: &Value, upsert: bool) -> HttpResponse {
    let boundary = "----edge-issuer-test";
    let mut body = Vec::new();
    let mut part = |name: &str, filename: Option<&str>, content: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let file = filename
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    };
    part("users", Some("users.json"), users.to_string().as_bytes());
    part("connection_id", None, b"Username-Password-Authentication");
    part("upsert", None, upsert.to_string().as_bytes());
    part("send_completion_email", None, b"false");
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    t.send(HttpRequest {
        method: "POST".into(),
        path: "/api/v2/jobs/users-imports".into(),
        headers: vec![
            (
                "content-type".into(),
                format!("multipart/form-data; boundary={boundary}"),
            ),
            ("authorization".into(), format!("Bearer {token}")),
        ],
        body,
        ..Default::default()
    })
}

fn login(t: &Tenant, email: &str, password: &str) -> u16 {
    let form = format!(
        "grant_type=password&username={}&password={}",
        enc(email),
        enc(password)
    );
    t.token(&form, Some((APP_ID, APP_SECRET))).status
}

#[test]
fn an_auth0_export_imports_and_its_users_sign_in_with_their_old_passwords() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let users = json!([
        {"email": "one@example.com", "email_verified": true, "user_id": "old-1", "name": "One",
         "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": bcrypt::hash("first pass", 4).unwrap()}},
         "app_metadata": {"plan": "gold"}},
        {"email": "two@example.com", "password_hash": bcrypt::hash("second pass", 4).unwrap()},
        {"email": "nope", "name": "bad email"},
        {"email": "three@example.com", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "x"}}},
        {"email": "four@example.com", "favourite_colour": "blue"},
        {"email": USER_EMAIL},
        {"email": "one@example.com"},
    ]);
    let resp = upload(&t, &admin, &users, false);
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    let job = resp.json_body();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["type"], "users_import");
    assert_eq!(
        job["summary"],
        json!({"total": 7, "inserted": 2, "updated": 0, "failed": 5})
    );

    assert_eq!(login(&t, "one@example.com", "first pass"), 200);
    assert_eq!(login(&t, "two@example.com", "second pass"), 200);
    assert_eq!(login(&t, "two@example.com", "first pass"), 400);

    let id = job["id"].as_str().unwrap();
    let errors = manage(
        &t,
        "GET",
        &format!("/api/v2/jobs/{id}/errors"),
        &admin,
        None,
    )
    .json_body();
    let emails: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        [
            "nope",
            "three@example.com",
            "four@example.com",
            "one@example.com",
            USER_EMAIL
        ]
    );
    assert!(!errors.to_string().contains("$2"), "no hash in the errors");
    let got = manage(&t, "GET", &format!("/api/v2/jobs/{id}"), &admin, None);
    assert_eq!(got.json_body()["summary"]["inserted"], 2);
    // The demo user was not replaced: upsert was off.
    assert_eq!(login(&t, USER_EMAIL, USER_PASSWORD), 200);
}

#[test]
fn upsert_replaces_an_existing_users_profile_and_hash_but_keeps_its_id() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let users = json!([{ "email": USER_EMAIL, "name": "Renamed",
        "custom_password_hash": {"algorithm": "bcrypt", "hash": {"value": bcrypt::hash("new pass", 4).unwrap(), "encoding": "utf8"}} }]);
    let body = json!({"users": users, "connection_id": "Username-Password-Authentication", "upsert": true});
    let resp = manage(&t, "POST", "/api/v2/jobs/users-imports", &admin, Some(body));
    assert_eq!(resp.status, 201, "{:?}", resp.json_body());
    assert_eq!(resp.json_body()["summary"]["updated"], 1);
    assert_eq!(login(&t, USER_EMAIL, "new pass"), 200);
    let me = manage(
        &t,
        "GET",
        &format!("/api/v2/users/{}", enc(USER_ID)),
        &admin,
        None,
    )
    .json_body();
    assert_eq!(me["name"], "Renamed");
}

#[test]
fn an_import_needs_create_users_and_a_known_connection() {
    let t = management_tenant();
    let reader = admin_token(&t, &["read:users"]);
    assert_eq!(
        upload(&t, &reader, &json!([{"email": "a@b.co"}]), false).status,
        403
    );
    let admin = admin_token(&t, &MGMT_SCOPES);
    let body = json!({"users": [{"email": "a@b.co"}], "connection_id": "elsewhere"});
    assert_eq!(
        manage(&t, "POST", "/api/v2/jobs/users-imports", &admin, Some(body)).status,
        400
    );
    let body = json!({"users": [], "connection_id": "Username-Password-Authentication"});
    assert_eq!(
        manage(&t, "POST", "/api/v2/jobs/users-imports", &admin, Some(body)).status,
        400
    );
    assert_eq!(
        manage(&t, "GET", "/api/v2/jobs/job_nope", &admin, None).status,
        404
    );
}

#[test]
fn look_alike_addresses_are_refused_everywhere_a_user_is_made() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    // USER_EMAIL is Ada@Example.com. A Cyrillic а, fullwidth letters, a zero-width space.
    let create = |email: &str| {
        let body = json!({"connection": "Username-Password-Authentication", "email": email, "password": "a long enough password"});
        manage(&t, "POST", "/api/v2/users", &admin, Some(body))
    };
    for (email, status) in [
        ("\u{0430}da@example.com", 409),
        ("ａｄａ@ｅｘａｍｐｌｅ.com", 409),
        ("ada@examp1e.com", 409),
        ("ada\u{200B}@example.com", 400),
        ("\u{FEFF}grace@example.com", 400),
        // Spelled with a separate accent, it would look like a precomposed address.
        ("jose\u{301}@example.com", 400),
    ] {
        let resp = create(email);
        assert_eq!(resp.status, status, "{email:?}: {:?}", resp.json_body());
    }
    // A different address is fine, and then its own look-alike is taken.
    assert_eq!(create("grace@example.com").status, 201);
    assert_eq!(create("gr\u{0430}ce@example.com").status, 409);
    // An email changed to a look-alike is refused too.
    let path = format!("/api/v2/users/{}", enc(USER_ID));
    let patch = json!({"email": "grace@ex\u{0430}mple.com"});
    assert_eq!(manage(&t, "PATCH", &path, &admin, Some(patch)).status, 409);

    // An import: the look-alike row is a duplicate, the rest go in.
    let users = json!([
        {"email": "\u{0430}da@example.com", "user_id": "imp-1"},
        {"email": "new.person@example.com", "user_id": "imp-2"},
        {"email": "new.persоn@example.com", "user_id": "imp-3"},
    ]);
    let job = upload(&t, &admin, &users, false).json_body();
    assert_eq!(job["summary"]["inserted"], 1, "{job}");
    assert_eq!(job["summary"]["failed"], 2, "{job}");
}

#[test]
fn addresses_are_stored_and_found_in_their_nfkc_form() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    // A new address typed in fullwidth letters is stored folded.
    let body = json!({"connection": "Username-Password-Authentication", "email": "ｍａｒｙ@ｅｘａｍｐｌｅ.com", "password": "a long enough password"});
    let made = ok(
        &manage(&t, "POST", "/api/v2/users", &admin, Some(body)),
        201,
    );
    assert_eq!(made["email"], "mary@example.com");
    // Signing in with either form finds the account.
    assert_eq!(login(&t, "mary@example.com", "a long enough password"), 200);
    assert_eq!(
        login(&t, "ｍａｒｙ@example.com", "a long enough password"),
        200
    );
    // users-by-email folds the query too.
    let found = ok(
        &manage(
            &t,
            "GET",
            &format!(
                "/api/v2/users-by-email?email={}",
                enc("ｍａｒｙ@example.com")
            ),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(found.as_array().map(Vec::len), Some(1));
}
