//! Hostile input at every parser that takes it from outside, through the route table as the
//! Worker serves it: form and JSON bodies, Basic credentials, bearer JWTs and their headers,
//! scopes, rule and hook JSON, cookies, multipart imports, and hook answers. Each target
//! must answer without a panic and without a 5xx (a 5xx would be the issuer's fault, not the
//! input's).
//!
//! `make test` runs each property for a bounded number of cases (`PROPTEST_CASES`, 64 unless
//! set) and replays every input kept under `fuzz/corpus/<target>/` (crashes found once stay
//! there, each a file). `make fuzz` runs the same properties for many more cases, in release.
//! A failing case is also written to `fuzz/regressions/` by proptest and replayed first.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use edge_issuer::error::HookError;
use edge_issuer::model::{OnFailure, Trigger};
use edge_issuer::web::{HttpRequest, HttpResponse};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::path::Path;

/// One target: what it does with an input.
type Target = fn(&Ctx, &[u8]) -> HttpResponse;

/// A tenant with a management token, and a hook on client_credentials that is skipped when it
/// fails (so a bad answer is the hook's problem, not a refusal).
struct Ctx {
    tenant: Tenant,
    admin: String,
}

impl std::ops::Deref for Ctx {
    type Target = Tenant;
    fn deref(&self) -> &Tenant {
        &self.tenant
    }
}

fn ctx() -> Ctx {
    let tenant = management_tenant();
    hook(&tenant, Trigger::CredentialsExchange, OnFailure::Skip);
    answer(&tenant, |_| Ok(b"{}".to_vec()));
    let admin = admin_token(&tenant, &MGMT_SCOPES);
    Ctx { tenant, admin }
}

fn text(input: &[u8]) -> String {
    String::from_utf8_lossy(input).into_owned()
}

fn post(
    t: &Tenant,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> HttpResponse {
    let mut all = vec![("content-type".to_string(), content_type.to_string())];
    all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
    t.send(HttpRequest {
        method: "POST".into(),
        path: path.into(),
        headers: all,
        body: body.to_vec(),
        ..Default::default()
    })
}

/// A token request whose whole body is the input.
fn token_body(t: &Ctx, input: &[u8]) -> HttpResponse {
    let auth = [("authorization", basic_header(M2M_ID, M2M_SECRET))];
    post(
        t,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        &auth,
        input,
    )
}

/// A JSON token request (Auth0's SDKs send JSON) whose body is the input.
fn token_json(t: &Ctx, input: &[u8]) -> HttpResponse {
    post(t, "/oauth/token", "application/json", &[], input)
}

/// The input as the `Authorization` header of a client_credentials request.
fn basic_credentials(t: &Ctx, input: &[u8]) -> HttpResponse {
    let header = [("authorization", text(input))];
    post(
        t,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        &header,
        b"grant_type=client_credentials",
    )
}

/// The input as the `scope` of a password request.
fn scope(t: &Ctx, input: &[u8]) -> HttpResponse {
    t.password(&format!("&scope={}", enc(&text(input))))
}

/// The input as a bearer token at /userinfo, raw and as the three parts of a JWS (so the
/// header and claims JSON parsers see it too).
fn bearer(t: &Ctx, input: &[u8]) -> HttpResponse {
    let raw = t.userinfo(
        "GET",
        &[("authorization", &format!("Bearer {}", text(input)))],
        "",
    );
    if raw.status >= 500 {
        return raw;
    }
    let part = URL_SAFE_NO_PAD.encode(input);
    let shaped = format!(
        "{part}.{}.{part}",
        URL_SAFE_NO_PAD.encode(br#"{"sub":"x","aud":"y"}"#)
    );
    let as_header = t.userinfo("GET", &[("authorization", &format!("Bearer {shaped}"))], "");
    if as_header.status >= 500 {
        return as_header;
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"at+jwt","kid":"k"}"#);
    let as_claims = format!("{header}.{part}.{part}");
    t.userinfo(
        "GET",
        &[("authorization", &format!("Bearer {as_claims}"))],
        "",
    )
}

/// The input as the JSON body of management writes: a user, a rule, a hook, a role.
fn management_json(t: &Ctx, input: &[u8]) -> HttpResponse {
    let token = t.admin.clone();
    for path in [
        "/api/v2/users",
        "/api/v2/rules",
        "/api/v2/hooks",
        "/api/v2/roles",
    ] {
        let resp = post(
            t,
            path,
            "application/json",
            &[("authorization", format!("Bearer {token}"))],
            input,
        );
        if resp.status >= 500 {
            return resp;
        }
    }
    let patch = t.send(HttpRequest {
        method: "PATCH".into(),
        path: format!("/api/v2/users/{}", enc(USER_ID)),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {token}")),
        ],
        body: input.to_vec(),
        ..Default::default()
    });
    patch
}

/// The input as a multipart user import (boundary `b`).
fn multipart(t: &Ctx, input: &[u8]) -> HttpResponse {
    let auth = [("authorization", format!("Bearer {}", t.admin))];
    post(
        t,
        "/api/v2/jobs/users-imports",
        "multipart/form-data; boundary=b",
        &auth,
        input,
    )
}

/// The input as the `Cookie` header of /authorize and of the login form's post.
fn cookies(t: &Ctx, input: &[u8]) -> HttpResponse {
    let cookie = text(input);
    let page = t.send(HttpRequest {
        method: "GET".into(),
        path: "/authorize".into(),
        query: format!(
            "response_type=code&client_id={APP_ID}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb"
        ),
        headers: vec![("cookie".into(), cookie.clone())],
        ..Default::default()
    });
    if page.status >= 500 {
        return page;
    }
    post(
        t,
        "/u/login",
        "application/x-www-form-urlencoded",
        &[("cookie", cookie)],
        b"state=x&email=a&password=b",
    )
}

/// The input as a hook's answer to a client_credentials exchange.
fn hook_answer(t: &Ctx, input: &[u8]) -> HttpResponse {
    let answer = input.to_vec();
    common::answer(&t.tenant, move |_| Ok::<_, HookError>(answer.clone()));
    t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))
}

const TARGETS: [(&str, Target); 10] = [
    ("token_body", token_body),
    ("token_json", token_json),
    ("basic_credentials", basic_credentials),
    ("scope", scope),
    ("bearer", bearer),
    ("management_json", management_json),
    ("multipart", multipart),
    ("cookies", cookies),
    ("hook_answer", hook_answer),
    ("authorization_header", |t, input| {
        let h = format!("Basic {}", STANDARD.encode(input));
        basic_credentials(t, h.as_bytes())
    }),
];

fn check(name: &str, target: Target, t: &Ctx, input: &[u8]) -> Result<(), String> {
    let resp = target(t, input);
    if resp.status >= 500 {
        return Err(format!(
            "{name}: {} for input {:?}: {}",
            resp.status,
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(&resp.body)
        ));
    }
    Ok(())
}

fn config(name: &str) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let file = format!("{}/fuzz/regressions/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(Box::leak(
            file.into_boxed_str(),
        )))),
        ..Config::default()
    }
}

/// Inputs: arbitrary bytes, and text built from the characters these formats care about, so
/// cases reach past the first byte a parser refuses.
fn input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[a-z_=&%+.:;,\\- \"{}\\[\\]0-9A-Z\\\\/\r\n]{0,256}".prop_map(String::into_bytes),
        r#"\{("[a-z_]{1,12}":("[^"]{0,20}"|[0-9]{1,20}|true|null|\[\]|\{\}),?){0,8}\}"#
            .prop_map(String::into_bytes),
    ]
}

fn run_property(name: &'static str, target: Target) {
    let t = ctx();
    let mut runner = proptest::test_runner::TestRunner::new(config(name));
    let outcome = runner.run(&input(), |bytes| {
        check(name, target, &t, &bytes).map_err(TestCaseError::fail)
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn no_input_makes_a_5xx_or_a_panic() {
    for (name, target) in TARGETS {
        run_property(name, target);
    }
}

#[test]
fn the_kept_corpus_replays_without_a_5xx() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let t = ctx();
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let input = std::fs::read(&file).unwrap();
            if let Err(e) = check(name, target, &t, &input) {
                panic!("{}: {e}", file.display());
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 20, "only {replayed} corpus inputs found");
}
