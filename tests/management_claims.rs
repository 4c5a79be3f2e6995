//! Rules and hooks through the management API: made, changed in part (`PATCH`, as the
//! `auth0` SDK's `rules.update` sends it), listed and deleted; each change shows in the next
//! token.

mod common;

use common::*;
use serde_json::{json, Value};

fn access_claims(t: &Tenant) -> Value {
    let body = t.password(&format!("&audience={}", enc(API))).json_body();
    verify_jwt(t, body["access_token"].as_str().unwrap(), API)
}

#[test]
fn a_rule_is_made_patched_and_deleted() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let rule = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/rules",
            &admin,
            Some(json!({
                "name": "plan", "trigger": "post-login",
                "assignments": [{"target": "access_token", "claim": "https://x/plan", "path": "user.app_metadata.plan"}],
            })),
        ),
        201,
    );
    let id = rule["id"].as_str().unwrap().to_string();
    assert_eq!(access_claims(&t)["https://x/plan"], "pro");
    // PATCH with only `enabled`: the rest stays.
    let patched = ok(
        &manage(
            &t,
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            &admin,
            Some(json!({"enabled": false})),
        ),
        200,
    );
    assert_eq!(patched["name"], "plan");
    assert!(access_claims(&t).get("https://x/plan").is_none());
    // A PATCH that makes the rule invalid is refused and changes nothing.
    let bad = json!({"enabled": true, "assignments": [{"target": "access_token", "claim": "sub", "value": "x"}]});
    assert_eq!(
        manage(
            &t,
            "PATCH",
            &format!("/api/v2/rules/{id}"),
            &admin,
            Some(bad)
        )
        .status,
        400
    );
    assert_eq!(
        ok(
            &manage(&t, "GET", &format!("/api/v2/rules/{id}"), &admin, None),
            200
        )["enabled"],
        false
    );
    let all = ok(&manage(&t, "GET", "/api/v2/rules", &admin, None), 200);
    assert_eq!(all.as_array().map(Vec::len), Some(1));
    ok(
        &manage(&t, "DELETE", &format!("/api/v2/rules/{id}"), &admin, None),
        204,
    );
    assert_eq!(
        manage(&t, "GET", &format!("/api/v2/rules/{id}"), &admin, None).status,
        404
    );
    assert_eq!(
        manage(&t, "PATCH", "/api/v2/rules/nope", &admin, Some(json!({}))).status,
        404
    );
}

#[test]
fn a_hook_url_may_not_reach_link_local_metadata_private_or_loopback_addresses() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let made = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/hooks",
            &admin,
            Some(json!({"name": "ok", "trigger": "post-login", "url": "https://hooks.example/h"})),
        ),
        201,
    );
    let id = made["id"].as_str().unwrap();
    for url in [
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://169.254.170.2/v2/credentials",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://2852039166/",
        "https://10.0.0.8/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
    ] {
        let body = json!({"name": "h", "trigger": "post-login", "url": url});
        let created = manage(&t, "POST", "/api/v2/hooks", &admin, Some(body));
        invalid_body(&created, url);
        let patch = json!({"url": url});
        let path = format!("/api/v2/hooks/{id}");
        invalid_body(&manage(&t, "PATCH", &path, &admin, Some(patch)), url);
    }
    let read = ok(
        &manage(&t, "GET", &format!("/api/v2/hooks/{id}"), &admin, None),
        200,
    );
    assert_eq!(read["url"], "https://hooks.example/h", "nothing changed");
}

#[test]
fn a_hook_made_through_the_api_is_called_with_its_sealed_secret() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    answer(&t, |_| {
        Ok(br#"{"access_token": {"https://x/hooked": true}}"#.to_vec())
    });
    for bad in [
        json!({"name": "h", "trigger": "post-login", "url": "http://plain.example/h"}),
        json!({"name": "h", "trigger": "post-login"}),
        json!({"name": "h", "trigger": "post-login", "url": "https://a.example", "service": "HOOKS"}),
        json!({"name": "h", "trigger": "post-login", "url": "https://a.example", "secret": "short"}),
        json!({"name": "h", "trigger": "sometimes", "url": "https://a.example"}),
    ] {
        assert_eq!(
            manage(&t, "POST", "/api/v2/hooks", &admin, Some(bad.clone())).status,
            400,
            "{bad}"
        );
    }
    let hook = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/hooks",
            &admin,
            Some(json!({
                "name": "enrich", "trigger": "post-login", "url": "https://hooks.example/enrich",
            })),
        ),
        201,
    );
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.len() >= 43);
    let id = hook["id"].as_str().unwrap().to_string();
    assert_eq!(access_claims(&t)["https://x/hooked"], true);
    let read = ok(
        &manage(&t, "GET", &format!("/api/v2/hooks/{id}"), &admin, None),
        200,
    );
    assert!(read.get("secret").is_none() && !read.to_string().contains(secret));
    let patched = ok(
        &manage(
            &t,
            "PATCH",
            &format!("/api/v2/hooks/{id}"),
            &admin,
            Some(json!({"enabled": false})),
        ),
        200,
    );
    assert_eq!(patched["url"], "https://hooks.example/enrich");
    assert!(access_claims(&t).get("https://x/hooked").is_none());
    ok(
        &manage(&t, "DELETE", &format!("/api/v2/hooks/{id}"), &admin, None),
        204,
    );
    assert_eq!(
        ok(&manage(&t, "GET", "/api/v2/hooks", &admin, None), 200),
        json!([])
    );
}

#[test]
fn logins_exchanges_and_management_writes_are_logged_without_secrets() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    t.password("");
    let form = format!(
        "grant_type=password&username={}&password=wrong",
        enc(USER_EMAIL)
    );
    t.token(&form, Some((APP_ID, APP_SECRET)));
    let created = manage(
        &t,
        "POST",
        "/api/v2/roles",
        &admin,
        Some(json!({"name": "logged"})),
    );
    assert_eq!(created.status, 200);
    manage(
        &t,
        "POST",
        "/api/v2/roles",
        &admin,
        Some(json!({"name": ""})),
    );

    let logs = ok(
        &manage(&t, "GET", "/api/v2/logs?include_totals=true", &admin, None),
        200,
    );
    let kinds: Vec<&str> = logs["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    // Newest first: the failed write, the write, the wrong password, the login, and the
    // admin's own client_credentials exchange.
    assert_eq!(kinds, ["fapi", "sapi", "fp", "s", "seccft"], "{logs}");
    let login = &logs["logs"][3];
    assert_eq!(login["user_id"], USER_ID);
    assert_eq!(login["user_name"], USER_EMAIL);
    assert_eq!(login["client_id"], APP_ID);
    assert_eq!(login["ip"], "203.0.113.7");
    assert_eq!(logs["logs"][1]["description"], "POST /api/v2/roles");
    let text = logs.to_string();
    for secret in [USER_PASSWORD, "wrong", APP_SECRET, "admin-secret", &admin] {
        assert!(!text.contains(secret), "a log holds {secret}");
    }
    let only = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/logs?q={}", enc("type:\"fp\"")),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(only.as_array().map(Vec::len), Some(1));
    let id = only[0]["log_id"].as_str().unwrap();
    assert_eq!(
        ok(
            &manage(&t, "GET", &format!("/api/v2/logs/{id}"), &admin, None),
            200
        )["type"],
        "fp"
    );
    assert_eq!(
        manage(&t, "GET", "/api/v2/logs?q=password:x", &admin, None).status,
        400
    );
}

#[test]
fn a_failed_exchange_logs_its_error_code_never_internal_detail() {
    use edge_issuer::model::{LogQuery, Paging};
    use edge_issuer::port::LogStore;
    let t = management_tenant();
    t.store.fail_commits(true);
    let resp = t.password("");
    assert_eq!(resp.json_body()["error"], "server_error");
    let query = LogQuery {
        kind: None,
        user_id: None,
        client_id: Some(APP_ID.into()),
        ascending: false,
        paging: Paging {
            offset: 0,
            limit: 10,
        },
    };
    let logs = pollster::block_on(t.store.list_logs(&query)).unwrap().items;
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].kind, "f");
    assert_eq!(logs[0].description, "server_error");
    assert!(!format!("{logs:?}").contains("commit failed"));
}
