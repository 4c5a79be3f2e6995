//! Who may hold which scope, and who may call which management route: user-delegated tokens
//! get only the API scopes a user may hold; the management routes take only machine tokens.

mod common;

use common::*;
use edge_issuer::admin::{Op, Route, ROUTES};
use edge_issuer::model::scope::Scope;
use edge_issuer::model::GrantType;
use edge_issuer::model::{Issuance, RefreshPlan};
use edge_issuer::port::UserStore;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::Value;

const DATA_SCOPES: [&str; 2] = ["read:data", "write:data"];
const MGMT_SCOPES: [&str; 3] = ["read:claims", "update:rules", "read:current_user"];

/// The management API as a tenant would register it, carelessly: every scope marked
/// user-grantable.
fn with_management_api(t: &Tenant, rbac: bool) {
    t.store.put_api(api(MGMT, &MGMT_SCOPES, rbac, &MGMT_SCOPES));
}

fn call(t: &Tenant, method: &str, path: &str, token: Option<&str>, body: &str) -> HttpResponse {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(token) = token {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    t.send(HttpRequest {
        method: method.into(),
        path: path.into(),
        headers,
        body: body.as_bytes().to_vec(),
        ..Default::default()
    })
}

fn route_path(route: &Route) -> String {
    route.path.replace("{id}", "rul_probe")
}

fn explain_route() -> &'static Route {
    ROUTES.iter().find(|r| r.op == Op::ExplainClaims).unwrap()
}

#[test]
fn a_user_gets_only_self_service_scopes_on_the_management_api() {
    for rbac in [false, true] {
        let t = Tenant::new();
        with_management_api(&t, rbac);
        // Even a role granting every management scope as a permission does not help.
        t.store
            .put_role("rol_root", "root", &MGMT_SCOPES.map(|s| (MGMT, s)));
        t.store.assign_role(USER_ID, "rol_root", None);
        let body = t
            .password(&format!(
                "&audience={}&scope=openid%20read:claims%20update:rules%20read:current_user",
                enc(MGMT)
            ))
            .json_body();
        assert_eq!(body["scope"], "openid read:current_user", "rbac {rbac}");
        let token = body["access_token"].as_str().unwrap();
        for route in ROUTES {
            let resp = call(&t, route.method, &route_path(route), Some(token), "{}");
            assert_eq!(resp.status, 403, "{route:?}");
        }
    }
}

#[test]
fn every_management_route_refuses_a_user_token_whatever_its_scopes() {
    let t = Tenant::new();
    with_management_api(&t, false);
    let user = pollster::block_on(t.store.user(USER_ID)).unwrap().unwrap();
    let client = pollster::block_on(edge_issuer::port::ClientStore::client(&t.store, APP_ID))
        .unwrap()
        .unwrap();
    let api = pollster::block_on(edge_issuer::port::ClientStore::api(&t.store, MGMT))
        .unwrap()
        .unwrap();
    // A user token claiming every management scope, signed by the issuer itself.
    let all = ROUTES.iter().map(|r| r.scope).collect::<Vec<_>>().join(" ");
    let token = t.mint(&Issuance {
        refresh: RefreshPlan::None,
        ..Issuance::for_user(
            GrantType::Password,
            client,
            user,
            Some(api),
            Scope::parse(&all).unwrap(),
            None,
            Default::default(),
        )
    })["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for route in ROUTES {
        let resp = call(
            &t,
            route.method,
            &route_path(route),
            Some(&token),
            r#"{"client_id":"demo-m2m"}"#,
        );
        assert_eq!(resp.status, 403, "{route:?}");
        let challenge = resp.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer realm="), "{challenge}");
        assert!(
            challenge.contains("error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(resp.json_body()["message"]
            .as_str()
            .unwrap()
            .contains("machine client"));
    }
    // Nothing was saved.
    let rules = pollster::block_on(edge_issuer::port::ClaimsStore::pipeline(
        &t.store,
        "post-login",
    ));
    assert!(rules.unwrap().0.is_empty());
    // The same routes with a machine token that has the scope: past authorization.
    let machine = admin_token(&t, &ROUTES.iter().map(|r| r.scope).collect::<Vec<_>>());
    let resp = call(
        &t,
        "POST",
        explain_route().path,
        Some(&machine),
        r#"{"client_id":"demo-m2m"}"#,
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
}

#[test]
fn with_rbac_off_a_user_gets_only_the_user_grantable_scopes() {
    let t = Tenant::new();
    t.store
        .put_api(api(API, &DATA_SCOPES, false, &["read:data"]));
    let body = t
        .password(&format!(
            "&audience={}&scope=openid%20offline_access%20read:data%20write:data",
            enc(API)
        ))
        .json_body();
    assert_eq!(body["scope"], "openid offline_access read:data");
    // The tenant takes read:data away from users: the next refresh drops it from the
    // access token (the grant itself stays with the refresh token).
    t.store.put_api(api(API, &DATA_SCOPES, false, &[]));
    let refreshed = t
        .refresh(body["refresh_token"].as_str().unwrap(), "")
        .json_body();
    assert_eq!(refreshed["scope"], "openid offline_access");
}

#[test]
fn with_rbac_on_a_user_gets_only_permitted_scopes() {
    let t = Tenant::new();
    // write:data is marked user-grantable, but with RBAC on only permissions count.
    t.store
        .put_api(api(API, &DATA_SCOPES, true, &["write:data"]));
    t.store
        .put_role("rol_reader", "reader", &[(API, "read:data")]);
    t.store.assign_role(USER_ID, "rol_reader", None);
    let body = t
        .password(&format!(
            "&audience={}&scope=read:data%20write:data",
            enc(API)
        ))
        .json_body();
    assert_eq!(body["scope"], "read:data");
}

#[test]
fn management_refusals_carry_bearer_challenges() {
    let t = Tenant::new();
    with_management_api(&t, false);
    let (method, scope) = (ROUTES[0].method, ROUTES[0].scope);
    let path = route_path(&ROUTES[0]);
    // No token: a challenge without an error code (RFC 6750 §3.1).
    let none = call(&t, method, &path, None, "{}");
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"https://id.example.com/\"")
    );
    // A token that is not ours.
    let bad = call(&t, method, &path, Some("not.a.jwt"), "{}");
    assert_eq!(bad.status, 401);
    let challenge = bad.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"https://id.example.com/\", error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(bad.json_body()["errorCode"], "invalid_token");
    // A machine token without the route's scope.
    let token = admin_token(&t, &["read:claims"]);
    let short = call(&t, method, &path, Some(&token), "{}");
    assert_eq!(short.status, 403);
    let challenge = short.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{scope}\"")),
        "{challenge}"
    );
}

#[test]
fn payload_errors_speak_json_not_rust() {
    let t = Tenant::new();
    with_management_api(&t, false);
    let token = admin_token(&t, &["update:rules", "read:claims"]);
    let cases: [(&str, &str, &str); 5] = [
        (r#""x""#, "expected an object", ""),
        ("{not json", "not valid JSON", ""),
        (
            r#"{"name":"n","trigger":"post-login","assignments":"x"}"#,
            "expected an array",
            "assignments",
        ),
        (
            r#"{"name":"n","trigger":"post-login","assignments":[],"conditions":{"client_ids":1}}"#,
            "expected an array",
            "conditions.client_ids",
        ),
        (
            r#"{"name":"n","trigger":"post-login","assignments":[],"colour":1}"#,
            "Additional properties not allowed",
            "colour",
        ),
    ];
    for (body, says, at) in cases {
        let resp = call(&t, "PUT", "/api/v2/rules/r1", Some(&token), body);
        assert_eq!(resp.status, 400, "{body}");
        let message = resp.json_body()["message"].as_str().unwrap().to_string();
        assert!(message.contains(says), "{body}: {message}");
        assert!(message.contains(at), "{body}: {message}");
        for rust in [
            "struct",
            "Rule",
            "Conditions",
            "line",
            "column",
            "sequence",
            "map",
        ] {
            assert!(!message.contains(rust), "{body}: {message}");
        }
    }
    let resp = call(
        &t,
        "POST",
        "/api/v2/claims/explain",
        Some(&token),
        r#"{"client_id":5}"#,
    );
    let message: Value = resp.json_body()["message"].clone();
    assert_eq!(resp.status, 400);
    assert!(message.as_str().unwrap().contains("client_id"), "{message}");
    assert!(
        !message.as_str().unwrap().contains("ExplainRequest"),
        "{message}"
    );
}

#[test]
fn the_route_list_names_real_routes() {
    let t = Tenant::new();
    for route in ROUTES {
        let resp = call(&t, route.method, &route_path(route), None, "{}");
        assert_eq!(resp.status, 401, "{route:?} is served and asks for a token");
    }
    // An unknown path is 404, a known one with another method 405 with Allow, both in
    // Auth0's shape and before any token is asked for.
    let unknown = call(&t, "GET", "/api/v2/nothing-here", None, "");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json_body()["statusCode"], 404);
    let wrong = call(&t, "PUT", "/api/v2/users", None, "");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, POST"));
    assert_eq!(wrong.json_body()["error"], "Method Not Allowed");
}
