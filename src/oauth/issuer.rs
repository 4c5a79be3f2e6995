//! Everything one request needs, lent by the edge (or by a test) to the endpoints.

use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::oauth::keys::{Kek, KeyCache, KeyRing};
use crate::port::clock::Clock;
use crate::port::crypto::Crypto;
use crate::port::hooks::HookTransport;
use crate::port::random::Random;
use crate::port::Store;

/// The issuer as one request sees it: configuration, ports and per-isolate caches.
pub struct Issuer<'a, S, C> {
    pub config: &'a Config,
    pub store: &'a S,
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
    /// How hooks are reached.
    pub hooks: &'a dyn HookTransport,
}

impl<S: Store, C: Crypto> Issuer<'_, S, C> {
    /// Logs the internal detail of a failure; the client never sees it.
    pub fn log_error(&self, e: &OAuthError) {
        if e.code == ErrorCode::ServerError {
            (self.log)(&e.to_string());
        }
    }

    /// Key management, or `server_error` when the key-encryption key is not configured.
    pub fn keys(&self) -> Result<KeyRing<'_, S, C>, OAuthError> {
        let kek = self
            .kek
            .ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
        Ok(KeyRing {
            store: self.store,
            crypto: self.crypto,
            kek,
            rng: self.random,
            clock: self.clock,
            cache: self.key_cache,
        })
    }
}
