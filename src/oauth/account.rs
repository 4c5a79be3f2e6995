//! What a person does with their account outside a sign-in, as Auth0's Authentication API
//! has it: sign up by API (`POST /dbconnections/signup`), ask for a password reset
//! (`POST /dbconnections/change_password`, the hosted "Forgot password?" form), verify an
//! address and set a new password through an emailed link.
//!
//! Who may: anyone may sign up where the connection takes sign-ups and ask for a reset link
//! (the answer never says whether the address has an account); only the holder of a link
//! may verify or reset with it, once, before it expires and while nothing replaced it.

use super::mail::{Mailer, Recipient};
use super::provision::{Credential, Draft};
use super::signin::{new_user, SignInError, SignInFlow};
use crate::error::OAuthError;
use crate::model::mail::{Ticket, TicketKind};
use crate::model::{Client, Connection, User};
use crate::port::crypto::Crypto;
use crate::port::mail::MailStore;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, ClientStore, ConnectionStore, KeyStore, Stores, UserStore};

/// The account flows' ports.
pub struct Account<'a, P, C, S, K, M> {
    pub flow: SignInFlow<'a, P, C, S, K>,
    pub mailer: Mailer<'a, M>,
}

/// Why an account request is refused, in Auth0's words (`code`, `description`).
#[derive(Debug, Clone, PartialEq)]
pub enum AccountError {
    /// A malformed or incomplete request: `invalid_request` or Auth0's `bad.*` codes.
    Invalid(&'static str, String),
    /// The address (or one that looks the same) has an account: Auth0's `user_exists`.
    Exists,
    /// The password does not meet the connection's policy: `invalid_password`.
    Password(String),
    /// Sign-up or self-service reset is turned off for the connection.
    Disabled(String),
    /// The issuer failed.
    Failed(OAuthError),
}

impl AccountError {
    /// The HTTP status of the refusal and its words for a person; a failure's detail goes to
    /// the log only ([`super::events::log_failure`]).
    pub fn answer(&self, log: &dyn Fn(&str)) -> (u16, &str) {
        match self {
            AccountError::Invalid(_, why) | AccountError::Password(why) => (400, why),
            AccountError::Exists => (400, "The user already exists."),
            AccountError::Disabled(why) => (403, why),
            AccountError::Failed(e) => {
                super::events::log_failure(log, e);
                (500, "The service failed. Try again later.")
            }
        }
    }
}

impl From<OAuthError> for AccountError {
    fn from(e: OAuthError) -> Self {
        AccountError::Failed(e)
    }
}

impl From<crate::error::StoreError> for AccountError {
    fn from(e: crate::error::StoreError) -> Self {
        AccountError::Failed(e.into())
    }
}

/// What `POST /dbconnections/signup` takes: the client, the connection's name, and the user
/// (its email, profile and `user_metadata`, and the password as its credential).
#[derive(Debug, Default)]
pub struct Signup {
    pub client_id: String,
    pub connection: String,
    pub user: Draft,
}

/// A working reset link: what its form shows, and whose password it sets.
#[derive(Debug)]
pub struct ResetForm {
    pub ticket: Ticket,
    /// The connection's password rule, in words.
    pub password_rule: String,
    pub user: User,
    pub connection: Connection,
}

impl<P, C, S, K, M> Account<'_, P, C, S, K, M>
where
    P: Stores,
    C: Crypto,
    S: ClaimsStore,
    K: KeyStore,
    M: MailStore,
{
    /// The client and its database `connection` (by name; the tenant's default when empty),
    /// which must be enabled for it.
    async fn database(
        &self,
        client_id: &str,
        connection: &str,
    ) -> Result<(Client, Connection), AccountError> {
        let ports = self.flow.ports;
        let Some(client) = ports.clients().client(client_id).settle().await? else {
            return Err(AccountError::Invalid(
                "invalid_request",
                "the client_id is not a registered client".into(),
            ));
        };
        let default = &self.flow.facts.config.default_connection;
        let named = Some(connection).filter(|c| !c.is_empty());
        let all = ports.connections().all_connections().settle().await?;
        let chosen = super::signin::connection::choose(&all, client_id, named, default)
            .and_then(super::signin::connection::with_passwords)
            .map_err(|e| {
                AccountError::Invalid("invalid_request", e.description.unwrap_or_default())
            })?;
        Ok((client, chosen.clone()))
    }

    /// `POST /dbconnections/signup`: the user made as the sign-up page makes one (the same
    /// policy and provisioning), stored, and sent a verification link when the connection
    /// says so (`verify_email`, on unless false).
    pub async fn signup(&self, form: Signup) -> Result<User, AccountError> {
        let (client, connection) = self
            .database(&form.client_id, &form.connection)
            .settle()
            .await?;
        if !connection.takes_signups()
            || connection.signup_disabled()
            || !self.flow.facts.config.signup
        {
            return Err(AccountError::Disabled(
                "Sign-ups are turned off for this connection".into(),
            ));
        }
        let no_password = matches!(&form.user.credential, Credential::Password(p) if p.is_empty());
        if form.user.email.is_empty() || no_password {
            return Err(AccountError::Invalid(
                "invalid_signup",
                "email and password are required".into(),
            ));
        }
        let user = match new_user(&self.flow, &connection, form.user).settle().await {
            Ok(u) => u,
            Err(SignInError::EmailTaken) => return Err(AccountError::Exists),
            Err(SignInError::SignupRefused(why)) => return Err(AccountError::Password(why)),
            Err(SignInError::Failed(e) | SignInError::Request(e)) => return Err(e.into()),
            Err(e) => return Err(AccountError::Failed(e.into_grant_error())),
        };
        match self.flow.ports.users().create_user(&user).settle().await {
            Ok(()) => {}
            Err(crate::error::StoreError::Conflict(_)) => return Err(AccountError::Exists),
            Err(e) => return Err(e.into()),
        }
        self.after_signup(&user, &client, &connection)
            .settle()
            .await;
        Ok(user)
    }

    /// A verification link for a new user of `connection`, when it sends them; a failure is
    /// logged, never the sign-up's.
    pub async fn after_signup(&self, user: &User, client: &Client, connection: &Connection) {
        if user.email_verified || !connection.sends_verification() {
            return;
        }
        let to = Recipient {
            user,
            client_id: Some(&client.client_id),
            client_name: &client.name,
        };
        if let Err(e) = self
            .mailer
            .send_ticket(TicketKind::Verify, to, (None, None), true)
            .settle()
            .await
        {
            super::events::log_failure(self.mailer.log, &e);
        }
    }

    /// `POST /dbconnections/change_password`: a reset link to `email` if it has an account
    /// in the connection. Answers the same whether or not it has (only a malformed request,
    /// an unknown client or connection, or a connection that turned self-service resets off
    /// is refused).
    pub async fn change_password(
        &self,
        client_id: &str,
        connection: &str,
        email: &str,
    ) -> Result<(), AccountError> {
        let (client, connection) = self.database(client_id, connection).settle().await?;
        if connection.self_service_reset_disabled() {
            return Err(AccountError::Disabled(
                "Password resets are turned off for this connection".into(),
            ));
        }
        if email.trim().is_empty() {
            return Err(AccountError::Invalid(
                "invalid_request",
                "email is required".into(),
            ));
        }
        let attempts = self.flow.ports.attempts();
        let app = (Some(client.client_id.as_str()), client.name.as_str());
        Ok(self
            .mailer
            .ask_reset(attempts, &connection, email, app)
            .settle()
            .await?)
    }

    /// The form of a reset link, while the link works.
    pub async fn reset_form(&self, value: &str) -> Result<Option<ResetForm>, AccountError> {
        let Some(ticket) = self.mailer.reset_ticket(value).settle().await? else {
            return Ok(None);
        };
        let Some(user) = self
            .flow
            .ports
            .users()
            .user(&ticket.user_id)
            .settle()
            .await?
        else {
            return Ok(None);
        };
        let all = self
            .flow
            .ports
            .connections()
            .all_connections()
            .settle()
            .await?;
        let found = all.into_iter().find(|c| c.name == user.connection);
        Ok(found
            .filter(Connection::is_database)
            .map(|connection| ResetForm {
                password_rule: connection.password_policy().describe(),
                ticket,
                user,
                connection,
            }))
    }

    /// Sets the password of a reset link's form: the connection's policy applies (with the
    /// user's address and names as personal information). `Ok(false)` when the link stopped
    /// working meanwhile.
    pub async fn reset(&self, form: &ResetForm, password: &str) -> Result<bool, AccountError> {
        let user = &form.user;
        let names: Vec<&str> = [
            &user.name,
            &user.given_name,
            &user.family_name,
            &user.nickname,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
        let email = user.email.as_deref().unwrap_or("");
        if let Err(why) = form
            .connection
            .password_policy()
            .check(password, email, &names)
        {
            return Err(AccountError::Password(why.message()));
        }
        let ticket = &form.ticket;
        Ok(self
            .mailer
            .reset(self.flow.crypto, ticket, password)
            .settle()
            .await?)
    }
}
