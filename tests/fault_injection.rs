//! Every storage failure on a grant's path fails closed: the N-th store call fails, for each N
//! a clean run makes, and the request answers 5xx with nothing half-written, then succeeds when
//! sent again (the code flow's walk is in tests/authorization_code.rs, beside its helpers).

mod common;

use common::*;

/// A tenant whose signing key exists (a first token makes it: a write no grant should be
/// charged with).
fn ready() -> Tenant {
    let t = Tenant::new();
    let first = t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)));
    assert_eq!(first.status, 200);
    t
}

fn refresh_token_of(t: &Tenant) -> String {
    let body = t
        .password("&scope=offline_access%20read:data&audience=https%3A%2F%2Fapi.example.com")
        .json_body();
    body["refresh_token"].as_str().unwrap().to_string()
}

#[test]
fn client_credentials_fails_closed_at_every_call() {
    let walked = walk_faults(
        || (ready(), ()),
        |t, _| t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET))),
    );
    assert!(walked >= 2, "{walked}");
}

#[test]
fn the_password_grant_fails_closed_at_every_call() {
    let walked = walk_faults(
        || (ready(), ()),
        |t, _| {
            t.password("&scope=offline_access%20read:data&audience=https%3A%2F%2Fapi.example.com")
        },
    );
    assert!(walked >= 4, "{walked}");
}

#[test]
fn a_refresh_fails_closed_at_every_call() {
    let walked = walk_faults(
        || {
            let t = ready();
            let rt = refresh_token_of(&t);
            (t, rt)
        },
        |t, rt| t.refresh(rt, ""),
    );
    assert!(walked >= 3, "{walked}");
}

#[test]
fn a_revocation_fails_closed_at_every_call() {
    let walked = walk_faults_answering(
        || {
            let t = ready();
            let rt = refresh_token_of(&t);
            (t, rt)
        },
        |t, rt| revoke_request(t, rt, (APP_ID, APP_SECRET)),
        // The client's lookup failing is a server error; the revocation's own reads and writes
        // failing is RFC 7009 §2.2.1's 503, as the README says: the token may still be valid.
        |kind| match kind {
            Source::Cached => (500, Some("server_error")),
            _ => (503, Some("temporarily_unavailable")),
        },
    );
    assert!(walked >= 2, "{walked}");
}
