//! Check, enrich, sign, then commit: nothing a grant writes for its exchange happens before the
//! claims pipeline allowed it and the tokens were signed, and all of it happens at once. So a
//! hook outage or a failed write leaves storage as it was, and the client's retry works.

mod common;

use common::*;
use edge_issuer::error::OutboundError;
use edge_issuer::model::OnFailure;
use edge_issuer::model::Trigger;
use edge_issuer::port::UserStore;
use serde_json::Value;

const OFFLINE: &str = "&scope=openid%20offline_access";

fn login(t: &Tenant) -> Value {
    let resp = t.password(OFFLINE);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    resp.json_body()
}

fn logins(t: &Tenant) -> u64 {
    pollster::block_on(t.store.user(USER_ID))
        .unwrap()
        .unwrap()
        .logins_count
}

fn refresh_token(body: &Value) -> &str {
    body["refresh_token"].as_str().expect("a refresh token")
}

#[test]
fn a_hook_outage_at_refresh_does_not_cost_the_user_their_session() {
    let t = Tenant::new();
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| Ok(b"{}".to_vec()));
    let first = login(&t);
    // The hook times out; with deny-on-failure the refresh fails (our outage: server_error)...
    answer(&t, |_| Err(OutboundError::Timeout(2000)));
    let refused = t.refresh(refresh_token(&first), "");
    assert_eq!(refused.status, 500);
    assert_eq!(refused.json_body()["error"], "server_error");
    // ...and nothing was consumed: once the hook answers, the same token gets a fresh pair.
    answer(&t, |_| Ok(b"{}".to_vec()));
    let second = t.refresh(refresh_token(&first), "").json_body();
    assert!(second["access_token"].is_string(), "{second}");
    // The family is intact: the new token rotates as usual.
    let third = t.refresh(refresh_token(&second), "");
    assert_eq!(third.status, 200);
    assert!(t
        .store
        .refresh_records()
        .iter()
        .all(|r| r.revoked_at.is_none()));
}

#[test]
fn a_failed_write_during_a_refresh_leaves_the_old_token_usable() {
    let t = Tenant::new();
    let first = login(&t);
    t.store.fail_commits(true);
    let failed = t.refresh(refresh_token(&first), "");
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json_body()["error"], "server_error");
    assert_eq!(t.store.refresh_records().len(), 1, "no new token stored");
    t.store.fail_commits(false);
    let retried = t.refresh(refresh_token(&first), "");
    assert_eq!(retried.status, 200, "the retry is not taken for a replay");
    let records = t.store.refresh_records();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.revoked_at.is_none()));
}

#[test]
fn a_failed_or_denied_password_login_records_nothing() {
    let t = Tenant::new();
    let before = logins(&t);
    t.store.fail_commits(true);
    assert_eq!(t.password(OFFLINE).status, 500);
    t.store.fail_commits(false);
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| {
        Err(OutboundError::Unreachable("connection refused".into()))
    });
    assert_eq!(t.password(OFFLINE).json_body()["error"], "server_error");
    answer(&t, |_| Ok(br#"{"deny":"not today"}"#.to_vec()));
    assert_eq!(t.password(OFFLINE).json_body()["error"], "invalid_grant");
    assert_eq!(logins(&t), before, "no login counted");
    assert!(
        t.store.refresh_records().is_empty(),
        "no refresh token stored"
    );
    // The hook is back: the login counts once, with its refresh token.
    answer(&t, |_| Ok(b"{}".to_vec()));
    login(&t);
    assert_eq!(logins(&t), before + 1);
    assert_eq!(t.store.refresh_records().len(), 1);
}

#[test]
fn a_rehash_is_stored_only_with_the_login_it_belongs_to() {
    let t = Tenant::new();
    let cheap = pollster::block_on(edge_issuer::oauth::password::hash(
        &edge_issuer::port::native_crypto::NativeCrypto,
        &edge_issuer::port::random::OsRandom,
        USER_PASSWORD,
        TEST_ITERATIONS / 2,
    ))
    .unwrap();
    t.edit_user(|u| u.password_hash = Some(cheap.clone()));
    t.store.fail_commits(true);
    assert_eq!(t.password("").status, 500);
    let stored = pollster::block_on(t.store.user(USER_ID)).unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some(cheap.as_str()));
    t.store.fail_commits(false);
    assert_eq!(t.password("").status, 200);
    let stored = pollster::block_on(t.store.user(USER_ID)).unwrap().unwrap();
    assert_ne!(
        stored.password_hash.as_deref(),
        Some(cheap.as_str()),
        "upgraded"
    );
}
