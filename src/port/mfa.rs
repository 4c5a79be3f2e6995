//! Second factors as stored: the tenant's Guardian settings, each user's authenticators and
//! recovery codes, and the MFA tokens redeemed.

use crate::error::StoreError;
use crate::model::mfa::{Authenticator, Guardian, RememberBrowser};

/// What a redemption spends along with its factor: the MFA token (its `jti` and expiry), which
/// works once.
pub struct Spent<'a> {
    pub jti: &'a str,
    pub expires_at: u64,
    /// A random value naming this redemption.
    pub redemption: &'a str,
}

pub trait MfaStore {
    /// The factors turned on and the policy.
    async fn guardian(&self) -> Result<Guardian, StoreError>;
    /// Turns a factor on or off; `false` when there is no factor of that name.
    async fn set_factor(&self, name: &str, enabled: bool) -> Result<bool, StoreError>;
    /// Sets the policy (`true`: `["all-applications"]`).
    async fn set_all_applications(&self, all: bool) -> Result<(), StoreError>;
    /// Sets the remembered browser's settings.
    async fn set_remember(&self, remember: &RememberBrowser) -> Result<(), StoreError>;
    /// Forgets every browser the user had remembered until `now`; `false` when there is no
    /// such user.
    async fn forget_browsers(&self, user_id: &str, now: u64) -> Result<bool, StoreError>;

    /// The user's authenticators, oldest first, and how many recovery codes they have left.
    async fn authenticators(
        &self,
        user_id: &str,
    ) -> Result<(Vec<Authenticator>, usize), StoreError>;
    /// Stores a new, unconfirmed authenticator, replacing the user's other unconfirmed ones
    /// (one enrollment in progress), and, when given, the user's recovery codes (hashes),
    /// in one batch.
    async fn enroll(
        &self,
        authenticator: &Authenticator,
        recovery_hashes: Option<&[String]>,
        now: u64,
    ) -> Result<(), StoreError>;
    /// Accepts time step `step` of the user's authenticator `id` (which confirms it) and
    /// spends the MFA token, in one batch, only if the step is later than the last accepted
    /// and the token is unspent. Of concurrent redemptions at most one gets `true`. For a
    /// WebAuthn credential (`sign_count` given) the step is the challenge's issue time, not
    /// ordered: the token spent is the page's challenge, and the counter becomes `sign_count`,
    /// which must be greater than the stored one unless both are 0 (a counter not kept) or
    /// the credential is unconfirmed (its registration, with the count it was stored with).
    async fn accept_step(
        &self,
        user_id: &str,
        id: &str,
        step: u64,
        sign_count: Option<u32>,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<bool, StoreError>;
    /// Spends the user's recovery code with this hash and the MFA token, in one batch.
    /// `Some(codes left)` when both were unspent; of concurrent redemptions at most one.
    async fn spend_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<Option<usize>, StoreError>;
    /// Replaces the user's recovery codes.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: u64,
    ) -> Result<(), StoreError>;
    /// Removes one authenticator of the user; whether there was one.
    async fn delete_authenticator(&self, user_id: &str, id: &str) -> Result<bool, StoreError>;
    /// Removes every authenticator and recovery code of the user.
    async fn reset_authenticators(&self, user_id: &str) -> Result<(), StoreError>;
}
