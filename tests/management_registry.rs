//! The management API's clients, client grants and resource servers: what an admin script
//! registers works at the token endpoint at once, and a rotated secret ends the old one.

mod common;

use common::*;
use serde_json::json;

fn cc(t: &Tenant, id: &str, secret: &str, audience: &str) -> edge_issuer::web::HttpResponse {
    t.token(
        &format!("grant_type=client_credentials&audience={}", enc(audience)),
        Some((id, secret)),
    )
}

#[test]
fn a_registered_client_gets_tokens_and_a_rotated_secret_ends_the_old_one() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let api = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/resource-servers",
            &admin,
            Some(json!({
                "identifier": "https://orders.example", "name": "Orders",
                "scopes": [{"value": "read:orders", "description": "Read"}, {"value": "write:orders"}],
                "signing_alg": "RS256", "token_lifetime": 600,
            })),
        ),
        201,
    );
    assert!(api["id"].as_str().unwrap().starts_with("rs_"));
    let client = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/clients",
            &admin,
            Some(json!({
                "name": "Worker", "app_type": "non_interactive", "grant_types": ["client_credentials"],
                "client_metadata": {"tier": "gold"},
            })),
        ),
        201,
    );
    let id = client["client_id"].as_str().unwrap().to_string();
    let secret = client["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 43);
    // Shown once: a read shows no secret.
    let read = ok(
        &manage(&t, "GET", &format!("/api/v2/clients/{id}"), &admin, None),
        200,
    );
    assert!(read.get("client_secret").is_none());
    assert_eq!(read["client_metadata"], json!({"tier": "gold"}));

    // No grant yet: refused. A grant naming a scope the API lacks: 400.
    let refused = cc(&t, &id, &secret, "https://orders.example");
    assert_eq!(refused.status, 400);
    assert!(refused.json_body()["error"].is_string());
    let bad =
        json!({"client_id": id, "audience": "https://orders.example", "scope": ["delete:orders"]});
    assert_eq!(
        manage(&t, "POST", "/api/v2/client-grants", &admin, Some(bad)).status,
        400
    );
    let grant = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/client-grants",
            &admin,
            Some(json!({
                "client_id": id, "audience": "https://orders.example", "scope": ["read:orders"],
            })),
        ),
        201,
    );
    let token = ok(&cc(&t, &id, &secret, "https://orders.example"), 200);
    assert_eq!(token["scope"], "read:orders");
    let grants = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/client-grants?client_id={id}"),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(grants[0]["id"], grant["id"]);

    // More scope through PATCH; the next token carries it.
    let gid = grant["id"].as_str().unwrap();
    ok(
        &manage(
            &t,
            "PATCH",
            &format!("/api/v2/client-grants/{gid}"),
            &admin,
            Some(json!({"scope": ["read:orders", "write:orders"]})),
        ),
        200,
    );
    assert_eq!(
        ok(&cc(&t, &id, &secret, "https://orders.example"), 200)["scope"],
        "read:orders write:orders"
    );

    let rotated = ok(
        &manage(
            &t,
            "POST",
            &format!("/api/v2/clients/{id}/rotate-secret"),
            &admin,
            None,
        ),
        200,
    );
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(cc(&t, &id, &secret, "https://orders.example").status, 401);
    assert_eq!(
        cc(&t, &id, new_secret, "https://orders.example").status,
        200
    );

    // Deleting the API takes the grant with it; deleting the client ends it.
    ok(
        &manage(
            &t,
            "DELETE",
            &format!("/api/v2/resource-servers/{}", enc("https://orders.example")),
            &admin,
            None,
        ),
        204,
    );
    let grants = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/client-grants?client_id={id}"),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(grants, json!([]));
    ok(
        &manage(&t, "DELETE", &format!("/api/v2/clients/{id}"), &admin, None),
        204,
    );
    assert_eq!(cc(&t, &id, new_secret, API).status, 401);
}

#[test]
fn client_and_api_bodies_are_checked() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    for body in [
        json!({"grant_types": ["client_credentials"]}),
        json!({"name": "x", "callbacks": ["https://app.example/cb#frag"]}),
        json!({"name": "x", "callbacks": ["not a url"]}),
        json!({"name": "x", "web_origins": ["https://app.example/path"]}),
        json!({"name": "x", "grant_types": ["device_code"]}),
        json!({"name": "x", "jwt_configuration": {"alg": "HS256"}}),
        json!({"name": "x", "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]}),
        json!({"name": "x", "refresh_token": {"rotation_type": "non-rotating"}}),
        json!({"name": "x", "client_metadata": {"n": 1}}),
        json!({"name": "x", "colour": "red"}),
        json!({"name": "x", "initiate_login_uri": "http://app.example/login"}),
        json!({"name": "x", "initiate_login_uri": "https://app.example/login#x"}),
    ] {
        let resp = manage(&t, "POST", "/api/v2/clients", &admin, Some(body.clone()));
        invalid_body(&resp, &body.to_string());
    }
    let public = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/clients",
            &admin,
            Some(json!({
                "name": "SPA", "app_type": "spa", "token_endpoint_auth_method": "none",
                "callbacks": ["https://spa.example/cb"], "web_origins": ["https://spa.example"],
            })),
        ),
        201,
    );
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["token_endpoint_auth_method"], "none");
    let id = public["client_id"].as_str().unwrap();
    // Auth0's initiate_login_uri: https, kept, and removed by an empty string.
    let path = format!("/api/v2/clients/{id}");
    let login = json!({"initiate_login_uri": "https://spa.example/login"});
    let set = ok(&manage(&t, "PATCH", &path, &admin, Some(login)), 200);
    assert_eq!(set["initiate_login_uri"], "https://spa.example/login");
    assert_eq!(
        ok(&manage(&t, "GET", &path, &admin, None), 200)["initiate_login_uri"],
        "https://spa.example/login"
    );
    let cleared = json!({"initiate_login_uri": ""});
    assert!(
        ok(&manage(&t, "PATCH", &path, &admin, Some(cleared)), 200)["initiate_login_uri"].is_null()
    );
    assert_eq!(
        manage(
            &t,
            "POST",
            &format!("/api/v2/clients/{id}/rotate-secret"),
            &admin,
            None
        )
        .status,
        400
    );
    for body in [
        json!({"name": "x"}),
        json!({"identifier": "https://x.example", "scopes": [{"value": "a b"}]}),
        json!({"identifier": "https://x.example", "signing_alg": "HS256"}),
        json!({"identifier": "https://x.example", "token_lifetime": 5}),
        json!({"identifier": "https://x.example", "user_grantable_scopes": ["nope"]}),
    ] {
        let resp = manage(
            &t,
            "POST",
            "/api/v2/resource-servers",
            &admin,
            Some(body.clone()),
        );
        invalid_body(&resp, &body.to_string());
    }
    let taken = json!({"identifier": API});
    assert_eq!(
        manage(&t, "POST", "/api/v2/resource-servers", &admin, Some(taken)).status,
        409
    );
    let mgmt = format!("/api/v2/resource-servers/{}", enc(MGMT));
    assert_eq!(
        ok(&manage(&t, "GET", &mgmt, &admin, None), 200)["is_system"],
        true
    );
    assert_eq!(manage(&t, "DELETE", &mgmt, &admin, None).status, 400);
}

#[test]
fn registry_routes_check_their_scopes() {
    let t = management_tenant();
    let reader = admin_token(
        &t,
        &[
            "read:clients",
            "read:resource_servers",
            "read:client_grants",
        ],
    );
    for path in [
        "/api/v2/clients",
        "/api/v2/resource-servers",
        "/api/v2/client-grants",
    ] {
        assert_eq!(manage(&t, "GET", path, &reader, None).status, 200, "{path}");
        assert_eq!(
            manage(&t, "POST", path, &reader, Some(json!({}))).status,
            403,
            "{path}"
        );
    }
    let rotate = format!("/api/v2/clients/{M2M_ID}/rotate-secret");
    assert_eq!(manage(&t, "POST", &rotate, &reader, None).status, 403);
    // The old secret still works: nothing was rotated.
    assert_eq!(cc(&t, M2M_ID, M2M_SECRET, API).status, 200);
}
