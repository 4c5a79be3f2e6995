//! The reads of a user grant, each in one storage round trip.
#![allow(async_fn_in_trait)]

use crate::error::StoreError;
use crate::model::{AuthorizationCode, RefreshRecord, Subject};

/// Which user a [`SubjectStore::subject`] read is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    /// The user with this id.
    Id(&'a str),
    /// The user of `connection` whose email, ASCII-lower-cased, equals `email_lower`.
    Email {
        connection: &'a str,
        email_lower: &'a str,
    },
    /// The user with the identity `identity_id` at `provider` (an upstream provider's
    /// account): the user it belongs to, or, if that one is linked into another, that one.
    Identity {
        provider: &'a str,
        identity_id: &'a str,
    },
    /// The one user (not linked into another) whose email, ASCII-lower-cased, is
    /// `email_lower` and verified, in any connection; none when no user or several have it.
    VerifiedEmail { email_lower: &'a str },
}

/// What a user grant reads before it decides, each call **one** round trip (one D1 batch, a
/// read transaction), so a token costs the same whatever the user has: the user, the
/// organization and membership, roles and permissions. Never cached: a changed role, block
/// or membership shows at the next request.
pub trait SubjectStore {
    /// The user `key`, the organization `organization` (an id, else a name) and whether the
    /// user is a member of it, and the user's roles (global, plus within that organization)
    /// and permissions on the API `audience`. Whatever does not exist is `None` or empty.
    async fn subject(
        &self,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Subject, StoreError>;

    /// The [`SubjectStore::subject`] of a bearer token's user, read in the same round trip as
    /// whether the token's `jti` is revoked; `None` if it is.
    async fn bearer_subject(
        &self,
        jti: &str,
        key: UserKey<'_>,
        organization: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Option<Subject>, StoreError>;

    /// The refresh token with this hash (as [`crate::port::RefreshStore::find_refresh`]
    /// reads it) and the [`SubjectStore::subject`] of its user, its organization and its API.
    async fn refresh_subject(
        &self,
        token_hash: &str,
    ) -> Result<Option<(RefreshRecord, Subject)>, StoreError>;

    /// The code with this hash (as [`crate::port::CodeStore::find_code`] reads it) and the
    /// [`SubjectStore::subject`] of its user, its organization and its API.
    async fn code_subject(
        &self,
        code_hash: &str,
    ) -> Result<Option<(AuthorizationCode, Subject)>, StoreError>;
}
