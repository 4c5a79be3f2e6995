//! Everything one request needs, lent by the edge (or by a test) to the endpoints.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::OAuthError;
use crate::random::Random;
use crate::store::{ClientStore, KeyStore};
use crate::token::keys::{active_signing_key, Kek, KeyCache};
use crate::token::{Signer, SigningKey};

/// The issuer as one request sees it: configuration, ports and per-isolate caches.
pub struct Issuer<'a, S, G> {
    pub config: &'a Config,
    pub store: &'a S,
    pub signer: &'a G,
    /// `None` when the `KEY_ENCRYPTION_KEY` secret is missing: signing then fails closed.
    pub kek: Option<&'a Kek>,
    pub clock: &'a dyn Clock,
    pub random: &'a dyn Random,
    pub key_cache: &'a KeyCache,
    /// Where internal detail of `server_error`s goes (the Worker's console).
    pub log: &'a dyn Fn(&str),
}

impl<S: ClientStore + KeyStore, G: Signer> Issuer<'_, S, G> {
    /// The key-encryption key, or `server_error` when it is not configured.
    pub fn kek(&self) -> Result<&Kek, OAuthError> {
        self.kek
            .ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))
    }

    /// Logs the internal detail of a failure; the client never sees it.
    pub fn log_error(&self, e: &OAuthError) {
        if e.code == crate::error::ErrorCode::ServerError {
            (self.log)(&e.to_string());
        }
    }

    /// The key to sign with now ([`active_signing_key`]).
    pub async fn signing_key(&self) -> Result<SigningKey, OAuthError> {
        active_signing_key(
            self.store,
            self.kek()?,
            self.random,
            self.clock,
            self.key_cache,
        )
        .await
    }
}
