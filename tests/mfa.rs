//! Second factors through the route table, on the real SQL (SQLite): the Guardian settings
//! by the management API; the password grant's `mfa_required`; Auth0's MFA API
//! (`/mfa/associate`, `/mfa/authenticators`, `/mfa/challenge`); the mfa-otp and
//! mfa-recovery-code grants; and an admin's reset. Codes are made from the secret the API
//! shows, as an authenticator app makes them.

mod common;

use common::*;
use edge_issuer::model::grant_type::{MFA_OTP, MFA_RECOVERY_CODE, PASSWORDLESS_OTP};
use edge_issuer::model::{OnFailure, Trigger};
use edge_issuer::oauth::mfa::totp;
use edge_issuer::port::clock::Clock;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

/// A tenant with the authenticator app and recovery codes on, under `policy`, and demo-app
/// allowed the MFA grants.
fn tenant(policy: Value) -> (Tenant, String) {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    for factor in ["otp", "recovery-code"] {
        let path = format!("/api/v2/guardian/factors/{factor}");
        let body = json!({ "enabled": true });
        assert_eq!(
            ok(&manage(&t, "PUT", &path, &admin, Some(body)), 200),
            json!({"enabled": true})
        );
    }
    let set = manage(&t, "PUT", "/api/v2/guardian/policies", &admin, Some(policy));
    ok(&set, 200);
    t.edit_client(APP_ID, |c| {
        c.grant_types.push(MFA_OTP.into());
        c.grant_types.push(MFA_RECOVERY_CODE.into());
    });
    (t, admin)
}

/// The password grant's `mfa_required`: its MFA token.
fn mfa_required(t: &Tenant) -> String {
    let resp = t.password("&scope=openid%20offline_access");
    assert_eq!(resp.status, 403, "{}", String::from_utf8_lossy(&resp.body));
    let body = resp.json_body();
    assert_eq!(body["error"], "mfa_required");
    assert!(body.get("access_token").is_none());
    body["mfa_token"].as_str().unwrap().to_string()
}

fn bearer(t: &Tenant, method: &str, path: &str, token: &str, body: Option<Value>) -> HttpResponse {
    manage(t, method, path, token, body)
}

/// Enrolls an authenticator app with `mfa_token`: its secret and the answer.
fn associate(t: &Tenant, mfa_token: &str) -> (Vec<u8>, Value) {
    let body = json!({ "authenticator_types": ["otp"] });
    let answer = ok(
        &bearer(t, "POST", "/mfa/associate", mfa_token, Some(body)),
        200,
    );
    let secret = base32::decode(
        base32::Alphabet::Rfc4648 { padding: false },
        answer["secret"].as_str().unwrap(),
    )
    .unwrap();
    (secret, answer)
}

fn grant(t: &Tenant, grant: &str, mfa_token: &str, field: &str, code: &str) -> HttpResponse {
    let form = format!(
        "grant_type={}&mfa_token={}&{field}={}",
        enc(grant),
        enc(mfa_token),
        enc(code)
    );
    t.send(token_request(&form, (APP_ID, APP_SECRET)))
}

fn otp(t: &Tenant, mfa_token: &str, code: &str) -> HttpResponse {
    grant(t, MFA_OTP, mfa_token, "otp", code)
}

fn refused(resp: &HttpResponse, status: u16, error: &str) {
    assert_eq!(
        resp.status,
        status,
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
    assert_eq!(resp.json_body()["error"], error);
}

#[test]
fn no_factor_on_means_no_second_factor() {
    let t = Tenant::new();
    let resp = t.password("&scope=openid");
    assert_eq!(resp.status, 200);
    // Optional policy: a user with nothing enrolled signs in with the password alone.
    let (t, _) = tenant(json!([]));
    assert_eq!(t.password("&scope=openid").status, 200);
}

#[test]
fn always_enrolls_at_the_next_sign_in_then_asks_every_time() {
    let (t, admin) = tenant(json!(["all-applications"]));
    let first = mfa_required(&t);
    let listed = ok(&bearer(&t, "GET", "/mfa/authenticators", &first, None), 200);
    assert_eq!(listed, json!([]));
    let (secret, answer) = associate(&t, &first);
    assert_eq!(answer["authenticator_type"], "otp");
    let uri = answer["barcode_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/id.example.com:ada%40example.com?secret="));
    let codes: Vec<String> = serde_json::from_value(answer["recovery_codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);

    // A wrong code is refused and spends nothing; the right one confirms the app and signs in
    // with both factors.
    refused(&otp(&t, &first, "000000"), 400, "invalid_grant");
    let resp = otp(&t, &first, &totp::code_at(&secret, NOW));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let body = resp.json_body();
    let id = verify_jwt(&t, body["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["sub"], USER_ID);
    assert!(body["refresh_token"].is_string());

    // The token is spent, and the step is taken: neither works again.
    refused(
        &otp(&t, &first, &totp::code_at(&secret, NOW + 30)),
        400,
        "invalid_grant",
    );
    let second = mfa_required(&t);
    refused(
        &otp(&t, &second, &totp::code_at(&secret, NOW)),
        400,
        "invalid_grant",
    );
    // The next step's code works with a new token.
    t.clock.advance(30);
    let resp = otp(&t, &second, &totp::code_at(&secret, NOW + 30));
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));

    // Enrolled: the user shows `multifactor`, and the MFA token cannot add another factor.
    let user = ok(
        &manage(
            &t,
            "GET",
            &format!("/api/v2/users/{}", enc(USER_ID)),
            &admin,
            None,
        ),
        200,
    );
    assert_eq!(user["multifactor"], json!(["guardian"]));
    let third = mfa_required(&t);
    let again = bearer(
        &t,
        "POST",
        "/mfa/associate",
        &third,
        Some(json!({ "authenticator_types": ["otp"] })),
    );
    refused(&again, 403, "access_denied");
    let listed = ok(&bearer(&t, "GET", "/mfa/authenticators", &third, None), 200);
    assert_eq!(listed[0]["authenticator_type"], "otp");
    assert_eq!(listed[0]["active"], true);
    assert_eq!(listed[1]["authenticator_type"], "recovery-code");
    let challenge = form_post(
        &t,
        "/mfa/challenge",
        &format!("mfa_token={}&challenge_type=otp", enc(&third)),
        Some((APP_ID, APP_SECRET)),
    );
    assert_eq!(ok(&challenge, 200), json!({ "challenge_type": "otp" }));

    // A recovery code works once, and says how many are left.
    let resp = grant(
        &t,
        MFA_RECOVERY_CODE,
        &third,
        "recovery_code",
        &codes[3].to_lowercase(),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json_body()["recovery_codes_remaining"], 9);
    let fourth = mfa_required(&t);
    refused(
        &grant(&t, MFA_RECOVERY_CODE, &fourth, "recovery_code", &codes[3]),
        400,
        "invalid_grant",
    );

    // The log has each step, and no code or token.
    t.store_events();
    let logs = ok(&manage(&t, "GET", "/api/v2/logs", &admin, None), 200);
    let kinds: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    for kind in [
        "mfar",
        "gd_enrollment_complete",
        "gd_auth_succeed",
        "gd_auth_failed",
        "gd_recovery_succeed",
        "gd_recovery_failed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let text = logs.to_string();
    assert!(!text.contains(&first) && !text.contains(&codes[3]));

    // An admin sees the methods, and a reset sends the user back to enrollment.
    let path = format!("/api/v2/users/{}/authentication-methods", enc(USER_ID));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(methods[0]["type"], "totp");
    assert_eq!(methods[1]["remaining"], 9);
    // The recovery codes are one method: deleted once, then there is none to delete.
    let codes_path = format!(
        "/api/v2/users/{}/authentication-methods/{}",
        enc(USER_ID),
        enc(&format!("recovery-code|{USER_ID}"))
    );
    assert_eq!(manage(&t, "DELETE", &codes_path, &admin, None).status, 204);
    assert_eq!(manage(&t, "DELETE", &codes_path, &admin, None).status, 404);
    let path = format!("/api/v2/users/{}/authentication-methods", enc(USER_ID));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(methods.as_array().unwrap().len(), 1);
    let path = format!("/api/v2/users/{}/authenticators", enc(USER_ID));
    assert_eq!(manage(&t, "DELETE", &path, &admin, None).status, 204);
    let fifth = mfa_required(&t);
    refused(
        &otp(&t, &fifth, &totp::code_at(&secret, NOW + 60)),
        400,
        "invalid_grant",
    );
    associate(&t, &fifth);
}

#[test]
fn an_mfa_token_is_the_clients_and_short_lived() {
    let (t, _) = tenant(json!(["all-applications"]));
    let token = mfa_required(&t);
    let (secret, _) = associate(&t, &token);
    // Another client holding the token gets nothing.
    t.store.put_client(edge_issuer::model::Client {
        client_id: "other".into(),
        secret_hash: Some(edge_issuer::model::secret::hash_client_secret(
            "other-secret",
        )),
        grant_types: vec![MFA_OTP.into()],
        ..client_defaults()
    });
    let form = format!(
        "grant_type={}&mfa_token={}&otp={}",
        enc(MFA_OTP),
        enc(&token),
        totp::code_at(&secret, NOW)
    );
    refused(
        &t.send(token_request(&form, ("other", "other-secret"))),
        400,
        "invalid_grant",
    );
    // A client not allowed the grant is refused before anything.
    t.edit_client(APP_ID, |c| c.grant_types.retain(|g| g != MFA_OTP));
    refused(
        &otp(&t, &token, &totp::code_at(&secret, NOW)),
        400,
        "unauthorized_client",
    );
    t.edit_client(APP_ID, |c| c.grant_types.push(MFA_OTP.into()));
    // After 10 minutes the token opens nothing, at the grant or the MFA API.
    t.clock.advance(600);
    refused(
        &otp(&t, &token, &totp::code_at(&secret, NOW + 600)),
        400,
        "invalid_grant",
    );
    let listed = bearer(&t, "GET", "/mfa/authenticators", &token, None);
    refused(&listed, 401, "invalid_token");
    refused(
        &bearer(&t, "GET", "/mfa/authenticators", "not-a-token", None),
        401,
        "invalid_token",
    );
}

#[test]
fn wrong_codes_lock_like_wrong_passwords() {
    let (t, _) = tenant(json!(["all-applications"]));
    let token = mfa_required(&t);
    let (secret, _) = associate(&t, &token);
    for _ in 0..10 {
        refused(&otp(&t, &token, "000000"), 400, "invalid_grant");
    }
    // The eleventh try is refused even with the right code.
    let resp = otp(&t, &token, &totp::code_at(&secret, NOW));
    refused(&resp, 400, "invalid_grant");
    assert!(String::from_utf8_lossy(&resp.body).contains("Too many failed"));
}

#[test]
fn guardian_settings_are_auth0_shaped() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let factors = ok(
        &manage(&t, "GET", "/api/v2/guardian/factors", &admin, None),
        200,
    );
    let names: Vec<&str> = factors
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "otp",
            "recovery-code",
            "webauthn-roaming",
            "webauthn-platform"
        ]
    );
    assert!(factors
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["enabled"] == false));
    let put = |path: &str, body: Value| manage(&t, "PUT", path, &admin, Some(body));
    assert_eq!(
        put("/api/v2/guardian/factors/sms", json!({"enabled": true})).status,
        404
    );
    assert_eq!(
        ok(
            &put(
                "/api/v2/guardian/factors/webauthn-roaming",
                json!({"enabled": true})
            ),
            200
        ),
        json!({"enabled": true})
    );
    assert_eq!(
        put("/api/v2/guardian/factors/otp", json!({"enabled": "yes"})).status,
        400
    );
    assert_eq!(
        put("/api/v2/guardian/policies", json!(["sometimes"])).status,
        400
    );
    let policies = ok(
        &manage(&t, "GET", "/api/v2/guardian/policies", &admin, None),
        200,
    );
    assert_eq!(policies, json!([]));
    // Who may: the scopes Auth0 names.
    let reader = admin_token(&t, &["read:guardian_factors"]);
    assert_eq!(
        manage(&t, "GET", "/api/v2/guardian/factors", &reader, None).status,
        200
    );
    let body = json!({ "enabled": true });
    assert_eq!(
        manage(
            &t,
            "PUT",
            "/api/v2/guardian/factors/otp",
            &reader,
            Some(body)
        )
        .status,
        403
    );
}

#[test]
fn associate_needs_the_factor_on_and_a_bearer() {
    let (t, _) = tenant(json!(["all-applications"]));
    let token = mfa_required(&t);
    let plain = t.send(HttpRequest {
        method: "POST".into(),
        path: "/mfa/associate".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"authenticator_types":["otp"]}"#.to_vec(),
        ..Default::default()
    });
    refused(&plain, 401, "invalid_token");
    let sms = json!({ "authenticator_types": ["oob"] });
    refused(
        &bearer(&t, "POST", "/mfa/associate", &token, Some(sms)),
        400,
        "invalid_request",
    );
}

// The hosted login page: the second factor after the password, in a browser's steps.

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// [`tenant`] with a browser app that signs in on the hosted page.
fn browser_tenant(policy: Value) -> (Tenant, String) {
    let (t, admin) = tenant(policy);
    put_spa(&t, SPA, CALLBACK);
    (t, admin)
}

/// The hosted login page posted with the right password: the answer and the CSRF cookie.
fn hosted_password(t: &Tenant) -> (HttpResponse, String) {
    hosted_password_with(t, "")
}

/// An authorization request of the browser app, with `extra` parameters.
fn authorize_path(extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&state=st\
         &code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CALLBACK)
    )
}

/// [`hosted_password`] for a request with `extra` parameters.
fn hosted_password_with(t: &Tenant, extra: &str) -> (HttpResponse, String) {
    let page = get(t, &authorize_path(extra), "");
    assert_eq!(page.status, 200);
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&String::from_utf8_lossy(&page.body)));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", USER_PASSWORD);
    let resp = post_form(t, "/u/login", &form.finish(), &csrf);
    let csrf = set_cookie(&resp, "__Host-csrf").unwrap_or(csrf);
    (resp, csrf)
}

/// The second factor's page posted with `field`=`value`.
fn factor(t: &Tenant, page: &HttpResponse, csrf: &str, field: &str, value: &str) -> HttpResponse {
    let html = String::from_utf8_lossy(&page.body);
    let mut form = form_urlencoded::Serializer::new(String::new());
    // The page's first form (the app's code) carries the same hidden fields as the second.
    let fields = form_fields(&html);
    form.extend_pairs(fields.iter().take(2));
    form.append_pair(field, value);
    post_form(t, "/u/mfa", &form.finish(), csrf)
}

/// The ID token of the code a hosted sign-in redirected with.
fn id_token_of(t: &Tenant, resp: &HttpResponse) -> Value {
    code_id_token(t, resp, SPA, CALLBACK, VERIFIER)
}

/// The text between `start` and `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap() + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

#[test]
fn the_hosted_page_enrolls_an_app_then_asks_for_its_code_or_a_recovery_code() {
    let (t, _) = browser_tenant(json!(["all-applications"]));
    let (page, csrf) = hosted_password(&t);
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    assert!(
        set_cookie(&page, "__Host-session").is_none(),
        "no session yet"
    );
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("<h1>Set up two-step sign-in</h1>"), "{html}");
    assert!(html.contains("<svg class=\"qr\""));
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10);

    // A wrong code shows the same page again: the same key and codes, and the error.
    let wrong = factor(&t, &page, &csrf, "code", "000000");
    assert_eq!(wrong.status, 400);
    let again = String::from_utf8_lossy(&wrong.body).into_owned();
    assert!(again.contains("The code is wrong or was used already."));
    assert_eq!(
        between(&again, "<code class=\"key\">", "</code>").replace(' ', ""),
        key
    );
    assert!(again.contains(&format!("<li><code>{}</code></li>", codes[9])));
    // The page's form from another browser (another CSRF cookie) is refused.
    let csrf2 = set_cookie(&wrong, "__Host-csrf").unwrap();
    let forged = factor(
        &t,
        &wrong,
        "__Host-csrf=guess",
        "code",
        &totp::code_at(&secret, NOW),
    );
    assert_eq!(forged.status, 403);
    // The hosted page's MFA token is not the MFA API's: the token endpoint refuses it.
    let hosted = form_fields(&again)
        .into_iter()
        .find(|(k, _)| k == "mfa_token")
        .unwrap()
        .1;
    refused(
        &otp(&t, &hosted, &totp::code_at(&secret, NOW)),
        400,
        "invalid_grant",
    );
    // The right code confirms the app and signs in with both factors.
    let done = factor(&t, &wrong, &csrf2, "code", &totp::code_at(&secret, NOW));
    assert!(set_cookie(&done, "__Host-session").is_some());
    let id = id_token_of(&t, &done);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["sub"], USER_ID);
    // The same page cannot be posted again: its token is spent.
    let replay = factor(
        &t,
        &wrong,
        &csrf2,
        "code",
        &totp::code_at(&secret, NOW + 30),
    );
    assert_ne!(replay.status, 303);

    // The next sign-in asks for a code only; the used step is refused, the next one works.
    t.clock.advance(30);
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("<h1>Verify it is you</h1>"), "{html}");
    assert!(!html.contains("<svg") && !html.contains(&codes[0]));
    let used = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    assert_eq!(used.status, 400);
    let csrf = set_cookie(&used, "__Host-csrf").unwrap();
    let next = factor(&t, &used, &csrf, "code", &totp::code_at(&secret, NOW + 30));
    assert_eq!(id_token_of(&t, &next)["amr"], json!(["pwd", "otp", "mfa"]));

    // A recovery code signs in once.
    let (page, csrf) = hosted_password(&t);
    let recovered = factor(&t, &page, &csrf, "recovery_code", &codes[0]);
    assert_eq!(id_token_of(&t, &recovered)["amr"], json!(["pwd", "mfa"]));
    let (page, csrf) = hosted_password(&t);
    assert_eq!(
        factor(&t, &page, &csrf, "recovery_code", &codes[0]).status,
        400
    );
}

#[test]
fn the_hosted_page_signs_in_with_the_password_alone_when_the_policy_asks_nothing() {
    // Optional, and the user has no app: no second step.
    let (t, _) = browser_tenant(json!([]));
    let (resp, _) = hosted_password(&t);
    assert_eq!(id_token_of(&t, &resp)["amr"], json!(["pwd"]));
}

#[test]
fn resetting_a_users_factors_ends_their_sessions_when_the_policy_asks_for_one() {
    let (t, admin) = browser_tenant(json!(["all-applications"]));
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    let session = set_cookie(&done, "__Host-session").unwrap();
    let silent = format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256&prompt=none",
        enc(CALLBACK)
    );
    let location = |resp: &HttpResponse| resp.header("location").unwrap_or_default().to_string();
    assert!(location(&get(&t, &silent, &session)).contains("code="));
    let path = format!("/api/v2/users/{}/authenticators", enc(USER_ID));
    assert_eq!(manage(&t, "DELETE", &path, &admin, None).status, 204);
    assert!(location(&get(&t, &silent, &session)).contains("error=login_required"));
    // The next sign-in sets up a new app.
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Set up two-step sign-in"));

    // Deleting the one app as a method does the same; the recovery codes alone do not count.
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    let session = set_cookie(&done, "__Host-session").unwrap();
    assert!(location(&get(&t, &silent, &session)).contains("code="));
    let methods = format!("/api/v2/users/{}/authentication-methods", enc(USER_ID));
    let listed = ok(&manage(&t, "GET", &methods, &admin, None), 200);
    let app = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["type"] == "totp")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = format!("{methods}/{}", enc(&app));
    assert_eq!(manage(&t, "DELETE", &one, &admin, None).status, 204);
    assert!(location(&get(&t, &silent, &session)).contains("error=login_required"));
}

const STEP_UP: &str =
    "&acr_values=http%3A%2F%2Fschemas.openid.net%2Fpape%2Fpolicies%2F2007%2F06%2Fmulti-factor";
const MULTI_FACTOR: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";

#[test]
fn acr_values_ask_for_a_second_factor_where_the_policy_does_not() {
    // Optional policy, and the user has no app: the password alone signs in, no `acr`.
    let (t, _) = browser_tenant(json!([]));
    let (plain, _) = hosted_password(&t);
    let session = set_cookie(&plain, "__Host-session").unwrap();
    let id = id_token_of(&t, &plain);
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id.get("acr").is_none());
    // That session cannot answer a request for a second factor: the login page, or
    // login_required without interaction.
    let again = get(&t, &authorize_path(STEP_UP), &session);
    assert_eq!(again.status, 200, "{:?}", again.header("location"));
    assert!(String::from_utf8_lossy(&again.body).contains("id=\"password\""));
    let silent = get(
        &t,
        &authorize_path(&format!("{STEP_UP}&prompt=none")),
        &session,
    );
    assert!(silent
        .header("location")
        .unwrap()
        .contains("error=login_required"));

    // Signing in for it sets up an app first, then reports the class and the methods.
    let (page, csrf) = hosted_password_with(&t, STEP_UP);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Set up two-step sign-in"), "{html}");
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    let stepped = set_cookie(&done, "__Host-session").unwrap();
    let id = id_token_of(&t, &done);
    assert_eq!(id["acr"], MULTI_FACTOR);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    // The new session answers the same request at once, and says so again.
    let sso = get(&t, &authorize_path(STEP_UP), &stepped);
    assert_eq!(sso.status, 302, "{}", String::from_utf8_lossy(&sso.body));
    let id = id_token_of(&t, &HttpResponse { status: 303, ..sso });
    assert_eq!(id["acr"], MULTI_FACTOR);
}

#[test]
fn acr_values_are_answered_honestly_when_no_second_factor_is_offered() {
    // The authenticator app factor is off: the request is voluntary (OIDC Core §3.1.2.1),
    // the password signs in, and the ID token claims no multi-factor class.
    let t = management_tenant_with_spa(SPA, CALLBACK);
    let (resp, _) = hosted_password_with(&t, STEP_UP);
    let id = id_token_of(&t, &resp);
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id.get("acr").is_none());
}

#[test]
fn a_rule_requires_a_second_factor_for_the_clients_it_names() {
    // Optional policy, no app enrolled: nothing is asked until a rule says so.
    let (t, admin) = browser_tenant(json!([]));
    let rule = |name: &str, client: &str| {
        json!({
            "name": name, "trigger": "post-login", "multifactor": true,
            "conditions": { "client_ids": [client] },
        })
    };
    let made = manage(
        &t,
        "POST",
        "/api/v2/rules",
        &admin,
        Some(rule("spa-mfa", SPA)),
    );
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(made.json_body()["multifactor"], true);
    // The browser app's sign-in sets up an app; the password grant of demo-app is not asked.
    let (page, _) = hosted_password(&t);
    assert!(String::from_utf8_lossy(&page.body).contains("Set up two-step sign-in"));
    assert_eq!(t.password("&scope=openid").status, 200);
    // A rule for demo-app: its password grant answers mfa_required.
    let made = manage(
        &t,
        "POST",
        "/api/v2/rules",
        &admin,
        Some(rule("app-mfa", APP_ID)),
    );
    assert_eq!(made.status, 201);
    mfa_required(&t);
    // Only a post-login rule can ask, and one that only asks needs no assignment.
    let mut machine = rule("m2m", APP_ID);
    machine["trigger"] = json!("credentials-exchange");
    let refused = manage(&t, "POST", "/api/v2/rules", &admin, Some(machine));
    assert_eq!(refused.status, 400);
    let mut plain = rule("plain", APP_ID);
    plain["multifactor"] = json!(false);
    assert_eq!(
        manage(&t, "POST", "/api/v2/rules", &admin, Some(plain)).status,
        400
    );
}

#[test]
fn a_rule_requires_a_second_factor_for_users_with_a_role() {
    let (t, admin) = browser_tenant(json!([]));
    let rule = json!({
        "name": "admins-mfa", "trigger": "post-login", "multifactor": true,
        "conditions": { "role": "admin" },
    });
    let made = manage(&t, "POST", "/api/v2/rules", &admin, Some(rule));
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(made.json_body()["conditions"]["role"], "admin");
    // Without the role: the password alone, on the hosted page and in the password grant.
    let (page, _) = hosted_password(&t);
    assert_eq!(page.status, 303, "{}", String::from_utf8_lossy(&page.body));
    assert_eq!(t.password("&scope=openid").status, 200);
    // With it: a second factor on both.
    t.store.put_role("rol_admin", "admin", &[]);
    t.store.assign_role(USER_ID, "rol_admin", None);
    let (page, _) = hosted_password(&t);
    assert!(String::from_utf8_lossy(&page.body).contains("Set up two-step sign-in"));
    mfa_required(&t);
}

/// [`browser_tenant`] with an email provider and an `email` (passwordless) connection for
/// demo-app (allowed the OTP grant) and the browser app.
fn passwordless_tenant(policy: Value) -> (Tenant, String) {
    let (t, admin) = browser_tenant(policy);
    let provider = json!({"name": "custom", "settings": {"url": "https://mail.example.com/hook"}});
    let made = manage(
        &t,
        "POST",
        "/api/v2/emails/provider",
        &admin,
        Some(provider),
    );
    ok(&made, 201);
    let email = json!({"name": "email", "strategy": "email", "enabled_clients": [APP_ID, SPA]});
    ok(
        &manage(&t, "POST", "/api/v2/connections", &admin, Some(email)),
        201,
    );
    t.edit_client(APP_ID, |c| c.grant_types.push(PASSWORDLESS_OTP.into()));
    (t, admin)
}

/// The code the last message carried.
fn mailed_code(t: &Tenant) -> String {
    let message = t.outbox.messages().pop().expect("a message");
    message["code"].as_str().unwrap().to_string()
}

#[test]
fn a_passwordless_code_is_followed_by_the_second_factor_the_policy_asks_for() {
    let (t, admin) = passwordless_tenant(json!(["all-applications"]));
    let who = "grace@example.com";

    // The OTP grant: the code is the first factor, then `mfa_required`, as after a password.
    let start = json!({"client_id": APP_ID, "client_secret": APP_SECRET,
        "connection": "email", "email": who, "send": "code"});
    assert_eq!(passwordless_start(&t, &start).status, 200);
    let form = format!(
        "grant_type={}&username={}&otp={}&realm=email&scope=openid",
        enc(PASSWORDLESS_OTP),
        enc(who),
        mailed_code(&t)
    );
    let resp = t.send(token_request(&form, (APP_ID, APP_SECRET)));
    refused(&resp, 403, "mfa_required");
    let mfa_token = resp.json_body()["mfa_token"].as_str().unwrap().to_string();
    // The new user was stored with the code, so an app can be enrolled for it.
    let (secret, _) = associate(&t, &mfa_token);
    let tokens = otp(&t, &mfa_token, &totp::code_at(&secret, NOW));
    let body = ok(&tokens, 200);
    let id = verify_jwt(&t, body["id_token"].as_str().unwrap(), APP_ID);
    assert!(id["sub"].as_str().unwrap().starts_with("email|"), "{id}");
    assert_eq!(id["amr"], json!(["otp", "mfa"]));
    let sub = id["sub"].clone();
    // The new user's first sign-in is counted once.
    let path = format!("/api/v2/users/{}", enc(sub.as_str().unwrap()));
    assert_eq!(
        ok(&manage(&t, "GET", &path, &admin, None), 200)["logins_count"],
        1
    );

    // The hosted page: the emailed code, then the app's code; the ID token names both.
    t.clock.advance(30);
    let page = get(&t, &authorize_path(""), "");
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let state = |html: &str| {
        let fields = form_fields(html);
        fields.into_iter().find(|(k, _)| k == "state").unwrap().1
    };
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("state", &state(&String::from_utf8_lossy(&page.body)))
        .append_pair("email", who);
    let asked = post_form(&t, "/u/passwordless/start", &form.finish(), &csrf);
    assert_eq!(asked.status, 200);
    let csrf = set_cookie(&asked, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("state", &state(&String::from_utf8_lossy(&asked.body)))
        .append_pair("email", who)
        .append_pair("code", &mailed_code(&t));
    let second = post_form(&t, "/u/passwordless/verify", &form.finish(), &csrf);
    let html = String::from_utf8_lossy(&second.body).into_owned();
    assert_eq!(second.status, 200, "{html}");
    assert!(html.contains("<h1>Verify it is you</h1>"), "{html}");
    assert!(
        set_cookie(&second, "__Host-session").is_none(),
        "no session on the code alone"
    );
    let csrf = set_cookie(&second, "__Host-csrf").unwrap_or(csrf);
    let done = factor(
        &t,
        &second,
        &csrf,
        "code",
        &totp::code_at(&secret, NOW + 30),
    );
    assert!(set_cookie(&done, "__Host-session").is_some());
    let id = id_token_of(&t, &done);
    assert_eq!(
        (id["sub"].clone(), id["amr"].clone()),
        (sub, json!(["otp", "mfa"]))
    );
}

#[test]
fn a_sign_up_sets_up_a_second_factor_when_the_policy_asks_for_one() {
    let (t, admin) = browser_tenant(json!(["all-applications"]));
    let page = get(&t, &authorize_path("&screen_hint=signup"), "");
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("action=\"/u/signup\""), "{html}");
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", "hedy@example.com");
    form.append_pair("password", "a long enough password");
    let setup = post_form(&t, "/u/signup", &form.finish(), &csrf);
    let html = String::from_utf8_lossy(&setup.body).into_owned();
    assert_eq!(setup.status, 200, "{html}");
    assert!(html.contains("<h1>Set up two-step sign-in</h1>"), "{html}");
    assert!(set_cookie(&setup, "__Host-session").is_none());
    // The user is stored, with no factor yet: the app is confirmed by its first code.
    let found = manage(
        &t,
        "GET",
        "/api/v2/users-by-email?email=hedy%40example.com",
        &admin,
        None,
    );
    let user_id = ok(&found, 200)[0]["user_id"].as_str().unwrap().to_string();
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let csrf = set_cookie(&setup, "__Host-csrf").unwrap();
    let done = factor(&t, &setup, &csrf, "code", &totp::code_at(&secret, NOW));
    assert!(set_cookie(&done, "__Host-session").is_some());
    let id = id_token_of(&t, &done);
    assert_eq!(
        (id["sub"].as_str(), id["amr"].clone()),
        (Some(user_id.as_str()), json!(["pwd", "otp", "mfa"]))
    );
}

#[test]
fn a_post_login_hook_asks_for_a_second_factor_as_auth0s_multifactor_enable() {
    // Optional policy, the user has no app: only the hook asks, and only for the browser app
    // while `strict` is on.
    let (t, _) = browser_tenant(json!([]));
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    let strict = std::rc::Rc::new(std::cell::Cell::new(false));
    let everyone = std::rc::Rc::new(std::cell::Cell::new(false));
    let (on, all) = (strict.clone(), everyone.clone());
    answer(&t, move |body| {
        let event: Value = serde_json::from_str(body).unwrap();
        let asks = on.get() && (all.get() || event["event"]["client"]["client_id"] == SPA);
        Ok(json!({ "multifactor": asks }).to_string().into_bytes())
    });
    // demo-app's password grant is not asked while the hook asks for the browser app only.
    assert_eq!(t.password("&scope=openid").status, 200);
    let (plain, _) = hosted_password(&t);
    let session = set_cookie(&plain, "__Host-session").unwrap();
    assert_eq!(id_token_of(&t, &plain)["amr"], json!(["pwd"]));

    // The hook now asks: the session that proved one factor is asked for a second (its
    // page, not the password again), or answers login_required without interaction.
    strict.set(true);
    let silent = get(&t, &authorize_path("&prompt=none"), &session);
    let location = silent.header("location").unwrap_or_default().to_string();
    assert!(location.contains("error=login_required"), "{location}");
    let page = get(&t, &authorize_path(""), &session);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert_eq!(page.status, 200, "{html}");
    assert!(html.contains("Set up two-step sign-in"), "{html}");
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    let stepped = set_cookie(&done, "__Host-session").expect("a new session");
    let id = id_token_of(&t, &done);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], MULTI_FACTOR);
    // The session that proved both answers at once.
    let sso = get(&t, &authorize_path(""), &stepped);
    assert_eq!(sso.status, 302, "{}", String::from_utf8_lossy(&sso.body));

    // A fresh sign-in with the password: the hook asks, the app's code follows.
    t.clock.advance(30);
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("<h1>Verify it is you</h1>"), "{html}");
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW + 30));
    assert_eq!(id_token_of(&t, &done)["amr"], json!(["pwd", "otp", "mfa"]));

    // The password grant: asked by the hook, `mfa_required`; the app's code then.
    everyone.set(true);
    let mfa_token = mfa_required(&t);
    let tokens = ok(&otp(&t, &mfa_token, &totp::code_at(&secret, NOW + 60)), 200);
    let id = verify_jwt(&t, tokens["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));

    // Where no factor is offered, the hook's ask is answered honestly: one factor.
    let admin = admin_token(&t, &MGMT_SCOPES);
    for factor in ["otp", "recovery-code"] {
        let path = format!("/api/v2/guardian/factors/{factor}");
        let off = json!({ "enabled": false });
        ok(&manage(&t, "PUT", &path, &admin, Some(off)), 200);
    }
    let (plain, _) = hosted_password(&t);
    assert_eq!(id_token_of(&t, &plain)["amr"], json!(["pwd"]));
    // Every successful sign-in's log names the user, that one too.
    t.store_events();
    let logs = ok(&manage(&t, "GET", "/api/v2/logs", &admin, None), 200);
    let logs = logs.as_array().unwrap();
    let signed_in: Vec<&Value> = logs.iter().filter(|l| l["type"] == "s").collect();
    assert_eq!(signed_in.len(), 5, "{logs:?}");
    assert!(
        signed_in.iter().all(|l| l["user_id"] == USER_ID),
        "{signed_in:?}"
    );
}

#[test]
fn the_second_factors_page_reads_the_users_authenticators_once() {
    let (t, _) = browser_tenant(json!(["all-applications"]));
    let before = t.store.round_trips();
    let (page, csrf) = hosted_password(&t);
    // The attempt counter; the user with organization, roles and permissions; the user's
    // authenticators (once, for the enrollment and the page); the new app stored. (The GET
    // of the login page before it reads nothing from storage.)
    assert_eq!(t.store.round_trips() - before, 4, "the enrollment page");
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    t.clock.advance(30);
    let before = t.store.round_trips();
    let (page, _) = hosted_password(&t);
    assert!(String::from_utf8_lossy(&page.body).contains("Verify it is you"));
    assert_eq!(
        t.store.round_trips() - before,
        3,
        "the page asking for a code"
    );
}

#[test]
fn a_passwordless_link_opened_in_another_browser_is_followed_by_the_second_factor() {
    let (t, _) = passwordless_tenant(json!(["all-applications"]));
    let auth_params = json!({"redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid", "state": "st", "code_challenge": CHALLENGE,
        "code_challenge_method": "S256"});
    let start = json!({"client_id": SPA, "connection": "email", "email": "lin@example.com",
        "send": "link", "authParams": auth_params});
    assert_eq!(passwordless_start(&t, &start).status, 200);
    let link = t.outbox.last_link();
    let path = link.strip_prefix(ISSUER.trim_end_matches('/')).unwrap();
    // A browser with no cookie of this issuer: the link, then the page setting up an app,
    // whose form that browser can post (the page sets its CSRF cookie).
    let page = get(&t, path, "");
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert_eq!(page.status, 200, "{html}");
    assert!(html.contains("<h1>Set up two-step sign-in</h1>"), "{html}");
    assert!(set_cookie(&page, "__Host-session").is_none());
    let csrf = set_cookie(&page, "__Host-csrf").expect("the page's CSRF cookie");
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let done = factor(&t, &page, &csrf, "code", &totp::code_at(&secret, NOW));
    assert!(set_cookie(&done, "__Host-session").is_some());
    let id = id_token_of(&t, &done);
    assert_eq!(id["amr"], json!(["otp", "mfa"]));
    // The link was spent by its first opening.
    assert_eq!(get(&t, path, "").status, 400);
}

/// The `Set-Cookie` header that sets `name`, whole.
fn set_cookie_header(resp: &HttpResponse, name: &str) -> Option<String> {
    resp.headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with(&format!("{name}=")))
        .map(|(_, v)| v.clone())
}

/// The hosted login page posted with the right password, the browser holding `cookie` (a
/// remembered browser's): the answer and the CSRF cookie.
fn remembered_password(t: &Tenant, extra: &str, cookie: &str) -> (HttpResponse, String) {
    let page = get(t, &authorize_path(extra), cookie);
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&String::from_utf8_lossy(&page.body)));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", USER_PASSWORD);
    let cookies = [csrf.as_str(), cookie].join("; ");
    let resp = post_form(t, "/u/login", &form.finish(), &cookies);
    let csrf = set_cookie(&resp, "__Host-csrf").unwrap_or(csrf);
    (resp, csrf)
}

/// The second factor's page posted with the app's code at `now`, the box ticked or not.
fn code_remembering(
    t: &Tenant,
    page: &HttpResponse,
    csrf: &str,
    secret: &[u8],
    ticked: bool,
) -> HttpResponse {
    let html = String::from_utf8_lossy(&page.body);
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html).iter().take(2));
    form.append_pair("code", &totp::code_at(secret, t.clock.now()));
    if ticked {
        form.append_pair("remember", "1");
    }
    post_form(t, "/u/mfa", &form.finish(), csrf)
}

#[test]
fn the_remembered_browsers_settings_are_auth0_shaped_and_checked() {
    let (t, admin) = tenant(json!([]));
    let path = "/api/v2/guardian/settings";
    let shipped = json!({
        "display_remember_me_checkbox": false,
        "remember_me_default_value": false,
        "mfa_session_inactivity_timeout": 2592000,
        "mfa_session_overall_timeout": 2592000,
    });
    assert_eq!(ok(&manage(&t, "GET", path, &admin, None), 200), shipped);
    // Only the members given change.
    let on =
        json!({ "display_remember_me_checkbox": true, "mfa_session_inactivity_timeout": 3600 });
    let set = ok(&manage(&t, "PUT", path, &admin, Some(on)), 200);
    assert_eq!(set["display_remember_me_checkbox"], true);
    assert_eq!(set["mfa_session_inactivity_timeout"], 3600);
    assert_eq!(set["mfa_session_overall_timeout"], 2592000);
    assert_eq!(ok(&manage(&t, "GET", path, &admin, None), 200), set);
    // Out of range, inactivity longer than overall, a wrong type or an unknown member: 400,
    // and nothing changes.
    for bad in [
        json!({ "mfa_session_inactivity_timeout": 60 }),
        json!({ "mfa_session_inactivity_timeout": 2592001 }),
        json!({ "mfa_session_overall_timeout": 7776001 }),
        json!({ "mfa_session_overall_timeout": 3599 }),
        json!({ "display_remember_me_checkbox": "yes" }),
        json!({ "remember_for": 30 }),
    ] {
        let resp = manage(&t, "PUT", path, &admin, Some(bad.clone()));
        assert_eq!(resp.status, 400, "{bad}");
        assert_eq!(resp.json_body()["errorCode"], "invalid_body", "{bad}");
    }
    assert_eq!(ok(&manage(&t, "GET", path, &admin, None), 200), set);
    // The routes need the Guardian factors' scopes; the user route `update:users`.
    let reader = admin_token(&t, &["read:guardian_factors"]);
    assert_eq!(manage(&t, "GET", path, &reader, None).status, 200);
    assert_eq!(
        manage(&t, "PUT", path, &reader, Some(json!({}))).status,
        403
    );
    let forget = |id: &str| {
        format!(
            "/api/v2/users/{}/multifactor/actions/invalidate-remember-browser",
            enc(id)
        )
    };
    assert_eq!(
        manage(&t, "POST", &forget(USER_ID), &reader, None).status,
        403
    );
    assert_eq!(
        manage(&t, "POST", &forget(USER_ID), &admin, None).status,
        204
    );
    assert_eq!(
        manage(&t, "POST", &forget("auth0|nobody"), &admin, None).status,
        404
    );
}

#[test]
fn a_remembered_browser_skips_the_policys_factor_until_it_is_forgotten() {
    let (t, _) = browser_tenant(json!(["all-applications"]));
    // A fresh token for each call: the clock moves on by hours.
    let admin = || admin_token(&t, &MGMT_SCOPES);
    let settings = "/api/v2/guardian/settings";

    // Off as shipped: the page offers no box, and a ticked box posted anyway sets nothing.
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(!html.contains("name=\"remember\""), "{html}");
    let key = between(&html, "<code class=\"key\">", "</code>").replace(' ', "");
    let secret = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &key).unwrap();
    let done = code_remembering(&t, &page, &csrf, &secret, true);
    assert!(set_cookie(&done, "__Host-session").is_some());
    assert!(set_cookie(&done, "__Host-mfa").is_none());

    // On: the box is offered, unticked; ticked, the browser is remembered for 30 days.
    let on = json!({ "display_remember_me_checkbox": true });
    ok(&manage(&t, "PUT", settings, &admin(), Some(on)), 200);
    t.clock.advance(30);
    let (page, csrf) = hosted_password(&t);
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Remember this browser for 30 days"), "{html}");
    assert!(!html.contains(" checked>"));
    let unticked = code_remembering(&t, &page, &csrf, &secret, false);
    assert!(set_cookie(&unticked, "__Host-mfa").is_none());
    t.clock.advance(30);
    let (page, csrf) = hosted_password(&t);
    let done = code_remembering(&t, &page, &csrf, &secret, true);
    let header = set_cookie_header(&done, "__Host-mfa").unwrap();
    assert!(
        header.contains("; Secure; HttpOnly; SameSite=Lax; Max-Age=2592000"),
        "{header}"
    );
    let remembered = set_cookie(&done, "__Host-mfa").unwrap();
    assert_eq!(id_token_of(&t, &done)["amr"], json!(["pwd", "otp", "mfa"]));

    // The password alone signs in from that browser, and says so: no `mfa` in `amr`.
    t.clock.advance(3_600);
    let (skipped, _) = remembered_password(&t, "", &remembered);
    assert!(
        set_cookie(&skipped, "__Host-session").is_some(),
        "{}",
        String::from_utf8_lossy(&skipped.body)
    );
    assert_eq!(id_token_of(&t, &skipped)["amr"], json!(["pwd"]));
    // Its use is written into the cookie again (inactivity counts from here).
    let used = set_cookie(&skipped, "__Host-mfa").unwrap();
    assert_ne!(used, remembered);
    // Another browser is asked; so is a forged cookie.
    let (other, _) = hosted_password(&t);
    assert!(String::from_utf8_lossy(&other.body).contains("Verify it is you"));
    let forged = remembered.replacen("__Host-mfa=", "__Host-mfa=x", 1);
    let (other, _) = remembered_password(&t, "", &forged);
    assert!(String::from_utf8_lossy(&other.body).contains("Verify it is you"));
    // A step-up (`acr_values`) is always asked, and offers no box.
    let (step_up, _) = remembered_password(&t, STEP_UP, &used);
    let html = String::from_utf8_lossy(&step_up.body).into_owned();
    assert!(
        html.contains("Verify it is you") && !html.contains("Remember this browser"),
        "{html}"
    );

    // An hour without use, under a one-hour inactivity timeout: asked again.
    let short = json!({ "mfa_session_inactivity_timeout": 3600 });
    ok(&manage(&t, "PUT", settings, &admin(), Some(short)), 200);
    let (still, _) = remembered_password(&t, "", &used);
    let used = set_cookie(&still, "__Host-mfa").expect("used within the hour");
    t.clock.advance(3_600);
    let (asked, _) = remembered_password(&t, "", &used);
    assert!(String::from_utf8_lossy(&asked.body).contains("Verify it is you"));

    // The admin's invalidation forgets it; so does turning the box off.
    let long = json!({ "mfa_session_inactivity_timeout": 2592000 });
    ok(&manage(&t, "PUT", settings, &admin(), Some(long)), 200);
    let (page, csrf) = hosted_password(&t);
    let done = code_remembering(&t, &page, &csrf, &secret, true);
    let remembered = set_cookie(&done, "__Host-mfa").unwrap();
    t.clock.advance(30);
    let (skipped, _) = remembered_password(&t, "", &remembered);
    assert!(set_cookie(&skipped, "__Host-session").is_some());
    let off = json!({ "display_remember_me_checkbox": false });
    ok(&manage(&t, "PUT", settings, &admin(), Some(off)), 200);
    let (asked, _) = remembered_password(&t, "", &remembered);
    assert!(String::from_utf8_lossy(&asked.body).contains("Verify it is you"));
    let on = json!({ "display_remember_me_checkbox": true });
    ok(&manage(&t, "PUT", settings, &admin(), Some(on)), 200);
    let (skipped, _) = remembered_password(&t, "", &remembered);
    assert!(set_cookie(&skipped, "__Host-session").is_some());
    let forget = format!(
        "/api/v2/users/{}/multifactor/actions/invalidate-remember-browser",
        enc(USER_ID)
    );
    assert_eq!(manage(&t, "POST", &forget, &admin(), None).status, 204);
    let (asked, csrf) = remembered_password(&t, "", &remembered);
    assert!(String::from_utf8_lossy(&asked.body).contains("Verify it is you"));

    // Remembered again, then the user's factors reset: forgotten, and the app set up anew.
    t.clock.advance(30);
    let done = code_remembering(&t, &asked, &csrf, &secret, true);
    let remembered = set_cookie(&done, "__Host-mfa").unwrap();
    t.clock.advance(30);
    let reset = format!("/api/v2/users/{}/authenticators", enc(USER_ID));
    assert_eq!(manage(&t, "DELETE", &reset, &admin(), None).status, 204);
    let (asked, _) = remembered_password(&t, "", &remembered);
    assert!(String::from_utf8_lossy(&asked.body).contains("Set up two-step sign-in"));
}
