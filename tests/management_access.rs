//! The management API's roles, organizations and a user's links to them: what an admin
//! script changes shows in the next token.

mod common;

use common::*;
use serde_json::json;

fn user_path(id: &str, rest: &str) -> String {
    format!("/api/v2/users/{}{rest}", enc(id))
}

#[test]
fn roles_made_through_the_api_show_in_the_next_token() {
    let t = management_tenant();
    t.store
        .put_api(api(API, &["read:data", "write:data"], true, &[]));
    let admin = admin_token(&t, &MGMT_SCOPES);
    let role = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/roles",
            &admin,
            Some(json!({"name": "editor", "description": "Edits"})),
        ),
        200,
    );
    let id = role["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("rol_"));
    // A name is taken once.
    let twin = manage(
        &t,
        "POST",
        "/api/v2/roles",
        &admin,
        Some(json!({"name": "editor"})),
    );
    assert_eq!(twin.status, 409);
    // Permissions must be scopes of the API.
    let bad =
        json!({"permissions": [{"permission_name": "fly", "resource_server_identifier": API}]});
    let path = format!("/api/v2/roles/{id}/permissions");
    invalid_body(
        &manage(&t, "POST", &path, &admin, Some(bad)),
        "a permission the API lacks",
    );
    let good = json!({"permissions": [{"permission_name": "write:data", "resource_server_identifier": API}]});
    ok(&manage(&t, "POST", &path, &admin, Some(good)), 201);

    // Before the assignment the user cannot get write:data; after it, at once.
    let scope = format!("&audience={}&scope=write:data", enc(API));
    assert_eq!(t.password(&scope).json_body()["scope"], "");
    // All or nothing: an unknown role assigns none.
    let both = json!({"roles": [id, "rol_missing"]});
    assert_eq!(
        manage(
            &t,
            "POST",
            &user_path(USER_ID, "/roles"),
            &admin,
            Some(both)
        )
        .status,
        404
    );
    assert_eq!(
        ok(
            &manage(&t, "GET", &user_path(USER_ID, "/roles"), &admin, None),
            200
        ),
        json!([])
    );
    ok(
        &manage(
            &t,
            "POST",
            &user_path(USER_ID, "/roles"),
            &admin,
            Some(json!({"roles": [id]})),
        ),
        204,
    );
    assert_eq!(t.password(&scope).json_body()["scope"], "write:data");

    let roles = ok(
        &manage(&t, "GET", &user_path(USER_ID, "/roles"), &admin, None),
        200,
    );
    assert_eq!(
        roles,
        json!([{"id": id, "name": "editor", "description": "Edits"}])
    );
    let perms = ok(
        &manage(&t, "GET", &user_path(USER_ID, "/permissions"), &admin, None),
        200,
    );
    assert_eq!(perms[0]["permission_name"], "write:data");
    assert_eq!(perms[0]["sources"][0]["source_id"], id.as_str());
    let holders = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/roles/{id}/users?include_totals=true"),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(holders["total"], 1);
    assert_eq!(holders["users"][0]["user_id"], USER_ID);

    let renamed = ok(
        &manage(
            &t,
            "PATCH",
            &format!("/api/v2/roles/{id}"),
            &admin,
            Some(json!({"name": "writer"})),
        ),
        200,
    );
    assert_eq!(renamed["description"], "Edits");
    ok(
        &manage(
            &t,
            "DELETE",
            &user_path(USER_ID, "/roles"),
            &admin,
            Some(json!({"roles": [id]})),
        ),
        204,
    );
    assert_eq!(t.password(&scope).json_body()["scope"], "");
    ok(
        &manage(&t, "DELETE", &format!("/api/v2/roles/{id}"), &admin, None),
        204,
    );
    assert_eq!(
        manage(&t, "GET", &format!("/api/v2/roles/{id}"), &admin, None).status,
        404
    );
}

#[test]
fn organizations_members_and_member_roles() {
    let t = management_tenant();
    t.store
        .put_api(api(API, &["read:data", "write:data"], true, &[]));
    let admin = admin_token(&t, &MGMT_SCOPES);
    for bad in [
        json!({"name": "Has Caps"}),
        json!({"name": ""}),
        json!({"display_name": "no name"}),
        json!({"name": "ok", "extra": 1}),
    ] {
        assert_eq!(
            manage(
                &t,
                "POST",
                "/api/v2/organizations",
                &admin,
                Some(bad.clone())
            )
            .status,
            400,
            "{bad}"
        );
    }
    let org = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/organizations",
            &admin,
            Some(json!({"name": "acme", "display_name": "Acme"})),
        ),
        201,
    );
    let id = org["id"].as_str().unwrap().to_string();
    assert_eq!(
        ok(
            &manage(&t, "GET", "/api/v2/organizations/name/acme", &admin, None),
            200
        )["id"],
        id.as_str()
    );
    assert_eq!(
        manage(
            &t,
            "POST",
            "/api/v2/organizations",
            &admin,
            Some(json!({"name": "acme"}))
        )
        .status,
        409
    );

    // Not a member yet: the token endpoint refuses the organization.
    assert_eq!(t.password("&organization=acme").status, 400);
    let members = format!("/api/v2/organizations/{id}/members");
    let with_stranger = json!({"members": [USER_ID, "auth0|nobody"]});
    assert_eq!(
        manage(&t, "POST", &members, &admin, Some(with_stranger)).status,
        404
    );
    assert_eq!(
        ok(&manage(&t, "GET", &members, &admin, None), 200),
        json!([])
    );
    ok(
        &manage(
            &t,
            "POST",
            &members,
            &admin,
            Some(json!({"members": [USER_ID]})),
        ),
        204,
    );
    let body = t
        .password(&format!("&organization=acme&audience={}", enc(API)))
        .json_body();
    let claims = verify_jwt(&t, body["access_token"].as_str().unwrap(), API);
    assert_eq!(claims["org_id"], id.as_str());
    let mine = ok(
        &manage(
            &t,
            "GET",
            &user_path(USER_ID, "/organizations"),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(mine[0]["name"], "acme");

    // A role within the organization.
    let role = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/roles",
            &admin,
            Some(json!({"name": "org-admin"})),
        ),
        200,
    );
    let role_id = role["id"].as_str().unwrap();
    let member_roles = format!("{members}/{}/roles", enc(USER_ID));
    ok(
        &manage(
            &t,
            "POST",
            &member_roles,
            &admin,
            Some(json!({"roles": [role_id]})),
        ),
        204,
    );
    let held = ok(&manage(&t, "GET", &member_roles, &admin, None), 200);
    assert_eq!(held[0]["name"], "org-admin");
    assert_eq!(
        ok(
            &manage(&t, "GET", &user_path(USER_ID, "/roles"), &admin, None),
            200
        ),
        json!([])
    );
    // Leaving the organization ends the roles held in it.
    ok(
        &manage(
            &t,
            "DELETE",
            &members,
            &admin,
            Some(json!({"members": [USER_ID]})),
        ),
        204,
    );
    assert_eq!(
        ok(&manage(&t, "GET", &member_roles, &admin, None), 200),
        json!([])
    );
    assert_eq!(t.password("&organization=acme").status, 400);

    let patched = ok(
        &manage(
            &t,
            "PATCH",
            &format!("/api/v2/organizations/{id}"),
            &admin,
            Some(json!({"display_name": "ACME"})),
        ),
        200,
    );
    assert_eq!(patched["name"], "acme");
    ok(
        &manage(
            &t,
            "DELETE",
            &format!("/api/v2/organizations/{id}"),
            &admin,
            None,
        ),
        204,
    );
    assert_eq!(
        manage(
            &t,
            "GET",
            &format!("/api/v2/organizations/{id}"),
            &admin,
            None
        )
        .status,
        404
    );
}

#[test]
fn sessions_are_listed_without_their_secret_and_deleted() {
    use edge_issuer::model::{AuthorizationCode, Session};
    use edge_issuer::port::{ExchangeStore, SessionStore, SignIn};
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    // A sign-in at /authorize stores its session with its first code.
    let session = Session {
        session_id: "the-session-cookie-secret".into(),
        user_id: USER_ID.into(),
        auth_time: NOW,
        created_at: NOW,
        idle_expires_at: NOW + 3600,
        absolute_expires_at: NOW + 7200,
        authenticated: None,
    };
    let code = AuthorizationCode {
        code_hash: "h".into(),
        client_id: APP_ID.into(),
        user_id: USER_ID.into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: None,
        nonce: None,
        scope: "openid".into(),
        audience: None,
        org_id: None,
        session_id: Some(session.session_id.clone()),
        auth_time: NOW,
        created_at: NOW,
        expires_at: NOW + 60,
        used_at: None,
        family_id: None,
        authenticated: None,
    };
    let sign_in = SignIn {
        new_user: None,
        login: None,
        session: Some(&session),
        touched: None,
        code: Some(&code),
        upstream: None,
    };
    pollster::block_on(t.store.commit_authorization(&sign_in, NOW)).unwrap();

    let list = ok(
        &manage(&t, "GET", &user_path(USER_ID, "/sessions"), &admin, None),
        200,
    );
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], session.session_id_hint().as_str());
    assert_eq!(list[0]["expires_at"], "2027-01-15T10:00:00.000Z");
    assert!(!list.to_string().contains("the-session-cookie-secret"));
    ok(
        &manage(&t, "DELETE", &user_path(USER_ID, "/sessions"), &admin, None),
        204,
    );
    // The browser's session is gone: its cookie signs nobody in.
    assert_eq!(
        pollster::block_on(t.store.session(&session.session_id)).unwrap(),
        None
    );
    let list = ok(
        &manage(&t, "GET", &user_path(USER_ID, "/sessions"), &admin, None),
        200,
    );
    assert_eq!(list, json!([]));
    assert_eq!(
        manage(
            &t,
            "GET",
            &user_path("auth0|nobody", "/sessions"),
            &admin,
            None
        )
        .status,
        404
    );
}

#[test]
fn access_routes_check_their_scopes() {
    let t = management_tenant();
    let reader = admin_token(&t, &["read:roles", "read:organizations"]);
    assert_eq!(
        manage(&t, "GET", "/api/v2/roles", &reader, None).status,
        200
    );
    assert_eq!(
        manage(&t, "GET", "/api/v2/organizations", &reader, None).status,
        200
    );
    for (method, path) in [
        ("POST", "/api/v2/roles"),
        ("POST", "/api/v2/organizations"),
        ("GET", "/api/v2/organizations/org_x/members"),
        ("POST", "/api/v2/users/u/roles"),
        ("GET", "/api/v2/users/u/sessions"),
    ] {
        let resp = manage(&t, method, path, &reader, Some(json!({})));
        assert_eq!(resp.status, 403, "{method} {path}");
    }
}
