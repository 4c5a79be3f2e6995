//! Email: the provider, the templates and the tickets (schema in `migrations/0018_email.sql`).

use super::codec::{backend, flag, flag_arg, int, json, json_arg, num, opt, opt_int};
use super::sql::{Source, Sql, Value};
use super::users::{user_select, UserRow};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::mail::{
    EmailProvider, EmailTemplate, PasswordlessCode, Ticket, TicketKind, CODE_TRIES,
};
use crate::model::User;
use crate::port::mail::MailStore;
use crate::port::settled::Settle;

crate::row! {
    struct ProviderRow {
        name: String,
        enabled: f64,
        default_from_address: Option<String>,
        settings: String,
        credentials_sealed: Option<String>,
    }
}

crate::row! {
    struct TemplateRow {
        template: String,
        enabled: f64,
        from_address: Option<String>,
        subject: String,
        body: String,
        text: String,
        result_url: Option<String>,
        url_lifetime: Option<f64>,
        include_email_in_redirect: f64,
    }
}

crate::row! {
    struct TicketRow {
        ticket_hash: String,
        kind: String,
        user_id: String,
        email: String,
        client_id: Option<String>,
        result_url: Option<String>,
        created_at: f64,
        expires_at: f64,
    }
}

const PROVIDER: &str = "SELECT name, enabled, default_from_address, settings, credentials_sealed \
    FROM email_provider WHERE id = 1";
const TEMPLATE: &str = "SELECT template, enabled, from_address, subject, body, text, result_url, \
    url_lifetime, include_email_in_redirect FROM email_templates WHERE template = ?1";
const TICKET: &str =
    "SELECT ticket_hash, kind, user_id, email, client_id, result_url, created_at, expires_at \
    FROM email_tickets";

crate::row! {
    struct CodeRow {
        connection: String,
        email: String,
        client_id: String,
        code_hash: String,
        link_hash: Option<String>,
        binding: Option<String>,
        created_at: f64,
        expires_at: f64,
    }
}

impl From<CodeRow> for PasswordlessCode {
    fn from(r: CodeRow) -> Self {
        PasswordlessCode {
            connection: r.connection,
            email: r.email,
            client_id: r.client_id,
            code_hash: r.code_hash,
            link_hash: r.link_hash,
            binding: r.binding,
            created_at: int(r.created_at),
            expires_at: int(r.expires_at),
        }
    }
}

impl TryFrom<ProviderRow> for EmailProvider {
    type Error = StoreError;
    fn try_from(r: ProviderRow) -> Result<Self, StoreError> {
        Ok(EmailProvider {
            name: r.name,
            enabled: flag(r.enabled),
            default_from_address: r.default_from_address,
            settings: json("settings", &r.settings)?,
            credentials_sealed: r.credentials_sealed,
        })
    }
}

impl From<TemplateRow> for EmailTemplate {
    fn from(r: TemplateRow) -> Self {
        EmailTemplate {
            template: r.template,
            enabled: flag(r.enabled),
            from: r.from_address,
            subject: r.subject,
            body: r.body,
            text: r.text,
            result_url: r.result_url,
            url_lifetime: opt_int(r.url_lifetime),
            include_email_in_redirect: flag(r.include_email_in_redirect),
        }
    }
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> Result<Self, StoreError> {
        let kind = match r.kind.as_str() {
            "verify" => TicketKind::Verify,
            "reset" => TicketKind::Reset,
            other => return Err(StoreError::Corrupt(format!("kind: unknown value {other}"))),
        };
        Ok(Ticket {
            ticket_hash: r.ticket_hash,
            kind,
            user_id: r.user_id,
            email: r.email,
            client_id: r.client_id,
            result_url: r.result_url,
            created_at: int(r.created_at),
            expires_at: int(r.expires_at),
        })
    }
}

/// Voids the live tickets of kind `?2` of the user `{user}` (an SQL expression), at `?3`.
fn void_older(user: &str) -> String {
    format!(
        "UPDATE email_tickets SET used_at = ?3 \
         WHERE user_id = {user} AND kind = ?2 AND used_at IS NULL"
    )
}

/// Stores the ticket `?1`.. for the user rows `{users}` selects (`u` their alias): the reset
/// kind binds the tail of the password hash and needs one.
fn insert_for(users: &str) -> String {
    format!(
        "INSERT INTO email_tickets (ticket_hash, kind, user_id, email, client_id, binding, \
         result_url, created_at, expires_at) \
         SELECT ?1, ?2, u.user_id, u.email, ?4, \
           CASE WHEN ?2 = 'reset' THEN substr(u.password_hash, -16) END, ?5, ?3, ?6 \
         FROM {users} AND u.email IS NOT NULL AND (?2 <> 'reset' OR u.password_hash IS NOT NULL)"
    )
}

fn ticket_args(t: &Ticket, now: u64) -> Vec<Value> {
    vec![
        t.ticket_hash.as_str().into(),
        t.kind.as_str().into(),
        num(now),
        opt(&t.client_id),
        opt(&t.result_url),
        num(t.expires_at),
    ]
}

impl<B: Sql> MailStore for SqlStore<B> {
    async fn email_provider(&self) -> Result<Option<EmailProvider>, StoreError> {
        let row: Option<ProviderRow> = self.first(PROVIDER, &[]).settle().await?;
        row.map(EmailProvider::try_from).transpose()
    }

    async fn put_email_provider(
        &self,
        p: &EmailProvider,
        create: bool,
    ) -> Result<bool, StoreError> {
        let conflict = if create {
            "NOTHING"
        } else {
            "UPDATE SET name = excluded.name, enabled = excluded.enabled, \
             default_from_address = excluded.default_from_address, settings = excluded.settings, \
             credentials_sealed = excluded.credentials_sealed, updated_at = excluded.updated_at"
        };
        let sql = format!(
            "INSERT INTO email_provider (id, name, enabled, default_from_address, settings, \
             credentials_sealed, updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO {conflict}"
        );
        let args = [
            p.name.as_str().into(),
            flag_arg(p.enabled),
            opt(&p.default_from_address),
            json_arg(&p.settings)?,
            opt(&p.credentials_sealed),
            self.now(),
        ];
        Ok(self.run(&sql, &args).settle().await? == 1)
    }

    async fn delete_email_provider(&self) -> Result<bool, StoreError> {
        Ok(self
            .run("DELETE FROM email_provider WHERE id = 1", &[])
            .settle()
            .await?
            == 1)
    }

    async fn email_template(&self, name: &str) -> Result<Option<EmailTemplate>, StoreError> {
        let row: Option<TemplateRow> = self.first(TEMPLATE, &[name.into()]).settle().await?;
        Ok(row.map(EmailTemplate::from))
    }

    async fn put_email_template(&self, t: &EmailTemplate) -> Result<(), StoreError> {
        let sql = "INSERT OR REPLACE INTO email_templates (template, enabled, from_address, \
            subject, body, text, result_url, url_lifetime, include_email_in_redirect) \
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
        let args = [
            t.template.as_str().into(),
            flag_arg(t.enabled),
            opt(&t.from),
            t.subject.as_str().into(),
            t.body.as_str().into(),
            t.text.as_str().into(),
            opt(&t.result_url),
            t.url_lifetime.map_or(Value::Null, num),
            flag_arg(t.include_email_in_redirect),
        ];
        self.run(sql, &args).settle().await.map(|_| ())
    }

    async fn outgoing(
        &self,
        template: &str,
    ) -> Result<(Option<EmailProvider>, Option<EmailTemplate>), StoreError> {
        let [provider, template] = self
            .batch_on(
                Source::Primary,
                &[(PROVIDER, &[]), (TEMPLATE, &[template.into()])],
            )
            .settle()
            .await?
            .try_into()
            .map_err(|_| backend("batch returned too few results"))?;
        let provider: Option<ProviderRow> = provider.first()?;
        let template: Option<TemplateRow> = template.first()?;
        Ok((
            provider.map(EmailProvider::try_from).transpose()?,
            template.map(EmailTemplate::from),
        ))
    }

    async fn issue_ticket(&self, t: &Ticket, now: u64) -> Result<bool, StoreError> {
        let mut args = ticket_args(t, now);
        args.push(t.user_id.as_str().into());
        let changes = self
            .batch(&[
                (&void_older("?7"), &args),
                (
                    &insert_for("users u WHERE u.user_id = ?7 AND u.linked_to IS NULL"),
                    &args,
                ),
            ])
            .settle()
            .await?;
        Ok(changes.get(1) == Some(&1))
    }

    async fn issue_ticket_by_email(
        &self,
        t: &Ticket,
        connection: &str,
        email_lower: &str,
        now: u64,
    ) -> Result<Option<User>, StoreError> {
        let mut args = ticket_args(t, now);
        args.push(connection.into());
        args.push(email_lower.into());
        let who = "(SELECT user_id FROM users \
                   WHERE connection = ?7 AND lower(email) = ?8 AND linked_to IS NULL)";
        let select = format!(
            "SELECT {} FROM users WHERE user_id = {who} AND EXISTS \
             (SELECT 1 FROM email_tickets WHERE ticket_hash = ?1)",
            user_select("users")
        );
        let outcomes = self
            .batch_on(
                Source::Primary,
                &[
                    (&void_older(who), &args),
                    (
                        &insert_for(&format!("users u WHERE u.user_id = {who}")),
                        &args,
                    ),
                    (&select, &args),
                ],
            )
            .settle()
            .await?;
        let row: Option<UserRow> = match outcomes.get(2) {
            Some(o) => o.first()?,
            None => return Err(backend("batch returned too few results")),
        };
        row.map(User::try_from).transpose()
    }

    async fn live_ticket(
        &self,
        ticket_hash: &str,
        kind: TicketKind,
        now: u64,
    ) -> Result<Option<Ticket>, StoreError> {
        let sql = format!(
            "{TICKET} WHERE ticket_hash = ?1 AND kind = ?2 AND used_at IS NULL AND expires_at > ?3"
        );
        let row: Option<TicketRow> = self
            .first(&sql, &[ticket_hash.into(), kind.as_str().into(), num(now)])
            .settle()
            .await?;
        row.map(Ticket::try_from).transpose()
    }

    async fn redeem_verification(
        &self,
        ticket_hash: &str,
        redemption: &str,
        now: u64,
    ) -> Result<Option<(Ticket, bool)>, StoreError> {
        let args = [ticket_hash.into(), num(now), redemption.into()];
        let mine = "(SELECT {} FROM email_tickets WHERE ticket_hash = ?1 AND used_by = ?3)";
        let outcomes = self
            .batch_on(
                Source::Primary,
                &[
                    (
                        "UPDATE email_tickets SET used_at = ?2, used_by = ?3 WHERE ticket_hash = ?1 \
                         AND kind = 'verify' AND used_at IS NULL AND expires_at > ?2",
                        &args,
                    ),
                    (
                        &format!(
                            "UPDATE users SET email_verified = 1, updated_at = ?2 \
                             WHERE user_id = {} AND email = {}",
                            mine.replace("{}", "user_id"),
                            mine.replace("{}", "email")
                        ),
                        &args,
                    ),
                    (&format!("{TICKET} WHERE ticket_hash = ?1 AND used_by = ?3"), &args),
                ],
            )
            .settle().await?;
        let [_, verified, ticket] =
            <[_; 3]>::try_from(outcomes).map_err(|_| backend("batch returned too few results"))?;
        let row: Option<TicketRow> = ticket.first()?;
        Ok(match row {
            Some(r) => Some((Ticket::try_from(r)?, verified.changes == 1)),
            None => None,
        })
    }

    async fn redeem_reset(
        &self,
        ticket_hash: &str,
        redemption: &str,
        password_hash: &str,
        end_sessions: bool,
        now: u64,
    ) -> Result<bool, StoreError> {
        let args = [
            ticket_hash.into(),
            num(now),
            redemption.into(),
            password_hash.into(),
        ];
        let user = "(SELECT user_id FROM email_tickets WHERE ticket_hash = ?1 AND used_by = ?3)";
        let mut statements = vec![
            // Taken only while the password is the one it was bound to.
            "UPDATE email_tickets SET used_at = ?2, used_by = ?3 WHERE ticket_hash = ?1 \
             AND kind = 'reset' AND used_at IS NULL AND expires_at > ?2 AND EXISTS \
             (SELECT 1 FROM users u WHERE u.user_id = email_tickets.user_id \
              AND substr(u.password_hash, -16) = email_tickets.binding)"
                .to_string(),
            format!("UPDATE users SET password_hash = ?4, updated_at = ?2 WHERE user_id = {user}"),
            format!(
                "UPDATE email_tickets SET used_at = ?2 \
                 WHERE user_id = {user} AND kind = 'reset' AND used_at IS NULL"
            ),
            format!(
                "DELETE FROM login_failures WHERE user_key = \
                 (SELECT connection || char(10) || lower(email) FROM users WHERE user_id = {user})"
            ),
        ];
        if end_sessions {
            statements.extend([
                format!(
                    "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
                     SELECT t.access_jti, t.access_expires_at, ?2 FROM refresh_tokens t \
                     JOIN refresh_families f ON f.family_id = t.family_id \
                     WHERE f.user_id = {user} AND f.revoked_at IS NULL \
                       AND t.access_jti IS NOT NULL AND t.access_expires_at > ?2 \
                     ON CONFLICT (jti) DO NOTHING"
                ),
                format!(
                    "UPDATE refresh_families SET revoked_at = ?2 \
                     WHERE user_id = {user} AND revoked_at IS NULL"
                ),
                format!("DELETE FROM sessions WHERE user_id = {user}"),
            ]);
        }
        // Only the password's statement takes `?4`.
        let batch: Vec<_> = statements
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    if s.contains("?4") {
                        &args[..]
                    } else {
                        &args[..3]
                    },
                )
            })
            .collect();
        let changes = self.batch(&batch).settle().await?;
        Ok(changes.get(1) == Some(&1))
    }

    async fn put_passwordless(&self, c: &PasswordlessCode) -> Result<(), StoreError> {
        // A code that used up its tries stays void until it would have expired: a resend
        // neither resets the count nor extends the wait.
        let sql = format!(
            "INSERT INTO passwordless_codes (connection, email, client_id, code_hash, link_hash, \
             binding, tries, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8) \
             ON CONFLICT (connection, email, client_id) DO UPDATE SET \
             code_hash = excluded.code_hash, link_hash = excluded.link_hash, \
             binding = excluded.binding, created_at = excluded.created_at, \
             tries = CASE WHEN expires_at > ?7 THEN tries ELSE 0 END, \
             expires_at = CASE WHEN expires_at > ?7 AND tries >= {CODE_TRIES} THEN expires_at \
             ELSE excluded.expires_at END"
        );
        let args = [
            c.connection.as_str().into(),
            c.email.as_str().into(),
            c.client_id.as_str().into(),
            c.code_hash.as_str().into(),
            opt(&c.link_hash),
            opt(&c.binding),
            num(c.created_at),
            num(c.expires_at),
        ];
        self.batch(&[(&sql, &args)]).settle().await.map(|_| ())
    }

    async fn redeem_passwordless(
        &self,
        key: (&str, &str, &str),
        code_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let args = [
            key.0.into(),
            key.1.into(),
            key.2.into(),
            code_hash.into(),
            num(now),
        ];
        let of = "connection = ?1 AND email = ?2 AND client_id = ?3";
        let changes = self
            .batch(&[
                (
                    &format!(
                        "DELETE FROM passwordless_codes WHERE {of} AND code_hash = ?4 \
                         AND expires_at > ?5 AND tries < {CODE_TRIES}"
                    ),
                    &args,
                ),
                (
                    &format!("UPDATE passwordless_codes SET tries = tries + 1 WHERE {of}"),
                    &args[..3],
                ),
            ])
            .settle()
            .await?;
        Ok(changes.first() == Some(&1))
    }

    async fn redeem_passwordless_link(
        &self,
        link_hash: &str,
        now: u64,
    ) -> Result<Option<PasswordlessCode>, StoreError> {
        let row: Option<CodeRow> = self
            .first(
                &format!(
                    "DELETE FROM passwordless_codes WHERE link_hash = ?1 AND expires_at > ?2 \
                     AND tries < {CODE_TRIES} RETURNING connection, email, client_id, \
                     code_hash, link_hash, binding, created_at, expires_at"
                ),
                &[link_hash.into(), num(now)],
            )
            .settle()
            .await?;
        Ok(row.map(PasswordlessCode::from))
    }
}
