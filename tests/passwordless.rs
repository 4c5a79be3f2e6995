//! Passwordless sign-in by email through the route table: `POST /passwordless/start` (a code
//! or a link), Auth0's OTP grant, the hosted page's "Email me a code" and a link opened.
//! Messages are caught where they leave the core (the postbox); codes and links are stored
//! and redeemed by the real SQL on SQLite.

mod common;

use common::*;
use edge_issuer::model::grant_type::PASSWORDLESS_OTP;
use edge_issuer::web::HttpResponse;
use serde_json::{json, Value};

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const WHO: &str = "Grace@Example.com";

/// A tenant with a webhook provider and an `email` connection for demo-app (allowed the OTP
/// grant) and the SPA.
fn tenant() -> Tenant {
    let t = management_tenant_with_spa(SPA, CALLBACK);
    let token = admin_token(&t, &MGMT_SCOPES);
    let provider = json!({"name": "custom", "settings": {"url": "https://mail.example.com/hook"}});
    ok(
        &manage(
            &t,
            "POST",
            "/api/v2/emails/provider",
            &token,
            Some(provider),
        ),
        201,
    );
    let email = json!({"name": "email", "strategy": "email", "enabled_clients": [APP_ID, SPA]});
    ok(
        &manage(&t, "POST", "/api/v2/connections", &token, Some(email)),
        201,
    );
    t.edit_client(APP_ID, |c| c.grant_types.push(PASSWORDLESS_OTP.into()));
    t
}

/// Asks demo-app's code for `email`; answers the code the message carried.
fn ask_code(t: &Tenant, email: &str) -> String {
    let resp = passwordless_start(
        t,
        &json!({"client_id": APP_ID, "client_secret": APP_SECRET, "connection": "email",
               "email": email, "send": "code"}),
    );
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let message = t.outbox.messages().pop().expect("a message");
    assert_eq!(message["template"], "passwordless_code");
    assert!(message["link"].is_null());
    message["code"].as_str().unwrap().to_string()
}

fn otp(t: &Tenant, email: &str, code: &str) -> HttpResponse {
    let form = format!(
        "grant_type={}&username={}&otp={code}&realm=email&scope=openid%20email",
        enc(PASSWORDLESS_OTP),
        enc(email)
    );
    t.send(token_request(&form, (APP_ID, APP_SECRET)))
}

fn refused_with(resp: &HttpResponse, error: &str) {
    assert_eq!(resp.status, 400, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json_body()["error"], error);
}

#[test]
fn a_code_by_api_signs_a_new_verified_user_in_once_with_the_otp_grant() {
    let t = tenant();
    let code = ask_code(&t, WHO);
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let message = t.outbox.messages().pop().unwrap();
    assert_eq!(message["to"], WHO);
    assert!(message["subject"].as_str().unwrap().contains(&code));
    // A wrong code, then the right one; then the right one again.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let resp = otp(&t, WHO, wrong);
    refused_with(&resp, "invalid_grant");
    assert_eq!(
        resp.json_body()["error_description"],
        "Wrong email or verification code."
    );
    let resp = otp(&t, WHO, &code);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let id = verify_jwt(&t, resp.json_body()["id_token"].as_str().unwrap(), APP_ID);
    let sub = id["sub"].as_str().unwrap().to_string();
    assert!(sub.starts_with("email|"), "{sub}");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["email"], WHO);
    assert_eq!(id["amr"], json!(["otp"]));
    refused_with(&otp(&t, WHO, &code), "invalid_grant");
    // The next sign-in is the same user, whatever the case of the address.
    let again = otp(&t, "grace@example.com", &ask_code(&t, "GRACE@example.com"));
    let id = verify_jwt(&t, again.json_body()["id_token"].as_str().unwrap(), APP_ID);
    assert_eq!(id["sub"], sub);
    // No log event carries a code.
    t.store_events();
    let token = admin_token(&t, &MGMT_SCOPES);
    let logs = ok(&manage(&t, "GET", "/api/v2/logs", &token, None), 200);
    let text = logs.to_string();
    assert!(text.contains("\"cs\"") && !text.contains(&code));
}

#[test]
fn a_code_takes_five_tries_only_the_newest_counts_and_it_expires() {
    let t = tenant();
    // The older code dies with a newer one.
    let older = ask_code(&t, WHO);
    let newer = ask_code(&t, WHO);
    if older != newer {
        refused_with(&otp(&t, WHO, &older), "invalid_grant");
    }
    assert_eq!(otp(&t, WHO, &newer).status, 200);
    // Five wrong tries void it, the right code included; a resend while it would have
    // lived keeps it void (the count does not reset).
    let code = ask_code(&t, WHO);
    let wrong = if code == "999999" { "999998" } else { "999999" };
    for _ in 0..5 {
        refused_with(&otp(&t, WHO, wrong), "invalid_grant");
    }
    refused_with(&otp(&t, WHO, &code), "invalid_grant");
    let resent = ask_code(&t, WHO);
    refused_with(&otp(&t, WHO, &resent), "invalid_grant");
    // Once it would have expired, a new code works again.
    t.clock.advance(301);
    let fresh = ask_code(&t, WHO);
    assert_eq!(otp(&t, WHO, &fresh).status, 200);
    // Five minutes, no more.
    let late = ask_code(&t, WHO);
    t.clock.advance(300);
    refused_with(&otp(&t, WHO, &late), "invalid_grant");
}

#[test]
fn a_code_serves_only_the_client_and_address_it_was_sent_for() {
    let t = tenant();
    t.store.put_client(edge_issuer::model::Client {
        grant_types: vec![PASSWORDLESS_OTP.into()],
        ..client_defaults_with("other")
    });
    let token = admin_token(&t, &MGMT_SCOPES);
    let listed = ok(
        &manage(&t, "GET", "/api/v2/connections?name=email", &token, None),
        200,
    );
    let clients = format!(
        "/api/v2/connections/{}/clients",
        listed[0]["id"].as_str().unwrap()
    );
    let on = json!([{"client_id": "other", "status": true}]);
    assert_eq!(manage(&t, "PATCH", &clients, &token, Some(on)).status, 204);
    let code = ask_code(&t, WHO);
    let form = format!(
        "grant_type={}&username={}&otp={code}&realm=email",
        enc(PASSWORDLESS_OTP),
        enc(WHO)
    );
    // Another client of the same connection, another address: refused.
    let other = post_form(&t, "/oauth/token", &format!("{form}&client_id=other"), "");
    refused_with(&other, "invalid_grant");
    refused_with(&otp(&t, "someone@example.com", &code), "invalid_grant");
    // A client not allowed the grant; a realm that is no passwordless connection.
    t.edit_client(APP_ID, |c| c.grant_types.retain(|g| g != PASSWORDLESS_OTP));
    refused_with(&otp(&t, WHO, &code), "unauthorized_client");
    t.edit_client(APP_ID, |c| c.grant_types.push(PASSWORDLESS_OTP.into()));
    let form = format!(
        "grant_type={}&username={}&otp={code}&realm=Username-Password-Authentication",
        enc(PASSWORDLESS_OTP),
        enc(WHO)
    );
    refused_with(
        &t.send(token_request(&form, (APP_ID, APP_SECRET))),
        "invalid_request",
    );
    // The refusals did not spend it.
    assert_eq!(otp(&t, WHO, &code).status, 200);
}

#[test]
fn twenty_racing_redemptions_of_one_code_give_one_set_of_tokens() {
    let t = tenant();
    let code = ask_code(&t, WHO);
    let form = format!(
        "grant_type={}&username={}&otp={code}&realm=email",
        enc(PASSWORDLESS_OTP),
        enc(WHO)
    );
    let reqs = (0..20)
        .map(|_| token_request(&form, (APP_ID, APP_SECRET)))
        .collect();
    let answers = t.send_all(&YieldingCrypto::default(), reqs);
    let won = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        won,
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

#[test]
fn asking_answers_the_same_for_any_address_and_429_past_the_budget() {
    let t = tenant();
    let ask = |email: &str| {
        passwordless_start(
            &t,
            &json!({"client_id": APP_ID, "client_secret": APP_SECRET, "email": email, "send": "code"}),
        )
    };
    // An address with a user and one without: the same answer.
    let known = ask(USER_EMAIL);
    let unknown = ask("nobody@example.com");
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(known.json_body().as_object().unwrap().len(), 1);
    for _ in 0..10 {
        assert_eq!(ask(WHO).status, 200);
    }
    let over = ask(WHO);
    assert_eq!(over.status, 429);
    assert_eq!(over.json_body()["error"], "too_many_requests");
    // Another address is not held up by this one's budget.
    assert_eq!(ask("other@example.com").status, 200);
    // A confidential client must authenticate; bad input is named.
    let anonymous = passwordless_start(
        &t,
        &json!({"client_id": APP_ID, "email": WHO, "send": "code"}),
    );
    assert_eq!(anonymous.status, 401);
    for (body, why) in [
        (
            json!({"client_id": APP_ID, "client_secret": APP_SECRET, "email": "not-an-address", "send": "code"}),
            "email",
        ),
        (
            json!({"client_id": APP_ID, "client_secret": APP_SECRET, "email": WHO, "send": "sms"}),
            "send",
        ),
        (
            json!({"client_id": APP_ID, "client_secret": 7, "email": WHO, "send": "code"}),
            "client_secret",
        ),
        (
            json!({"client_id": APP_ID, "client_secret": APP_SECRET, "email": WHO, "connection": "Username-Password-Authentication"}),
            "passwordless",
        ),
    ] {
        let resp = passwordless_start(&t, &body);
        assert_eq!(resp.status, 400);
        let description = resp.json_body()["error_description"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(description.contains(why), "{description}");
    }
}

#[test]
fn sign_up_off_keeps_new_addresses_out_and_lets_users_in() {
    let t = tenant();
    assert_eq!(otp(&t, WHO, &ask_code(&t, WHO)).status, 200);
    let token = admin_token(&t, &MGMT_SCOPES);
    let listed = ok(
        &manage(&t, "GET", "/api/v2/connections?name=email", &token, None),
        200,
    );
    let path = format!("/api/v2/connections/{}", listed[0]["id"].as_str().unwrap());
    let off = json!({"options": {"disable_signup": true}});
    ok(&manage(&t, "PATCH", &path, &token, Some(off)), 200);
    assert_eq!(otp(&t, WHO, &ask_code(&t, WHO)).status, 200);
    let newcomer = otp(&t, "new@example.com", &ask_code(&t, "new@example.com"));
    refused_with(&newcomer, "access_denied");
    let bad = json!({"options": {"disable_signup": "yes"}});
    assert_eq!(manage(&t, "PATCH", &path, &token, Some(bad)).status, 400);
}

fn authorize() -> String {
    format!(
        "/authorize?response_type=code&client_id={SPA}&redirect_uri={}&scope=openid%20email\
         &state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc(CALLBACK)
    )
}

/// The first hidden `state` of a page.
fn state_of(html: &str) -> String {
    form_fields(html)
        .into_iter()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
}

fn html(resp: &HttpResponse) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

/// The code of the redirect to the SPA, redeemed with PKCE: the ID token's claims.
fn redeem(t: &Tenant, resp: &HttpResponse) -> Value {
    let location = resp.header("location").expect("a redirect");
    assert!(location.starts_with(CALLBACK), "{location}");
    let query = location.split_once('?').unwrap().1;
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    assert_eq!(get("state").as_deref(), Some("s1"));
    let form = format!(
        "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&get("code").expect("a code")),
        enc(CALLBACK)
    );
    let tokens = post_form(t, "/oauth/token", &form, "");
    assert_eq!(tokens.status, 200, "{}", html(&tokens));
    verify_jwt(t, tokens.json_body()["id_token"].as_str().unwrap(), SPA)
}

#[test]
fn the_hosted_page_emails_a_code_and_signs_in_with_it() {
    let t = tenant();
    let page = get(&t, &authorize(), "");
    assert_eq!(page.status, 200);
    let body = html(&page);
    assert!(body.contains("Email me a code") && body.contains("name=\"password\""));
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("state", &state_of(&body))
        .append_pair("email", WHO);
    let asked = post_form(&t, "/u/passwordless/start", &form.finish(), &csrf);
    assert_eq!(asked.status, 200, "{}", html(&asked));
    let body = html(&asked);
    assert!(body.contains("Enter your code") && body.contains("Grace@Example.com"));
    let code = t.outbox.messages().pop().unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let post_code = |resp: &HttpResponse, code: &str| {
        let csrf = set_cookie(resp, "__Host-csrf").unwrap();
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("state", &state_of(&html(resp)))
            .append_pair("email", WHO)
            .append_pair("code", code);
        post_form(&t, "/u/passwordless/verify", &form.finish(), &csrf)
    };
    // A wrong code: the page again, saying so; then the right one signs in.
    let wrong = post_code(&asked, if code == "123456" { "654321" } else { "123456" });
    assert_eq!(wrong.status, 400);
    assert!(html(&wrong).contains("The code is wrong"));
    let signed_in = post_code(&wrong, &code);
    assert_eq!(signed_in.status, 303, "{}", html(&signed_in));
    assert!(set_cookie(&signed_in, "__Host-session").is_some());
    let id = redeem(&t, &signed_in);
    assert!(id["sub"].as_str().unwrap().starts_with("email|"));
    assert_eq!(
        (id["email_verified"].clone(), id["amr"].clone()),
        (json!(true), json!(["otp"]))
    );
    // Without the page's cookie, the form is not trusted.
    let page = get(&t, &authorize(), "");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("state", &state_of(&html(&page)))
        .append_pair("email", WHO);
    assert_eq!(
        post_form(&t, "/u/passwordless/start", &form.finish(), "").status,
        403
    );
}

#[test]
fn a_link_completes_only_the_request_it_was_made_for_and_only_once() {
    let t = tenant();
    let auth_params = json!({"redirect_uri": CALLBACK, "response_type": "code",
        "scope": "openid email", "state": "s1", "code_challenge": CHALLENGE,
        "code_challenge_method": "S256"});
    let resp = passwordless_start(
        &t,
        &json!({"client_id": SPA, "connection": "email", "email": WHO, "send": "link",
               "authParams": auth_params}),
    );
    assert_eq!(resp.status, 200, "{}", html(&resp));
    let message = t.outbox.messages().pop().unwrap();
    assert_eq!(message["template"], "passwordless_link");
    assert!(message["code"].is_null());
    let link = message["link"].as_str().unwrap().to_string();
    let path = link.strip_prefix(ISSUER.trim_end_matches('/')).unwrap();
    assert!(path.starts_with("/passwordless/verify_redirect?"));
    // The link's value with another transaction's state: refused, and the link survives.
    let other = passwordless_start(
        &t,
        &json!({"client_id": SPA, "email": "other@example.com", "send": "link",
               "authParams": auth_params}),
    );
    assert_eq!(other.status, 200);
    let other_link = t.outbox.last_link();
    let other_state = other_link.split("state=").nth(1).unwrap();
    let value = path
        .split("verification_code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let swapped =
        format!("/passwordless/verify_redirect?verification_code={value}&state={other_state}");
    // (The swapped value is spent by the try: a link is redeemed before its binding is
    // checked, so a guessed pairing burns the link rather than probing it.)
    assert_eq!(get(&t, &swapped, "").status, 400);
    // A fresh link, opened in a browser with no cookie of this issuer: signed in once.
    passwordless_start(
        &t,
        &json!({"client_id": SPA, "email": WHO, "send": "link", "authParams": auth_params}),
    );
    let link = t.outbox.last_link();
    let path = link
        .strip_prefix(ISSUER.trim_end_matches('/'))
        .unwrap()
        .to_string();
    let opened = get(&t, &path, "");
    assert_eq!(opened.status, 302, "{}", html(&opened));
    let id = redeem(&t, &opened);
    // A link's row keeps the address in lower case, as the user is made from it.
    assert_eq!(id["email"], "grace@example.com");
    let again = get(&t, &path, "");
    assert_eq!(again.status, 400);
    assert!(html(&again).contains("The code is wrong"));
    // No log event carries a link's value.
    t.store_events();
    let token = admin_token(&t, &MGMT_SCOPES);
    let logs = ok(&manage(&t, "GET", "/api/v2/logs", &token, None), 200).to_string();
    let value = path.split("verification_code=").nth(1).unwrap();
    let value = value.split('&').next().unwrap();
    assert!(logs.contains("\"cls\"") && !logs.contains(value));
    // An authorization request the client could not make is refused at the start.
    let bad = json!({"redirect_uri": "https://evil.example.com/", "response_type": "code"});
    let resp = passwordless_start(
        &t,
        &json!({"client_id": SPA, "email": WHO, "send": "link", "authParams": bad}),
    );
    assert_eq!(resp.status, 400);
}
