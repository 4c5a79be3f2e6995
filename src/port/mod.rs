//! Ports: what the protocol core needs from outside, one trait per aggregate, each operation
//! with its contract written on it. Storage: the store layer (above this one) implements every
//! storage port once, in SQL, on D1 in the Worker and on SQLite natively, and [`conformance`]
//! is the suite both backends must pass. Platform: [`clock`], [`random`], [`crypto`] and the
//! [`hooks`] transport.
//
// The traits use `async fn` without `Send` bounds on purpose: Worker futures are `!Send`.
#![allow(async_fn_in_trait)]

use crate::port::settled::Settle;

pub mod claims;
pub mod clients;
pub mod clock;
pub mod codes;
pub mod conformance;
pub mod connections;
pub mod crypto;
pub mod hooks;
pub mod keys;
pub mod logs;
pub mod mail;
pub mod mfa;
#[cfg(not(target_arch = "wasm32"))]
pub mod native_crypto;
pub mod organizations;
pub mod outbound;
pub mod random;
pub mod refresh;
pub mod registry;
pub mod roles;
pub mod sessions;
pub mod settled;
pub mod subjects;
pub mod users;

pub use claims::ClaimsStore;
pub use clients::ClientStore;
pub use codes::CodeStore;
pub use connections::ConnectionStore;
pub use keys::KeyStore;
pub use logs::{EventSink, LogStore};
pub use mail::MailStore;
pub use mfa::MfaStore;
pub use organizations::OrganizationStore;
pub use refresh::{ExchangeStore, Login, RefreshStore, SignIn, UpstreamLogin};
pub use registry::RegistryStore;
pub use roles::RoleStore;
pub use sessions::SessionStore;
pub use subjects::{SubjectStore, UserKey};
pub use users::{AttemptStore, UserStore};

/// Each storage port behind an accessor of its own, so a flow's bounds name exactly the ports
/// it uses (`P: HasUsers + HasAttempts`) and a backend may put a cache in front of some ports
/// and leave the others alone (the Worker caches clients and the claims pipeline in KV; users,
/// keys and refresh tokens go straight to D1).
pub trait HasClients {
    fn clients(&self) -> &impl ClientStore;
}
/// See [`HasClients`].
pub trait HasConnections {
    fn connections(&self) -> &impl ConnectionStore;
}
/// See [`HasClients`].
pub trait HasKeys {
    fn keys(&self) -> &impl KeyStore;
}
/// See [`HasClients`].
pub trait HasUsers {
    fn users(&self) -> &impl UserStore;
}
/// See [`HasClients`].
pub trait HasAttempts {
    fn attempts(&self) -> &impl AttemptStore;
}
/// See [`HasClients`].
pub trait HasRefresh {
    fn refresh(&self) -> &impl RefreshStore;
}
/// See [`HasClients`].
pub trait HasExchange {
    fn exchange(&self) -> &impl ExchangeStore;
}
/// See [`HasClients`].
pub trait HasClaims {
    fn claims(&self) -> &impl ClaimsStore;
}
/// See [`HasClients`].
pub trait HasCodes {
    fn codes(&self) -> &impl CodeStore;
}
/// See [`HasClients`].
pub trait HasSessions {
    fn sessions(&self) -> &impl SessionStore;
}
/// See [`HasClients`].
pub trait HasSubjects {
    fn subjects(&self) -> &impl SubjectStore;
}

/// See [`HasClients`].
pub trait HasRoles {
    fn roles(&self) -> &impl RoleStore;
}
/// See [`HasClients`].
pub trait HasOrganizations {
    fn organizations(&self) -> &impl OrganizationStore;
}
/// See [`HasClients`].
pub trait HasRegistry {
    fn registry(&self) -> &impl RegistryStore;
}
/// See [`HasClients`].
pub trait HasLogs {
    fn logs(&self) -> &impl LogStore;
}
/// See [`HasClients`].
pub trait HasMail {
    fn mail(&self) -> &impl MailStore;
}
/// See [`HasClients`].
pub trait HasMfa {
    fn mfa(&self) -> &impl MfaStore;
    /// The Guardian settings, as [`MfaStore::guardian`] reads them; a backend that keeps them
    /// in memory answers from there.
    async fn guardian(&self) -> Result<crate::model::mfa::Guardian, crate::error::StoreError> {
        self.mfa().guardian().settle().await
    }
    /// Drops the Guardian settings a backend keeps (after a write through [`Self::mfa`]).
    fn forget_guardian(&self) {}
}

/// Every storage port: what the route table holds and lends to each flow, which takes only
/// the ports it uses.
pub trait Stores:
    HasClients
    + HasConnections
    + HasKeys
    + HasUsers
    + HasAttempts
    + HasRefresh
    + HasExchange
    + HasClaims
    + HasCodes
    + HasSessions
    + HasSubjects
    + HasRoles
    + HasOrganizations
    + HasRegistry
    + HasLogs
    + HasMail
    + HasMfa
{
}

impl<T> Stores for T where
    T: HasClients
        + HasConnections
        + HasKeys
        + HasUsers
        + HasAttempts
        + HasRefresh
        + HasExchange
        + HasClaims
        + HasCodes
        + HasSessions
        + HasSubjects
        + HasRoles
        + HasOrganizations
        + HasRegistry
        + HasLogs
        + HasMail
        + HasMfa
{
}
