//! Account routes outside a sign-in: Auth0's `POST /dbconnections/signup` and
//! `POST /dbconnections/change_password` (JSON or a form, as its SDKs send them), the
//! hosted "Forgot password?" form (`/u/reset-password/request`), an email verification link
//! (`GET /u/email-verification`), a reset link's form (`/u/reset-password`), and a
//! passwordless code or link asked for (`POST /passwordless/start`). Each goes
//! down to [`crate::oauth::account`] once and is shown here.

use super::pages;
use super::screen::html_response;
use super::token::client_error_response;
use crate::error::OAuthError;
use crate::model::config::paths;
use crate::model::connection::EMAIL;
use crate::oauth::account::{AccountError, Signup};
use crate::oauth::client_auth::{authenticate, credentials, AuthenticatedClient};
use crate::oauth::issuer::Issuer;
use crate::oauth::params::Params;
use crate::oauth::provision::{Credential, Draft};
use crate::oauth::signin::{passwordless, SignInError};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClientStore, Stores};
use crate::web::{HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

/// What `/dbconnections/change_password` answers, whether or not the address has an account.
const RESET_SENT: &str = "We've just sent you an email to reset your password.";

/// An Auth0 Authentication API error: `{name, code, description, statusCode}`.
fn api_error(e: &AccountError, log: &dyn Fn(&str)) -> HttpResponse {
    let (name, code) = match e {
        AccountError::Invalid(code, _) => ("BadRequestError", *code),
        AccountError::Exists => ("BadRequestError", "user_exists"),
        AccountError::Password(_) => ("PasswordStrengthError", "invalid_password"),
        AccountError::Disabled(_) => ("ForbiddenError", "operation_not_allowed"),
        AccountError::Failed(_) => ("InternalServerError", "server_error"),
    };
    let (status, description) = e.answer(log);
    HttpResponse::json(
        status,
        &json!({ "name": name, "code": code, "description": description, "statusCode": status }),
    )
    .no_store()
}

/// The body as an object of members: JSON, or a form's fields as strings.
pub(super) fn body_object(req: &HttpRequest) -> Result<Map<String, Value>, AccountError> {
    let bad = |why: &str| AccountError::Invalid("invalid_request", why.to_string());
    let json = req
        .header("content-type")
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    if json {
        match crate::model::strict_json::parse(&req.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(bad("the body is not a JSON object")),
            Err(e) => Err(bad(&format!("the body is not JSON: {e}"))),
        }
    } else {
        let form = req.body_params().map_err(|e| bad(&e.to_string()))?;
        Ok(crate::model::object(
            form.pairs()
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone()))),
        ))
    }
}

/// A string member, `""` when absent; any other type is refused.
fn text(m: &mut Map<String, Value>, name: &str) -> Result<String, AccountError> {
    match m.remove(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(AccountError::Invalid(
            "invalid_request",
            format!("{name} must be a string"),
        )),
    }
}

fn optional(m: &mut Map<String, Value>, name: &str) -> Result<Option<String>, AccountError> {
    text(m, name).map(|s| Some(s).filter(|s| !s.is_empty()))
}

/// `POST /dbconnections/signup`: `{_id, email, email_verified}` and the profile given, as
/// Auth0 answers.
pub async fn signup<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let form = match signup_form(req) {
        Ok(f) => f,
        Err(e) => return api_error(&e, issuer.log),
    };
    match issuer.account().signup(form).settle().await {
        Ok(user) => {
            let id = user.user_id.strip_prefix("auth0|").unwrap_or(&user.user_id);
            let mut body = json!({
                "_id": id,
                "email": user.email,
                "email_verified": user.email_verified,
            });
            for (name, value) in [
                ("name", &user.name),
                ("given_name", &user.given_name),
                ("family_name", &user.family_name),
                ("nickname", &user.nickname),
                ("picture", &user.picture),
            ] {
                if let Some(v) = value {
                    body[name] = json!(v);
                }
            }
            if user
                .user_metadata
                .as_object()
                .is_some_and(|m| !m.is_empty())
            {
                body["user_metadata"] = user.user_metadata.clone();
            }
            HttpResponse::json(200, &body).no_store()
        }
        Err(e) => api_error(&e, issuer.log),
    }
}

fn signup_form(req: &HttpRequest) -> Result<Signup, AccountError> {
    let mut m = body_object(req)?;
    let user_metadata = match m.remove("user_metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => Some(o),
        Some(Value::String(s)) => match crate::model::strict_json::parse(s.as_bytes()) {
            Ok(Value::Object(o)) => Some(o),
            _ => {
                return Err(AccountError::Invalid(
                    "invalid_request",
                    "user_metadata must be an object".into(),
                ))
            }
        },
        Some(_) => {
            return Err(AccountError::Invalid(
                "invalid_request",
                "user_metadata must be an object".into(),
            ))
        }
    };
    let form = Signup {
        client_id: text(&mut m, "client_id")?,
        connection: text(&mut m, "connection")?,
        user: Draft {
            email: text(&mut m, "email")?,
            credential: Credential::Password(text(&mut m, "password")?),
            name: optional(&mut m, "name")?,
            given_name: optional(&mut m, "given_name")?,
            family_name: optional(&mut m, "family_name")?,
            nickname: optional(&mut m, "nickname")?,
            picture: optional(&mut m, "picture")?,
            user_metadata,
            ..Draft::default()
        },
    };
    // Auth0 requires `connection`; a username is not supported (users sign in by email).
    if form.connection.is_empty() {
        return Err(AccountError::Invalid(
            "invalid_request",
            "connection is required".into(),
        ));
    }
    if optional(&mut m, "username")?.is_some() {
        return Err(AccountError::Invalid(
            "invalid_signup",
            "username is not supported: users sign in with their email".into(),
        ));
    }
    Ok(form)
}

/// `POST /dbconnections/change_password`: the same answer whether or not the address has an
/// account (a text body, as Auth0's).
pub async fn change_password<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let asked = async {
        let mut m = body_object(req)?;
        let (client_id, connection) = (text(&mut m, "client_id")?, text(&mut m, "connection")?);
        let email = text(&mut m, "email")?;
        issuer
            .account()
            .change_password(&client_id, &connection, &email)
            .settle()
            .await
    };
    match asked.settle().await {
        Ok(()) => HttpResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: RESET_SENT.as_bytes().to_vec(),
        }
        .no_store(),
        Err(e) => api_error(&e, issuer.log),
    }
}

fn page(status: u16, html: String) -> HttpResponse {
    html_response(status, html, &pages::csp(&[], false, None))
}

/// `GET` and `POST /u/reset-password/request`: the "Forgot password?" form of the login
/// page, with the authorization request it came from (to go back to it).
pub async fn forgot<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let Ok(params) = req.params() else {
        return page(
            400,
            pages::notice(
                "Reset your password",
                "The request is malformed.",
                true,
                None,
            ),
        );
    };
    let request: Vec<(String, String)> = params
        .pairs()
        .iter()
        .filter(|(k, _)| k != "email")
        .cloned()
        .collect();
    let back = format!(
        "{}?{}",
        paths::AUTHORIZE,
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&request)
            .finish()
    );
    let client_id = params.get("client_id").unwrap_or("");
    let connection = params.get("connection").unwrap_or("");
    let account = issuer.account();
    if req.method == "POST" {
        let email = params.get("email").unwrap_or("");
        return match account
            .change_password(client_id, connection, email)
            .settle()
            .await
        {
            Ok(()) => page(
                200,
                pages::notice(
                    "Check your email",
                    "If an account with this address exists, we sent it a link to choose a new \
                     password. The link works once, and not for long.",
                    false,
                    Some(("Back to sign in", &back)),
                ),
            ),
            Err(e) => refused(issuer, &e),
        };
    }
    let client = match issuer.stores.clients().client(client_id).settle().await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return refused(
                issuer,
                &AccountError::Invalid("", "The application is not registered.".into()),
            )
        }
        Err(e) => return refused(issuer, &AccountError::Failed(e.into())),
    };
    let hint = params.get("login_hint").unwrap_or("");
    page(
        200,
        pages::forgot_password(paths::RESET_REQUEST, &client.name, &request, hint, &back),
    )
}

/// The page of a refused account request.
fn refused<P: Stores, C: Crypto>(issuer: &Issuer<'_, P, C>, e: &AccountError) -> HttpResponse {
    let (status, message) = e.answer(issuer.log);
    page(
        status,
        pages::notice("Something went wrong", message, true, None),
    )
}

/// Where the page after a link leads: the ticket's result URL with Auth0's `success` and
/// `message` (and `email`, when the template says so).
fn result_link(url: &str, message: &str, email: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("success", "true")
        .append_pair("message", message);
    if let Some(email) = email {
        query.append_pair("email", email);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", query.finish())
}

/// `GET /u/email-verification?ticket=…`: verifies the address, then goes to the ticket's
/// result URL, or says so.
pub async fn verify_email<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let params = Params::from_form(req.query.as_bytes()).unwrap_or_default();
    let value = params.get("ticket").unwrap_or("");
    let mailer = issuer.mailer();
    match mailer.verify(value).settle().await {
        Ok(Some(ticket)) => {
            const DONE: &str = "Your email address was verified.";
            let Some(url) = &ticket.result_url else {
                return page(200, pages::notice("Email verified", DONE, false, None));
            };
            let email = mailer
                .includes_email(crate::model::mail::VERIFY_EMAIL)
                .settle()
                .await;
            let location = result_link(url, DONE, email.then_some(ticket.email.as_str()));
            HttpResponse::empty(302)
                .with_header("location", &location)
                .no_store()
        }
        Ok(None) => page(
            400,
            pages::notice(
                "This link no longer works",
                "The verification link was used already, has expired, or a newer one replaced \
                 it. Sign in to ask for a new one.",
                true,
                None,
            ),
        ),
        Err(e) => refused(issuer, &AccountError::Failed(e)),
    }
}

/// `GET /u/reset-password?ticket=…`: the form of a working reset link.
pub async fn reset_form<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let params = Params::from_form(req.query.as_bytes()).unwrap_or_default();
    let value = params.get("ticket").unwrap_or("");
    match issuer.account().reset_form(value).settle().await {
        Ok(Some(form)) => page(
            200,
            pages::reset_password(
                paths::RESET_PASSWORD,
                value,
                &form.ticket.email,
                &form.password_rule,
                None,
            ),
        ),
        Ok(None) => link_gone(),
        Err(e) => refused(issuer, &e),
    }
}

fn link_gone() -> HttpResponse {
    page(
        400,
        pages::notice(
            "This link no longer works",
            "The reset link was used already, has expired, or was replaced by a newer one or a \
             change of password. Ask for a new one from the sign-in page.",
            true,
            None,
        ),
    )
}

/// `POST /u/reset-password`: the new password of a reset link.
pub async fn reset<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let params = req.body_params().unwrap_or_default();
    let value = params.get("ticket").unwrap_or("");
    let account = issuer.account();
    let form = match account.reset_form(value).settle().await {
        Ok(Some(form)) => form,
        Ok(None) => return link_gone(),
        Err(e) => return refused(issuer, &e),
    };
    let password = params.get("password").unwrap_or("");
    let done = match params.get("confirm") == Some(password) {
        true => account.reset(&form, password).settle().await,
        false => Err(AccountError::Password(
            "The two passwords are not the same.".into(),
        )),
    };
    match done {
        Ok(true) => {
            const DONE: &str = "Your password was changed. Sign in with the new one.";
            let link = form
                .ticket
                .result_url
                .as_deref()
                .map(|url| result_link(url, DONE, None));
            let link = link.as_deref().map(|l| ("Continue", l));
            page(200, pages::notice("Password changed", DONE, false, link))
        }
        Ok(false) => link_gone(),
        Err(AccountError::Password(why)) => page(
            400,
            pages::reset_password(
                paths::RESET_PASSWORD,
                value,
                &form.ticket.email,
                &form.password_rule,
                Some(&why),
            ),
        ),
        Err(e) => refused(issuer, &e),
    }
}

/// A JSON or form body of Auth0's Authentication API, its faults in OAuth terms.
pub(super) fn oauth_body(req: &HttpRequest) -> Result<Map<String, Value>, OAuthError> {
    body_object(req).map_err(|e| match e {
        AccountError::Invalid(_, why) => OAuthError::invalid_request(why),
        _ => OAuthError::invalid_request("the body is malformed"),
    })
}

/// A string field of such a body ("" when absent), taken out of it.
pub(super) fn field(m: &mut Map<String, Value>, name: &str) -> Result<String, OAuthError> {
    text(m, name).map_err(|_| OAuthError::invalid_request(format!("{name} must be a string")))
}

/// The client such a body names (`client_id`, `client_secret`, or Basic authentication),
/// authenticated as the token endpoint authenticates it.
pub(super) async fn body_client<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
    m: &mut Map<String, Value>,
) -> Result<AuthenticatedClient, OAuthError> {
    let mut pairs = Vec::new();
    for name in ["client_id", "client_secret"] {
        let value = field(m, name)?;
        if !value.is_empty() {
            pairs.push((name.to_string(), value));
        }
    }
    let creds = credentials(req.header("authorization"), &Params::from_pairs(pairs)?)?;
    authenticate(issuer.stores.clients(), &creds).settle().await
}

/// `POST /passwordless/start` (Auth0's Authentication API, JSON or a form): `{client_id,
/// connection (email), email, send (code | link; a link when absent, as Auth0), authParams}`,
/// with the client's secret when it is confidential. Answers `{email}` whether or not the
/// address has a user; OAuth errors otherwise (429 `too_many_requests` past the budget).
pub async fn passwordless_start<P: Stores, C: Crypto>(
    issuer: &Issuer<'_, P, C>,
    req: &HttpRequest,
) -> HttpResponse {
    let started = async {
        let mut m = oauth_body(req)?;
        let client = body_client(issuer, req, &mut m).settle().await?;
        let email = field(&mut m, "email")?;
        if email.is_empty() {
            return Err(OAuthError::invalid_request("email is required"));
        }
        let connection = Some(field(&mut m, "connection")?)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| EMAIL.to_string());
        let link = match field(&mut m, "send")?.as_str() {
            "code" => None,
            "link" | "" => Some(auth_params(m.remove("authParams"))?),
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "send is code or link, not {other}"
                )))
            }
        };
        let (flow, mailer) = (issuer.sign_in(), issuer.mailer());
        passwordless::api_start(&flow, &mailer, &client.client, &connection, &email, link)
            .settle()
            .await
            .map_err(SignInError::into_grant_error)?;
        Ok(email)
    };
    match started.settle().await {
        Ok(email) => HttpResponse::json(200, &json!({ "email": email })).no_store(),
        Err(e) => client_error_response(issuer, &e).no_store(),
    }
}

/// `authParams`: an object of strings (the authorization request a link completes).
fn auth_params(value: Option<Value>) -> Result<Vec<(String, String)>, OAuthError> {
    let bad = || OAuthError::invalid_request("authParams must be an object of strings");
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                _ => Err(bad()),
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}
