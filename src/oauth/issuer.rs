//! The composition root one request sees: configuration, ports and per-isolate caches, lent
//! by the edge (or by a test) to the route table. The endpoints (`web`, `admin`) take from it
//! what each flow uses; no flow of this layer takes it whole.

use super::account::Account;
use super::claims::pipeline::Pipeline;
use super::events::{record, Actor};
use super::exchange::TokenExchange;
use super::facts::Facts;
use super::mail::Mailer;
use super::signin::SignInFlow;
use crate::error::OAuthError;
use crate::model::config::Config;
use crate::oauth::keys::{Kek, KeyCache, KeyRing};
use crate::port::clock::Clock;
use crate::port::crypto::Crypto;
use crate::port::hooks::HookTransport;
use crate::port::mail::{MailStore, Postbox};
use crate::port::outbound::Http;
use crate::port::random::Random;
use crate::port::{ClaimsStore, EventSink, KeyStore, Stores};
use serde_json::Value;

/// The issuer as one request sees it.
pub struct Issuer<'a, P, C> {
    pub config: &'a Config,
    /// Every storage port.
    pub stores: &'a P,
    pub crypto: &'a C,
    /// `None` when the `KEY_ENCRYPTION_KEY` secret is missing: signing then fails closed.
    pub kek: Option<&'a Kek>,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
    pub key_cache: &'a KeyCache,
    /// Where internal detail of `server_error`s goes (the Worker's console).
    pub log: &'a dyn Fn(&str),
    /// The client's IP address as the platform reports it, for brute-force counting.
    pub client_ip: Option<&'a str>,
    /// The client's country as the platform reports it, for rules and hooks.
    pub country: Option<&'a str>,
    /// The `Host` the request came to: the hosted pages' WebAuthn origin at a loopback issuer
    /// ([`crate::oauth::mfa::passkey::RelyingParty`]).
    pub host: Option<&'a str>,
    /// The remembered-browser cookie the request carries, if any
    /// ([`crate::oauth::mfa::remember`]).
    pub remembered: Option<&'a str>,
    /// How hooks are reached.
    pub hooks: &'a dyn HookTransport,
    /// The one way out to the network (upstream providers; hooks' URLs go through it too).
    pub http: &'a dyn Http,
    /// Where log events go.
    pub events: &'a dyn EventSink,
    /// Where email messages are handed over.
    pub postbox: &'a dyn Postbox,
}

impl<'a, P: Stores, C: Crypto> Issuer<'a, P, C> {
    /// The facts of this request, the time read now.
    pub fn facts(&self) -> Facts<'a> {
        Facts {
            config: self.config,
            now: self.clock.now(),
            client_ip: self.client_ip,
            country: self.country,
            host: self.host,
        }
    }

    /// Logs the internal detail of a failure; the client never sees it.
    pub fn log_error(&self, e: &OAuthError) {
        super::events::log_failure(self.log, e);
    }

    /// Records a log event of `kind` now, from this request's IP.
    pub fn record(&self, kind: &str, description: &str, actor: Actor<'_>, details: Value) {
        record(
            self.events,
            self.random,
            &self.facts(),
            kind,
            description,
            actor,
            details,
        );
    }

    /// The claims pipeline's ports.
    pub fn pipeline(&self) -> Pipeline<'_, impl ClaimsStore + '_> {
        Pipeline {
            store: self.stores.claims(),
            kek: self.kek,
            hooks: self.hooks,
            log: self.log,
        }
    }

    /// The token endpoint's exchange.
    pub fn token_exchange(
        &self,
    ) -> TokenExchange<'_, P, C, impl ClaimsStore + '_, impl KeyStore + '_> {
        TokenExchange {
            ports: self.stores,
            crypto: self.crypto,
            random: self.random,
            pipeline: self.pipeline(),
            keys: self.keys(),
            facts: self.facts(),
            events: self.events,
        }
    }

    /// What a sign-in at /authorize uses.
    pub fn sign_in(&self) -> SignInFlow<'_, P, C, impl ClaimsStore + '_, impl KeyStore + '_> {
        SignInFlow {
            ports: self.stores,
            crypto: self.crypto,
            random: self.random,
            kek: self.kek,
            pipeline: self.pipeline(),
            keys: self.keys(),
            facts: self.facts(),
            events: self.events,
            log: self.log,
            http: self.http,
            remembered: self.remembered,
        }
    }

    /// What the email flows use.
    pub fn mailer(&self) -> Mailer<'_, impl MailStore + '_> {
        Mailer {
            store: self.stores.mail(),
            kek: self.kek,
            random: self.random,
            postbox: self.postbox,
            facts: self.facts(),
            events: self.events,
            log: self.log,
        }
    }

    /// What the account flows (sign-up by API, resets, verification) use.
    pub fn account(
        &self,
    ) -> Account<'_, P, C, impl ClaimsStore + '_, impl KeyStore + '_, impl MailStore + '_> {
        Account {
            flow: self.sign_in(),
            mailer: self.mailer(),
        }
    }

    /// The signing keys.
    pub fn keys(&self) -> KeyRing<'_, impl KeyStore + '_, C> {
        KeyRing {
            store: self.stores.keys(),
            crypto: self.crypto,
            kek: self.kek,
            rng: self.random,
            clock: self.clock,
            cache: self.key_cache,
            config: self.config,
        }
    }
}
