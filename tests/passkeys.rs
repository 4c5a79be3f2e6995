//! Security keys and passkeys on the hosted pages, through the route table on the real SQL:
//! set up as the second factor, used as the second factor, and signing in with no password
//! (a discoverable passkey). A software authenticator answers as a browser's would.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::authenticator::{Made, SoftAuthenticator, UP, UV};
use common::*;
use edge_issuer::model::webauthn::challenge_for;
use edge_issuer::web::HttpResponse;
use serde_json::{json, Value};

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const ORIGIN: &str = "https://id.example.com";
const RP_ID: &str = "id.example.com";

/// A tenant with `factors` on under `policy`, and a browser app.
fn tenant(factors: &[&str], policy: Value) -> Tenant {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    for factor in factors {
        let path = format!("/api/v2/guardian/factors/{factor}");
        ok(
            &manage(&t, "PUT", &path, &admin, Some(json!({"enabled": true}))),
            200,
        );
    }
    ok(
        &manage(&t, "PUT", "/api/v2/guardian/policies", &admin, Some(policy)),
        200,
    );
    put_spa(&t, SPA, CALLBACK);
    t
}

fn authorize_path() -> String {
    format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid&state=st\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(CALLBACK)
    )
}

fn html(resp: &HttpResponse) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

/// The login page: the page and its CSRF cookie.
fn login_page(t: &Tenant) -> (HttpResponse, String) {
    let page = get(t, &authorize_path(), "");
    assert_eq!(page.status, 200);
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    (page, csrf)
}

/// The first value of each hidden field of `page` named in `names`, plus `extra`.
fn fields(page: &HttpResponse, names: &[&str], extra: &[(&str, &str)]) -> String {
    let all = form_fields(&html(page));
    let mut form = form_urlencoded::Serializer::new(String::new());
    for name in names {
        if let Some((k, v)) = all.iter().find(|(k, _)| k == name) {
            form.append_pair(k, v);
        }
    }
    form.extend_pairs(extra);
    form.finish()
}

/// The password posted on the login page: the answer and the CSRF cookie it set.
fn password(t: &Tenant) -> (HttpResponse, String) {
    let (page, csrf) = login_page(t);
    let form = fields(
        &page,
        &["state"],
        &[("email", USER_EMAIL), ("password", USER_PASSWORD)],
    );
    let resp = post_form(t, "/u/login", &form, &csrf);
    let csrf = set_cookie(&resp, "__Host-csrf").unwrap_or(csrf);
    (resp, csrf)
}

/// The page's WebAuthn options (its JSON data block).
fn options(page: &HttpResponse) -> Value {
    let html = html(page);
    let start = "<script type=\"application/json\" id=\"wa\">";
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no passkey options: {html}"))
        + start.len();
    serde_json::from_str(&html[from..from + html[from..].find("</script>").unwrap()]).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A registration as the page's script posts it.
fn created(auth: &SoftAuthenticator, made: &Made, attachment: &str) -> String {
    json!({
        "id": auth.id_b64(),
        "clientDataJSON": b64(&made.client_data_json),
        "attestationObject": b64(&made.data),
        "attachment": attachment,
    })
    .to_string()
}

/// An assertion as the page's script posts it, with the credential's user handle.
fn asserted(auth: &SoftAuthenticator, made: &Made, user_id: &str) -> String {
    json!({
        "id": auth.id_b64(),
        "clientDataJSON": b64(&made.client_data_json),
        "authenticatorData": b64(&made.data),
        "signature": b64(&made.signature),
        "userHandle": b64(user_id.as_bytes()),
    })
    .to_string()
}

/// The second factor's page posted with a key's answer.
fn post_factor(t: &Tenant, page: &HttpResponse, csrf: &str, answer: &str) -> HttpResponse {
    let form = fields(page, &["state", "mfa_token"], &[("webauthn", answer)]);
    post_form(t, "/u/mfa", &form, csrf)
}

/// The login page posted with a passkey's answer.
fn post_login(t: &Tenant, page: &HttpResponse, csrf: &str, answer: &str) -> HttpResponse {
    let form = fields(page, &["state"], &[("webauthn", answer)]);
    post_form(t, "/u/login", &form, csrf)
}

/// The ID token of the code a hosted sign-in redirected with.
fn id_token_of(t: &Tenant, resp: &HttpResponse) -> Value {
    code_id_token(t, resp, SPA, CALLBACK, VERIFIER)
}

/// Sets up `auth` on the enrollment page after the password; the ID token of that sign-in.
fn enroll(t: &Tenant, auth: &SoftAuthenticator, attachment: &str, flags: u8) -> Value {
    let (page, csrf) = password(t);
    assert_eq!(page.status, 200, "{}", html(&page));
    let o = options(&page);
    assert_eq!(
        o["challenge"],
        challenge_for(csrf.trim_start_matches("__Host-csrf="))
    );
    assert_eq!(o["rpId"], RP_ID);
    assert_eq!(o["user"]["id"], b64(USER_ID.as_bytes()));
    let made = auth.create(o["challenge"].as_str().unwrap(), ORIGIN, RP_ID, flags);
    id_token_of(
        t,
        &post_factor(t, &page, &csrf, &created(auth, &made, attachment)),
    )
}

#[test]
fn a_security_key_is_set_up_after_the_password_then_asked_for_at_each_sign_in() {
    let t = tenant(&["webauthn-roaming"], json!(["all-applications"]));
    let (page, _) = password(&t);
    let text = html(&page);
    assert!(text.contains("<h1>Set up two-step sign-in</h1>"), "{text}");
    assert!(text.contains("Set up a security key or passkey"));
    assert!(!text.contains("<svg"), "the app factor is off: no QR code");
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");

    let mut key = SoftAuthenticator::new(RP_ID, 3);
    let id = enroll(&t, &key, "cross-platform", UP);
    assert_eq!(id["amr"], json!(["pwd", "hwk", "user", "mfa"]));
    assert_eq!(
        id["acr"],
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
    );

    // An admin sees it among the user's authentication methods.
    let admin = admin_token(&t, &MGMT_SCOPES);
    let path = format!("/api/v2/users/{}/authentication-methods", enc(USER_ID));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(methods[0]["type"], "webauthn-roaming");
    assert_eq!(methods[0]["key_id"], key.id_b64());
    assert_eq!(methods[0]["confirmed"], true);

    // The next sign-in asks for the key, naming it; a password alone cannot add another.
    let (page, csrf) = password(&t);
    let text = html(&page);
    assert!(text.contains("<h1>Verify it is you</h1>"), "{text}");
    assert!(
        !text.contains("Use a code from your app"),
        "the user has no app"
    );
    let o = options(&page);
    assert_eq!(o["credentials"], json!([key.id_b64()]));
    assert!(o.get("user").is_none());
    let challenge = o["challenge"].as_str().unwrap().to_string();
    let other = SoftAuthenticator::new(RP_ID, 4);
    let made = other.create(&challenge, ORIGIN, RP_ID, UP);
    let refused = post_factor(&t, &page, &csrf, &created(&other, &made, "cross-platform"));
    assert_eq!(refused.status, 400);
    assert!(html(&refused).contains("That security key or passkey was not accepted"));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(
        methods.as_array().unwrap().len(),
        1,
        "no second key was added"
    );

    // Answers for another site, or for an older page, are refused; the page's own works once.
    let csrf = set_cookie(&refused, "__Host-csrf").unwrap();
    let challenge = options(&refused)["challenge"].as_str().unwrap().to_string();
    let phished = key.get(&challenge, "https://id.example.com.evil.test", RP_ID, UP);
    let answer = asserted(&key, &phished, USER_ID);
    assert_eq!(post_factor(&t, &refused, &csrf, &answer).status, 400);
    let stale = key.get(&challenge_for("an older page"), ORIGIN, RP_ID, UP);
    let answer = asserted(&key, &stale, USER_ID);
    assert_eq!(post_factor(&t, &refused, &csrf, &answer).status, 400);
    let good = key.get(&challenge, ORIGIN, RP_ID, UP);
    let answer = asserted(&key, &good, USER_ID);
    let done = post_factor(&t, &refused, &csrf, &answer);
    assert_eq!(
        id_token_of(&t, &done)["amr"],
        json!(["pwd", "hwk", "user", "mfa"])
    );
    let again = post_factor(&t, &refused, &csrf, &answer);
    assert_ne!(again.status, 303, "the same answer signs in once");
}

#[test]
fn a_cloned_key_whose_counter_goes_back_is_refused() {
    let t = tenant(&["webauthn-roaming"], json!(["all-applications"]));
    let mut key = SoftAuthenticator::new(RP_ID, 5);
    enroll(&t, &key, "cross-platform", UP);
    key.count = 10;
    let (page, csrf) = password(&t);
    let challenge = options(&page)["challenge"].as_str().unwrap().to_string();
    let made = key.get(&challenge, ORIGIN, RP_ID, UP);
    id_token_of(
        &t,
        &post_factor(&t, &page, &csrf, &asserted(&key, &made, USER_ID)),
    );
    key.count = 3;
    let (page, csrf) = password(&t);
    let challenge = options(&page)["challenge"].as_str().unwrap().to_string();
    let clone = key.get(&challenge, ORIGIN, RP_ID, UP);
    let resp = post_factor(&t, &page, &csrf, &asserted(&key, &clone, USER_ID));
    assert_eq!(resp.status, 400);
}

#[test]
fn a_passkey_signs_in_with_no_password_once_per_page() {
    let t = tenant(&["webauthn-platform"], json!(["all-applications"]));
    let mut passkey = SoftAuthenticator::new(RP_ID, 6);
    let id = enroll(&t, &passkey, "platform", UP | UV);
    assert_eq!(id["amr"], json!(["pwd", "hwk", "user", "mfa"]));

    // The login page offers passkeys: in the email field's autofill, and by a button.
    let (page, csrf) = login_page(&t);
    let text = html(&page);
    assert!(
        text.contains("autocomplete=\"username webauthn\""),
        "{text}"
    );
    assert!(text.contains("Sign in with a passkey"));
    let o = options(&page);
    assert_eq!(
        (o["conditional"].clone(), o["userVerification"].clone()),
        (json!(true), json!("required"))
    );
    assert_eq!(o["credentials"], json!([]));
    let challenge = o["challenge"].as_str().unwrap().to_string();

    // Unverified (no PIN or biometric), or naming another user, it is refused.
    let unverified = passkey.get(&challenge, ORIGIN, RP_ID, UP);
    let resp = post_login(&t, &page, &csrf, &asserted(&passkey, &unverified, USER_ID));
    assert_eq!(resp.status, 400);
    assert!(html(&resp).contains("That security key or passkey was not accepted"));
    let made = passkey.get(&challenge, ORIGIN, RP_ID, UP | UV);
    let resp = post_login(
        &t,
        &page,
        &csrf,
        &asserted(&passkey, &made, "auth0|someone-else"),
    );
    assert_eq!(resp.status, 400);

    let logins = |t: &Tenant| {
        let user = pollster::block_on(edge_issuer::port::UserStore::user(&t.store, USER_ID));
        user.unwrap().unwrap().logins_count
    };
    let before = logins(&t);
    let resp = post_login(&t, &page, &csrf, &asserted(&passkey, &made, USER_ID));
    assert!(set_cookie(&resp, "__Host-session").is_some());
    assert_eq!(logins(&t), before + 1, "a passkey's sign-in is a login");
    let id = id_token_of(&t, &resp);
    assert_eq!(id["sub"], USER_ID);
    assert_eq!(id["amr"], json!(["hwk", "user", "mfa"]));
    assert_eq!(
        id["acr"],
        "http://schemas.openid.net/pape/policies/2007/06/multi-factor"
    );
    // The same answer does not sign in twice, even with a higher counter's next answer for
    // the same page.
    assert_eq!(
        post_login(&t, &page, &csrf, &asserted(&passkey, &made, USER_ID)).status,
        400
    );
    let next = passkey.get(&challenge, ORIGIN, RP_ID, UP | UV);
    assert_eq!(
        post_login(&t, &page, &csrf, &asserted(&passkey, &next, USER_ID)).status,
        400
    );
}

#[test]
fn with_webauthn_off_nothing_offers_or_takes_a_passkey() {
    let t = tenant(&["otp"], json!([]));
    let (page, csrf) = login_page(&t);
    let text = html(&page);
    assert!(
        !text.contains("webauthn") || !text.contains("id=\"wa\""),
        "{text}"
    );
    assert!(!page
        .header("content-security-policy")
        .unwrap()
        .contains("script-src"));
    let passkey = SoftAuthenticator::new(RP_ID, 8);
    let made = passkey.create(
        &challenge_for(csrf.trim_start_matches("__Host-csrf=")),
        ORIGIN,
        RP_ID,
        UP | UV,
    );
    let resp = post_login(&t, &page, &csrf, &created(&passkey, &made, "platform"));
    assert_eq!(resp.status, 400);
}

#[test]
fn only_the_kinds_turned_on_are_set_up_or_used() {
    let t = tenant(&["otp", "webauthn-platform"], json!(["all-applications"]));
    // Only passkeys are on: the page asks the browser for one, and a security key is refused.
    let (page, csrf) = password(&t);
    let o = options(&page);
    assert_eq!(o["attachment"], "platform");
    let key = SoftAuthenticator::new(RP_ID, 11);
    let made = key.create(o["challenge"].as_str().unwrap(), ORIGIN, RP_ID, UP | UV);
    let refused = post_factor(&t, &page, &csrf, &created(&key, &made, "cross-platform"));
    assert_eq!(refused.status, 400);
    assert!(html(&refused).contains("That security key or passkey was not accepted"));

    let mut passkey = SoftAuthenticator::new(RP_ID, 12);
    enroll(&t, &passkey, "platform", UP | UV);
    // The admin turns passkeys off: the app is still on, the passkey is no longer offered or
    // taken.
    let admin = admin_token(&t, &MGMT_SCOPES);
    let off = json!({"enabled": false});
    let path = "/api/v2/guardian/factors/webauthn-platform";
    ok(&manage(&t, "PUT", path, &admin, Some(off)), 200);
    let (page, csrf) = password(&t);
    assert!(!html(&page).contains("id=\"wa\""), "{}", html(&page));
    let challenge = challenge_for(csrf.trim_start_matches("__Host-csrf="));
    let made = passkey.get(&challenge, ORIGIN, RP_ID, UP | UV);
    let resp = post_factor(&t, &page, &csrf, &asserted(&passkey, &made, USER_ID));
    assert_eq!(resp.status, 400);
}

#[test]
fn a_security_key_set_up_alone_comes_with_recovery_codes() {
    let t = tenant(
        &["webauthn-roaming", "recovery-code"],
        json!(["all-applications"]),
    );
    let (page, csrf) = password(&t);
    let text = html(&page);
    assert!(text.contains("Set up a security key, or a passkey on this device."));
    assert!(
        !text.contains("<svg") && !text.contains("id=\"code\""),
        "no app: {text}"
    );
    let codes: Vec<String> = text
        .split("<li><code>")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{text}");
    let key = SoftAuthenticator::new(RP_ID, 5);
    let made = key.create(
        options(&page)["challenge"].as_str().unwrap(),
        ORIGIN,
        RP_ID,
        UP,
    );
    let done = post_factor(&t, &page, &csrf, &created(&key, &made, "cross-platform"));
    assert_eq!(
        id_token_of(&t, &done)["amr"],
        json!(["pwd", "hwk", "user", "mfa"])
    );
    let admin = admin_token(&t, &MGMT_SCOPES);
    let path = format!("/api/v2/users/{}/authentication-methods", enc(USER_ID));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(methods[1]["type"], "recovery-code", "{methods}");
    assert_eq!(methods[1]["remaining"], 10);

    // The key lost: a saved code signs in once, and says how many are left.
    let (page, csrf) = password(&t);
    assert!(html(&page).contains("Lost your device? Use a recovery code"));
    let form = fields(
        &page,
        &["state", "mfa_token"],
        &[("recovery_code", &codes[3])],
    );
    let recovered = post_form(&t, "/u/mfa", &form, &csrf);
    assert_eq!(id_token_of(&t, &recovered)["amr"], json!(["pwd", "mfa"]));
    let methods = ok(&manage(&t, "GET", &path, &admin, None), 200);
    assert_eq!(methods[1]["remaining"], 9);
    let (page, csrf) = password(&t);
    let form = fields(
        &page,
        &["state", "mfa_token"],
        &[("recovery_code", &codes[3])],
    );
    assert_eq!(post_form(&t, "/u/mfa", &form, &csrf).status, 400, "once");
}
