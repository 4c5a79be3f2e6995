//! Email flows: the provider and templates through the management API, the verification
//! link, the password reset (Auth0's `/dbconnections/change_password`, the hosted form, the
//! management ticket) and `/dbconnections/signup`. Messages are caught where they leave the
//! core (the postbox): what they say and how they are signed is the real code.

mod common;

use common::*;
use edge_issuer::oauth::claims::hooks::signature;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::{json, Value};

const HOOK_URL: &str = "https://mail.example.com/hook";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// A tenant with a custom (webhook) provider; answers the provider's signing secret.
fn tenant() -> (Tenant, String) {
    let t = management_tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    let made = ok(
        &manage(
            &t,
            "POST",
            "/api/v2/emails/provider",
            &token,
            Some(json!({"name": "custom", "settings": {"url": HOOK_URL},
                        "default_from_address": "auth@example.com"})),
        ),
        201,
    );
    let secret = made["credentials"]["secret"].as_str().unwrap().to_string();
    (t, secret)
}

fn api_post(t: &Tenant, path: &str, body: Value) -> HttpResponse {
    t.send(HttpRequest {
        method: "POST".into(),
        path: path.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
        ..Default::default()
    })
}

fn ask_reset(t: &Tenant, email: &str) -> HttpResponse {
    api_post(
        t,
        "/dbconnections/change_password",
        json!({"client_id": APP_ID, "email": email,
               "connection": "Username-Password-Authentication"}),
    )
}

/// The path and query of a link on this issuer.
fn local(link: &str) -> String {
    link.strip_prefix(ISSUER.trim_end_matches('/'))
        .expect("a link on this issuer")
        .to_string()
}

fn body(resp: &HttpResponse) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

/// Posts the reset form of `link` with `password` (and `confirm`).
fn reset(t: &Tenant, link: &str, password: &str, confirm: &str) -> HttpResponse {
    let ticket = link.split("ticket=").nth(1).unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("ticket", ticket)
        .append_pair("password", password)
        .append_pair("confirm", confirm);
    post_form(t, "/u/reset-password", &form.finish(), "")
}

#[test]
fn the_provider_is_set_once_its_secret_shown_once_and_its_url_checked() {
    let (t, secret) = tenant();
    assert!(secret.len() >= 32);
    let token = admin_token(&t, &MGMT_SCOPES);
    let shown = ok(
        &manage(&t, "GET", "/api/v2/emails/provider", &token, None),
        200,
    );
    assert_eq!(shown["settings"]["url"], HOOK_URL);
    assert!(shown.get("credentials").is_none(), "never shown again");
    let again = manage(
        &t,
        "POST",
        "/api/v2/emails/provider",
        &token,
        Some(json!({"name": "custom", "settings": {"url": HOOK_URL}})),
    );
    assert_eq!(again.status, 409);
    for (patch, why) in [
        (
            json!({"settings": {"url": "http://mail.example.com/hook"}}),
            "https",
        ),
        (
            json!({"settings": {"url": "https://169.254.169.254/"}}),
            "callable",
        ),
        (json!({"name": "resend"}), "api_key"),
        (json!({"name": "smtp"}), "custom"),
    ] {
        let resp = manage(&t, "PATCH", "/api/v2/emails/provider", &token, Some(patch));
        assert_eq!(resp.status, 400);
        let message = resp.json_body()["message"].as_str().unwrap().to_string();
        assert!(message.contains(why), "{message}");
    }
    // Without the scope, no one reads or changes it.
    let reader = admin_token(&t, &["read:users"]);
    let resp = manage(&t, "GET", "/api/v2/emails/provider", &reader, None);
    assert_eq!(resp.status, 403);
    let resend = ok(
        &manage(
            &t,
            "PATCH",
            "/api/v2/emails/provider",
            &token,
            Some(json!({"name": "resend", "settings": {},
                        "credentials": {"api_key": "re_0123456789abcdef"}})),
        ),
        200,
    );
    assert!(
        resend.get("credentials").is_none(),
        "an API key is never shown"
    );
}

#[test]
fn a_sign_up_by_api_is_sent_a_signed_verification_link_that_works_once() {
    let (t, secret) = tenant();
    let resp = api_post(
        &t,
        "/dbconnections/signup",
        json!({"client_id": APP_ID, "connection": "Username-Password-Authentication",
               "email": "new@example.com", "password": "a long enough password",
               "given_name": "New", "user_metadata": {"color": "blue"}}),
    );
    let made = ok(&resp, 200);
    assert_eq!(made["email"], "new@example.com");
    assert_eq!(made["email_verified"], false);
    assert_eq!(made["user_metadata"]["color"], "blue");
    let user_id = format!("auth0|{}", made["_id"].as_str().unwrap());
    let sent = t.outbox.0.borrow().clone();
    assert_eq!(sent.len(), 1);
    let delivery = &sent[0];
    assert_eq!(delivery.url, HOOK_URL);
    // Signed as hooks are: t=<now>,v1=HMAC(secret, "<t>.<body>").
    let header = &delivery
        .headers
        .iter()
        .find(|(n, _)| *n == "x-edge-issuer-signature")
        .unwrap()
        .1;
    assert_eq!(*header, signature(&secret, NOW, &delivery.body));
    let message: Value = serde_json::from_str(&delivery.body).unwrap();
    assert_eq!(message["to"], "new@example.com");
    assert_eq!(message["from"], "auth@example.com");
    assert_eq!(message["template"], "verify_email");
    assert_eq!(message["user_id"], user_id.as_str());
    assert_eq!(message["client_id"], APP_ID);
    assert_eq!(message["subject"], "Verify your email for App");
    let link = message["link"].as_str().unwrap();
    assert!(link.starts_with("https://id.example.com/u/email-verification?ticket="));
    assert!(message["text"].as_str().unwrap().contains(link));
    assert!(message["html"]
        .as_str()
        .unwrap()
        .contains("new@example.com"));

    let verified = get(&t, &local(link), "");
    assert_eq!(verified.status, 200, "{}", body(&verified));
    assert!(body(&verified).contains("Email verified"));
    let user = pollster::block_on(edge_issuer::port::UserStore::user(&t.store, &user_id));
    assert!(user.unwrap().unwrap().email_verified);
    // Once only.
    let again = get(&t, &local(link), "");
    assert_eq!(again.status, 400);
    assert!(body(&again).contains("no longer works"));
    // A made-up ticket is no better.
    let forged = get(&t, "/u/email-verification?ticket=AAAA", "");
    assert_eq!(forged.status, 400);
}

#[test]
fn a_verification_link_proves_only_the_address_it_was_sent_to_and_expires() {
    let (t, _) = tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    t.edit_user(|u| u.email_verified = false);
    let ticket = |ttl: u64| {
        let made = manage(
            &t,
            "POST",
            "/api/v2/tickets/email-verification",
            &token,
            Some(json!({"user_id": USER_ID, "ttl_sec": ttl})),
        );
        ok(&made, 201)["ticket"].as_str().unwrap().to_string()
    };
    assert!(
        t.outbox.0.borrow().is_empty(),
        "a ticket is answered, not sent"
    );
    // The address changes after the link was made: the link proves nothing.
    let first = ticket(3600);
    t.edit_user(|u| u.email = Some("other@example.com".into()));
    assert_eq!(get(&t, &local(&first), "").status, 400);
    let verified = |t: &Tenant| {
        pollster::block_on(edge_issuer::port::UserStore::user(&t.store, USER_ID))
            .unwrap()
            .unwrap()
            .email_verified
    };
    assert!(!verified(&t));
    // An expired link.
    let short = ticket(60);
    t.clock.advance(61);
    assert_eq!(get(&t, &local(&short), "").status, 400);
    assert!(!verified(&t));
    // A newer link voids the older.
    let older = ticket(3600);
    let newer = ticket(3600);
    assert_eq!(get(&t, &local(&older), "").status, 400);
    assert_eq!(get(&t, &local(&newer), "").status, 200);
    assert!(verified(&t));
}

#[test]
fn asking_for_a_reset_answers_the_same_whether_or_not_the_address_has_an_account() {
    let (t, _) = tenant();
    let known = ask_reset(&t, USER_EMAIL);
    let unknown = ask_reset(&t, "nobody@example.com");
    assert_eq!(known.status, 200);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert_eq!(known.header("content-type"), unknown.header("content-type"));
    let messages = t.outbox.messages();
    assert_eq!(
        messages.len(),
        1,
        "only the account's address gets a message"
    );
    assert_eq!(messages[0]["to"], USER_EMAIL);
    assert_eq!(messages[0]["template"], "reset_email");
    // Five asks an hour per address; the sixth answers the same and sends nothing.
    for _ in 0..5 {
        assert_eq!(ask_reset(&t, USER_EMAIL).body, known.body);
    }
    assert_eq!(t.outbox.messages().len(), 5);
    // No log event carries a link.
    t.store_events();
    let token = admin_token(&t, &MGMT_SCOPES);
    let logs = ok(&manage(&t, "GET", "/api/v2/logs", &token, None), 200);
    let text = logs.to_string();
    assert!(
        text.contains("\"scpr\"") && text.contains("\"fcpr\""),
        "{text}"
    );
    assert!(!text.contains("ticket="), "{text}");
}

#[test]
fn a_reset_link_sets_a_password_once_and_ends_the_old_sessions_and_refresh_tokens() {
    let (t, _) = tenant();
    let before = ok(&t.password("&scope=openid%20offline_access"), 200);
    let old_refresh = before["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(ask_reset(&t, USER_EMAIL).status, 200);
    let link = t.outbox.last_link();
    assert!(link.starts_with("https://id.example.com/u/reset-password?ticket="));
    let form = get(&t, &local(&link), "");
    assert_eq!(form.status, 200);
    let html = body(&form);
    assert!(html.contains("Choose a new password") && html.contains(USER_EMAIL));
    // Mismatched, then refused by the policy: the form again, and the link still works.
    let resp = reset(&t, &link, NEW_PASSWORD, "something else");
    assert_eq!(resp.status, 400);
    assert!(body(&resp).contains("not the same"));
    let resp = reset(&t, &link, "short", "short");
    assert_eq!(resp.status, 400);
    assert!(body(&resp).contains("Choose a new password"));
    let resp = reset(&t, &link, NEW_PASSWORD, NEW_PASSWORD);
    assert_eq!(resp.status, 200, "{}", body(&resp));
    assert!(body(&resp).contains("Password changed"));
    // Once only.
    let again = reset(
        &t,
        &link,
        "another new passphrase",
        "another new passphrase",
    );
    assert_eq!(again.status, 400);
    assert!(body(&again).contains("no longer works"));
    // The old password and refresh token are dead; the new password works.
    assert_eq!(t.password("").status, 400);
    assert_eq!(t.refresh(&old_refresh, "").status, 400);
    let form = format!(
        "grant_type=password&username={}&password={}",
        enc(USER_EMAIL),
        enc(NEW_PASSWORD)
    );
    ok(&t.token(&form, Some((APP_ID, APP_SECRET))), 200);
}

#[test]
fn a_reset_link_dies_with_any_change_of_password_and_with_a_newer_link() {
    let (t, _) = tenant();
    ask_reset(&t, USER_EMAIL);
    let first = t.outbox.last_link();
    ask_reset(&t, USER_EMAIL);
    let second = t.outbox.last_link();
    assert_eq!(get(&t, &local(&first), "").status, 400, "replaced");
    // An admin changes the password: the link made before is void.
    let token = admin_token(&t, &MGMT_SCOPES);
    let path = format!("/api/v2/users/{}", enc(USER_ID));
    let changed = manage(
        &t,
        "PATCH",
        &path,
        &token,
        Some(json!({"password": "an admin's new passphrase"})),
    );
    ok(&changed, 200);
    let resp = reset(&t, &second, NEW_PASSWORD, NEW_PASSWORD);
    assert_eq!(resp.status, 400);
    assert!(body(&resp).contains("no longer works"));
    // The management ticket works like the emailed link, and expires.
    let made = manage(
        &t,
        "POST",
        "/api/v2/tickets/password-change",
        &token,
        Some(json!({"user_id": USER_ID, "ttl_sec": 120})),
    );
    let link = ok(&made, 201)["ticket"].as_str().unwrap().to_string();
    t.clock.advance(121);
    assert_eq!(get(&t, &local(&link), "").status, 400);
}

#[test]
fn sign_up_by_api_keeps_the_connection_policy_and_refuses_a_taken_address() {
    let (t, _) = tenant();
    let signup = |email: &str, password: &str| {
        api_post(
            &t,
            "/dbconnections/signup",
            json!({"client_id": APP_ID, "connection": "Username-Password-Authentication",
                   "email": email, "password": password}),
        )
    };
    let weak = signup("weak@example.com", "short");
    assert_eq!(weak.status, 400);
    assert_eq!(weak.json_body()["code"], "invalid_password");
    let taken = signup(&USER_EMAIL.to_uppercase(), "a long enough password");
    assert_eq!(taken.status, 400);
    assert_eq!(taken.json_body()["code"], "user_exists");
    let unknown = api_post(
        &t,
        "/dbconnections/signup",
        json!({"client_id": "nope", "connection": "Username-Password-Authentication",
               "email": "x@example.com", "password": "a long enough password"}),
    );
    assert_eq!(unknown.status, 400);
    assert!(t.outbox.0.borrow().is_empty());
}

#[test]
fn the_forgot_password_form_of_the_login_page_sends_the_same_link() {
    let (t, _) = tenant();
    let query = format!(
        "client_id={APP_ID}&redirect_uri=x&login_hint={}",
        enc(USER_EMAIL)
    );
    let form = get(&t, &format!("/u/reset-password/request?{query}"), "");
    assert_eq!(form.status, 200);
    let html = body(&form);
    assert!(html.contains("Reset your password") && html.contains("your App account"));
    assert!(
        html.contains(&format!("value=\"{USER_EMAIL}\"")),
        "the hint is filled in"
    );
    assert!(
        html.contains("href=\"/authorize?client_id="),
        "a way back to sign in"
    );
    let mut post = form_urlencoded::Serializer::new(String::new());
    post.extend_pairs(form_fields(&html));
    post.append_pair("email", USER_EMAIL);
    let sent = post_form(&t, "/u/reset-password/request", &post.finish(), "");
    assert_eq!(sent.status, 200, "{}", body(&sent));
    assert!(body(&sent).contains("Check your email"));
    assert_eq!(t.outbox.messages().len(), 1);
    assert!(t.outbox.last_link().contains("/u/reset-password?ticket="));
    let unknown = get(&t, "/u/reset-password/request?client_id=nope", "");
    assert_eq!(unknown.status, 400);
}

#[test]
fn a_post_login_hook_can_require_a_verified_email_and_sees_the_link_take_effect() {
    let (t, _) = tenant();
    hook(
        &t,
        edge_issuer::model::Trigger::PostLogin,
        edge_issuer::model::OnFailure::Deny,
    );
    // Auth0's common pattern: no tokens until the address is verified.
    answer(&t, |body| {
        let request: Value = serde_json::from_str(body).unwrap();
        Ok(match request["event"]["user"]["email_verified"].as_bool() {
            Some(true) => b"{}".to_vec(),
            _ => br#"{"deny":"Please verify your email before signing in."}"#.to_vec(),
        })
    });
    t.edit_user(|u| u.email_verified = false);
    let refused = t.password("");
    // The password grant's refusal (at /authorize it is access_denied at the client).
    assert_eq!(refused.status, 400, "{:?}", refused.json_body());
    assert_eq!(
        refused.json_body()["error_description"],
        "Please verify your email before signing in."
    );
    let token = admin_token(&t, &MGMT_SCOPES);
    let made = manage(
        &t,
        "POST",
        "/api/v2/tickets/email-verification",
        &token,
        Some(json!({"user_id": USER_ID})),
    );
    let link = ok(&made, 201)["ticket"].as_str().unwrap().to_string();
    assert_eq!(get(&t, &local(&link), "").status, 200);
    ok(&t.password(""), 200);
}

#[test]
fn a_provider_whose_secret_does_not_open_fails_no_answer_and_tells_nothing() {
    let (t, _) = tenant();
    let mut provider =
        pollster::block_on(edge_issuer::port::mail::MailStore::email_provider(&t.store))
            .unwrap()
            .unwrap();
    provider.credentials_sealed = Some("v1.sealed.under-another-key".into());
    pollster::block_on(edge_issuer::port::mail::MailStore::put_email_provider(
        &t.store, &provider, false,
    ))
    .unwrap();
    let known = ask_reset(&t, USER_EMAIL);
    let unknown = ask_reset(&t, "nobody@example.com");
    assert_eq!(known.status, 200);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    assert!(t.outbox.0.borrow().is_empty(), "nothing could be sent");
    assert!(
        t.log.borrow().iter().any(|l| l.contains("server_error")),
        "the failure is logged: {:?}",
        t.log.borrow()
    );
}

#[test]
fn a_change_of_email_unverifies_it_and_sends_a_link_to_the_new_address() {
    let (t, _) = tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    let path = format!("/api/v2/users/{}", enc(USER_ID));
    let patch = |body: Value| ok(&manage(&t, "PATCH", &path, &token, Some(body)), 200);
    // Only the case changes: still verified, nothing sent.
    let same = patch(json!({"email": "ada@example.com"}));
    assert_eq!(same["email_verified"], true);
    assert!(t.outbox.0.borrow().is_empty());
    // A new address: unverified, and a link sent to it that verifies it.
    let moved = patch(json!({"email": "ada.new@example.com"}));
    assert_eq!(moved["email_verified"], false);
    let message = t.outbox.messages().pop().unwrap();
    assert_eq!(
        (message["template"].as_str(), message["to"].as_str()),
        (Some("verify_email"), Some("ada.new@example.com"))
    );
    assert_eq!(get(&t, &local(&t.outbox.last_link()), "").status, 200);
    let user = ok(&manage(&t, "GET", &path, &token, None), 200);
    assert_eq!(user["email_verified"], true);
    // `verify_email: false` sends nothing; `email_verified: true` keeps it verified.
    let quiet = patch(json!({"email": "ada.quiet@example.com", "verify_email": false}));
    assert_eq!(quiet["email_verified"], false);
    let trusted = patch(json!({"email": "ada.trusted@example.com", "email_verified": true}));
    assert_eq!(trusted["email_verified"], true);
    assert_eq!(t.outbox.messages().len(), 1);
}

#[test]
fn the_verification_job_and_a_created_user_send_links_as_auth0_does() {
    let (t, _) = tenant();
    let token = admin_token(&t, &MGMT_SCOPES);
    let job = |user_id: &str| {
        manage(
            &t,
            "POST",
            "/api/v2/jobs/verification-email",
            &token,
            Some(json!({"user_id": user_id, "client_id": APP_ID})),
        )
    };
    // A verified user is refused; once unverified, the job sends a link at once.
    assert_eq!(job(USER_ID).status, 400);
    t.edit_user(|u| u.email_verified = false);
    let done = ok(&job(USER_ID), 201);
    assert_eq!(
        (done["type"].as_str(), done["status"].as_str()),
        (Some("verification_email"), Some("completed"))
    );
    let message = t.outbox.messages().pop().unwrap();
    assert_eq!(message["client_id"], APP_ID);
    let id = done["id"].as_str().unwrap();
    let read = ok(
        &manage(&t, "GET", &format!("/api/v2/jobs/{id}"), &token, None),
        200,
    );
    assert_eq!(read, done);
    assert_eq!(job("auth0|nobody").status, 404);
    // Without update:users, no job.
    let reader = admin_token(&t, &["read:users"]);
    let body = json!({"user_id": USER_ID});
    let resp = manage(
        &t,
        "POST",
        "/api/v2/jobs/verification-email",
        &reader,
        Some(body),
    );
    assert_eq!(resp.status, 403);
    // A created user with an unverified address is sent a link unless told not to.
    let create = |email: &str, extra: Value| {
        let mut body = json!({"connection": "Username-Password-Authentication",
                              "email": email, "password": NEW_PASSWORD});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        ok(
            &manage(&t, "POST", "/api/v2/users", &token, Some(body)),
            201,
        )
    };
    let before = t.outbox.messages().len();
    create("new.one@example.com", json!({}));
    assert_eq!(t.outbox.messages().len(), before + 1);
    create("new.two@example.com", json!({"verify_email": false}));
    create("new.three@example.com", json!({"email_verified": true}));
    assert_eq!(t.outbox.messages().len(), before + 1);
}
