//! Refresh tokens (RFC 6749 §6, RFC 9700 §4.14): rotation, reuse detection, lifetimes, scope
//! narrowing, fresh data, and revocation (RFC 7009), with the in-memory store.

mod common;

use common::*;
use serde_json::Value;

const OFFLINE: &str = "&scope=openid%20profile%20email%20offline_access";

fn login(t: &Tenant) -> Value {
    let resp = t.password(OFFLINE);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json_body()
}

fn rt(body: &Value) -> String {
    body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_string()
}

fn revoke(t: &Tenant, token: &str, who: (&str, &str)) -> edge_issuer::web::HttpResponse {
    revoke_request(t, token, who)
}

#[test]
fn refresh_rotates_and_returns_a_new_pair() {
    let t = Tenant::new();
    let first = login(&t);
    t.clock.advance(60);
    let second = t.refresh(&rt(&first), "").json_body();
    assert_ne!(rt(&second), rt(&first));
    assert_eq!(second["scope"], "openid profile email offline_access");
    let id = verify_jwt(&t, second["id_token"].as_str().unwrap(), APP_ID);
    // OIDC Core §12.2: same sub and auth_time, new iat, no nonce.
    assert_eq!(id["sub"], USER_ID);
    assert_eq!(id["auth_time"], NOW);
    assert_eq!(id["iat"], NOW + 60);
    let at = verify_jwt(
        &t,
        second["access_token"].as_str().unwrap(),
        "https://id.example.com/userinfo",
    );
    assert_eq!(at["gty"], "refresh_token");
}

#[test]
fn the_old_token_is_rejected_and_its_reuse_revokes_the_whole_family() {
    let t = Tenant::new();
    let first = login(&t);
    let second = t.refresh(&rt(&first), "").json_body();
    let replay = t.refresh(&rt(&first), "");
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json_body()["error"], "invalid_grant");
    // The newer token of the same family is dead too.
    let after = t.refresh(&rt(&second), "").json_body();
    assert_eq!(after["error"], "invalid_grant");
    assert!(t
        .store
        .refresh_records()
        .iter()
        .all(|r| r.revoked_at.is_some()));
}

#[test]
fn other_families_survive_a_reuse() {
    let t = Tenant::new();
    let a = login(&t);
    let b = login(&t);
    t.refresh(&rt(&a), "");
    t.refresh(&rt(&a), ""); // replay: family A dies
    assert_eq!(t.refresh(&rt(&b), "").status, 200);
}

#[test]
fn a_retry_within_the_reuse_interval_is_accepted_without_revoking() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| c.refresh_reuse_interval = 30);
    let first = login(&t);
    let second = t.refresh(&rt(&first), "").json_body();
    t.clock.advance(10);
    let retry = t.refresh(&rt(&first), "");
    assert_eq!(retry.status, 200, "retry inside 30 s");
    assert_eq!(t.refresh(&rt(&second), "").status, 200, "family intact");
    t.clock.advance(60);
    assert_eq!(
        t.refresh(&rt(&first), "").json_body()["error"],
        "invalid_grant"
    );
}

#[test]
fn idle_and_absolute_lifetimes_end_the_token() {
    let t = Tenant::new();
    t.edit_client(APP_ID, |c| {
        c.refresh_idle_lifetime = 100;
        c.refresh_absolute_lifetime = 250;
    });
    let first = login(&t);
    t.clock.advance(101);
    assert_eq!(
        t.refresh(&rt(&first), "").json_body()["error"],
        "invalid_grant",
        "idle"
    );

    let t = Tenant::new();
    t.edit_client(APP_ID, |c| {
        c.refresh_idle_lifetime = 100;
        c.refresh_absolute_lifetime = 250;
    });
    let mut token = rt(&login(&t));
    for _ in 0..2 {
        t.clock.advance(90);
        token = rt(&t.refresh(&token, "").json_body());
    }
    t.clock.advance(90); // 270 s after login: past the absolute lifetime
    assert_eq!(
        t.refresh(&token, "").json_body()["error"],
        "invalid_grant",
        "absolute"
    );
}

#[test]
fn scope_may_narrow_but_never_widen() {
    let t = Tenant::new();
    let first = login(&t);
    let wide = t.refresh(&rt(&first), "&scope=openid%20offline_access%20read:data");
    assert_eq!(wide.json_body()["error"], "invalid_scope");
    // The refused request consumed nothing.
    let narrow = t
        .refresh(&rt(&first), "&scope=openid%20offline_access")
        .json_body();
    assert_eq!(narrow["scope"], "openid offline_access");
    let id = verify_jwt(&t, narrow["id_token"].as_str().unwrap(), APP_ID);
    assert!(id.get("email").is_none(), "email scope dropped");
}

#[test]
fn a_narrowed_refresh_narrows_the_access_token_only_and_keeps_the_grant() {
    let t = Tenant::new();
    let first = login(&t);
    // RFC 6749 §6: narrowed to a scope without offline_access, the client still gets a new
    // refresh token, and it carries the grant's scope, not the narrowed one.
    let narrow = t.refresh(&rt(&first), "&scope=openid").json_body();
    assert_eq!(narrow["scope"], "openid");
    let at = verify_jwt(
        &t,
        narrow["access_token"].as_str().unwrap(),
        "https://id.example.com/userinfo",
    );
    assert_eq!(at["scope"], "openid");
    let next = rt(&narrow);
    let stored: Vec<String> = t
        .store
        .refresh_records()
        .iter()
        .map(|r| r.scope.clone())
        .collect();
    assert_eq!(stored, vec!["openid profile email offline_access"; 2]);
    // The next refresh, without `scope`, gets the whole grant back.
    let full = t.refresh(&next, "").json_body();
    assert_eq!(full["scope"], "openid profile email offline_access");
    assert!(full["refresh_token"].is_string());
}

#[test]
fn concurrent_refreshes_leave_no_live_token_in_the_family() {
    let t = Tenant::new();
    let crypto = YieldingCrypto::default();
    for round in 0..5 {
        let first = rt(&login(&t));
        let form = format!("grant_type=refresh_token&refresh_token={}", enc(&first));
        let burst = (0..20)
            .map(|_| token_request(&form, (APP_ID, APP_SECRET)))
            .collect();
        let answers = t.send_all(&crypto, burst);
        let won: Vec<String> = answers
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| rt(&r.json_body()))
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {} successes", won.len());
        // Right after the burst, before any replay: every loser was refused as a reuse, which
        // revoked the family, so the winner's new token is refused too and nothing is live.
        for lost in answers.iter().filter(|r| r.status != 200) {
            assert_eq!(lost.status, 400, "round {round}");
            assert_eq!(lost.json_body()["error"], "invalid_grant", "round {round}");
        }
        let family = t
            .store
            .refresh_records()
            .into_iter()
            .find(|r| {
                r.token_hash == edge_issuer::oauth::token::refresh::hash_refresh_token(&first)
            })
            .unwrap()
            .family_id;
        let live = |t: &Tenant| {
            t.store
                .refresh_records()
                .into_iter()
                .filter(|r| r.family_id == family && r.revoked_at.is_none() && r.used_at.is_none())
                .count()
        };
        assert_eq!(live(&t), 0, "round {round}: a live token after the burst");
        let winner = t.refresh(&won[0], "");
        assert_eq!(winner.status, 400, "round {round}");
        assert_eq!(
            winner.json_body()["error"],
            "invalid_grant",
            "round {round}"
        );
        // Then a replay of the first token changes nothing.
        assert_eq!(t.refresh(&first, "").json_body()["error"], "invalid_grant");
        assert_eq!(
            live(&t),
            0,
            "round {round}: a live token in a revoked family"
        );
    }
}

#[test]
fn refreshed_tokens_carry_fresh_user_data() {
    let t = Tenant::new();
    let first = login(&t);
    t.edit_user(|u| u.name = Some("Countess of Lovelace".into()));
    let second = t.refresh(&rt(&first), "").json_body();
    let id = verify_jwt(&t, second["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["name"], "Countess of Lovelace");
}

#[test]
fn a_blocked_or_deleted_user_cannot_refresh() {
    let t = Tenant::new();
    let first = login(&t);
    t.edit_user(|u| u.blocked = true);
    assert_eq!(
        t.refresh(&rt(&first), "").json_body()["error"],
        "invalid_grant"
    );

    let t = Tenant::new();
    let first = login(&t);
    t.store.drop_user(USER_ID);
    assert_eq!(
        t.refresh(&rt(&first), "").json_body()["error"],
        "invalid_grant"
    );
}

#[test]
fn a_grant_whose_api_was_deleted_cannot_refresh() {
    let t = Tenant::new();
    let first = t.password(&format!("{OFFLINE}&audience={}", enc(API)));
    assert_eq!(first.status, 200);
    // As the management API deletes it (its grants and role permissions go with it).
    let deleted = pollster::block_on(edge_issuer::port::RegistryStore::delete_api(&t.store, API));
    assert_eq!(deleted, Ok(true));
    let refused = t.refresh(&rt(&first.json_body()), "").json_body();
    assert_eq!(refused["error"], "invalid_grant");
    assert_eq!(
        refused["error_description"],
        "the API of this grant no longer exists"
    );
}

#[test]
fn a_refresh_token_only_works_for_its_own_client() {
    let t = Tenant::new();
    t.edit_client(M2M_ID, |c| c.grant_types.push("refresh_token".into()));
    let first = login(&t);
    let form = format!(
        "grant_type=refresh_token&refresh_token={}",
        enc(&rt(&first))
    );
    let other = t.token(&form, Some((M2M_ID, M2M_SECRET)));
    assert_eq!(other.json_body()["error"], "invalid_grant");
    assert_eq!(
        t.refresh(&rt(&first), "").status,
        200,
        "still good for its owner"
    );
}

#[test]
fn unknown_or_missing_refresh_tokens_are_refused() {
    let t = Tenant::new();
    assert_eq!(
        t.refresh("not-a-token", "").json_body()["error"],
        "invalid_grant"
    );
    let missing = t.token("grant_type=refresh_token", Some((APP_ID, APP_SECRET)));
    assert_eq!(missing.json_body()["error"], "invalid_request");
}

#[test]
fn only_the_hash_of_a_refresh_token_is_stored() {
    let t = Tenant::new();
    let token = rt(&login(&t));
    let records = t.store.refresh_records();
    assert_eq!(records.len(), 1);
    assert_ne!(records[0].token_hash, token);
    assert!(!format!("{records:?}").contains(&token));
}

#[test]
fn revoking_a_refresh_token_revokes_its_family() {
    let t = Tenant::new();
    let first = login(&t);
    let second = t.refresh(&rt(&first), "").json_body();
    let resp = revoke(&t, &rt(&second), (APP_ID, APP_SECRET));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!(
        t.refresh(&rt(&second), "").json_body()["error"],
        "invalid_grant"
    );
}

#[test]
fn revocation_answers_200_for_unknown_tokens_and_refuses_other_clients() {
    let t = Tenant::new();
    assert_eq!(revoke(&t, "unknown", (APP_ID, APP_SECRET)).status, 200);
    let token = rt(&login(&t));
    let other = revoke(&t, &token, (M2M_ID, M2M_SECRET));
    assert_eq!(other.status, 400);
    assert_eq!(other.json_body()["error"], "invalid_request");
    assert_eq!(
        t.refresh(&token, "").status,
        200,
        "not revoked by another client"
    );
    let bad_auth = revoke(&t, &token, (APP_ID, "wrong"));
    assert_eq!(bad_auth.status, 401);
}
