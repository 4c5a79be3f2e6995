//! Email, Auth0-shaped: the provider (`/api/v2/emails/provider`), the templates
//! (`/api/v2/email-templates/{name}`) and the tickets an admin hands a user
//! (`/api/v2/tickets/email-verification`, `/api/v2/tickets/password-change`).
//!
//! The provider is `custom` (a webhook: `settings.url`, signed like hooks with
//! `credentials.secret`, made when not given and shown once) or `resend` (Resend's API,
//! `credentials.api_key`). Its secret is sealed under the key-encryption key and never shown
//! again.

use super::call::Call;
use super::check;
use super::error::{error_code, from_oauth, from_store, invalid, members, not_found, Reply};
use crate::model::mail::{self, EmailProvider, EmailTemplate, TicketKind};
use crate::oauth::mail::{Recipient, SEALED_AS};
use crate::port::crypto::Crypto;
use crate::port::mail::MailStore;
use crate::port::settled::Settle;
use crate::port::{Stores, UserStore};
use serde_json::{json, Value};

const CONFLICT: &str = "An email provider is already configured.";

fn provider_view(p: &EmailProvider) -> Value {
    json!({
        "name": p.name,
        "enabled": p.enabled,
        "default_from_address": p.default_from_address,
        "settings": p.settings,
    })
}

/// `GET /api/v2/emails/provider`.
pub async fn get_provider<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call.issuer.stores.mail().email_provider().settle().await {
        Ok(Some(p)) => Reply::json(200, &provider_view(&p)),
        Ok(None) => not_found("email provider"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `POST /api/v2/emails/provider`: 409 when one is set.
pub async fn create_provider<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    save_provider(call, true).settle().await
}

/// `PATCH /api/v2/emails/provider`.
pub async fn update_provider<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    save_provider(call, false).settle().await
}

/// `DELETE /api/v2/emails/provider`.
pub async fn delete_provider<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .mail()
        .delete_email_provider()
        .settle()
        .await
    {
        Ok(true) => Reply::no_content(),
        Ok(false) => not_found("email provider"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// Applies a create or patch body and stores it; the answer shows a secret made or given
/// here, once.
async fn save_provider<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, create: bool) -> Reply {
    let allowed = [
        "name",
        "enabled",
        "default_from_address",
        "settings",
        "credentials",
    ];
    let mut f = attempt!(members(call.req.body, &allowed));
    let name = attempt!(f.text("name"));
    let enabled = attempt!(f.flag("enabled"));
    let from = attempt!(f.text("default_from_address"));
    let settings = attempt!(f.object("settings"));
    let mut credentials = attempt!(f.nested("credentials", &["secret", "api_key"]));
    let before = match create {
        true => None,
        false => match call.issuer.stores.mail().email_provider().settle().await {
            Ok(Some(p)) => Some(p),
            Ok(None) => return not_found("email provider"),
            Err(e) => return from_store(e, CONFLICT, call.issuer.log),
        },
    };
    let mut p = before.unwrap_or(EmailProvider {
        name: String::new(),
        enabled: true,
        default_from_address: None,
        settings: serde_json::Map::new(),
        credentials_sealed: None,
    });
    let renamed = name.as_ref().is_some_and(|n| *n != p.name);
    if let Some(name) = name {
        p.name = name;
    }
    if p.name != mail::CUSTOM && p.name != mail::RESEND {
        return invalid("name is custom (a webhook) or resend");
    }
    p.enabled = enabled.unwrap_or(p.enabled);
    if let Some(from) = from {
        if !crate::oauth::provision::valid_email(&from) {
            return invalid("default_from_address is not an email address");
        }
        p.default_from_address = Some(from);
    }
    match settings {
        Some(settings) => p.settings = settings,
        // Another provider keeps none of the old one's settings.
        None if renamed => p.settings.clear(),
        None => {}
    }
    if p.name == mail::CUSTOM {
        let Some(url) = p.settings.get("url").and_then(Value::as_str) else {
            return invalid("a custom provider needs settings.url: the webhook's URL");
        };
        attempt!(check::callable("settings.url", url, call.issuer.config));
        if p.settings.len() > 1 {
            return invalid("a custom provider's settings hold url only");
        }
    } else if !p.settings.is_empty() {
        return invalid("resend takes no settings");
    }
    let mut secret = match credentials.as_mut() {
        Some(c) if p.name == mail::CUSTOM => attempt!(c.text("secret")),
        Some(c) => attempt!(c.text("api_key")),
        None => None,
    };
    if credentials.is_some_and(|c| !c.0.is_empty()) {
        return invalid("credentials are {secret} for custom, {api_key} for resend");
    }
    let made = secret.is_none() && (create || renamed);
    if made {
        if p.name == mail::RESEND {
            return invalid("resend needs credentials.api_key");
        }
        secret = match call.issuer.random.token(32) {
            Ok(s) => Some(s),
            Err(e) => return from_oauth(&e.into()),
        };
    }
    if let Some(s) = &secret {
        if s.len() < 16 || s.len() > 256 {
            return invalid("the secret or api_key is 16 to 256 characters");
        }
        let Some(kek) = call.issuer.kek else {
            return error_code(500, "server_error", "KEY_ENCRYPTION_KEY is not set");
        };
        match kek.seal(call.issuer.random, SEALED_AS, s.as_bytes()) {
            Ok(sealed) => p.credentials_sealed = Some(sealed),
            Err(e) => return from_oauth(&e),
        }
    }
    match call
        .issuer
        .stores
        .mail()
        .put_email_provider(&p, create)
        .settle()
        .await
    {
        Ok(true) => {
            let mut view = provider_view(&p);
            if let (Some(s), mail::CUSTOM) = (secret, p.name.as_str()) {
                view["credentials"] = json!({ "secret": s });
            }
            Reply::json(if create { 201 } else { 200 }, &view)
        }
        Ok(false) => error_code(409, "conflict", CONFLICT),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

fn template_view(t: &EmailTemplate) -> Value {
    json!({
        "template": t.template,
        "enabled": t.enabled,
        "from": t.from,
        "subject": t.subject,
        "body": t.body,
        "text": t.text,
        "syntax": "liquid",
        "resultUrl": t.result_url,
        "urlLifetimeInSeconds": t.url_lifetime,
        "includeEmailInRedirect": t.include_email_in_redirect,
    })
}

fn known_template(name: &str) -> Result<(), Reply> {
    match mail::TEMPLATES.contains(&name) {
        true => Ok(()),
        false => Err(invalid(&format!(
            "template is one of {}",
            mail::TEMPLATES.join(", ")
        ))),
    }
}

/// `GET /api/v2/email-templates/{name}`.
pub async fn get_template<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    attempt!(known_template(call.id()));
    match call
        .issuer
        .stores
        .mail()
        .email_template(call.id())
        .settle()
        .await
    {
        Ok(Some(t)) => Reply::json(200, &template_view(&t)),
        Ok(None) => not_found("email template"),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// `POST /api/v2/email-templates` (409 when it exists), `PUT` (whole) and `PATCH` (the
/// members given) of `/api/v2/email-templates/{name}`.
pub async fn save_template<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let allowed = [
        "template",
        "enabled",
        "from",
        "subject",
        "body",
        "text",
        "syntax",
        "resultUrl",
        "urlLifetimeInSeconds",
        "includeEmailInRedirect",
    ];
    let mut f = attempt!(members(call.req.body, &allowed));
    let named = attempt!(f.text("template"));
    let (create, name) = match call.params.first() {
        None => (true, named.clone().unwrap_or_default()),
        Some(id) => (false, id.clone()),
    };
    attempt!(known_template(&name));
    if named.is_some_and(|n| n != name) {
        return invalid("template cannot change");
    }
    let store = call.issuer.stores.mail();
    let before = attempt!(store
        .email_template(&name)
        .settle()
        .await
        .map_err(|e| from_store(e, CONFLICT, call.issuer.log)));
    let whole = call.req.method != "PATCH";
    let mut t = match (before, create) {
        (Some(_), true) => return error_code(409, "conflict", "The template already exists."),
        (None, false) if !whole => return not_found("email template"),
        (Some(t), false) if !whole => t,
        _ => EmailTemplate {
            template: name.clone(),
            enabled: true,
            from: None,
            subject: String::new(),
            body: String::new(),
            text: String::new(),
            result_url: None,
            url_lifetime: None,
            include_email_in_redirect: false,
        },
    };
    if attempt!(f.text("syntax")).is_some_and(|s| s != "liquid") {
        return invalid("syntax is liquid");
    }
    t.enabled = attempt!(f.flag("enabled")).unwrap_or(t.enabled);
    if let Some(from) = attempt!(f.nullable_text("from")) {
        t.from = from;
    }
    t.subject = attempt!(f.text("subject")).unwrap_or(t.subject);
    let body = attempt!(f.text("body"));
    let text = attempt!(f.text("text"));
    if let Some(body) = body {
        // No plain text given with a new body: the body without its markup.
        t.text = text.clone().unwrap_or_else(|| strip_tags(&body));
        t.body = body;
    }
    t.text = text.unwrap_or(t.text);
    if let Some(url) = attempt!(f.nullable_text("resultUrl")) {
        if let Some(u) = &url {
            attempt!(check::url("resultUrl", u));
        }
        t.result_url = url;
    }
    if let Some(secs) = attempt!(f.number("urlLifetimeInSeconds")) {
        if !(60..=30 * 86_400).contains(&secs) {
            return invalid("urlLifetimeInSeconds is 60 to 2592000");
        }
        t.url_lifetime = Some(secs);
    }
    t.include_email_in_redirect =
        attempt!(f.flag("includeEmailInRedirect")).unwrap_or(t.include_email_in_redirect);
    if t.subject.trim().is_empty() || t.body.trim().is_empty() {
        return invalid("Missing required properties: subject and body");
    }
    if t.subject.len() > 1_000 || t.body.len() + t.text.len() > 64 * 1024 {
        return invalid("subject is at most 1000 characters, body and text 64 KiB together");
    }
    match store.put_email_template(&t).settle().await {
        Ok(()) => Reply::json(if create { 201 } else { 200 }, &template_view(&t)),
        Err(e) => from_store(e, CONFLICT, call.issuer.log),
    }
}

/// HTML as text: the tags dropped, the five entities [`crate::model::mail::escape_html`]
/// writes decoded.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(out, |t, (from, to)| t.replace(from, to))
}

/// `POST /api/v2/tickets/email-verification` and `POST /api/v2/tickets/password-change`:
/// a link for the user (`user_id`), made and answered, not sent (`{ticket}`). A reset link
/// needs a user with a password.
pub async fn ticket<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>, kind: TicketKind) -> Reply {
    let allowed = ["user_id", "result_url", "client_id", "ttl_sec"];
    let mut f = attempt!(members(call.req.body, &allowed));
    let Some(user_id) = attempt!(f.text("user_id")) else {
        return invalid("Missing required property: user_id");
    };
    let result_url = attempt!(f.text("result_url"));
    if let Some(u) = &result_url {
        attempt!(check::url("result_url", u));
    }
    let client_id = attempt!(f.text("client_id"));
    let ttl = attempt!(f.number("ttl_sec")).filter(|t| *t > 0);
    if ttl.is_some_and(|t| t > 30 * 86_400) {
        return invalid("ttl_sec is at most 2592000");
    }
    let issuer = call.issuer;
    let user = match issuer.stores.users().user(&user_id).settle().await {
        Ok(Some(u)) => u,
        Ok(None) => return not_found("user"),
        Err(e) => return from_store(e, CONFLICT, issuer.log),
    };
    if user.email.is_none() {
        return invalid("The user has no email address");
    }
    let to = Recipient {
        user: &user,
        client_id: client_id.as_deref(),
        client_name: "",
    };
    let mailer = issuer.mailer();
    match mailer
        .send_ticket(kind, to, (result_url, ttl), false)
        .settle()
        .await
    {
        Ok(Some(url)) => Reply::json(201, &json!({ "ticket": url })),
        Ok(None) => {
            invalid("The user has no password to change (an upstream or passwordless user)")
        }
        Err(e) => from_oauth(&e),
    }
}
