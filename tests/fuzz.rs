//! Hostile input at every parser that takes it from outside, through the route table as the
//! Worker serves it: form and JSON bodies, Basic credentials, bearer JWTs and their headers,
//! scopes, rule and hook JSON, cookies, multipart imports, and hook answers. Each target
//! must answer without a panic and without a 5xx (a 5xx would be the issuer's fault, not the
//! input's), and every refusal must speak its vocabulary: an RFC error code (and its
//! challenge, for a 401) at the protocol endpoints, Auth0's error shape at the management API,
//! a page at the hosted pages.
//!
//! Half the cases are arbitrary bytes; the other half start from a request that succeeds
//! (each target's seed) and change one thing in it (a byte replaced, bytes inserted, a span
//! deleted, the rest cut off), so they reach past the first check a parser makes: every
//! target must get more than one kind of answer.
//!
//! `make test` runs each property for 64 cases, the same ones each time (a fixed seed), and
//! replays every input kept under `fuzz/corpus/<target>/` (crashes found once stay
//! there, each a file; every target has its folder). `make fuzz` runs the same properties
//! for many more cases (`PROPTEST_CASES`), newly drawn each run, in release. A failing case is also written to `fuzz/regressions/` by
//! proptest and replayed first.

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::*;
use edge_issuer::error::OutboundError;
use edge_issuer::model::{OnFailure, Trigger};
use edge_issuer::web::{HttpRequest, HttpResponse};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use std::path::Path;

/// One target: the answers it gets for an input (every one is checked).
type Target = fn(&Ctx, &[u8]) -> Vec<HttpResponse>;

/// A request that succeeds through a target, for the mutated cases to start from.
type Start = fn(&Ctx) -> Vec<u8>;

/// The SPA of the cookie target: a redirect URI, so /authorize shows the form or signs in.
const SPA: &str = "fuzz-spa";
const CALLBACK: &str = "https://app.example.com/cb";
/// PKCE S256 challenge of the verifier in RFC 7636's appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A tenant with a management token and a hook on client_credentials that is skipped when it
/// fails (so a bad answer is the hook's problem, not a refusal); a browser's session and a
/// login form as a browser holds them; a user's access token.
struct Ctx {
    tenant: Tenant,
    admin: String,
    /// `__Host-session=…` of a signed-in browser.
    session: String,
    /// `__Host-csrf=…` of the login form in `form`.
    csrf: String,
    /// The login form's fields, filled in.
    form: String,
    access_token: String,
}

impl std::ops::Deref for Ctx {
    type Target = Tenant;
    fn deref(&self) -> &Tenant {
        &self.tenant
    }
}

fn authorize_query() -> String {
    format!(
        "response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&state=s1\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(CALLBACK)
    )
}

fn ctx() -> Ctx {
    let tenant = management_tenant();
    hook(&tenant, Trigger::CredentialsExchange, OnFailure::Skip);
    answer(&tenant, |_| Ok(b"{}".to_vec()));
    let admin = admin_token(&tenant, &MGMT_SCOPES);
    tenant.store.put_client(edge_issuer::model::Client {
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![CALLBACK.into()],
        ..client_defaults_with(SPA)
    });
    let page = authorize(&tenant, "");
    assert_eq!(page.status, 200);
    let csrf = set_cookie(&page, "__Host-csrf").expect("a CSRF cookie");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&String::from_utf8_lossy(&page.body)));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", USER_PASSWORD);
    let form = form.finish();
    let signed_in = login(&tenant, &csrf, &form);
    assert_eq!(signed_in.status, 303);
    let session = set_cookie(&signed_in, "__Host-session").expect("a session cookie");
    let access_token = tenant.password("&scope=openid").json_body()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    Ctx {
        tenant,
        admin,
        session,
        csrf,
        form,
        access_token,
    }
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

fn authorize(t: &Tenant, cookie: &str) -> HttpResponse {
    t.send(HttpRequest {
        method: "GET".into(),
        path: "/authorize".into(),
        query: authorize_query(),
        headers: vec![("cookie".into(), cookie.into())],
        ..Default::default()
    })
}

fn login(t: &Tenant, cookie: &str, form: &str) -> HttpResponse {
    post(
        t,
        "/u/login",
        "application/x-www-form-urlencoded",
        &[("cookie", cookie.into())],
        form.as_bytes(),
    )
}

/// A token request whose whole body is the input.
fn token_body(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let auth = [("authorization", basic_header(M2M_ID, M2M_SECRET))];
    vec![post(
        t,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        &auth,
        input,
    )]
}

fn token_body_seed(_: &Ctx) -> Vec<u8> {
    format!(
        "grant_type=client_credentials&audience={}&scope=read%3Adata",
        enc(API)
    )
    .into_bytes()
}

/// A JSON token request (Auth0's SDKs send JSON) whose body is the input.
fn token_json(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    vec![post(t, "/oauth/token", "application/json", &[], input)]
}

fn token_json_seed(_: &Ctx) -> Vec<u8> {
    serde_json::json!({
        "grant_type": "client_credentials", "client_id": M2M_ID, "client_secret": M2M_SECRET,
        "audience": API,
    })
    .to_string()
    .into_bytes()
}

/// The input as the `Authorization` header of a client_credentials request.
fn basic_credentials(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let header = [("authorization", text(input))];
    vec![post(
        t,
        "/oauth/token",
        "application/x-www-form-urlencoded",
        &header,
        b"grant_type=client_credentials",
    )]
}

fn basic_credentials_seed(_: &Ctx) -> Vec<u8> {
    basic_header(M2M_ID, M2M_SECRET).into_bytes()
}

/// The input as the `scope` of a password request.
fn scope(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    vec![t.password(&format!("&scope={}", enc(&text(input))))]
}

fn scope_seed(_: &Ctx) -> Vec<u8> {
    b"openid profile email offline_access".to_vec()
}

/// The input as a bearer token at /userinfo, raw and as the three parts of a JWS (so the
/// header and claims JSON parsers see it too).
fn bearer(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let call =
        |token: &str| t.userinfo("GET", &[("authorization", &format!("Bearer {token}"))], "");
    let part = URL_SAFE_NO_PAD.encode(input);
    let claims = URL_SAFE_NO_PAD.encode(br#"{"sub":"x","aud":"y"}"#);
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"at+jwt","kid":"k"}"#);
    vec![
        call(&text(input)),
        call(&format!("{part}.{claims}.{part}")),
        call(&format!("{header}.{part}.{part}")),
    ]
}

fn bearer_seed(t: &Ctx) -> Vec<u8> {
    t.access_token.clone().into_bytes()
}

/// The input as the JSON body of management writes: a user, a rule, a hook, a role, and a
/// user's patch.
fn management_json(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let auth = [("authorization", format!("Bearer {}", t.admin))];
    let mut answers: Vec<HttpResponse> = [
        "/api/v2/users",
        "/api/v2/rules",
        "/api/v2/hooks",
        "/api/v2/roles",
    ]
    .iter()
    .map(|path| post(t, path, "application/json", &auth, input))
    .collect();
    answers.push(t.send(HttpRequest {
        method: "PATCH".into(),
        path: format!("/api/v2/users/{}", enc(USER_ID)),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("authorization".into(), format!("Bearer {}", t.admin)),
        ],
        body: input.to_vec(),
        ..Default::default()
    }));
    answers
}

fn management_json_seed(_: &Ctx) -> Vec<u8> {
    br#"{"connection":"Username-Password-Authentication","email":"fuzz@example.com","password":"a long enough password","name":"Fuzz"}"#.to_vec()
}

/// The input as a multipart user import (boundary `b`).
fn multipart(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let auth = [("authorization", format!("Bearer {}", t.admin))];
    vec![post(
        t,
        "/api/v2/jobs/users-imports",
        "multipart/form-data; boundary=b",
        &auth,
        input,
    )]
}

fn multipart_seed(_: &Ctx) -> Vec<u8> {
    b"--b\r\nContent-Disposition: form-data; name=\"users\"; filename=\"u.json\"\r\n\r\n\
      [{\"email\":\"imported@example.com\"}]\r\n\
      --b\r\nContent-Disposition: form-data; name=\"connection_id\"\r\n\r\n\
      Username-Password-Authentication\r\n--b--\r\n"
        .to_vec()
}

/// The input as the `Cookie` header of /authorize (where the session cookie's MAC is
/// checked) and of the login form's post (where the CSRF cookie is).
fn cookies(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let cookie = text(input);
    vec![authorize(t, &cookie), login(t, &cookie, &t.form)]
}

fn cookies_seed(t: &Ctx) -> Vec<u8> {
    format!("{}; {}", t.session, t.csrf).into_bytes()
}

/// The input as a hook's answer to a client_credentials exchange.
fn hook_answer(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let answer = input.to_vec();
    common::answer(&t.tenant, move |_| Ok::<_, OutboundError>(answer.clone()));
    vec![t.token("grant_type=client_credentials", Some((M2M_ID, M2M_SECRET)))]
}

fn hook_answer_seed(_: &Ctx) -> Vec<u8> {
    br#"{"access_token":{"https://example.com/plan":"gold"}}"#.to_vec()
}

/// The input base64-encoded as Basic credentials.
fn authorization_header(t: &Ctx, input: &[u8]) -> Vec<HttpResponse> {
    let h = format!("Basic {}", STANDARD.encode(input));
    basic_credentials(t, h.as_bytes())
}

fn authorization_header_seed(_: &Ctx) -> Vec<u8> {
    format!("{M2M_ID}:{M2M_SECRET}").into_bytes()
}

const TARGETS: [(&str, Target, Start); 10] = [
    ("token_body", token_body, token_body_seed),
    ("token_json", token_json, token_json_seed),
    (
        "basic_credentials",
        basic_credentials,
        basic_credentials_seed,
    ),
    ("scope", scope, scope_seed),
    ("bearer", bearer, bearer_seed),
    ("management_json", management_json, management_json_seed),
    ("multipart", multipart, multipart_seed),
    ("cookies", cookies, cookies_seed),
    ("hook_answer", hook_answer, hook_answer_seed),
    (
        "authorization_header",
        authorization_header,
        authorization_header_seed,
    ),
];

/// The error codes of RFC 6749 §5.2, RFC 6750 §3.1, RFC 8707 and OIDC Core §3.1.2.6 that the
/// issuer answers with.
const RFC_CODES: [&str; 13] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "invalid_target",
    "invalid_token",
    "access_denied",
    "unsupported_response_type",
    "login_required",
    "request_not_supported",
    "request_uri_not_supported",
];

/// What is wrong with an answer, if anything: a 5xx, or a refusal outside its vocabulary.
fn fault(path: &str, resp: &HttpResponse) -> Option<String> {
    if resp.status >= 500 {
        return Some(format!("{}: {}", resp.status, text(&resp.body)));
    }
    if resp.status < 400 {
        return None;
    }
    let json = resp
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    if !json {
        // The hosted pages answer a person, in HTML.
        let page = resp
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"));
        return (!page).then(|| format!("{}: neither JSON nor a page", resp.status));
    }
    let body = resp.json_body();
    if path.starts_with("/api/v2/") {
        let auth0 = body["statusCode"] == resp.status
            && body["error"].is_string()
            && body["message"].is_string();
        return (!auth0).then(|| format!("{}: not Auth0's error shape: {body}", resp.status));
    }
    let code = body["error"].as_str().unwrap_or_default();
    if !RFC_CODES.contains(&code) {
        return Some(format!(
            "{}: error {code:?} is not an RFC code",
            resp.status
        ));
    }
    if resp.status == 401 {
        let challenge = resp.header("www-authenticate").unwrap_or_default();
        if !challenge.starts_with("Basic ") && !challenge.contains(&format!("error=\"{code}\"")) {
            return Some(format!("401 without its challenge: {challenge:?}"));
        }
    }
    None
}

/// Checks every answer to one input; answers what the first answer was: its status and
/// error code.
fn check(name: &str, target: Target, t: &Ctx, input: &[u8]) -> Result<Outcome, String> {
    let paths = request_paths(name);
    let answers = target(t, input);
    for (i, resp) in answers.iter().enumerate() {
        if let Some(fault) = fault(paths[i.min(paths.len() - 1)], resp) {
            return Err(format!(
                "{name} (answer {i}): {fault}, for input {:?}",
                text(input)
            ));
        }
    }
    let first = &answers[0];
    let body = first
        .header("content-type")
        .filter(|c| c.starts_with("application/json"))
        .map(|_| first.json_body())
        .unwrap_or_default();
    let said = |field: &str| body[field].as_str().unwrap_or_default().to_string();
    Ok((first.status, said("error"), said("error_description")))
}

/// An answer's status, error code and description: which check answered.
type Outcome = (u16, String, String);

/// The path each answer of a target came from, in order (the last repeats).
fn request_paths(name: &str) -> &'static [&'static str] {
    match name {
        "bearer" => &["/userinfo"],
        "management_json" | "multipart" => &["/api/v2/"],
        "cookies" => &["/authorize", "/u/login"],
        _ => &["/oauth/token"],
    }
}

/// `make test`'s bounded run draws the same cases every time (a fixed seed), so it passes or
/// fails with the code, not with luck; `make fuzz` (`PROPTEST_CASES` set) draws new ones.
fn config(name: &str) -> Config {
    let set = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    let file = format!("{}/fuzz/regressions/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    Config {
        cases: set.unwrap_or(64),
        rng_seed: match set {
            Some(_) => proptest::test_runner::RngSeed::Random,
            None => proptest::test_runner::RngSeed::Fixed(0x5eed),
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(Box::leak(
            file.into_boxed_str(),
        )))),
        ..Config::default()
    }
}

/// One change to a request that succeeds; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Cut(usize),
}

impl Mutation {
    fn apply(&self, seed: &[u8]) -> Vec<u8> {
        let at = |i: usize| i % (seed.len() + 1);
        let mut out = seed.to_vec();
        match self {
            Mutation::Replace(i, b) if !seed.is_empty() => out[i % seed.len()] = *b,
            Mutation::Replace(..) => {}
            Mutation::Insert(i, bytes) => {
                out.splice(at(*i)..at(*i), bytes.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let from = at(*i);
                out.drain(from..(from + n).min(seed.len()));
            }
            Mutation::Cut(i) => out.truncate(at(*i)),
        }
        out
    }
}

/// An input: arbitrary bytes or text made of the characters these formats care about, or one
/// change to the target's seed.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Vec<u8>),
    Mutated(Mutation),
}

fn input() -> impl Strategy<Value = Input> {
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[a-z_=&%+.:;,\\- \"{}\\[\\]0-9A-Z\\\\/\r\n]{0,256}".prop_map(String::into_bytes),
        r#"\{("[a-z_]{1,12}":("[^"]{0,20}"|[0-9]{1,20}|true|null|\[\]|\{\}),?){0,8}\}"#
            .prop_map(String::into_bytes),
    ];
    let special = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        "[=&;,:.%+\"{}\\[\\] \r\n\\\\]{1,4}".prop_map(String::into_bytes),
        Just(b"%00".to_vec()),
        Just("\u{200B}".as_bytes().to_vec()),
    ];
    let mutation = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1..8usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Cut),
    ];
    prop_oneof![
        bytes.prop_map(Input::Bytes),
        mutation.prop_map(Input::Mutated),
    ]
}

fn run_property(name: &'static str, target: Target, seed: Start) {
    let t = ctx();
    let start = seed(&t);
    let (status, ..) = check(name, target, &t, &start).unwrap_or_else(|e| panic!("{e}"));
    assert!(status < 400, "{name}: the seed itself does not succeed");
    let mut runner = proptest::test_runner::TestRunner::new(config(name));
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<Outcome, u32>::new());
    let outcome = runner.run(&input(), |input| {
        let bytes = match &input {
            Input::Bytes(b) => b.clone(),
            Input::Mutated(m) => m.apply(&start),
        };
        let answer = check(name, target, &t, &bytes).map_err(TestCaseError::fail)?;
        *seen.borrow_mut().entry(answer).or_default() += 1;
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
    let seen = seen.into_inner();
    eprintln!("{name}: {seen:?}");
    // The cases reach more than one check: not every input is answered by the same one. A
    // hook answer has one answer by design: one that does not parse is skipped (the hook's
    // `on_failure` is `skip`), and the token is issued anyway.
    assert!(
        seen.len() >= 2 || name == "hook_answer",
        "{name}: every case got the same answer: {seen:?}"
    );
}

#[test]
fn no_input_makes_a_5xx_a_panic_or_a_refusal_outside_the_vocabulary() {
    for (name, target, seed) in TARGETS {
        run_property(name, target, seed);
    }
}

#[test]
fn the_kept_corpus_replays_without_a_fault() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let t = ctx();
    let mut replayed = 0;
    for (name, target, _) in TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no input kept", dir.display());
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
