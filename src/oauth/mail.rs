//! Email flows: the messages (a template rendered, posted through the tenant's provider) and
//! the tickets their links carry: verifying an address, and resetting a password.
//!
//! - A ticket is 32 random bytes; only its SHA-256 is stored, looked up by that hash (no
//!   comparison of the secret itself happens). Each is single use in one statement, and a
//!   newer one of its kind voids the user's older ones ([`MailStore`]).
//! - Asking for a reset answers the same whether or not the address has a user, after the
//!   same round trips: the ticket is made in the statement that finds the user, and the
//!   message leaves after the response ([`Postbox`]). Asks are counted per address and per
//!   IP; over the budget, the answer is still the same, and nothing is sent.
//! - No log event carries a link or a ticket.

use super::events::Actor;
use super::facts::Facts;
use crate::error::{OAuthError, StoreError};
use crate::model::config::paths;
use crate::model::log::kinds;
use crate::model::mail::{self, EmailProvider, EmailTemplate, Ticket, TicketKind};
use crate::model::secret::hash_client_secret;
use crate::model::{Connection, LockoutPolicy, LogEvent, User};
use crate::port::settled::Settle;

use crate::oauth::keys::Kek;
use crate::port::crypto::Crypto;
use crate::port::mail::{Delivery, MailStore, Postbox};
use crate::port::random::Random;
use crate::port::{AttemptStore, EventSink};
use serde_json::{json, Value};

/// The associated data the provider's secret is sealed with.
pub const SEALED_AS: &str = "email_provider";

/// Asks for a reset link per address, and per IP, in an hour.
const RESET_ASKS: LockoutPolicy = LockoutPolicy {
    max_failures: 5,
    window_seconds: 3_600,
    lock_seconds: 3_600,
};
const RESET_ASKS_PER_IP: LockoutPolicy = LockoutPolicy {
    max_failures: 30,
    ..RESET_ASKS
};

/// What the email flows use.
pub struct Mailer<'a, M> {
    pub store: &'a M,
    pub kek: Option<&'a Kek>,
    pub random: &'a dyn Random,
    pub postbox: &'a dyn Postbox,
    pub facts: Facts<'a>,
    pub events: &'a dyn EventSink,
    pub log: &'a dyn Fn(&str),
}

/// Who a message is for and from which application.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'r> {
    pub user: &'r User,
    pub client_id: Option<&'r str>,
    pub client_name: &'r str,
}

/// Where a message goes and what fills its placeholders: the address, the user if there is
/// one, the application, and the link or code it carries.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'r> {
    pub address: &'r str,
    pub user: Option<&'r User>,
    pub client_id: Option<&'r str>,
    pub client_name: &'r str,
    pub url: Option<&'r str>,
    pub code: Option<&'r str>,
}

impl<'r> Recipient<'r> {
    /// The envelope of a message to this user with the link `url`.
    fn with_url(self, url: &'r str) -> Envelope<'r> {
        Envelope {
            address: self.user.email.as_deref().unwrap_or(""),
            user: Some(self.user),
            client_id: self.client_id,
            client_name: self.client_name,
            url: Some(url),
            code: None,
        }
    }
}

/// A ticket made: its value (for the link) and what is stored.
struct Issued {
    pub value: String,
    pub ticket: Ticket,
}

impl Issued {
    /// The link that redeems it.
    fn url(&self, facts: &Facts<'_>) -> String {
        let path = match self.ticket.kind {
            TicketKind::Verify => paths::EMAIL_VERIFICATION,
            TicketKind::Reset => paths::RESET_PASSWORD,
        };
        format!("{}?ticket={}", facts.config.url(path), self.value)
    }
}

/// A template's link settings: where the page after the link leads, and how long it works.
fn link_settings(template: Option<EmailTemplate>) -> (Option<String>, Option<u64>) {
    template.map_or((None, None), |t| (t.result_url, t.url_lifetime))
}

/// The stored form of a ticket's value.
pub fn ticket_hash(value: &str) -> String {
    hash_client_secret(value)
}

impl<M: MailStore> Mailer<'_, M> {
    /// A new ticket of `kind` for `user` (id, address), not yet stored; `lifetime` in
    /// seconds, else the kind's default.
    fn new_ticket(
        &self,
        kind: TicketKind,
        user: (&str, &str),
        client_id: Option<&str>,
        result_url: Option<String>,
        lifetime: Option<u64>,
    ) -> Result<Issued, OAuthError> {
        let value = self.random.token(32)?;
        let now = self.facts.now;
        Ok(Issued {
            ticket: Ticket {
                ticket_hash: ticket_hash(&value),
                kind,
                user_id: user.0.to_string(),
                email: user.1.to_string(),
                client_id: client_id.map(str::to_string),
                result_url,
                created_at: now,
                expires_at: now + lifetime.unwrap_or_else(|| kind.default_lifetime()),
            },
            value,
        })
    }

    /// Makes a ticket of `kind` for the user and, when `send`, sends its message (a
    /// management ticket is only answered); answers the link (`None`: the user has no
    /// address, or, to reset, no password). `link` overrides the template's result URL and
    /// lifetime.
    pub async fn send_ticket(
        &self,
        kind: TicketKind,
        to: Recipient<'_>,
        link: (Option<String>, Option<u64>),
        send: bool,
    ) -> Result<Option<String>, OAuthError> {
        let Some(email) = to.user.email.as_deref() else {
            return Ok(None);
        };
        let (outgoing, template) = self.outgoing(kind.template()).settle().await?;
        let (result_url, lifetime) = link_settings(template);
        let (result_url, lifetime) = (link.0.or(result_url), link.1.or(lifetime));
        let user = (to.user.user_id.as_str(), email);
        let issued = self.new_ticket(kind, user, to.client_id, result_url, lifetime)?;
        if !self
            .store
            .issue_ticket(&issued.ticket, self.facts.now)
            .settle()
            .await?
        {
            return Ok(None);
        }
        let url = issued.url(&self.facts);
        if let (true, Some(outgoing)) = (send, outgoing) {
            self.post(&outgoing, to.with_url(&url));
        }
        Ok(Some(url))
    }

    /// `POST /dbconnections/change_password` and the hosted "Forgot password?" form: a reset
    /// link for the user of `connection` with `email`, if there is one. The caller answers
    /// the same in every case, and the round trips are the same: the provider and template
    /// are read, and the ticket made in the statement that finds the user (or no one).
    pub async fn ask_reset<A: AttemptStore>(
        &self,
        attempts: &A,
        connection: &Connection,
        email: &str,
        client: (Option<&str>, &str),
    ) -> Result<(), OAuthError> {
        let lower = crate::model::email::normalize(email).to_ascii_lowercase();
        let now = self.facts.now;
        let key = format!("reset\n{}\n{lower}", connection.name);
        let over = self.over_budget(attempts, &key, &RESET_ASKS, "reset", &RESET_ASKS_PER_IP);
        let fail = |why| {
            let actor = (client.0, None, Some(lower.as_str()));
            self.record(kinds::FAILED_CHANGE_PASSWORD_REQUEST, why, actor);
        };
        if over.settle().await? {
            fail("Too many password reset requests");
            return Ok(());
        }
        let (outgoing, template) = self.outgoing(mail::RESET_EMAIL).settle().await?;
        let (result_url, lifetime) = link_settings(template);
        let kind = TicketKind::Reset;
        let issued = self.new_ticket(kind, ("", ""), client.0, result_url, lifetime)?;
        let user = self
            .store
            .issue_ticket_by_email(&issued.ticket, &connection.name, &lower, now)
            .settle()
            .await?;
        let Some(user) = user else {
            fail("No user with a password has this address");
            return Ok(());
        };
        let to = Recipient {
            user: &user,
            client_id: client.0,
            client_name: client.1,
        };
        if let Some(outgoing) = outgoing {
            self.post(&outgoing, to.with_url(&issued.url(&self.facts)));
        }
        let actor = (client.0, Some(user.user_id.as_str()), user.email.as_deref());
        self.record(
            kinds::CHANGE_PASSWORD_REQUEST,
            "A password reset link was sent",
            actor,
        );
        Ok(())
    }

    /// Counts one ask under `key` (an address) and one from this request's IP under `kind`:
    /// whether either is past its budget (`per_key`, `per_ip`).
    pub(super) async fn over_budget<A: AttemptStore>(
        &self,
        attempts: &A,
        key: &str,
        per_key: &LockoutPolicy,
        kind: &str,
        per_ip: &LockoutPolicy,
    ) -> Result<bool, StoreError> {
        let (now, ip) = (self.facts.now, self.facts.client_ip.unwrap_or("unknown"));
        let by_key = attempts
            .count_attempt(key, "*", now, per_key)
            .settle()
            .await?;
        let by_ip = attempts
            .count_attempt(kind, ip, now, per_ip)
            .settle()
            .await?;
        Ok(by_key > per_key.max_failures || by_ip > per_ip.max_failures)
    }

    /// The provider and `template`, when both are there and on (else the message is not
    /// sent: logged to the console), and the template whatever its state (its link
    /// settings apply to tickets made without a message).
    pub(super) async fn outgoing(
        &self,
        template: &str,
    ) -> Result<
        (
            Option<(EmailProvider, EmailTemplate)>,
            Option<EmailTemplate>,
        ),
        OAuthError,
    > {
        let (provider, found) = self.store.outgoing(template).settle().await?;
        let settings = found.clone();
        match (provider, found) {
            (Some(p), Some(t)) if p.enabled && t.enabled => Ok((Some((p, t)), settings)),
            _ => {
                (self.log)(&format!(
                    "email: no provider, or {template} is off; not sent"
                ));
                Ok((None, settings))
            }
        }
    }

    /// Renders the template for `to` with `url` and hands it to the postbox. A message that
    /// cannot be made (the provider's secret does not open) is logged, never the request's
    /// failure: the ticket is stored by then, and an answer that failed only for an existing
    /// address would tell that it exists.
    pub(super) fn post(
        &self,
        (provider, template): &(EmailProvider, EmailTemplate),
        to: Envelope<'_>,
    ) {
        match self.delivery(provider, template, to) {
            Ok(delivery) => self.postbox.post(delivery),
            Err(e) => super::events::log_failure(self.log, &e),
        }
    }

    fn delivery(
        &self,
        provider: &EmailProvider,
        template: &EmailTemplate,
        to: Envelope<'_>,
    ) -> Result<Delivery, OAuthError> {
        let address = to.address;
        let user_id = to.user.map(|u| u.user_id.as_str());
        let vars = json!({
            "url": to.url,
            "code": to.code,
            "user": {
                "email": address,
                "name": to.user.and_then(|u| u.name.as_deref()).unwrap_or(address),
                "user_id": user_id,
            },
            "application": { "name": to.client_name, "clientID": to.client_id },
        });
        let from = template
            .from
            .clone()
            .or_else(|| provider.default_from_address.clone())
            .unwrap_or_else(|| "no-reply@localhost".into());
        let subject = mail::render(&template.subject, &vars, false);
        let html = mail::render(&template.body, &vars, true);
        let text = mail::render(&template.text, &vars, false);
        let secret = match (&provider.credentials_sealed, self.kek) {
            (Some(sealed), Some(kek)) => String::from_utf8(kek.open(SEALED_AS, sealed)?)
                .map_err(|_| OAuthError::server("the email provider's secret is not text"))?,
            _ => return Err(OAuthError::server("the email provider has no credentials")),
        };
        let (body, headers) = if provider.name == mail::RESEND {
            let body = json!({
                "from": from, "to": [address], "subject": subject, "html": html, "text": text,
            });
            (
                body.to_string(),
                vec![("authorization", format!("Bearer {secret}"))],
            )
        } else {
            let body = json!({
                "to": address, "from": from, "subject": subject, "text": text, "html": html,
                "template": template.template, "locale": "en", "link": to.url, "code": to.code,
                "user_id": user_id, "client_id": to.client_id,
            })
            .to_string();
            let signature = super::claims::hooks::signature(&secret, self.facts.now, &body);
            (body, vec![("x-edge-issuer-signature", signature)])
        };
        let failure = self.event(
            kinds::FAILED_NOTIFICATION,
            "The email could not be delivered",
            Actor {
                client_id: to.client_id,
                user_id,
                user_name: Some(address),
            },
            json!({ "template": template.template, "provider": provider.name }),
        );
        Ok(Delivery {
            url: provider.url().to_string(),
            headers,
            body,
            failure,
        })
    }

    pub(super) fn event(
        &self,
        kind: &str,
        description: &str,
        actor: Actor<'_>,
        details: Value,
    ) -> Option<LogEvent> {
        super::events::event(self.random, &self.facts, kind, description, actor, details)
    }

    /// Records an event about (client, user id, address).
    pub(super) fn record(
        &self,
        kind: &str,
        description: &str,
        who: (Option<&str>, Option<&str>, Option<&str>),
    ) {
        let actor = Actor {
            client_id: who.0,
            user_id: who.1,
            user_name: who.2,
        };
        if let Some(e) = self.event(kind, description, actor, json!({})) {
            self.events.record(e);
        }
    }

    /// Redeems a verification link: `Ok(Some(ticket))` when it set `email_verified`.
    pub async fn verify(&self, value: &str) -> Result<Option<Ticket>, OAuthError> {
        let redemption = self.random.token(16)?;
        let redeemed = self
            .store
            .redeem_verification(&ticket_hash(value), &redemption, self.facts.now)
            .settle()
            .await?;
        Ok(match redeemed {
            Some((ticket, true)) => {
                self.record(
                    kinds::VERIFICATION,
                    "The email was verified",
                    ticket.actor(),
                );
                Some(ticket)
            }
            Some((ticket, false)) => {
                let why = "The user's email changed since the link was sent";
                self.record(kinds::FAILED_VERIFICATION, why, ticket.actor());
                None
            }
            None => None,
        })
    }

    /// Sets a new password with a reset ticket (checked against `connection`'s policy by the
    /// caller); `Ok(false)` when the ticket was used, expired, replaced or voided by another
    /// change of password meanwhile.
    pub async fn reset<C: Crypto>(
        &self,
        crypto: &C,
        ticket: &Ticket,
        password: &str,
    ) -> Result<bool, OAuthError> {
        let config = self.facts.config;
        let hash = super::password::hash(crypto, self.random, password, config.password_iterations)
            .settle()
            .await?;
        let redemption = self.random.token(16)?;
        let done = self
            .store
            .redeem_reset(
                &ticket.ticket_hash,
                &redemption,
                &hash,
                config.reset_ends_sessions,
                self.facts.now,
            )
            .settle()
            .await?;
        let (kind, description) = match done {
            true => (kinds::CHANGE_PASSWORD, "The password was reset"),
            false => (
                kinds::FAILED_CHANGE_PASSWORD,
                "The reset link no longer works",
            ),
        };
        self.record(kind, description, ticket.actor());
        Ok(done)
    }

    /// Whether `template` asks for the address in the result URL (`includeEmailInRedirect`).
    pub async fn includes_email(&self, template: &str) -> bool {
        let found = self.store.email_template(template).settle().await;
        found
            .ok()
            .flatten()
            .is_some_and(|t| t.include_email_in_redirect)
    }

    /// The live reset ticket of a link's value.
    pub async fn reset_ticket(&self, value: &str) -> Result<Option<Ticket>, StoreError> {
        self.store
            .live_ticket(&ticket_hash(value), TicketKind::Reset, self.facts.now)
            .settle()
            .await
    }
}
