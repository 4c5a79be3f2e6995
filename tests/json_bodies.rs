//! Every management route that takes a JSON body refuses a body that is not an object where
//! an object is expected (serde's derived structs would read an array member by member), with
//! the JSON-shaped 400 of every other body error, and changes nothing.

mod common;

use common::*;
use edge_issuer::admin::ROUTES;
use serde_json::json;

/// Routes that take no JSON body (an empty POST, a multipart file).
const NO_JSON: [&str; 7] = [
    "/api/v2/users/{id}/recovery-code-regeneration",
    "/api/v2/users/{id}/multifactor/actions/invalidate-remember-browser",
    "/api/v2/clients/{id}/rotate-secret",
    "/api/v2/jobs/users-imports",
    "/api/v2/keys/signing/rotate",
    "/api/v2/keys/signing/{id}/revoke",
    "/api/v2/keys/encryption/rekey",
];

#[test]
fn every_json_route_refuses_an_array_or_a_scalar_where_an_object_is_expected() {
    let t = management_tenant();
    let mut scopes = MGMT_SCOPES.to_vec();
    scopes.push("read:claims");
    t.store.put_api(api(MGMT, &scopes, false, &[]));
    let token = admin_token(&t, &scopes);
    let made = |path: &str, body: serde_json::Value| {
        let resp = manage(&t, "POST", path, &token, Some(body));
        assert!(resp.status < 300, "{path}: {:?}", resp.json_body());
        resp.json_body()["id"].as_str().unwrap().to_string()
    };
    let role = made("/api/v2/roles", json!({"name": "r"}));
    let org = made("/api/v2/organizations", json!({"name": "o"}));
    let rule = made(
        "/api/v2/rules",
        json!({"name": "n", "trigger": "post-login", "assignments": [
            {"target": "access_token", "claim": "https://x/p", "path": "user.app_metadata.plan"}]}),
    );
    let grant = made(
        "/api/v2/client-grants",
        json!({"client_id": APP_ID, "audience": API, "scope": []}),
    );
    let ids = |path: &str| {
        path.replacen("/users/{id}", &format!("/users/{}", enc(USER_ID)), 1)
            .replacen("/roles/{id}", &format!("/roles/{role}"), 1)
            .replacen("/organizations/{id}", &format!("/organizations/{org}"), 1)
            .replacen("/members/{id}", &format!("/members/{}", enc(USER_ID)), 1)
            .replacen("/clients/{id}", &format!("/clients/{APP_ID}"), 1)
            .replacen("/rules/{id}", &format!("/rules/{rule}"), 1)
            .replacen("/client-grants/{id}", &format!("/client-grants/{grant}"), 1)
            .replace("{id}", "x")
    };
    let app = || {
        let path = format!("/api/v2/clients/{APP_ID}");
        ok(&manage(&t, "GET", &path, &token, None), 200)
    };
    let before = app();
    let mut walked = 0;
    for route in ROUTES {
        if !matches!(route.method, "POST" | "PATCH" | "PUT") || NO_JSON.contains(&route.path) {
            continue;
        }
        let path = ids(route.path);
        for bad in [
            json!(["renamed by array"]),
            json!([null, null, null]),
            json!("text"),
            json!(3),
        ] {
            let resp = manage(&t, route.method, &path, &token, Some(bad.clone()));
            let answer = resp.json_body();
            assert_eq!(resp.status, 400, "{} {path} {bad}: {answer}", route.method);
            assert_eq!(answer["errorCode"], "invalid_body", "{path} {bad}");
            let message = answer["message"].as_str().unwrap();
            // Auth0's `PATCH /connections/{id}/clients` takes an array of objects, and
            // `PUT /guardian/policies` an array of strings.
            let array_body = route.path == "/api/v2/connections/{id}/clients"
                || route.path == "/api/v2/guardian/policies";
            assert!(
                message.contains("expected an object")
                    || message.contains("the body is {")
                    || (array_body && message.contains("expected an array")),
                "{path} {bad}: {message}"
            );
        }
        walked += 1;
    }
    assert_eq!(walked, 38, "every route with a JSON body");
    // Nested objects too: a client's jwt_configuration, a rule's conditions.
    let nested = [
        (
            "PATCH",
            format!("/api/v2/clients/{APP_ID}"),
            json!({"name": "x", "jwt_configuration": ["ES256"]}),
        ),
        (
            "PATCH",
            format!("/api/v2/rules/{rule}"),
            json!({"conditions": [["demo-web"], [], [], null, null]}),
        ),
    ];
    for (method, path, body) in nested {
        let resp = manage(&t, method, &path, &token, Some(body));
        assert_eq!(resp.status, 400, "{path}: {:?}", resp.json_body());
        assert!(resp.json_body()["message"]
            .as_str()
            .unwrap()
            .contains("expected an object"));
    }
    assert_eq!(before, app(), "nothing changed");
}

#[test]
fn a_member_named_twice_is_refused() {
    let t = management_tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    let resp = t.send(edge_issuer::web::HttpRequest {
        method: "PATCH".into(),
        path: format!("/api/v2/clients/{APP_ID}"),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {token}")),
        ],
        body: br#"{"name":"a","name":"b"}"#.to_vec(),
        ..Default::default()
    });
    assert_eq!(resp.status, 400);
    assert!(resp.json_body()["message"]
        .as_str()
        .unwrap()
        .contains("duplicate"));
}
