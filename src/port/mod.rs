//! Ports: what the protocol core needs from outside, one trait per aggregate, each operation
//! with its contract written on it. Storage: D1 implements the storage ports in the Worker
//! (`edge::d1`), [`memory`] implements them for native tests and behaves the same way, and
//! [`conformance`] is the one suite both must pass. Platform: [`clock`], [`random`],
//! [`crypto`] and the [`hooks`] transport.
//
// The traits use `async fn` without `Send` bounds on purpose: Worker futures are `!Send`.
#![allow(async_fn_in_trait)]

pub mod claims;
pub mod clients;
pub mod clock;
pub mod conformance;
pub mod crypto;
pub mod directory;
pub mod hooks;
pub mod keys;
pub mod memory;
#[cfg(not(target_arch = "wasm32"))]
pub mod native_crypto;
pub mod random;
pub mod refresh;
pub mod users;

pub use claims::ClaimsStore;
pub use clients::ClientStore;
pub use directory::DirectoryStore;
pub use keys::KeyStore;
pub use refresh::{ExchangeStore, Login, RefreshStore};
pub use users::{AttemptStore, UserStore};

/// Everything the issuer stores.
pub trait Store:
    ClientStore
    + KeyStore
    + UserStore
    + AttemptStore
    + RefreshStore
    + ExchangeStore
    + ClaimsStore
    + DirectoryStore
{
}

impl<T> Store for T where
    T: ClientStore
        + KeyStore
        + UserStore
        + AttemptStore
        + RefreshStore
        + ExchangeStore
        + ClaimsStore
        + DirectoryStore
{
}
