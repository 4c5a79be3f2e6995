//! Email: the tenant's provider (where messages go), its templates (what they say, with
//! `{{ name }}` placeholders as Auth0's Liquid templates have) and the single-use tickets
//! the links of verification and password-reset messages carry.

use serde_json::Value;

/// The names of the templates this issuer sends (Auth0's names).
pub const TEMPLATES: [&str; 5] = [
    VERIFY_EMAIL,
    RESET_EMAIL,
    WELCOME_EMAIL,
    PASSWORDLESS_CODE,
    PASSWORDLESS_LINK,
];
pub const VERIFY_EMAIL: &str = "verify_email";
pub const RESET_EMAIL: &str = "reset_email";
pub const WELCOME_EMAIL: &str = "welcome_email";
/// A passwordless sign-in code (`{{ code }}`); Auth0 keeps it on the `email` connection.
pub const PASSWORDLESS_CODE: &str = "passwordless_code";
/// A passwordless sign-in link (`{{ url }}`).
pub const PASSWORDLESS_LINK: &str = "passwordless_link";

/// How long a passwordless code or link works: 5 minutes (NIST SP 800-63B §3.1.3.2 allows
/// 10 at most).
pub const CODE_LIFETIME: u64 = 300;
/// Wrong codes a passwordless code takes; the next try finds it void.
pub const CODE_TRIES: u64 = 5;

/// A passwordless code as stored: the one live code of an address, connection and client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordlessCode {
    pub connection: String,
    /// Lower case.
    pub email: String,
    pub client_id: String,
    /// [`code_hash`] of the code.
    pub code_hash: String,
    /// The SHA-256 of the link's value, when a link was sent.
    pub link_hash: Option<String>,
    /// The SHA-256 of the CSRF token of the login transaction a link completes.
    pub binding: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
}

/// The stored form of a passwordless `code` for (connection, lower-case address, client):
/// the same digits for another address or client hash differently.
pub fn code_hash(connection: &str, email: &str, client_id: &str, code: &str) -> String {
    crate::model::secret::hash_client_secret(&format!("{connection}\n{email}\n{client_id}\n{code}"))
}

/// The provider that is a signed webhook (Auth0's name for a custom provider).
pub const CUSTOM: &str = "custom";
/// The provider that is Resend's HTTP API.
pub const RESEND: &str = "resend";
/// Resend's endpoint for one message.
pub const RESEND_URL: &str = "https://api.resend.com/emails";

/// The tenant's email provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailProvider {
    /// [`CUSTOM`] or [`RESEND`].
    pub name: String,
    pub enabled: bool,
    pub default_from_address: Option<String>,
    /// `{url}` for [`CUSTOM`].
    pub settings: serde_json::Map<String, Value>,
    /// The webhook's signing secret or the API key, sealed under the key-encryption key.
    pub credentials_sealed: Option<String>,
}

impl EmailProvider {
    /// Where messages are posted.
    pub fn url(&self) -> &str {
        match self.name.as_str() {
            RESEND => RESEND_URL,
            _ => self
                .settings
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or(""),
        }
    }
}

/// One template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailTemplate {
    pub template: String,
    pub enabled: bool,
    /// The sender; `None`: the provider's default.
    pub from: Option<String>,
    pub subject: String,
    /// HTML.
    pub body: String,
    /// Plain text.
    pub text: String,
    /// Where the page after the link leads, if anywhere.
    pub result_url: Option<String>,
    /// How long the link works, in seconds; `None`: the flow's default.
    pub url_lifetime: Option<u64>,
    pub include_email_in_redirect: bool,
}

/// What a ticket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    /// Proves the address: sets `email_verified`.
    Verify,
    /// Sets a new password.
    Reset,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Verify => "verify",
            TicketKind::Reset => "reset",
        }
    }

    /// How long a link of this kind works unless its template says otherwise: five days to
    /// verify (as Auth0), one hour to reset (NIST SP 800-63B §4.2 allows a day at most; a
    /// reset link is a password for its lifetime, so short).
    pub fn default_lifetime(self) -> u64 {
        match self {
            TicketKind::Verify => 5 * 86_400,
            TicketKind::Reset => 3_600,
        }
    }

    /// The template whose message carries it.
    pub fn template(self) -> &'static str {
        match self {
            TicketKind::Verify => VERIFY_EMAIL,
            TicketKind::Reset => RESET_EMAIL,
        }
    }
}

/// A ticket as stored: its hash, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub ticket_hash: String,
    pub kind: TicketKind,
    pub user_id: String,
    /// The address it was sent to (a verification proves this one only).
    pub email: String,
    /// The application it was asked for (its name in the message; its login after).
    pub client_id: Option<String>,
    /// Where the page after the ticket leads.
    pub result_url: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
}

impl Ticket {
    /// Who a log event about it names: (client, user id, address).
    pub fn actor(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            self.client_id.as_deref(),
            Some(&self.user_id),
            Some(&self.email),
        )
    }
}

/// `template` with each `{{ path }}` replaced by the string at that path of `vars` (`user.email`
/// reads `vars["user"]["email"]`); a path with no string is replaced by nothing. `html`:
/// the values are escaped for HTML (the template's own markup is the tenant's).
pub fn render(template: &str, vars: &Value, html: bool) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let path = after[..end].trim();
        let value = path
            .split('.')
            .try_fold(vars, |v, key| v.get(key))
            .and_then(Value::as_str)
            .unwrap_or("");
        if html {
            out.push_str(&escape_html(value));
        } else {
            out.push_str(value);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Text escaped for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_take_values_by_path_and_html_escapes_them() {
        let vars = json!({"url": "https://x/?a=1&b=2", "user": {"email": "<a@b>"}});
        assert_eq!(
            render("Go {{ url }} as {{user.email}}{{ missing }}.", &vars, false),
            "Go https://x/?a=1&b=2 as <a@b>."
        );
        assert_eq!(
            render("<a href=\"{{ url }}\">{{ user.email }}</a>", &vars, true),
            "<a href=\"https://x/?a=1&amp;b=2\">&lt;a@b&gt;</a>"
        );
        assert_eq!(render("open {{ url", &vars, false), "open {{ url");
    }
}
