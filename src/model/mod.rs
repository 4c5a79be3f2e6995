//! The issuer's shared types: clients, users, APIs, organizations, keys, refresh tokens,
//! rules, hooks, scopes, claims and what a grant decided. No I/O and no protocol flow: this
//! layer imports only the error types, and every other layer may import it.

pub mod authentication;
pub mod claims;
pub mod client;
pub mod code;
pub mod config;
pub mod connection;
pub mod directory;
pub mod email;
pub mod grant_type;
pub mod hook;
pub mod identity;
pub mod issuance;
pub mod job;
pub mod json;
pub mod key;
pub mod log;
pub mod mail;
pub mod mfa;
pub mod organization;
pub mod password_policy;
pub mod refresh;
pub mod role;
pub mod rule;
pub mod scope;
pub mod secret;
pub mod session;
pub mod strict_json;
pub mod upstream;
pub mod user;
pub mod webauthn;

pub use authentication::{Authenticated, Method};
pub use claims::{
    is_reserved, merge_custom, ClaimTarget, CustomClaims, TraceAction, TraceEntry, Trigger,
    MAX_CUSTOM_CLAIM_BYTES, RESERVED_CLAIMS,
};
pub use client::{Api, ApiGrant, Client, ClientGrant};
pub use code::AuthorizationCode;
pub use config::Config;
pub use connection::Connection;
pub use directory::{
    merge_metadata, Listed, Paging, UserChanges, UserFilter, UserQuery, UserSort,
    MAX_METADATA_BYTES,
};
pub use grant_type::GrantType;
pub use hook::{Hook, HookEndpoint, OnFailure, StoredHook};
pub use identity::Identity;
pub use issuance::{Issuance, RefreshPlan, Transaction};
pub use job::{Imported, Job};
pub use key::{KeyState, StoredKey};
pub use log::{LogEvent, LogQuery};
pub use organization::Organization;
pub use refresh::{IssuedAccess, RefreshRecord, RevokedToken};
pub use role::{HeldPermission, Permission, Role};
pub use rule::Rule;
pub use scope::Scope;
pub use secret::Secret;
pub use session::Session;
pub use user::{LockoutPolicy, Subject, User, UserAccess};

/// Members into a JSON object, inserted one by one. (`collect` into a map sorts them first,
/// and that sort is compiled anew for every kind of iterator: about 1 KB of the Worker each.)
pub fn object<I: IntoIterator<Item = (String, serde_json::Value)>>(
    members: I,
) -> serde_json::Map<String, serde_json::Value> {
    let mut map = serde_json::Map::new();
    for (name, value) in members {
        map.insert(name, value);
    }
    map
}
