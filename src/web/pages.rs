//! The issuer's own HTML: the hosted login form, the error page, and the auto-submitting form
//! of `response_mode=form_post`. Plain HTML and one small inline style sheet, no third-party
//! asset; every page carries a Content-Security-Policy that allows exactly its own style (and
//! script, for form_post) by hash, and may not be framed.

use crate::model::config::paths;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}\
main{max-width:22rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:.5rem;\
box-shadow:0 1px 3px #0002}h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem}\
input{box-sizing:border-box;width:100%;padding:.6rem;font:inherit;border:1px solid #8a8f98;border-radius:.25rem}\
button{margin-top:1.25rem;width:100%;padding:.7rem;font:inherit;color:#fff;background:#2454c5;border:0;border-radius:.25rem}\
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}.error{color:#a01818;margin:.5rem 0}\
.hint{color:#4a505a;font-size:.875rem;margin:.25rem 0 0}\
a.button{display:block;margin-top:1.25rem;padding:.7rem;text-align:center;color:#fff;background:#2454c5;border-radius:.25rem;text-decoration:none}\
a.provider,button.quiet{margin-top:.75rem;color:#1b1d21;background:#fff;border:1px solid #8a8f98}\
p.or{margin:1.25rem 0 0;text-align:center;color:#5b616b}\
svg.qr{display:block;width:12rem;height:12rem;margin:1rem auto}code{font:.95rem ui-monospace,monospace}\
code.key{display:block;margin:.25rem 0;overflow-wrap:anywhere}ol.codes{margin:.5rem 0;padding-left:2rem}\
h2{font-size:1.05rem;margin:1.5rem 0 .25rem}label.check{display:flex;gap:.5rem;align-items:center}\
label.check input{width:1.25rem;height:1.25rem;margin:0}details{margin-top:1.25rem}summary{cursor:pointer;color:#2454c5}\
@media (max-width:400px){main{margin:0;border-radius:0;min-height:100vh}}";

const SUBMIT: &str = "document.forms[0].submit();";

/// The WebAuthn button's script: the options of the JSON data block `wa` (base64url values)
/// handed to `navigator.credentials.create` (`user` given) or `.get`, and the answer posted,
/// base64url, as the form `wf`'s `webauthn` field. With `conditional`, the browser's autofill
/// offers the user's passkeys as soon as the page loads. No script runs without a browser that
/// has WebAuthn: the button stays hidden.
const PASSKEY: &str = "(function(){var P=window.PublicKeyCredential,b=document.getElementById(\"wb\");\
if(!P)return;b.hidden=false;var o=JSON.parse(document.getElementById(\"wa\").textContent),\
f=document.getElementById(\"wf\"),c;\
function d(s){return Uint8Array.from(atob(s.replace(/-/g,\"+\").replace(/_/g,\"/\")),function(x){return x.charCodeAt(0)})}\
function e(a){return a?btoa(String.fromCharCode.apply(null,new Uint8Array(a))).replace(/\\+/g,\"-\").replace(/\\//g,\"_\").replace(/=+$/,\"\"):null}\
function go(m){if(c)c.abort();c=new AbortController();\
var k=o.credentials.map(function(i){return{type:\"public-key\",id:d(i)}}),p;\
if(o.user)p=navigator.credentials.create({signal:c.signal,publicKey:{challenge:d(o.challenge),\
rp:{id:o.rpId,name:o.rpId},user:{id:d(o.user.id),name:o.user.name,displayName:o.user.name},\
pubKeyCredParams:[{type:\"public-key\",alg:-7},{type:\"public-key\",alg:-257}],excludeCredentials:k,\
authenticatorSelection:{authenticatorAttachment:o.attachment,residentKey:\"preferred\",\
userVerification:o.userVerification},attestation:\"none\"}});\
else p=navigator.credentials.get({signal:c.signal,mediation:m,publicKey:{challenge:d(o.challenge),\
rpId:o.rpId,allowCredentials:k,userVerification:o.userVerification}});\
p.then(function(r){if(!r)return;var s=r.response;f.webauthn.value=JSON.stringify({id:r.id,\
clientDataJSON:e(s.clientDataJSON),attestationObject:e(s.attestationObject),\
authenticatorData:e(s.authenticatorData),signature:e(s.signature),userHandle:e(s.userHandle),\
attachment:r.authenticatorAttachment});var q=document.getElementById(\"rm\");\
if(q)f.remember.value=q.checked?1:\"\";f.submit()},function(x){\
if(!m&&x.name!==\"AbortError\")document.getElementById(\"we\").hidden=false})}\
b.onclick=function(){go()};if(o.conditional&&P.isConditionalMediationAvailable)\
P.isConditionalMediationAvailable().then(function(y){if(y)go(\"conditional\")})})();";

/// The WebAuthn button, its form (posting to `action` with `fields`) and its script, for the
/// options `options` (JSON); hidden until the script finds WebAuthn in the browser.
fn passkey_button(
    body: &mut String,
    action: &str,
    fields: &str,
    options: &str,
    label: &str,
    quiet: bool,
) {
    body.push_str("<form id=\"wf\" method=\"post\" action=\"");
    body.push_str(action);
    body.push_str("\">");
    body.push_str(fields);
    body.push_str(
        "<input type=\"hidden\" name=\"webauthn\" value=\"\"><button type=\"button\" id=\"wb\" hidden",
    );
    if quiet {
        body.push_str(" class=\"quiet\"");
    }
    body.push('>');
    body.push_str(label);
    body.push_str(
        "</button></form><p id=\"we\" class=\"error\" role=\"alert\" hidden>That did not work. \
         Try again, or sign in another way.</p><script type=\"application/json\" id=\"wa\">",
    );
    // A JSON data block: `<` escaped so that no text in it can close the element.
    body.push_str(&options.replace('<', "\\u003c"));
    body.push_str("</script><script>");
    body.push_str(PASSKEY);
    body.push_str("</script>");
}

/// Posts the response of the JSON data block `r` to its target origin: Auth0's web_message
/// shape, `{type: "authorization_response", response: {…}}`.
const POST_MESSAGE: &str = "var d=JSON.parse(document.getElementById(\"r\").textContent);\
(window.opener||window.parent).postMessage({type:\"authorization_response\",response:d.response},d.origin);";

fn hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The Content-Security-Policy of a page; `form_action` lists where its form may go (and,
/// since browsers apply it to the redirects that follow a submission, where those may lead);
/// `framed_by` is the one origin that may frame it, else no one may.
pub fn csp(form_action: &[&str], with_script: bool, framed_by: Option<&str>) -> String {
    let mut actions = vec!["'self'".to_string()];
    actions.extend(form_action.iter().map(|a| a.to_string()));
    let script = if with_script {
        format!(
            "; script-src {} {} {}",
            hash(SUBMIT),
            hash(POST_MESSAGE),
            hash(PASSKEY)
        )
    } else {
        String::new()
    };
    format!(
        "default-src 'none'; style-src {}{script}; form-action {}; frame-ancestors {}; \
         base-uri 'none'",
        hash(STYLE),
        actions.join(" "),
        framed_by.unwrap_or("'none'")
    )
}

/// Escapes text for HTML content and attribute values.
pub use crate::model::mail::escape_html as escape;

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

fn hidden(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect()
}

/// What the login form shows.
pub struct LoginForm<'a> {
    /// The sign-up form states its password rule before the user submits.
    pub password_rule: Option<&'a str>,
    pub client_name: &'a str,
    /// Where the form posts.
    pub action: &'a str,
    /// The connection's display name, when it has one: "with your … account".
    pub connection: Option<&'a str>,
    /// The hidden fields the form posts back: the sealed login transaction.
    pub request: &'a [(String, String)],
    pub email: Option<&'a str>,
    pub error: Option<&'a str>,
    /// A link to the other form (sign-up from the login form, and back), if offered.
    pub other: Option<&'a str>,
    /// Whether the email and password fields are shown (a database connection).
    pub password: bool,
    /// The upstream providers offered: (link, label), a button each.
    pub providers: &'a [(String, String)],
    /// The "Forgot password?" link, where the connection lets users reset their own.
    pub forgot: Option<&'a str>,
    /// The "Email me a code" form (a passwordless connection is offered).
    pub code_offered: bool,
    /// A code was sent to `email`: the page asks for it.
    pub code_sent: bool,
    /// The options of "Sign in with a passkey" (JSON), when passkeys are offered.
    pub passkey: Option<&'a str>,
}

/// The hosted login form.
pub fn login(form: &LoginForm<'_>) -> String {
    credentials_form(
        form,
        "Sign in to",
        "current-password",
        "Continue",
        "Create an account",
    )
}

/// The hosted sign-up form: the same fields, a new password.
pub fn signup(form: &LoginForm<'_>) -> String {
    credentials_form(
        form,
        "Create your account for",
        "new-password",
        "Create account",
        "Already have an account? Sign in",
    )
}

/// The page asking for the code sent to `form.email`, and offering a new one.
fn code_form(form: &LoginForm<'_>, error: &str) -> String {
    let email = escape(form.email.unwrap_or(""));
    let request = hidden(form.request);
    let invalid = field_state(
        !error.is_empty(),
        &[(!error.is_empty()).then_some("form-error")],
    );
    let body = format!(
        "<h1>Enter your code for {client}</h1>\
         <p>We sent a 6-digit code to <b>{email}</b>. It works once, for 5 minutes.</p>{error}\
         <form method=\"post\" action=\"{verify}\">{request}\
         <input type=\"hidden\" name=\"email\" value=\"{email}\">\
         <label for=\"code\">Code</label>\
         <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
         pattern=\"[0-9]{{6}}\" maxlength=\"6\" required autofocus{invalid}>\
         <button type=\"submit\">Continue</button></form>\
         <form method=\"post\" action=\"{start}\">{request}\
         <input type=\"hidden\" name=\"email\" value=\"{email}\">\
         <button type=\"submit\" class=\"quiet\">Send a new code</button></form>",
        client = escape(form.client_name),
        verify = paths::CODE_VERIFY,
        start = paths::CODE_START,
    );
    page(&format!("Enter your code for {}", form.client_name), &body)
}

/// The login page's "Email me a code" form.
fn code_offer(form: &LoginForm<'_>) -> String {
    format!(
        "{or}<form method=\"post\" action=\"{start}\">{request}\
         <label for=\"code-email\">Email</label>\
         <input id=\"code-email\" name=\"email\" type=\"email\" autocomplete=\"email\" required value=\"{email}\">\
         <button type=\"submit\"{quiet}>Email me a code</button></form>",
        or = if form.password { "<p class=\"or\">or</p>" } else { "" },
        quiet = if form.password { " class=\"quiet\"" } else { "" },
        start = paths::CODE_START,
        request = hidden(form.request),
        email = escape(form.email.unwrap_or("")),
    )
}

fn credentials_form(
    form: &LoginForm<'_>,
    heading: &str,
    password_autocomplete: &str,
    submit: &str,
    other_label: &str,
) -> String {
    // After a refusal, focus lands on the message (read out as an alert) and both fields
    // are marked invalid and described by it.
    let error = form
        .error
        .map(|e| {
            format!(
                "<p id=\"form-error\" class=\"error\" role=\"alert\" tabindex=\"-1\" autofocus>{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    if form.code_sent {
        return code_form(form, &error);
    }
    let error_id = form.error.map(|_| "form-error");
    let rule_id = form.password_rule.map(|_| "password-rule");
    let rule = form
        .password_rule
        .map(|r| format!("<p id=\"password-rule\" class=\"hint\">{}</p>", escape(r)))
        .unwrap_or_default();
    let invalid = field_state(form.error.is_some(), &[error_id]);
    let password_described = field_state(form.error.is_some(), &[error_id, rule_id]);
    let other = form
        .other
        .map(|href| format!("<p><a href=\"{}\">{other_label}</a></p>", escape(href)))
        .unwrap_or_default();
    let forgot = form
        .forgot
        .map(|href| format!("<p><a href=\"{}\">Forgot password?</a></p>", escape(href)))
        .unwrap_or_default();
    let fields = format!(
        "<form method=\"post\" action=\"{action}\">{request}\
         <label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username{webauthn}\" required value=\"{email}\"{invalid}>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"{password_autocomplete}\" required{password_described}>{rule}{forgot}\
         <button type=\"submit\">{submit}</button></form>",
        action = escape(form.action),
        request = hidden(form.request),
        email = escape(form.email.unwrap_or("")),
        // The browser's autofill offers the user's passkeys in the email field.
        webauthn = if form.passkey.is_some() { " webauthn" } else { "" },
    );
    let mut passkey = String::new();
    if let Some(options) = form.passkey {
        if form.password {
            passkey.push_str("<p class=\"or\">or</p>");
        }
        let label = "Sign in with a passkey";
        passkey_button(
            &mut passkey,
            form.action,
            &hidden(form.request),
            options,
            label,
            form.password,
        );
    }
    let mut providers: String = form
        .providers
        .iter()
        .map(|(href, label)| {
            format!(
                "<a class=\"button provider\" href=\"{}\">Continue with {}</a>",
                escape(href),
                escape(label)
            )
        })
        .collect();
    if form.password && !providers.is_empty() {
        providers.insert_str(0, "<p class=\"or\">or</p>");
    }
    let code = match form.code_offered {
        true => code_offer(form),
        false => String::new(),
    };
    let body = format!(
        "<h1>{heading} {client}</h1>{through}{error}{fields}{passkey}{code}{providers}{other}",
        client = escape(form.client_name),
        through = form
            .connection
            .filter(|_| form.password)
            .map(|c| format!("<p class=\"hint\">With your {} account</p>", escape(c)))
            .unwrap_or_default(),
        fields = if form.password { fields } else { String::new() },
    );
    page(&format!("{heading} {}", form.client_name), &body)
}

/// The page asking for a second factor. While `enrolling` a first one: with `enrollment` (the
/// key in base32, its `otpauth://` URI, the recovery codes) it sets up an authenticator app,
/// and with `passkey` (the WebAuthn options, JSON) a security key or passkey. Else it asks
/// for the key (with `passkey`) or the app's code (`has_app`), or a recovery code. Written
/// with pushes rather than `format!`: the Worker's code is smaller so.
pub fn second_factor(
    client_name: &str,
    fields: &[(String, String)],
    (enrolling, has_app): (bool, bool),
    enrollment: Option<(&str, &str, &[String])>,
    passkey: Option<&str>,
    remember: Option<(bool, u64)>,
    error: Option<&str>,
) -> String {
    let request = hidden(fields);
    // The WebAuthn form's copy of the box, which its script sets.
    let key_fields = match remember {
        Some(_) => format!("{request}<input type=\"hidden\" name=\"remember\" value=\"\">"),
        None => request.clone(),
    };
    // The box, in the code's form (`cf`) or beside it; the WebAuthn script reads it too.
    let remember_box = |body: &mut String| {
        let Some((ticked, seconds)) = remember else {
            return;
        };
        body.push_str(
            "<label class=\"check\"><input type=\"checkbox\" id=\"rm\" name=\"remember\" \
             value=\"1\" form=\"cf\"",
        );
        if ticked {
            body.push_str(" checked");
        }
        body.push_str(">Remember this browser for ");
        body.push_str(&match (seconds / 86_400, seconds / 3_600) {
            (0, 1) => "an hour".to_string(),
            (0, hours) => format!("{hours} hours"),
            (1, _) => "a day".to_string(),
            (days, _) => format!("{days} days"),
        });
        body.push_str("</label>");
    };
    let open_form = |body: &mut String, id: &str| {
        body.push_str("<form id=\"");
        body.push_str(id);
        body.push_str("\" method=\"post\" action=\"");
        body.push_str(paths::MFA_PAGE);
        body.push_str("\">");
        body.push_str(&request);
    };
    let client = escape(client_name);
    let heading = match enrolling {
        true => "Set up two-step sign-in",
        false => "Verify it is you",
    };
    let mut body = format!("<h1>{heading}</h1><p>");
    if enrolling {
        body.push_str(&client);
        body.push_str(" asks for a second step when you sign in.");
    }
    match (enrollment, passkey) {
        (Some((secret, uri, codes)), _) => {
            if secret.is_empty() {
                body.push_str(" Set up a security key, or a passkey on this device.</p>");
            } else {
                body.push_str(
                    " Scan this code with an authenticator app, then enter the 6-digit code \
                     it shows.</p>",
                );
                body.push_str(&qr_svg(uri));
                body.push_str(
                    "<p class=\"hint\">Cannot scan it? Enter this key in the app:\
                     <code class=\"key\">",
                );
                for (i, c) in secret.chars().enumerate() {
                    if i > 0 && i % 4 == 0 {
                        body.push(' ');
                    }
                    body.push(c);
                }
                body.push_str("</code></p>");
            }
            if !codes.is_empty() {
                body.push_str(
                    "<h2>Save your recovery codes</h2><p class=\"hint\">If you lose your device, \
                     each one signs you in once. They are shown only now: write them down or \
                     keep them in a password manager.</p><ol class=\"codes\">",
                );
                for code in codes {
                    body.push_str("<li><code>");
                    body.push_str(&escape(code));
                    body.push_str("</code></li>");
                }
                body.push_str("</ol>");
            }
        }
        (None, Some(_)) if enrolling => {
            body.push_str(" Set up a security key, or a passkey on this device.</p>");
        }
        (None, Some(_)) => {
            body.push_str("Use your security key or passkey for ");
            body.push_str(&client);
            body.push_str(".</p>");
        }
        (None, None) => {
            body.push_str("Enter the 6-digit code your authenticator app shows for ");
            body.push_str(&client);
            body.push_str(".</p>");
        }
    }
    if let Some(e) = error {
        body.push_str(
            "<p id=\"form-error\" class=\"error\" role=\"alert\" tabindex=\"-1\" autofocus>",
        );
        body.push_str(&escape(e));
        body.push_str("</p>");
    }
    let code_form = |body: &mut String, with_box: bool| {
        open_form(body, "cf");
        body.push_str(
            "<label for=\"code\">Code from the app</label><input id=\"code\" name=\"code\" \
             inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" \
             maxlength=\"6\" required",
        );
        body.push_str(&field_state(
            error.is_some(),
            &[error.map(|_| "form-error")],
        ));
        body.push('>');
        if with_box {
            remember_box(body);
        }
        body.push_str("<button type=\"submit\">Continue</button></form>");
    };
    let key_button = |body: &mut String, options: &str, label: &str, quiet: bool| {
        passkey_button(body, paths::MFA_PAGE, &key_fields, options, label, quiet);
    };
    let app = enrollment.is_some_and(|(secret, _, _)| !secret.is_empty()) || !enrolling;
    match (passkey, app) {
        (Some(options), true) if enrolling => {
            code_form(&mut body, true);
            body.push_str("<p class=\"or\">or</p>");
            key_button(
                &mut body,
                options,
                "Use a security key or passkey instead",
                true,
            );
        }
        (Some(options), _) => {
            let label = match enrolling {
                true => "Set up a security key or passkey",
                false => "Use your security key or passkey",
            };
            key_button(&mut body, options, label, false);
            remember_box(&mut body);
            if !enrolling && has_app {
                body.push_str("<details><summary>Use a code from your app</summary>");
                code_form(&mut body, false);
                body.push_str("</details>");
            }
        }
        (None, _) => code_form(&mut body, true),
    }
    if !enrolling {
        body.push_str("<details><summary>Lost your device? Use a recovery code</summary>");
        open_form(&mut body, "rf");
        body.push_str(
            "<label for=\"recovery\">Recovery code</label><input id=\"recovery\" \
             name=\"recovery_code\" autocomplete=\"off\" autocapitalize=\"characters\" \
             spellcheck=\"false\" required><button type=\"submit\" class=\"quiet\">Use the \
             recovery code</button></form></details>",
        );
    }
    page(heading, &body)
}

/// `text` (an `otpauth://` URI) as a QR code in SVG, drawn here: no image is fetched.
fn qr_svg(text: &str) -> String {
    use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};
    use std::fmt::Write;
    // Byte mode only (a URI needs no other) and a fixed mask: every mask scans, and the
    // Worker then carries no code for the other modes or for scoring the eight masks.
    let segments = [QrSegment::make_bytes(text.as_bytes())];
    let (ecc, mask) = (QrCodeEcc::Medium, Some(Mask::new(0)));
    let encoded =
        QrCode::encode_segments_advanced(&segments, ecc, Version::MIN, Version::MAX, mask, false);
    let Ok(qr) = encoded else {
        return String::new();
    };
    // Four modules of quiet zone on every side, as the standard asks.
    let (size, border) = (qr.size(), 4);
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                let _ = write!(path, "M{},{}h1v1h-1z", x + border, y + border);
            }
        }
    }
    format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" \
         role=\"img\" aria-label=\"QR code for your authenticator app\" \
         shape-rendering=\"crispEdges\"><rect width=\"{dim}\" height=\"{dim}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>",
        dim = size + 2 * border
    )
}

/// A field's `aria-invalid` and `aria-describedby` attributes (none when nothing applies).
fn field_state(invalid: bool, described_by: &[Option<&str>]) -> String {
    let ids: Vec<&str> = described_by.iter().flatten().copied().collect();
    let mut out = String::new();
    if invalid {
        out.push_str(" aria-invalid=\"true\"");
    }
    if !ids.is_empty() {
        out.push_str(&format!(" aria-describedby=\"{}\"", ids.join(" ")));
    }
    out
}

/// A page that says one thing, with a heading, optionally as an alert, and a link onwards.
pub fn notice(heading: &str, message: &str, alert: bool, link: Option<(&str, &str)>) -> String {
    let link = link
        .map(|(label, url)| {
            format!(
                "<p><a class=\"button\" href=\"{}\">{}</a></p>",
                escape(url),
                escape(label)
            )
        })
        .unwrap_or_default();
    let message = match alert {
        true => format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message)),
        false => format!("<p>{}</p>", escape(message)),
    };
    page(
        heading,
        &format!("<h1>{}</h1>{message}{link}", escape(heading)),
    )
}

/// The "Forgot password?" form: an email, and the request it came from in `request`.
pub fn forgot_password(
    action: &str,
    client_name: &str,
    request: &[(String, String)],
    email: &str,
    back: &str,
) -> String {
    let body = format!(
        "<h1>Reset your password</h1><p>Enter the email of your {} account and we will send \
         you a link to choose a new password.</p>\
         <form method=\"post\" action=\"{}\">{}\
         <label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required value=\"{}\">\
         <button type=\"submit\">Send me a link</button></form>\
         <p><a href=\"{}\">Back to sign in</a></p>",
        escape(client_name),
        escape(action),
        hidden(request),
        escape(email),
        escape(back)
    );
    page("Reset your password", &body)
}

/// The form of a password reset link: the new password twice, with the rule it must meet.
pub fn reset_password(
    action: &str,
    ticket: &str,
    email: &str,
    rule: &str,
    error: Option<&str>,
) -> String {
    let error = error
        .map(|e| {
            format!(
                "<p id=\"form-error\" class=\"error\" role=\"alert\" tabindex=\"-1\" autofocus>{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>Choose a new password</h1><p class=\"hint\">For {}</p>{error}\
         <form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"ticket\" value=\"{}\">\
         <input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"{}\">\
         <label for=\"password\">New password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required aria-describedby=\"password-rule\">\
         <p id=\"password-rule\" class=\"hint\">{}</p>\
         <label for=\"confirm\">New password again</label>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Set password</button></form>",
        escape(email),
        escape(action),
        escape(ticket),
        escape(email),
        escape(rule)
    );
    page("Choose a new password", &body)
}

/// An error shown on the issuer's own page (never sent to an untrusted redirect URI): what
/// happened, what the person can do, and the client's way back (its registered
/// `initiate_login_uri`) when there is one.
pub fn error(message: &str, advice: &str, back: Option<(&str, &str)>) -> String {
    let back = back
        .map(|(name, url)| {
            format!(
                "<p><a class=\"button\" href=\"{}\">Back to {}</a></p>",
                escape(url),
                escape(name)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<h1>We could not sign you in</h1><p class=\"error\" role=\"alert\">{}</p>\
         <p>{}</p>{back}",
        escape(message),
        escape(advice)
    );
    page("Sign-in error", &body)
}

/// RP-Initiated Logout §2: asks the user before signing out (no verified hint for them).
/// `request` carries the logout request's parameters through the form.
pub fn confirm_logout(action: &str, request: &[(String, String)], csrf: &str) -> String {
    let body = format!(
        "<h1>Sign out?</h1><p>An application asked to sign you out of this sign-in service.</p>\
         <form method=\"post\" action=\"{}\">{}\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"confirm\" value=\"yes\">\
         <button type=\"submit\" autofocus>Sign out</button></form>\
         <p>To stay signed in, close this page.</p>",
        escape(action),
        hidden(request),
        escape(csrf)
    );
    page("Sign out?", &body)
}

/// After logout, when the client named no return URL.
pub fn signed_out() -> String {
    page(
        "Signed out",
        "<h1>You are signed out</h1><p>You can close this window.</p>",
    )
}

/// `response_mode=web_message`: posts `fields` to `origin` from the client's hidden iframe.
/// The data travel in a JSON block (not executed, `<` escaped so it cannot close the element);
/// the one script is constant, allowed by its hash.
pub fn web_message(origin: &str, fields: &[(String, String)]) -> String {
    let response = crate::model::object(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))),
    );
    let data = serde_json::json!({ "origin": origin, "response": response })
        .to_string()
        .replace('<', "\\u003c");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in…</title>\
         </head><body><script type=\"application/json\" id=\"r\">{data}</script>\
         <script>{POST_MESSAGE}</script></body></html>"
    )
}

/// `response_mode=form_post`: a form that POSTs `fields` to `action` as soon as it loads.
pub fn form_post(action: &str, fields: &[(String, String)]) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in…</title>\
         <style>{STYLE}</style></head><body><main><form method=\"post\" action=\"{}\">{}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></main>\
         <script>{SUBMIT}</script></body></html>",
        escape(action),
        hidden(fields)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remember_box_says_how_long_in_words() {
        let page = |seconds: u64| {
            let fields = [("state".to_string(), "s".to_string())];
            second_factor(
                "App",
                &fields,
                (false, true),
                None,
                None,
                Some((false, seconds)),
                None,
            )
        };
        for (seconds, words) in [
            (3_600, "for an hour<"),
            (7_200, "for 2 hours<"),
            (86_400, "for a day<"),
            (2_592_000, "for 30 days<"),
        ] {
            let html = page(seconds);
            assert!(
                html.contains(&format!("Remember this browser {words}")),
                "{html}"
            );
        }
        assert!(page(3_600).contains("form=\"cf\"") && page(3_600).contains("<form id=\"cf\""));
    }

    #[test]
    fn text_is_escaped_everywhere_it_lands() {
        let form = LoginForm {
            client_name: "<script>x</script>",
            connection: Some("<i>Staff</i>"),
            action: "/u/login",
            request: &[("state".into(), "\"><img src=x>".into())],
            email: Some("a\"b@example.com"),
            error: Some("<b>"),
            other: Some("/authorize?a=1&b=\"2"),
            password_rule: Some("<rule>"),
            password: true,
            providers: &[("/authorize?c=\"x".into(), "<Acme>".into())],
            forgot: Some("/u/reset-password/request?x=\"1"),
            code_offered: true,
            code_sent: false,
            passkey: None,
        };
        let html = login(&form);
        assert!(html.contains("Continue with &lt;Acme&gt;"));
        assert!(!html.contains("c=\"x"));
        assert!(!html.contains("<script>x"));
        assert!(html.contains("With your &lt;i&gt;Staff&lt;/i&gt; account"));
        assert!(!html.contains("\"><img"));
        assert!(html.contains("&lt;script&gt;x"));
        assert!(html.contains("a&quot;b@example.com"));
        assert!(html.contains("lang=\"en\""));
        assert!(html.contains("<label for=\"password\">"));
        assert!(html.contains("href=\"/authorize?a=1&amp;b=&quot;2\""));
        assert!(html.contains("&lt;rule&gt;") && !html.contains("<rule>"));
        assert!(html.contains("Email me a code"));
        let sent = login(&LoginForm {
            code_sent: true,
            ..form
        });
        assert!(sent.contains("name=\"code\"") && sent.contains("a&quot;b@example.com"));
        // The passkey options are data: no text in them can close their element.
        let with_passkey = login(&LoginForm {
            passkey: Some(r#"{"x":"</script><img src=x>"}"#),
            ..form
        });
        assert!(with_passkey.contains("Sign in with a passkey"));
        assert!(with_passkey.contains("autocomplete=\"username webauthn\""));
        assert!(!with_passkey.contains("</script><img"));
        assert!(with_passkey.contains(r"\u003c/script>\u003cimg"));
        assert!(!sent.contains("\"><img") && sent.contains("&lt;b&gt;"));
        let page = error("<m>", "<a>", Some(("<n>", "https://x/?a=\"1")));
        assert!(!page.contains("<m>") && !page.contains("<n>") && !page.contains("<a>"));
        assert!(page.contains("href=\"https://x/?a=&quot;1\""));
    }

    #[test]
    fn the_policy_allows_the_pages_own_style_and_nothing_inline_else() {
        let policy = csp(&["https://app.example.com"], false, None);
        assert!(policy.contains(&hash(STYLE)));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("script-src"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("form-action 'self' https://app.example.com"));
        assert!(csp(&[], true, None).contains(&hash(SUBMIT)));
        assert!(csp(&[], true, Some("https://app.example.com"))
            .contains("frame-ancestors https://app.example.com;"));
    }
}
