//! Browser sign-in through the route table: /authorize, the hosted login form, the code, and
//! its redemption with PKCE, against the in-memory store.

mod common;

use common::*;
use edge_issuer::model::Client;
use edge_issuer::web::{HttpRequest, HttpResponse};
use serde_json::Value;

const SPA: &str = "spa";
const CALLBACK: &str = "https://app.example.com/callback";
// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn tenant() -> Tenant {
    let t = Tenant::new();
    t.store.put_client(Client {
        client_id: SPA.into(),
        name: "Single-page app".into(),
        secret_hash: None,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        default_audience: Some(API.into()),
        redirect_uris: vec![CALLBACK.into()],
        allowed_logout_urls: vec!["https://app.example.com/".into()],
        web_origins: vec!["https://app.example.com".into()],
        ..client_defaults()
    });
    t
}

fn authorize_query(extra: &str) -> String {
    format!(
        "response_type=code&client_id={SPA}&redirect_uri={}&scope=openid%20profile%20offline_access%20read:data\
         &state=st-1&nonce=n-1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CALLBACK)
    )
}

/// Shows the login form, posts it as a browser would; returns the response and the cookies.
fn sign_in(t: &Tenant, extra: &str, password: &str) -> (HttpResponse, String) {
    sign_in_to(t, &authorize_query(extra), password)
}

/// [`sign_in`] with the whole authorization request's query.
fn sign_in_to(t: &Tenant, query: &str, password: &str) -> (HttpResponse, String) {
    let page = get(t, &format!("/authorize?{query}"), "");
    assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
    let html = String::from_utf8(page.body.clone()).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").expect("a CSRF cookie");
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", password);
    let resp = post_form(t, "/u/login", &form.finish(), &csrf);
    (resp, csrf)
}

fn location_params(resp: &HttpResponse) -> Vec<(String, String)> {
    let location = resp.header("location").expect("a redirect");
    let (base, query) = location.split_once('?').unwrap();
    assert_eq!(base, CALLBACK);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn redeem(t: &Tenant, code: &str, verifier: &str) -> HttpResponse {
    let form = format!(
        "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}&code_verifier={verifier}",
        enc(code),
        enc(CALLBACK)
    );
    post_form(t, "/oauth/token", &form, "")
}

#[test]
fn sign_in_then_redeem_the_code_with_pkce() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let session = set_cookie(&resp, "__Host-session").expect("a session cookie");
    let cookie_header = resp
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("__Host-session="))
        .unwrap()
        .1
        .clone();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie_header.contains(attribute), "{cookie_header}");
    }
    let params = location_params(&resp);
    assert_eq!(param(&params, "state"), Some("st-1"));
    assert_eq!(param(&params, "iss"), Some(ISSUER));
    let code = param(&params, "code").unwrap().to_string();

    let tokens = redeem(&t, &code, VERIFIER);
    assert_eq!(tokens.status, 200, "{:?}", tokens.json_body());
    let body = tokens.json_body();
    assert!(body["refresh_token"].is_string());
    let id = verify_jwt(&t, body["id_token"].as_str().unwrap(), SPA);
    assert_eq!(id["sub"], USER_ID);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["auth_time"], NOW);
    assert!(id["sid"].is_string());
    assert!(id["at_hash"].is_string());
    let at = verify_jwt(&t, body["access_token"].as_str().unwrap(), API);
    assert_eq!(at["scope"], "openid profile offline_access read:data");

    // Single sign-on: the session answers the next request with a code at once.
    let again = get(&t, &format!("/authorize?{}", authorize_query("")), &session);
    assert_eq!(again.status, 302);
    assert!(param(&location_params(&again), "code").is_some());
    // prompt=login shows the form even so.
    let forced = get(
        &t,
        &format!("/authorize?{}", authorize_query("&prompt=login")),
        &session,
    );
    assert_eq!(forced.status, 200);
}

#[test]
fn a_code_is_redeemed_once_and_its_replay_revokes_what_it_gave() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let first = redeem(&t, &code, VERIFIER);
    assert_eq!(first.status, 200);
    let refresh = first.json_body()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    let replay = redeem(&t, &code, VERIFIER);
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json_body()["error"], "invalid_grant");
    let form = format!("grant_type=refresh_token&client_id={SPA}&refresh_token={refresh}");
    let after = post_form(&t, "/oauth/token", &form, "");
    assert_eq!(
        after.json_body()["error"],
        "invalid_grant",
        "the family died"
    );
}

#[test]
fn a_replayed_code_revokes_its_access_token_when_no_refresh_token_was_issued() {
    let t = tenant();
    // No offline_access: the code gives an access token and an ID token only.
    let scope = "&scope=openid%20profile%20read:data";
    let query = authorize_query("").replace(
        "&scope=openid%20profile%20offline_access%20read:data",
        scope,
    );
    let (resp, _) = sign_in_to(&t, &query, USER_PASSWORD);
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let first = redeem(&t, &code, VERIFIER).json_body();
    assert!(first.get("refresh_token").is_none(), "{first}");
    let access = first["access_token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {access}");
    let userinfo = |t: &Tenant| t.userinfo("GET", &[("authorization", &bearer)], "").status;
    assert_eq!(userinfo(&t), 200);

    let replay = redeem(&t, &code, VERIFIER);
    assert_eq!(replay.json_body()["error"], "invalid_grant");
    assert_eq!(
        userinfo(&t),
        401,
        "the access token the code gave is revoked"
    );
    let listed = t.get("/.well-known/revoked-jtis").json_body();
    let jti = verify_jwt(&t, &access, API)["jti"].clone();
    assert!(
        listed.to_string().contains(jti.as_str().unwrap()),
        "{listed}"
    );
}

#[test]
fn request_objects_are_refused_at_the_redirect_uri_once_it_is_trusted() {
    let t = tenant();
    for (param_name, error) in [
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
    ] {
        let resp = get(
            &t,
            &format!(
                "/authorize?{}&{param_name}=eyJhbGciOiJub25lIn0.e30.",
                authorize_query("")
            ),
            "",
        );
        assert_eq!(resp.status, 302, "{param_name}");
        let params = location_params(&resp);
        assert_eq!(param(&params, "error"), Some(error));
        assert_eq!(param(&params, "state"), Some("st-1"));
    }
    // Before the client and redirect URI are trusted, the issuer's own page.
    let resp = get(
        &t,
        &format!("/authorize?client_id={SPA}&redirect_uri=https://evil.example/&request=x"),
        "",
    );
    assert_eq!(resp.status, 400);
    assert!(resp.header("location").is_none());
    let discovery = t.get("/.well-known/openid-configuration").json_body();
    assert_eq!(discovery["request_parameter_supported"], false);
    assert_eq!(discovery["request_uri_parameter_supported"], false);
}

#[test]
fn concurrent_redemptions_of_one_code_yield_one_token_response() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let form = format!(
        "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code),
        enc(CALLBACK)
    );
    let reqs = (0..20)
        .map(|_| HttpRequest {
            method: "POST".into(),
            path: "/oauth/token".into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: form.as_bytes().to_vec(),
            ..Default::default()
        })
        .collect();
    let answers = t.send_all(&YieldingCrypto::default(), reqs);
    let won: Vec<&HttpResponse> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for lost in answers.iter().filter(|r| r.status != 200) {
        assert_eq!(lost.status, 400);
        assert_eq!(lost.json_body()["error"], "invalid_grant");
    }
    // A lost redemption counts as a replay: the winner's refresh token is dead.
    let refresh = won[0].json_body()["refresh_token"]
        .as_str()
        .expect("offline_access gave a refresh token")
        .to_string();
    let form = format!("grant_type=refresh_token&client_id={SPA}&refresh_token={refresh}");
    let after = post_form(&t, "/oauth/token", &form, "");
    assert_eq!(after.status, 400);
    assert_eq!(after.json_body()["error"], "invalid_grant");
}

#[test]
fn pkce_redirect_uri_and_client_must_match_at_redemption() {
    let t = tenant();
    let code = |t: &Tenant| {
        let (resp, _) = sign_in(t, "", USER_PASSWORD);
        param(&location_params(&resp), "code").unwrap().to_string()
    };
    let wrong_verifier = redeem(&t, &code(&t), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl");
    assert_eq!(wrong_verifier.json_body()["error"], "invalid_grant");
    let no_verifier = post_form(
        &t,
        "/oauth/token",
        &format!(
            "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}",
            enc(&code(&t)),
            enc(CALLBACK)
        ),
        "",
    );
    assert_eq!(no_verifier.json_body()["error"], "invalid_grant");
    let other_uri = post_form(
        &t,
        "/oauth/token",
        &format!(
            "grant_type=authorization_code&client_id={SPA}&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(&code(&t)),
            enc("https://app.example.com/other")
        ),
        "",
    );
    assert_eq!(other_uri.json_body()["error"], "invalid_grant");

    // Another client, authenticated and allowed the code grant, cannot redeem SPA's code.
    t.edit_client(APP_ID, |c| c.grant_types.push("authorization_code".into()));
    let stolen = t.token(
        &format!(
            "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
            enc(&code(&t)),
            enc(CALLBACK)
        ),
        Some((APP_ID, APP_SECRET)),
    );
    assert_eq!(stolen.status, 400);
    assert_eq!(stolen.json_body()["error"], "invalid_grant");
}

#[test]
fn a_public_client_cannot_downgrade_pkce_at_the_authorization_endpoint() {
    let t = tenant();
    for (case, query) in [
        (
            "no challenge",
            authorize_query("").replace(
                &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
                "",
            ),
        ),
        (
            "plain",
            authorize_query("")
                .replace("code_challenge_method=S256", "code_challenge_method=plain"),
        ),
    ] {
        let resp = get(&t, &format!("/authorize?{query}"), "");
        assert_eq!(resp.status, 302, "{case}");
        let params = location_params(&resp);
        assert_eq!(param(&params, "error"), Some("invalid_request"), "{case}");
        assert_eq!(param(&params, "state"), Some("st-1"), "{case}");
        assert_eq!(param(&params, "code"), None, "{case}");
    }
}

#[test]
fn an_unregistered_redirect_uri_gets_the_error_page_never_a_redirect() {
    let t = tenant();
    let query = authorize_query("").replace(&enc(CALLBACK), &enc("https://evil.example/cb"));
    let resp = get(&t, &format!("/authorize?{query}"), "");
    assert_eq!(resp.status, 400);
    assert!(resp.header("location").is_none());
    let html = String::from_utf8_lossy(&resp.body);
    assert!(html.contains("redirect_uri is not registered"), "{html}");
    assert!(resp
        .header("content-security-policy")
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

#[test]
fn prompt_none_without_a_session_is_login_required_at_the_client() {
    let t = tenant();
    let resp = get(
        &t,
        &format!("/authorize?{}", authorize_query("&prompt=none")),
        "",
    );
    assert_eq!(resp.status, 302);
    let params = location_params(&resp);
    assert_eq!(param(&params, "error"), Some("login_required"));
    assert_eq!(param(&params, "state"), Some("st-1"));
    assert_eq!(param(&params, "iss"), Some(ISSUER));
}

#[test]
fn a_wrong_password_shows_the_form_again_and_a_missing_csrf_token_is_refused() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", "wrong password");
    assert_eq!(resp.status, 400);
    let html = String::from_utf8_lossy(&resp.body);
    assert!(html.contains("Wrong email or password."), "{html}");
    assert!(resp.header("location").is_none());

    // The same form without its cookie: refused, nothing signed in.
    let page = get(&t, &format!("/authorize?{}", authorize_query("")), "");
    let html = String::from_utf8(page.body.clone()).unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", USER_PASSWORD);
    let body = form.finish();
    let forged = post_form(&t, "/u/login", &body, "__Host-csrf=guess");
    assert_eq!(forged.status, 403);
    assert!(set_cookie(&forged, "__Host-session").is_none());
    assert!(String::from_utf8_lossy(&forged.body).contains("expired or was opened in another tab"));
    // No cookie at all (blocked, or plain http): the page says so.
    let blocked = post_form(&t, "/u/login", &body, "");
    assert_eq!(blocked.status, 403);
    let html = String::from_utf8_lossy(&blocked.body);
    assert!(
        html.contains("did not send back this page&#39;s cookie"),
        "{html}"
    );
}

#[test]
fn after_a_refusal_focus_lands_on_the_message_and_the_fields_are_marked_invalid() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", "wrong password");
    let html = String::from_utf8_lossy(&resp.body);
    assert!(
        html.contains("id=\"form-error\" class=\"error\" role=\"alert\" tabindex=\"-1\" autofocus"),
        "{html}"
    );
    assert_eq!(
        html.matches("aria-invalid=\"true\" aria-describedby=\"form-error\"")
            .count(),
        2
    );
    // The first form has no message and no invalid fields.
    let page = get(&t, &format!("/authorize?{}", authorize_query("")), "");
    let first = String::from_utf8_lossy(&page.body);
    assert!(!first.contains("aria-invalid") && !first.contains("autofocus"));
    // Sign-up states the password rule before anything is submitted.
    let signup = get(
        &t,
        &format!("/authorize?{}", authorize_query("&screen_hint=signup")),
        "",
    );
    let html = String::from_utf8_lossy(&signup.body);
    assert!(html.contains("id=\"password-rule\""), "{html}");
    assert!(html.contains("At least 8 characters"));
    assert!(html.contains("aria-describedby=\"password-rule\""));
}

#[test]
fn error_pages_say_what_to_do_and_link_the_clients_login_when_registered() {
    let t = tenant();
    let bad =
        format!("/authorize?client_id={SPA}&redirect_uri=https://evil.example/&response_type=code");
    let without = get(&t, &bad, "");
    let html = String::from_utf8_lossy(&without.body);
    assert!(html.contains("start signing in again"), "{html}");
    assert!(!html.contains("Back to"));
    t.edit_client(SPA, |c| {
        c.initiate_login_uri = Some("https://app.example.com/login".into())
    });
    let with = get(&t, &bad, "");
    let html = String::from_utf8_lossy(&with.body);
    assert!(
        html.contains("href=\"https://app.example.com/login\">Back to Single-page app</a>"),
        "{html}"
    );
    // An unknown client has no way back to offer.
    let unknown = get(
        &t,
        "/authorize?client_id=nobody&redirect_uri=https://app.example.com/login",
        "",
    );
    assert!(!String::from_utf8_lossy(&unknown.body).contains("Back to"));
}

#[test]
fn discovery_publishes_the_code_flow() {
    let t = tenant();
    let meta: Value = t.get("/.well-known/openid-configuration").json_body();
    assert_eq!(
        meta["authorization_endpoint"],
        "https://id.example.com/authorize"
    );
    assert_eq!(
        meta["response_types_supported"],
        serde_json::json!([
            "code",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
    assert_eq!(
        meta["response_modes_supported"],
        serde_json::json!(["query", "fragment", "form_post"])
    );
    assert!(meta["grant_types_supported"]
        .as_array()
        .unwrap()
        .contains(&"implicit".into()));
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);
}

#[test]
fn a_post_login_denial_goes_back_as_access_denied_before_any_code_exists() {
    use edge_issuer::model::{OnFailure, Trigger};
    let t = tenant();
    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| Ok(br#"{"deny":"Logins are paused."}"#.to_vec()));
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let params = location_params(&resp);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(
        param(&params, "error_description"),
        Some("Logins are paused.")
    );
    assert_eq!(param(&params, "code"), None);
    assert!(
        set_cookie(&resp, "__Host-session").is_none(),
        "no session either"
    );
}

#[test]
fn a_user_blocked_after_signing_in_gets_no_code_from_the_session() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    t.edit_user(|u| u.blocked = true);
    let again = get(&t, &format!("/authorize?{}", authorize_query("")), &session);
    assert_eq!(again.status, 302);
    assert_eq!(
        param(&location_params(&again), "error"),
        Some("access_denied")
    );
}

/// A signed-in browser's session cookie and an ID token issued to it.
fn signed_in_with_id_token(t: &Tenant) -> (String, String) {
    let (resp, _) = sign_in(t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let tokens = redeem(t, &code, VERIFIER).json_body();
    (session, tokens["id_token"].as_str().unwrap().to_string())
}

/// Whether the session cookie still signs the user in (a code without the form).
fn session_alive(t: &Tenant, session: &str) -> bool {
    get(t, &format!("/authorize?{}", authorize_query("")), session).status == 302
}

fn oidc_logout(t: &Tenant, query: &str, session: &str) -> HttpResponse {
    get(t, &format!("/oidc/logout?{query}"), session)
}

#[test]
fn logout_with_a_verified_hint_ends_the_session_and_returns_only_to_an_allowed_url() {
    let t = tenant();
    let (session, id_token) = signed_in_with_id_token(&t);
    // A return URL the client did not register: refused on the page, never followed, and
    // the session stays.
    let evil = oidc_logout(
        &t,
        &format!(
            "id_token_hint={id_token}&post_logout_redirect_uri={}",
            enc("https://evil.example/")
        ),
        &session,
    );
    assert_eq!(evil.status, 400);
    assert!(evil.header("location").is_none());
    assert!(session_alive(&t, &session));

    // The hint names the client; an expired hint is still a hint (§2).
    t.clock.advance(11 * 3600);
    let (session, id_token) = signed_in_with_id_token(&t);
    t.clock.advance(11 * 3600);
    let out = oidc_logout(
        &t,
        &format!(
            "id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
            enc("https://app.example.com/")
        ),
        &session,
    );
    assert_eq!(out.status, 302, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(
        out.header("location"),
        Some("https://app.example.com/?state=bye")
    );
    assert_eq!(
        set_cookie(&out, "__Host-session").as_deref(),
        Some("__Host-session=")
    );
    // The session is gone from storage: the old cookie no longer signs anyone in.
    assert!(!session_alive(&t, &session));

    // Auth0's /v2/logout: client_id and an exact returnTo, no prompt.
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let auth0 = get(
        &t,
        &format!(
            "/v2/logout?client_id={SPA}&returnTo={}",
            enc("https://app.example.com/")
        ),
        &session,
    );
    assert_eq!(auth0.status, 302);
    assert_eq!(auth0.header("location"), Some("https://app.example.com/"));
    assert!(!session_alive(&t, &session));
    let plain = get(&t, "/v2/logout", "");
    assert_eq!(plain.status, 200);
}

#[test]
fn logout_without_a_hint_asks_first_and_a_cross_site_link_signs_no_one_out() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let query = format!(
        "client_id={SPA}&post_logout_redirect_uri={}&state=bye",
        enc("https://app.example.com/")
    );
    let ask = oidc_logout(&t, &query, &session);
    assert_eq!(ask.status, 200);
    let html = String::from_utf8(ask.body.clone()).unwrap();
    assert!(html.contains("Sign out?"), "{html}");
    assert!(set_cookie(&ask, "__Host-session").is_none());
    assert!(
        session_alive(&t, &session),
        "nothing ended before the user said so"
    );
    // The redirect after the confirmation may go to the return URL (CSP form-action).
    assert!(ask
        .header("content-security-policy")
        .unwrap()
        .contains("form-action 'self' https://app.example.com"));

    // Without the page's CSRF token (a forged cross-site POST): refused, nothing ends.
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html).into_iter().filter(|(k, _)| k != "csrf"));
    let forged = post_form(&t, "/oidc/logout", &form.finish(), &session);
    assert_eq!(forged.status, 403);
    assert!(session_alive(&t, &session));

    // The user confirms: signed out, then sent to the registered URL with the state.
    let csrf = set_cookie(&ask, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    let done = post_form(
        &t,
        "/oidc/logout",
        &form.finish(),
        &format!("{session}; {csrf}"),
    );
    assert_eq!(done.status, 303, "{}", String::from_utf8_lossy(&done.body));
    assert_eq!(
        done.header("location"),
        Some("https://app.example.com/?state=bye")
    );
    assert!(!session_alive(&t, &session));
}

#[test]
fn a_forged_or_foreign_id_token_hint_is_an_error_and_ends_nothing() {
    let t = tenant();
    let (session, id_token) = signed_in_with_id_token(&t);
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let payload = id_token.split('.').nth(1).unwrap();
    let unsigned = format!("{}.{payload}.", b64(&serde_json::json!({"alg": "none"})));
    let mut tampered = id_token.clone();
    tampered.truncate(id_token.len() - 4);
    tampered.push_str("AAAA");
    let return_to = enc("https://app.example.com/");
    for (why, hint) in [
        ("alg none", unsigned.as_str()),
        ("a changed signature", tampered.as_str()),
        ("not a JWT", "hello"),
    ] {
        let resp = oidc_logout(
            &t,
            &format!(
                "id_token_hint={}&post_logout_redirect_uri={return_to}",
                enc(hint)
            ),
            &session,
        );
        assert_eq!(resp.status, 400, "{why}");
        assert!(resp.header("location").is_none(), "{why}");
        assert!(set_cookie(&resp, "__Host-session").is_none(), "{why}");
    }
    // A client_id other than the hint's audience.
    let other = oidc_logout(
        &t,
        &format!(
            "id_token_hint={id_token}&client_id={APP_ID}&post_logout_redirect_uri={return_to}"
        ),
        &session,
    );
    assert_eq!(other.status, 400);
    assert!(session_alive(&t, &session));

    // A genuine hint of another user than the one this browser signed in: the user is asked.
    let grace = sign_up(&t, "grace@example.com", "a long enough passphrase");
    let graces = set_cookie(&grace, "__Host-session").unwrap();
    let query = format!("id_token_hint={id_token}&post_logout_redirect_uri={return_to}");
    let ask = oidc_logout(&t, &query, &graces);
    assert_eq!(ask.status, 200);
    let html = String::from_utf8(ask.body.clone()).unwrap();
    assert!(html.contains("Sign out?"));
    assert!(session_alive(&t, &graces));
    // Confirmed, the return URL still works: the form carried the hint's client, not the hint.
    let fields = form_fields(&html);
    assert!(!fields.iter().any(|(k, _)| k == "id_token_hint"));
    assert_eq!(param(&fields, "client_id"), Some(SPA));
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(fields);
    let csrf = set_cookie(&ask, "__Host-csrf").unwrap();
    let done = post_form(
        &t,
        "/oidc/logout",
        &form.finish(),
        &format!("{graces}; {csrf}"),
    );
    assert_eq!(done.status, 303);
    assert_eq!(done.header("location"), Some("https://app.example.com/"));
    assert!(!session_alive(&t, &graces));
}

#[test]
fn web_message_posts_the_code_to_the_registered_origin_from_a_frameable_page() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let silent = get(
        &t,
        &format!(
            "/authorize?{}",
            authorize_query("&prompt=none&response_mode=web_message")
                .replace("state=st-1", "state=%3C%2Fscript%3E")
        ),
        &session,
    );
    assert_eq!(silent.status, 200);
    let html = String::from_utf8(silent.body.clone()).unwrap();
    assert!(html.contains("type:\"authorization_response\""), "{html}");
    assert!(
        html.contains("\"origin\":\"https://app.example.com\""),
        "{html}"
    );
    assert!(html.contains("\"code\":"), "{html}");
    assert!(
        !html.contains("</script>\"") && html.contains("\\u003c/script>"),
        "{html}"
    );
    let csp = silent.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors https://app.example.com"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));

    // Without a session: login_required, by the same channel.
    let none = get(
        &t,
        &format!(
            "/authorize?{}",
            authorize_query("&prompt=none&response_mode=web_message")
        ),
        "",
    );
    let html = String::from_utf8(none.body.clone()).unwrap();
    assert!(html.contains("login_required"), "{html}");

    // A redirect URI whose origin is not a registered web origin cannot use web_message.
    t.edit_client(SPA, |c| c.web_origins.clear());
    let refused = get(
        &t,
        &format!(
            "/authorize?{}",
            authorize_query("&response_mode=web_message")
        ),
        &session,
    );
    assert_eq!(refused.status, 302);
    assert_eq!(
        param(&location_params(&refused), "error"),
        Some("invalid_request")
    );
}

/// Opens the sign-up form (`screen_hint=signup`) and posts it.
fn sign_up(t: &Tenant, email: &str, password: &str) -> HttpResponse {
    let page = get(
        t,
        &format!("/authorize?{}", authorize_query("&screen_hint=signup")),
        "",
    );
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("Create your account"), "{html}");
    assert!(html.contains("action=\"/u/signup\""));
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", email);
    form.append_pair("password", password);
    post_form(t, "/u/signup", &form.finish(), &csrf)
}

#[test]
fn sign_up_creates_the_user_and_signs_them_in() {
    let t = tenant();
    let resp = sign_up(&t, "Grace@Example.com", "a long enough password");
    assert_eq!(resp.status, 303, "{}", String::from_utf8_lossy(&resp.body));
    assert!(set_cookie(&resp, "__Host-session").is_some());
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let tokens = redeem(&t, &code, VERIFIER).json_body();
    let id = verify_jwt(&t, tokens["id_token"].as_str().unwrap(), SPA);
    let sub = id["sub"].as_str().unwrap();
    assert!(
        sub.starts_with("auth0|") && sub.len() == "auth0|".len() + 24,
        "{sub}"
    );
    let user = pollster::block_on(edge_issuer::port::UserStore::user(&t.store, sub))
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("Grace@Example.com"));
    assert!(!user.email_verified);
    assert!(user.password_hash.unwrap().starts_with("$pbkdf2-sha256$"));

    // The same email again, in any case: refused on the form, nothing created.
    let again = sign_up(&t, "grace@example.COM", "another long password");
    assert_eq!(again.status, 400);
    assert!(String::from_utf8_lossy(&again.body).contains("already exists"));
}

#[test]
fn sign_up_checks_the_password_policy_and_the_pipeline_before_creating_anyone() {
    use edge_issuer::model::{OnFailure, Trigger};
    let t = tenant();
    let weak = sign_up(&t, "weak@example.com", "short");
    assert_eq!(weak.status, 400);
    assert!(String::from_utf8_lossy(&weak.body).contains("at least 8 characters"));
    let exists = |email: &str| {
        let key = edge_issuer::port::UserKey::Email {
            connection: edge_issuer::model::config::DEFAULT_CONNECTION,
            email_lower: email,
        };
        let read = edge_issuer::port::SubjectStore::subject(&t.store, key, None, None);
        pollster::block_on(read).unwrap().user.is_some()
    };
    assert!(!exists("weak@example.com"));

    hook(&t, Trigger::PostLogin, OnFailure::Deny);
    answer(&t, |_| Ok(br#"{"deny":"Sign-ups are closed."}"#.to_vec()));
    let denied = sign_up(&t, "denied@example.com", "a long enough password");
    assert_eq!(
        param(&location_params(&denied), "error"),
        Some("access_denied")
    );
    assert!(
        !exists("denied@example.com"),
        "a denied sign-up creates no user"
    );
}

#[test]
fn with_sign_up_off_the_form_offers_no_link_and_the_endpoint_refuses() {
    let mut t = tenant();
    t.config.signup = false;
    let page = get(
        &t,
        &format!("/authorize?{}", authorize_query("&screen_hint=signup")),
        "",
    );
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("Sign in to"), "the login form instead");
    assert!(!html.contains("screen_hint=signup"), "no link to sign-up");
    assert!(html.contains("Forgot password?"), "still a way back in");
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", "new@example.com");
    form.append_pair("password", "a long enough password");
    let resp = post_form(&t, "/u/signup", &form.finish(), &csrf);
    assert_eq!(resp.status, 403);
}

#[test]
fn the_login_form_links_to_sign_up_with_the_same_request() {
    let t = tenant();
    let page = get(&t, &format!("/authorize?{}", authorize_query("")), "");
    let html = String::from_utf8(page.body.clone()).unwrap();
    let start = html.find("<a href=\"/authorize?").unwrap() + "<a href=\"".len();
    let href = html[start..start + html[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(href.contains("screen_hint=signup"));
    assert!(href.contains(&format!("code_challenge={CHALLENGE}")));
    let signup = get(&t, &href, "");
    assert!(String::from_utf8_lossy(&signup.body).contains("Create your account"));
}

#[test]
fn single_sign_on_keeps_the_session_alive_up_to_its_absolute_lifetime() {
    use edge_issuer::oauth::session::{ABSOLUTE_LIFETIME, IDLE_LIFETIME};
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let sso = |t: &Tenant| get(t, &format!("/authorize?{}", authorize_query("")), &session);
    // Used every two days, the session outlives its 3-day idle lifetime.
    for _ in 0..3 {
        t.clock.advance(IDLE_LIFETIME - 86_400);
        assert_eq!(sso(&t).status, 302, "still signed in");
    }
    // Left idle past it, it is over: the login form again.
    t.clock.advance(IDLE_LIFETIME + 1);
    assert_eq!(sso(&t).status, 200);

    // However often it is used, it ends at its absolute lifetime.
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    let mut elapsed = 0;
    while elapsed + 86_400 < ABSOLUTE_LIFETIME {
        t.clock.advance(86_400);
        elapsed += 86_400;
        let r = get(&t, &format!("/authorize?{}", authorize_query("")), &session);
        assert_eq!(r.status, 302, "day {}", elapsed / 86_400);
    }
    t.clock.advance(ABSOLUTE_LIFETIME - elapsed);
    let r = get(&t, &format!("/authorize?{}", authorize_query("")), &session);
    assert_eq!(r.status, 200, "past the absolute lifetime");
}

#[test]
fn the_code_flow_makes_the_round_trips_it_needs_and_no_more() {
    let t = tenant();
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    let session = set_cookie(&resp, "__Host-session").unwrap();
    // The first tokens create the signing keys (ES256, RS256): three calls each, once.
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    assert_eq!(redeem(&t, &code, VERIFIER).status, 200);
    // The login page: no storage at all (the transaction is sealed into the form).
    let before = (t.store.round_trips(), t.store.cached_reads());
    let page = get(&t, &format!("/authorize?{}", authorize_query("")), "");
    assert_eq!(page.status, 200);
    let after = (t.store.round_trips(), t.store.cached_reads());
    assert_eq!(after.0 - before.0, 0, "login page: storage round trips");
    // The login POST: the attempt count, the user with organization, roles and permissions,
    // and the sign-in batch; the client, the connections, the API and the pipeline from
    // memory.
    let html = String::from_utf8(page.body.clone()).unwrap();
    let csrf = set_cookie(&page, "__Host-csrf").unwrap();
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(form_fields(&html));
    form.append_pair("email", USER_EMAIL);
    form.append_pair("password", USER_PASSWORD);
    let before = (t.store.round_trips(), t.store.cached_reads());
    let resp = post_form(&t, "/u/login", &form.finish(), &csrf);
    assert_eq!(resp.status, 303);
    let after = (t.store.round_trips(), t.store.cached_reads());
    assert_eq!(after.0 - before.0, 3, "login POST: round trips");
    assert_eq!(
        after.1 - before.1,
        7,
        "login POST: reads kept in memory (the Guardian settings, for passkeys and for the \
         second factor, and post-login rules among them)"
    );
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let before = (t.store.round_trips(), t.store.cached_reads());
    assert_eq!(redeem(&t, &code, VERIFIER).status, 200);
    // The code with its user, organization, roles and permissions (one batch), and the
    // redemption (one batch); the client, API and pipeline come from a warm isolate's memory.
    let after = (t.store.round_trips(), t.store.cached_reads());
    assert_eq!(after.0 - before.0, 2, "redemption: storage round trips");
    assert_eq!(after.1 - before.1, 3, "redemption: reads kept in memory");
    let before = (t.store.round_trips(), t.store.cached_reads());
    let sso = get(&t, &format!("/authorize?{}", authorize_query("")), &session);
    assert_eq!(sso.status, 302);
    // The session; the user with organization, roles and permissions (one batch); the
    // sign-in (one batch). Client, connections, API and pipeline from memory.
    let after = (t.store.round_trips(), t.store.cached_reads());
    assert_eq!(
        after.0 - before.0,
        3,
        "/authorize from a session: round trips"
    );
    assert_eq!(
        after.1 - before.1,
        4,
        "/authorize from a session: reads kept in memory"
    );
}

#[test]
fn an_organization_the_user_is_not_in_is_access_denied_and_one_they_are_in_is_in_the_tokens() {
    use edge_issuer::model::Organization;
    let t = tenant();
    for (id, name) in [("org_acme", "acme"), ("org_globex", "globex")] {
        t.store.put_org(Organization {
            org_id: id.into(),
            name: name.into(),
            display_name: None,
            token_org_name: true,
        });
    }
    t.store.add_member("org_acme", USER_ID);
    for other in ["globex", "no-such-org"] {
        let (resp, _) = sign_in(&t, &format!("&organization={other}"), USER_PASSWORD);
        assert_eq!(resp.status, 303, "{other}");
        let params = location_params(&resp);
        assert_eq!(param(&params, "error"), Some("access_denied"), "{other}");
        assert_eq!(param(&params, "code"), None);
    }
    let (resp, _) = sign_in(&t, "&organization=acme", USER_PASSWORD);
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    let tokens = redeem(&t, &code, VERIFIER).json_body();
    let id = verify_jwt(&t, tokens["id_token"].as_str().unwrap(), SPA);
    assert_eq!(id["org_id"], "org_acme");
    assert_eq!(id["org_name"], "acme");
}

#[test]
fn hosted_logins_are_logged_with_their_client_and_never_the_password() {
    use edge_issuer::model::{LogQuery, Paging};
    use edge_issuer::port::LogStore;
    let t = tenant();
    sign_in(&t, "", "not the password");
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let query = LogQuery {
        kind: None,
        user_id: None,
        client_id: None,
        ascending: true,
        paging: Paging {
            offset: 0,
            limit: 10,
        },
    };
    let logs = pollster::block_on(t.store.list_logs(&query)).unwrap().items;
    let kinds: Vec<&str> = logs.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["fp", "s"]);
    assert_eq!(logs[1].user_id.as_deref(), Some(USER_ID));
    assert_eq!(logs[0].user_name.as_deref(), Some(USER_EMAIL));
    assert!(logs.iter().all(|e| e.client_id.is_some()));
    let text = format!("{logs:?}");
    assert!(!text.contains(USER_PASSWORD) && !text.contains("not the password"));
}

/// A tenant with its keys made, signed in: the code and the verifier to redeem it.
fn signed_in() -> (Tenant, String) {
    let t = tenant();
    t.get("/.well-known/jwks.json");
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let code = param(&location_params(&resp), "code").unwrap().to_string();
    (t, code)
}

#[test]
fn a_code_redemption_fails_closed_at_every_store_call() {
    let walked = walk_faults(signed_in, |t, code| redeem(t, code, VERIFIER));
    assert!(walked >= 3, "{walked}");
}

#[test]
fn a_sign_in_fails_closed_at_every_store_call() {
    // The form as the browser got it, posted: each store call of the sign-in failing leaves
    // no session, code or login recorded, and the same post then signs in.
    let walked = walk_faults_answering(
        || {
            let t = tenant();
            t.get("/.well-known/jwks.json");
            let page = get(&t, &format!("/authorize?{}", authorize_query("")), "");
            let html = String::from_utf8(page.body.clone()).unwrap();
            let csrf = set_cookie(&page, "__Host-csrf").unwrap();
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(form_fields(&html));
            form.append_pair("email", USER_EMAIL);
            form.append_pair("password", USER_PASSWORD);
            (t, (form.finish(), csrf))
        },
        |t, (form, csrf)| post_form(t, "/u/login", form, csrf),
        // The hosted page's error page, not JSON.
        |_| (500, None),
    );
    assert!(walked >= 3, "{walked}");
}

// Implicit and hybrid response types (OIDC Core §3.2, §3.3), for clients allowed `implicit`.

const WEB: &str = "web";
const WEB_SECRET: &str = "web-secret";

/// A confidential web app allowed the implicit grant besides the code flow.
fn implicit_tenant() -> Tenant {
    let t = tenant();
    t.store.put_client(Client {
        client_id: WEB.into(),
        name: "Web app".into(),
        secret_hash: Some(edge_issuer::model::secret::hash_client_secret(WEB_SECRET)),
        grant_types: vec![
            "implicit".into(),
            "authorization_code".into(),
            "refresh_token".into(),
        ],
        default_audience: Some(API.into()),
        redirect_uris: vec![CALLBACK.into()],
        ..client_defaults()
    });
    t
}

fn implicit_query(client: &str, response_type: &str, extra: &str) -> String {
    format!(
        "response_type={}&client_id={client}&redirect_uri={}&scope=openid%20profile%20read:data&state=st-2{extra}",
        enc(response_type),
        enc(CALLBACK)
    )
}

/// The parameters of a redirect's fragment (and that its query carries none of them).
fn fragment_params(resp: &HttpResponse) -> Vec<(String, String)> {
    let location = resp.header("location").expect("a redirect");
    let (base, fragment) = location.split_once('#').expect("a fragment");
    assert_eq!(base, CALLBACK, "nothing in the query");
    form_urlencoded::parse(fragment.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn id_token_token_without_a_nonce_is_an_error_in_the_fragment() {
    let t = implicit_tenant();
    let resp = get(
        &t,
        &format!("/authorize?{}", implicit_query(WEB, "id_token token", "")),
        "",
    );
    assert_eq!(resp.status, 302);
    let params = fragment_params(&resp);
    assert_eq!(param(&params, "error"), Some("invalid_request"));
    assert!(param(&params, "error_description")
        .unwrap()
        .contains("nonce"));
    assert_eq!(param(&params, "state"), Some("st-2"));
    // response_mode=query would put tokens in a query: refused, in the fragment.
    let query = implicit_query(WEB, "id_token", "&nonce=n&response_mode=query");
    let resp = get(&t, &format!("/authorize?{query}"), "");
    assert!(param(&fragment_params(&resp), "error_description")
        .unwrap()
        .contains("cannot carry tokens"));
}

#[test]
fn a_client_without_the_implicit_grant_gets_no_tokens_through_the_browser() {
    let t = implicit_tenant();
    for response_type in ["id_token", "id_token token", "code id_token", "code token"] {
        let query = format!(
            "{}&code_challenge={CHALLENGE}&code_challenge_method=S256",
            implicit_query(SPA, response_type, "&nonce=n")
        );
        let resp = get(&t, &format!("/authorize?{query}"), "");
        let params = fragment_params(&resp);
        assert_eq!(
            param(&params, "error"),
            Some("unauthorized_client"),
            "{response_type}"
        );
    }
    let resp = get(
        &t,
        &format!("/authorize?{}", implicit_query(WEB, "token", "")),
        "",
    );
    assert_eq!(
        param(&location_params(&resp), "error"),
        Some("unsupported_response_type")
    );
    // And the token endpoint never takes `implicit` as a grant.
    let form = format!("grant_type=implicit&client_id={WEB}&client_secret={WEB_SECRET}");
    let refused = post_form(&t, "/oauth/token", &form, "");
    assert_eq!(refused.json_body()["error"], "unsupported_grant_type");
}

#[test]
fn id_token_token_answers_in_the_fragment_with_at_hash_nonce_and_a_verifiable_access_token() {
    let t = implicit_tenant();
    let query = implicit_query(WEB, "id_token token", "&nonce=n-9");
    let (resp, _) = sign_in_to(&t, &query, USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let params = fragment_params(&resp);
    assert!(param(&params, "code").is_none() && param(&params, "refresh_token").is_none());
    let access = param(&params, "access_token").unwrap();
    assert_eq!(param(&params, "token_type"), Some("Bearer"));
    assert_eq!(param(&params, "state"), Some("st-2"));
    let at = verify_jwt(&t, access, API);
    assert_eq!(
        (at["sub"].as_str(), at["gty"].as_str()),
        (Some(USER_ID), Some("implicit"))
    );
    let id = verify_jwt(&t, param(&params, "id_token").unwrap(), WEB);
    assert_eq!(id["nonce"], "n-9");
    assert!(id["sid"].is_string() && id["auth_time"].is_u64());
    let digest = sha2::Sha256::digest(access.as_bytes());
    use base64::Engine;
    use sha2::Digest;
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(id["at_hash"], expected.as_str());
    // The access token works at /userinfo.
    let bearer = format!("Bearer {access}");
    assert_eq!(
        t.userinfo("GET", &[("authorization", &bearer)], "").status,
        200
    );
}

#[test]
fn hybrid_code_id_token_binds_the_code_by_c_hash_and_the_code_redeems_once() {
    use base64::Engine;
    use sha2::Digest;
    let t = implicit_tenant();
    let query = implicit_query(WEB, "code id_token", "&nonce=n-3&response_mode=form_post");
    let (resp, _) = sign_in_to(&t, &query, USER_PASSWORD);
    assert_eq!(resp.status, 200, "form_post answers a page");
    let html = String::from_utf8(resp.body.clone()).unwrap();
    let fields = form_fields(&html);
    let code = param(&fields, "code").unwrap();
    let id = verify_jwt(&t, param(&fields, "id_token").unwrap(), WEB);
    let digest = sha2::Sha256::digest(code.as_bytes());
    let c_hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(id["c_hash"], c_hash.as_str());
    assert!(id.get("at_hash").is_none());
    let form = format!(
        "grant_type=authorization_code&client_id={WEB}&client_secret={WEB_SECRET}&code={}&redirect_uri={}",
        enc(code),
        enc(CALLBACK)
    );
    let tokens = post_form(&t, "/oauth/token", &form, "").json_body();
    assert!(tokens["access_token"].is_string(), "{tokens}");
    let back = verify_jwt(&t, tokens["id_token"].as_str().unwrap(), WEB);
    assert_eq!(back["sub"], id["sub"]);
    assert_eq!(back["nonce"], "n-3");
    let again = post_form(&t, "/oauth/token", &form, "").json_body();
    assert_eq!(again["error"], "invalid_grant");
}

#[test]
fn clients_created_without_grant_types_get_auth0s_defaults_for_their_app_type() {
    let t = management_tenant();
    let admin = admin_token(&t, &MGMT_SCOPES);
    let create = |body: serde_json::Value| {
        ok(
            &manage(&t, "POST", "/api/v2/clients", &admin, Some(body)),
            201,
        )["grant_types"]
            .clone()
    };
    let browser = serde_json::json!(["implicit", "authorization_code", "refresh_token"]);
    let spa =
        serde_json::json!({"name": "s", "app_type": "spa", "token_endpoint_auth_method": "none"});
    assert_eq!(create(spa), browser);
    assert_eq!(
        create(serde_json::json!({"name": "n", "app_type": "native"})),
        browser
    );
    assert_eq!(
        create(serde_json::json!({"name": "w", "app_type": "regular_web"})),
        serde_json::json!([
            "implicit",
            "authorization_code",
            "refresh_token",
            "client_credentials"
        ])
    );
    assert_eq!(
        create(serde_json::json!({"name": "m", "app_type": "non_interactive"})),
        serde_json::json!(["client_credentials"])
    );
    let chosen = serde_json::json!({"name": "c", "grant_types": ["authorization_code"]});
    assert_eq!(create(chosen), serde_json::json!(["authorization_code"]));
}

#[test]
fn sign_up_refuses_an_invisible_character_and_a_look_alike_of_an_existing_address() {
    let t = tenant();
    let before = t.store.durable_state();
    // USER_EMAIL is Ada@Example.com.
    let hidden = sign_up(&t, "ada\u{200B}@example.com", "a long enough password");
    assert_eq!(hidden.status, 400);
    assert!(String::from_utf8_lossy(&hidden.body).contains("invisible character"));
    // Fullwidth folds (NFKC) to the address itself: the form says it exists.
    let fullwidth = sign_up(&t, "ａｄａ@ｅｘａｍｐｌｅ.com", "a long enough password");
    assert_eq!(fullwidth.status, 400);
    assert!(String::from_utf8_lossy(&fullwidth.body).contains("already exists"));
    // A Cyrillic а does not fold; its look-alike key is taken.
    let cyrillic = sign_up(&t, "\u{0430}da@example.com", "a long enough password");
    assert_eq!(cyrillic.status, 409);
    assert!(String::from_utf8_lossy(&cyrillic.body).contains("looks the same"));
    assert!(set_cookie(&cyrillic, "__Host-session").is_none());
    assert_eq!(t.store.durable_state(), before, "nobody was created");
}

/// The `post-login` events the tenant's hook received, in order.
fn hook_events(t: &Tenant) -> std::rc::Rc<std::cell::RefCell<Vec<Value>>> {
    use edge_issuer::model::{OnFailure, Trigger};
    hook(t, Trigger::PostLogin, OnFailure::Deny);
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let kept = seen.clone();
    answer(t, move |body| {
        let event: Value = serde_json::from_str(body).unwrap();
        let refuse_ropg = event["event"]["grant_type"] == "password";
        kept.borrow_mut().push(event["event"].clone());
        // The common hook that turns the resource-owner password grant away.
        Ok(if refuse_ropg {
            br#"{"deny":"Use the hosted login."}"#.to_vec()
        } else {
            b"{}".to_vec()
        })
    });
    seen
}

#[test]
fn a_browser_sign_in_is_the_code_flow_to_the_pipeline_not_the_password_grant() {
    let t = tenant();
    let events = hook_events(&t);
    let (resp, _) = sign_in(&t, "", USER_PASSWORD);
    assert_eq!(
        resp.status, 303,
        "a hook refusing the password grant lets browsers in"
    );
    let params = location_params(&resp);
    assert_eq!(param(&params, "error"), None, "{params:?}");
    let code = param(&params, "code").unwrap().to_string();
    let at_sign_in = events.borrow()[0].clone();
    assert_eq!(at_sign_in["grant_type"], "authorization_code");
    assert_eq!(at_sign_in["transaction"]["protocol"], "oidc-basic-profile");
    assert_eq!(at_sign_in["transaction"]["redirect_uri"], CALLBACK);
    assert_eq!(
        at_sign_in["transaction"]["response_type"],
        serde_json::json!(["code"])
    );
    assert_eq!(at_sign_in["transaction"]["state"], "st-1");
    assert_eq!(
        at_sign_in["transaction"]["requested_scopes"],
        serde_json::json!(["openid", "profile", "offline_access", "read:data"])
    );
    assert_eq!(
        at_sign_in["connection"]["name"],
        "Username-Password-Authentication"
    );
    assert_eq!(at_sign_in["connection"]["strategy"], "auth0");
    assert_eq!(at_sign_in["authentication"]["methods"][0]["name"], "pwd");
    assert_eq!(at_sign_in["client"]["client_id"], SPA);
    assert_eq!(at_sign_in["user"]["user_id"], USER_ID);
    assert!(at_sign_in["session"]["id"].is_string());

    // The redemption is the code flow too, with the same connection and methods; the ID
    // token says how the user signed in (RFC 8176), and so does a refreshed one.
    let tokens = redeem(&t, &code, VERIFIER).json_body();
    let id = verify_jwt(&t, tokens["id_token"].as_str().unwrap(), SPA);
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    let form = format!(
        "grant_type=refresh_token&client_id={SPA}&refresh_token={}",
        enc(tokens["refresh_token"].as_str().unwrap())
    );
    let refreshed = post_form(&t, "/oauth/token", &form, "").json_body();
    let id = verify_jwt(&t, refreshed["id_token"].as_str().unwrap(), SPA);
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    let at_redemption = events.borrow()[1].clone();
    assert_eq!(at_redemption["grant_type"], "authorization_code");
    assert_eq!(
        at_redemption["transaction"]["protocol"],
        "oidc-basic-profile"
    );
    assert_eq!(at_redemption["authentication"]["methods"][0]["name"], "pwd");
    assert_eq!(
        at_redemption["connection"]["name"],
        "Username-Password-Authentication"
    );

    // The password grant is still refused by the same hook.
    let resp = t.password("");
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.json_body()["error_description"],
        "Use the hosted login."
    );
    let at_refresh = events.borrow()[2].clone();
    assert_eq!(at_refresh["grant_type"], "refresh_token");
    assert_eq!(
        at_refresh["transaction"]["protocol"],
        "oauth2-refresh-token"
    );
    assert_eq!(at_refresh["authentication"]["methods"][0]["name"], "pwd");
    let ropg = events.borrow()[3].clone();
    assert_eq!(ropg["grant_type"], "password");
    assert_eq!(ropg["transaction"]["protocol"], "oauth2-password");
    assert_eq!(ropg["authentication"]["methods"][0]["name"], "pwd");
}

#[test]
fn implicit_and_hybrid_sign_ins_are_their_own_flows_to_the_pipeline() {
    let t = implicit_tenant();
    let events = hook_events(&t);
    let query = implicit_query(WEB, "id_token token", "&nonce=n-3&response_mode=form_post");
    let (resp, _) = sign_in_to(&t, &query, USER_PASSWORD);
    assert_eq!(resp.status, 200, "a form post");
    let implicit = events.borrow()[0].clone();
    assert_eq!(implicit["grant_type"], "implicit");
    assert_eq!(implicit["transaction"]["protocol"], "oidc-implicit-profile");
    assert_eq!(
        implicit["transaction"]["response_type"],
        serde_json::json!(["id_token", "token"])
    );
    assert_eq!(implicit["transaction"]["response_mode"], "form_post");
    assert_eq!(implicit["authentication"]["methods"][0]["name"], "pwd");
    // The ID token in the response says how the user signed in.
    let html = String::from_utf8(resp.body.clone()).unwrap();
    let id_token = form_fields(&html)
        .into_iter()
        .find(|(k, _)| k == "id_token")
        .map(|(_, v)| v)
        .unwrap();
    assert_eq!(
        verify_jwt(&t, &id_token, WEB)["amr"],
        serde_json::json!(["pwd"])
    );
    let hybrid = implicit_query(
        WEB,
        "code id_token",
        "&nonce=n-4&prompt=login&acr_values=urn:x",
    );
    let (resp, _) = sign_in_to(&t, &hybrid, USER_PASSWORD);
    assert_eq!(resp.status, 303);
    let at_hybrid = events.borrow()[1].clone();
    assert_eq!(at_hybrid["transaction"]["protocol"], "oidc-hybrid-profile");
    assert_eq!(
        at_hybrid["transaction"]["prompt"],
        serde_json::json!(["login"])
    );
    assert_eq!(
        at_hybrid["transaction"]["acr_values"],
        serde_json::json!(["urn:x"])
    );
}
