//! Email: the provider, templates and tickets as stored ([`MailStore`]), and the way a
//! message leaves ([`Postbox`]).

use crate::error::StoreError;
use crate::model::mail::{EmailProvider, EmailTemplate, PasswordlessCode, Ticket, TicketKind};
use crate::model::{LogEvent, User};

/// The provider, the templates and the tickets.
pub trait MailStore {
    /// The tenant's provider, if one is set.
    async fn email_provider(&self) -> Result<Option<EmailProvider>, StoreError>;
    /// Sets the provider; `create`: only if there is none (else `false`, nothing written).
    async fn put_email_provider(
        &self,
        provider: &EmailProvider,
        create: bool,
    ) -> Result<bool, StoreError>;
    /// Removes the provider; reports whether there was one.
    async fn delete_email_provider(&self) -> Result<bool, StoreError>;
    /// One template (the shipped set is stored by the migration).
    async fn email_template(&self, name: &str) -> Result<Option<EmailTemplate>, StoreError>;
    /// Stores a template whole.
    async fn put_email_template(&self, template: &EmailTemplate) -> Result<(), StoreError>;
    /// The provider and one template, in one round trip: what sending a message reads.
    async fn outgoing(
        &self,
        template: &str,
    ) -> Result<(Option<EmailProvider>, Option<EmailTemplate>), StoreError>;

    /// Stores `ticket` for its user, voiding the user's live tickets of the same kind (a newer
    /// link replaces the older), in one batch. A reset ticket is bound to the user's password
    /// hash as stored now; a user with no password gets none (`false`).
    async fn issue_ticket(&self, ticket: &Ticket, now: u64) -> Result<bool, StoreError>;
    /// As [`Self::issue_ticket`] for the user of `connection` whose address is `email_lower`,
    /// found in the same statement: the same one round trip whether or not there is such a
    /// user. Returns the user the ticket was made for, if any (`ticket.user_id` and
    /// `ticket.email` are taken from it).
    async fn issue_ticket_by_email(
        &self,
        ticket: &Ticket,
        connection: &str,
        email_lower: &str,
        now: u64,
    ) -> Result<Option<User>, StoreError>;
    /// The unused, unexpired ticket of `kind` with this hash, if any (a page that shows a
    /// form before the ticket is redeemed).
    async fn live_ticket(
        &self,
        ticket_hash: &str,
        kind: TicketKind,
        now: u64,
    ) -> Result<Option<Ticket>, StoreError>;
    /// Redeems a verification ticket: marks it used and sets the user's `email_verified` if
    /// their address is still the one it was sent to, in one batch. Contract: of any number
    /// of concurrent redemptions at most one gets `Some`; `Some((ticket, verified))`, with
    /// `verified` false when the address changed since.
    async fn redeem_verification(
        &self,
        ticket_hash: &str,
        redemption: &str,
        now: u64,
    ) -> Result<Option<(Ticket, bool)>, StoreError>;
    /// Redeems a reset ticket: marks it used and sets `password_hash`, only while the user's
    /// password is still the one the ticket was bound to, clears the user's failed-login
    /// counters and (`end_sessions`) ends their sessions and refresh-token families, in one
    /// batch. `redemption` is a random value naming this redemption. At most one
    /// concurrent redemption gets `true`.
    async fn redeem_reset(
        &self,
        ticket_hash: &str,
        redemption: &str,
        password_hash: &str,
        end_sessions: bool,
        now: u64,
    ) -> Result<bool, StoreError>;

    /// Stores `code` as the one live code of its (connection, address, client), replacing
    /// any older one. The wrong tries of a code still live carry over (a resend does not
    /// reset the count), and a code that has used them up keeps its expiry.
    async fn put_passwordless(&self, code: &PasswordlessCode) -> Result<(), StoreError>;
    /// Redeems the code of (connection, lower-case address, client) whose hash is
    /// `code_hash`, in one batch: deletes it when it is live, under
    /// [`crate::model::mail::CODE_TRIES`] wrong tries and has this hash; else counts a
    /// wrong try. Contract: of any number of concurrent redemptions at most one gets `true`.
    async fn redeem_passwordless(
        &self,
        key: (&str, &str, &str),
        code_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Redeems a passwordless link: deletes the live row whose link has this hash, and
    /// answers it. At most one concurrent redemption gets it.
    async fn redeem_passwordless_link(
        &self,
        link_hash: &str,
        now: u64,
    ) -> Result<Option<PasswordlessCode>, StoreError>;
}

/// One message ready to leave: the HTTP request to the provider, made in the request that
/// asked for it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// Logged when the message could not be delivered (twice). Names the template and the
    /// recipient, never the link or code.
    pub failure: Option<LogEvent>,
}

/// Where a message is handed over. In the Worker: sent after the response (`waitUntil`),
/// once more if the first try fails, then logged as failed; so no answer waits for a mail
/// server, and none says whether a message was sent.
pub trait Postbox {
    fn post(&self, delivery: Delivery);
}

/// Nowhere: messages are dropped (deployments and tests with no email).
pub struct NoPostbox;

impl Postbox for NoPostbox {
    fn post(&self, _delivery: Delivery) {}
}
