//! The claims pipeline through the public API: rules, hooks, RBAC, organizations, the
//! management routes that save rules and explain the pipeline. Tokens are verified with
//! `jsonwebtoken`; hooks are answered in-process by `FakeHooks` (the transport port only).

mod common;

use common::*;
use edge_issuer::error::OutboundError;
use edge_issuer::model::OnFailure;
use edge_issuer::model::Organization;
use edge_issuer::model::Rule;
use edge_issuer::model::Trigger;
use edge_issuer::port::ClaimsStore;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

const NS: &str = "https://example.com";

fn rule(t: &Tenant, id: &str, body: Value) {
    let mut r: Rule = serde_json::from_value(body).unwrap();
    r.rule_id = id.into();
    pollster::block_on(t.store.put_rule(&r)).unwrap();
}

fn access(t: &Tenant, body: &Value, aud: &str) -> Value {
    verify_jwt(t, body["access_token"].as_str().expect("access token"), aud)
}

fn id(t: &Tenant, body: &Value) -> Value {
    verify_jwt(t, body["id_token"].as_str().expect("id token"), APP_ID)
}

fn m2m(t: &Tenant) -> Value {
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json_body()
}

/// A management token from an admin client granted `scopes` on the management API.
fn admin_token(t: &Tenant, scopes: &[&str]) -> String {
    let all = ["read:claims", "update:rules"];
    t.store.put_api(api(MGMT, &all, false, &[]));
    common::admin_token(t, scopes)
}

fn management(t: &Tenant, method: &str, path: &str, token: &str, body: Value) -> HttpResponse {
    t.send(HttpRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("content-type".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
        ..Default::default()
    })
}

#[test]
fn case_1_app_metadata_in_the_id_token_and_at_userinfo() {
    let t = Tenant::new();
    rule(
        &t,
        "r1",
        json!({
            "name": "app_metadata", "trigger": "post-login",
            "assignments": [
                { "target": "id_token", "claim": format!("{NS}/app_metadata"), "path": "user.app_metadata" },
                { "target": "userinfo", "claim": format!("{NS}/app_metadata"), "path": "user.app_metadata" },
            ]
        }),
    );
    let body = t.password("&scope=openid%20profile%20email").json_body();
    let expected = json!({ "roles": ["editor"], "plan": "pro" });
    assert_eq!(id(&t, &body)[format!("{NS}/app_metadata")], expected);
    let at = body["access_token"].as_str().unwrap();
    let info = t
        .userinfo("GET", &[("authorization", &format!("Bearer {at}"))], "")
        .json_body();
    assert_eq!(info[format!("{NS}/app_metadata")], expected);
    // Fresh at /userinfo: an admin edit shows without a new token.
    t.edit_user(|u| u.app_metadata = json!({ "plan": "enterprise" }));
    let info = t
        .userinfo("GET", &[("authorization", &format!("Bearer {at}"))], "")
        .json_body();
    assert_eq!(
        info[format!("{NS}/app_metadata")],
        json!({ "plan": "enterprise" })
    );
}

fn rbac_tenant() -> Tenant {
    let t = Tenant::new();
    t.store.put_api(edge_issuer::model::Api {
        identifier: API.into(),
        name: "Example API".into(),
        scopes: vec!["read:data".into(), "write:data".into()],
        token_lifetime: 3600,
        rbac_enabled: true,
        token_permissions: true,
        user_grantable_scopes: vec![],
        signing_alg: "ES256".into(),
    });
    t.store
        .put_role("rol_editor", "editor", &[(API, "read:data")]);
    t.store.put_role(
        "rol_admin",
        "admin",
        &[(API, "read:data"), (API, "write:data")],
    );
    t.store.assign_role(USER_ID, "rol_editor", None);
    rule(
        &t,
        "roles",
        json!({
            "name": "roles", "trigger": "post-login",
            "assignments": [
                { "target": "access_token", "claim": format!("{NS}/roles"), "path": "user.roles" },
                { "target": "id_token", "claim": format!("{NS}/roles"), "path": "user.roles" },
            ]
        }),
    );
    t
}

#[test]
fn case_2_rbac_roles_and_permissions_fresh_at_refresh() {
    let t = rbac_tenant();
    let form = "&scope=openid%20offline_access%20read:data%20write:data&audience=https%3A%2F%2Fapi.example.com";
    let body = t.password(form).json_body();
    assert_eq!(
        body["scope"], "openid offline_access read:data",
        "write:data needs admin"
    );
    let at = access(&t, &body, API);
    assert_eq!(at["permissions"], json!(["read:data"]));
    assert_eq!(at[format!("{NS}/roles")], json!(["editor"]));
    assert_eq!(id(&t, &body)[format!("{NS}/roles")], json!(["editor"]));

    // An admin changes the role; the next refresh carries it.
    t.store.unassign_role(USER_ID, "rol_editor");
    t.store.assign_role(USER_ID, "rol_admin", None);
    let refreshed = t
        .refresh(body["refresh_token"].as_str().unwrap(), "")
        .json_body();
    let at = access(&t, &refreshed, API);
    assert_eq!(at[format!("{NS}/roles")], json!(["admin"]));
    assert_eq!(at["permissions"], json!(["read:data", "write:data"]));
    assert_eq!(id(&t, &refreshed)[format!("{NS}/roles")], json!(["admin"]));

    // Losing the permission drops the scope at the next refresh.
    t.store.unassign_role(USER_ID, "rol_admin");
    let again = t
        .refresh(refreshed["refresh_token"].as_str().unwrap(), "")
        .json_body();
    assert_eq!(again["scope"], "openid offline_access");
    assert_eq!(access(&t, &again, API)["permissions"], json!([]));
}

#[test]
fn case_3_client_metadata_by_rule_and_by_hook() {
    let t = Tenant::new();
    t.edit_client(M2M_ID, |c| {
        c.client_metadata = json!({ "urn": "urn:example:tenant:42" })
    });
    rule(
        &t,
        "urn",
        json!({
            "name": "urn", "trigger": "credentials-exchange",
            "assignments": [{ "target": "access_token", "claim": format!("{NS}/urn"), "path": "client.client_metadata.urn" }]
        }),
    );
    let at = access(&t, &m2m(&t), API);
    assert_eq!(at[format!("{NS}/urn")], "urn:example:tenant:42");

    hook(&t, Trigger::CredentialsExchange, OnFailure::Deny);
    answer(&t, |body| {
        let ev: Value = serde_json::from_str(body).unwrap();
        let urn = ev["event"]["client"]["client_metadata"]["urn"].clone();
        Ok(
            json!({ "access_token": { "https://example.com/hook_urn": urn } })
                .to_string()
                .into_bytes(),
        )
    });
    let at = access(&t, &m2m(&t), API);
    assert_eq!(at[format!("{NS}/hook_urn")], "urn:example:tenant:42");
    // The request was signed: t=<now>, HMAC-SHA256 over "<t>.<body>".
    // Checked here as a receiver would, with the HMAC crate, not the issuer's own signer.
    let (body, sig) = t.hooks.seen.borrow().last().cloned().unwrap();
    let hex = sig
        .strip_prefix(&format!("t={NOW},v1="))
        .unwrap_or_else(|| panic!("{sig}"));
    let received: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(format!("{NOW}.{body}").as_bytes());
    mac.verify_slice(&received)
        .expect("the signature is HMAC-SHA256 of \"<t>.<body>\" under the hook's secret");
    let ev: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ev["event"]["trigger"], "credentials-exchange");
    assert_eq!(ev["event"]["request"]["ip"], "203.0.113.7");
}

fn org_tenant() -> Tenant {
    let t = Tenant::new();
    t.store.put_org(Organization {
        org_id: "org_acme".into(),
        name: "acme".into(),
        display_name: Some("Acme".into()),
        token_org_name: true,
    });
    t.store.put_org(Organization {
        org_id: "org_globex".into(),
        name: "globex".into(),
        display_name: None,
        token_org_name: false,
    });
    t.store.add_member("org_acme", USER_ID);
    t.store.add_member("org_globex", USER_ID);
    t.store.put_role("rol_buyer", "buyer", &[]);
    t.store.assign_role(USER_ID, "rol_buyer", Some("org_acme"));
    rule(
        &t,
        "roles",
        json!({
            "name": "roles", "trigger": "post-login",
            "assignments": [{ "target": "access_token", "claim": format!("{NS}/roles"), "path": "user.roles" }]
        }),
    );
    t
}

#[test]
fn case_4_password_user_with_role_and_organization() {
    let t = org_tenant();
    let body = t
        .password("&audience=https%3A%2F%2Fapi.example.com&organization=acme")
        .json_body();
    let at = access(&t, &body, API);
    assert_eq!(at["org_id"], "org_acme");
    assert_eq!(at["org_name"], "acme");
    assert_eq!(
        at[format!("{NS}/roles")],
        json!(["buyer"]),
        "org role applies in acme"
    );

    // Exactly the organization asked for; org roles stay in their organization.
    let body = t
        .password("&audience=https%3A%2F%2Fapi.example.com&organization=org_globex")
        .json_body();
    let at = access(&t, &body, API);
    assert_eq!(at["org_id"], "org_globex");
    assert!(at.get("org_name").is_none());
    assert_eq!(at[format!("{NS}/roles")], json!([]));
}

#[test]
fn non_members_and_unknown_organizations_are_refused() {
    let t = org_tenant();
    t.store.put_org(Organization {
        org_id: "org_initech".into(),
        name: "initech".into(),
        display_name: None,
        token_org_name: false,
    });
    let resp = t.password("&organization=initech");
    assert_eq!(resp.json_body()["error"], "invalid_grant");
    assert!(resp.json_body()["error_description"]
        .as_str()
        .unwrap()
        .contains("not a member"));
    assert_eq!(
        t.password("&organization=nope").json_body()["error"],
        "invalid_request"
    );
}

#[test]
fn a_failing_hook_denies_or_is_skipped_per_its_setting() {
    let t = Tenant::new();
    hook(&t, Trigger::CredentialsExchange, OnFailure::Deny);
    answer(&t, |_| Err(OutboundError::Timeout(2000)));
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    // The hook's outage is the issuer's failure, not the client's: server_error, details logged.
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json_body()["error"], "server_error");
    assert!(t
        .log
        .borrow()
        .iter()
        .any(|l| l.contains("hook enrich failed")));

    hook(&t, Trigger::CredentialsExchange, OnFailure::Skip);
    assert_eq!(
        t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
            .status,
        200
    );
}

#[test]
fn a_hook_can_deny_with_its_message_and_drop_scopes() {
    let t = Tenant::new();
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| {
        Ok(br#"{"deny":"Logins are paused for maintenance."}"#.to_vec())
    });
    let resp = t.password("");
    assert_eq!(resp.json_body()["error"], "invalid_grant");
    assert_eq!(
        resp.json_body()["error_description"],
        "Logins are paused for maintenance."
    );

    answer(&t, |_| Ok(br#"{"drop_scopes":["email"]}"#.to_vec()));
    let body = t.password("&scope=openid%20email%20profile").json_body();
    assert_eq!(body["scope"], "openid profile");
    assert!(id(&t, &body).get("email").is_none());
}

#[test]
fn a_hook_answer_cannot_change_sub_or_other_reserved_claims() {
    let t = Tenant::new();
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| {
        Ok(json!({
            "access_token": { "sub": "auth0|attacker", "scope": "admin", "https://example.com/ok": 1 },
            "id_token": { "iss": "https://evil.example", "org_id": "org_x" }
        })
        .to_string()
        .into_bytes())
    });
    let body = t.password("&scope=openid").json_body();
    let at = access(&t, &body, "https://id.example.com/userinfo");
    assert_eq!(at["sub"], USER_ID);
    assert_eq!(at["scope"], "openid");
    assert_eq!(at["https://example.com/ok"], 1);
    let idt = id(&t, &body);
    assert_eq!(idt["iss"], ISSUER);
    assert!(idt.get("org_id").is_none());
    let log = t.log.borrow();
    assert!(
        log.iter().any(|l| l.contains("reserved claim sub")),
        "{log:?}"
    );
}

#[test]
fn reserved_or_unflagged_rules_stored_anyway_are_dropped_when_applied() {
    let t = Tenant::new();
    // Written straight to storage, past validation (as a hand-edited row would be).
    let mut r: Rule = serde_json::from_value(json!({
        "name": "bad", "trigger": "post-login",
        "assignments": [
            { "target": "access_token", "claim": "sub", "value": "someone-else" },
            { "target": "access_token", "claim": "https://x/theme", "path": "user.user_metadata.theme" }
        ]
    }))
    .unwrap();
    r.rule_id = "bad".into();
    pollster::block_on(t.store.put_rule(&r)).unwrap();
    let at = access(
        &t,
        &t.password("&scope=openid").json_body(),
        "https://id.example.com/userinfo",
    );
    assert_eq!(at["sub"], USER_ID);
    assert!(at.get("https://x/theme").is_none());
}

#[test]
fn custom_claims_over_16_kib_fail_with_server_error_naming_the_rule() {
    let t = Tenant::new();
    rule(
        &t,
        "big",
        json!({
            "name": "big-blob", "trigger": "credentials-exchange",
            "assignments": [{ "target": "access_token", "claim": "https://x/blob", "value": "x".repeat(17 * 1024) }]
        }),
    );
    let resp = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json_body(), json!({ "error": "server_error" }));
    assert!(
        t.log.borrow().iter().any(|l| l.contains("rule:big-blob")),
        "{:?}",
        t.log.borrow()
    );
}

#[test]
fn a_later_rule_wins_and_the_trace_says_so() {
    let t = Tenant::new();
    let token = admin_token(&t, &["read:claims"]);
    rule(
        &t,
        "a",
        json!({ "name": "first", "trigger": "post-login", "position": 1,
        "assignments": [{ "target": "id_token", "claim": "https://x/c", "value": 1 }] }),
    );
    rule(
        &t,
        "b",
        json!({ "name": "second", "trigger": "post-login", "position": 2,
        "assignments": [{ "target": "id_token", "claim": "https://x/c", "value": 2 }] }),
    );
    let resp = management(
        &t,
        "POST",
        "/api/v2/claims/explain",
        &token,
        json!({ "client_id": APP_ID, "user_id": USER_ID, "scope": "openid" }),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let out = resp.json_body();
    assert_eq!(out["id_token"]["https://x/c"], 2);
    assert_eq!(out["id_token"]["sub"], USER_ID);
    let trace = out["trace"].as_array().unwrap();
    assert!(trace
        .iter()
        .any(|e| e["source"] == "rule:second" && e["action"] == "overridden"));
    // A dry run signs and stores nothing.
    assert_eq!(t.store.key_count(), 1, "only the admin token's key");
    assert!(t.store.refresh_records().is_empty());
}

#[test]
fn saving_rules_through_the_management_api_validates_them() {
    let t = Tenant::new();
    let token = admin_token(&t, &["update:rules"]);
    let unflagged = json!({
        "name": "theme", "trigger": "post-login",
        "assignments": [{ "target": "access_token", "claim": "https://x/theme", "path": "user.user_metadata.theme" }]
    });
    let resp = management(&t, "PUT", "/api/v2/rules/theme", &token, unflagged.clone());
    assert_eq!(resp.status, 400);
    let message = resp.json_body()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("user_metadata is editable by the user"),
        "{message}"
    );
    assert!(
        pollster::block_on(t.store.pipeline("post-login"))
            .unwrap()
            .0
            .is_empty(),
        "nothing saved"
    );

    let reserved = json!({ "name": "r", "trigger": "post-login",
        "assignments": [{ "target": "access_token", "claim": "permissions", "value": ["all"] }] });
    assert_eq!(
        management(&t, "PUT", "/api/v2/rules/r", &token, reserved).status,
        400
    );

    let mut flagged = unflagged;
    flagged["allow_user_controlled"] = json!(true);
    let resp = management(&t, "PUT", "/api/v2/rules/theme", &token, flagged);
    assert_eq!(resp.status, 200);
    let at = access(
        &t,
        &t.password("&scope=openid").json_body(),
        "https://id.example.com/userinfo",
    );
    assert_eq!(at["https://x/theme"], "dark");
}

#[test]
fn management_routes_need_a_management_token_with_the_scope() {
    let t = Tenant::new();
    let read_only = admin_token(&t, &["read:claims"]);
    let body = json!({ "name": "n", "trigger": "post-login",
        "assignments": [{ "target": "id_token", "claim": "c", "value": 1 }] });
    assert_eq!(
        management(&t, "PUT", "/api/v2/rules/x", &read_only, body.clone()).status,
        403
    );
    assert_eq!(
        management(&t, "PUT", "/api/v2/rules/x", "garbage", body.clone()).status,
        401
    );
    // A token for another API is refused even with a matching scope name.
    let api_token = m2m(&t)["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        management(&t, "PUT", "/api/v2/rules/x", &api_token, body).status,
        401
    );
}

#[test]
fn a_hook_denial_at_userinfo_is_invalid_token() {
    let t = Tenant::new();
    let body = t.password("&scope=openid").json_body();
    let at = body["access_token"].as_str().unwrap().to_string();
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| Ok(br#"{"deny":"account suspended"}"#.to_vec()));
    let resp = t.userinfo("GET", &[("authorization", &format!("Bearer {at}"))], "");
    assert_eq!(resp.status, 401);
    let challenge = resp.header("www-authenticate").unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("account suspended"), "{challenge}");
}

#[test]
fn explain_shows_the_event_a_code_flow_sign_in_sends_and_rules_limited_to_it_apply() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| {
        c.grant_types.push("authorization_code".into());
    });
    let token = admin_token(&t, &["read:claims"]);
    rule(
        &t,
        "code-only",
        json!({ "name": "code-only", "trigger": "post-login",
        "conditions": { "grant_types": ["authorization_code"] },
        "assignments": [{ "target": "id_token", "claim": "https://x/via", "path": "connection.name" }] }),
    );
    let explain = |grant: &str| {
        let resp = management(
            &t,
            "POST",
            "/api/v2/claims/explain",
            &token,
            json!({ "client_id": APP_ID, "user_id": USER_ID, "scope": "openid", "grant_type": grant }),
        );
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        resp.json_body()
    };
    let code = explain("authorization_code");
    let event = &code["event"];
    assert_eq!(event["grant_type"], "authorization_code");
    assert_eq!(event["transaction"]["protocol"], "oidc-basic-profile");
    assert_eq!(
        event["connection"]["name"],
        "Username-Password-Authentication"
    );
    assert_eq!(event["authentication"]["methods"][0]["name"], "pwd");
    assert_eq!(event["user"]["user_id"], USER_ID);
    assert_eq!(
        code["id_token"]["https://x/via"],
        "Username-Password-Authentication"
    );
    assert_eq!(code["id_token"]["amr"], json!(["pwd"]));
    // The password grant's event says so, and the code-flow rule stays out.
    let password = explain("password");
    assert_eq!(password["event"]["grant_type"], "password");
    assert_eq!(
        password["event"]["transaction"]["protocol"],
        "oauth2-password"
    );
    assert_eq!(password["id_token"]["https://x/via"], Value::Null);
}
