//! Second factors: the Guardian settings (which factors are on, and the policy) through the
//! isolate's memory, as the connections are: a password sign-in reads them with no round trip
//! while warm; a write here drops them (other isolates see it within `CACHE_TTL_SECONDS`).
//! Everything about one user goes to D1.

use super::EdgeStores;
use crate::error::StoreError;
use crate::model::mfa::{Authenticator, Guardian};
use crate::port::mfa::{MfaStore, Spent};

/// The one entry of [`super::IsolateCache::guardian`].
const ALL: &str = "";

impl MfaStore for EdgeStores<'_> {
    async fn guardian(&self) -> Result<Guardian, StoreError> {
        let shelf = &self.memory.guardian;
        self.remembered(shelf, ALL, self.d1.guardian()).await
    }

    async fn set_factor(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let found = self.d1.set_factor(name, enabled).await?;
        self.memory.guardian.forget(ALL);
        Ok(found)
    }

    async fn set_all_applications(&self, all: bool) -> Result<(), StoreError> {
        self.d1.set_all_applications(all).await?;
        self.memory.guardian.forget(ALL);
        Ok(())
    }

    async fn authenticators(
        &self,
        user_id: &str,
    ) -> Result<(Vec<Authenticator>, usize), StoreError> {
        self.d1.authenticators(user_id).await
    }

    async fn enroll(
        &self,
        authenticator: &Authenticator,
        recovery_hashes: Option<&[String]>,
        now: u64,
    ) -> Result<(), StoreError> {
        self.d1.enroll(authenticator, recovery_hashes, now).await
    }

    async fn accept_step(
        &self,
        user_id: &str,
        id: &str,
        step: u64,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.d1.accept_step(user_id, id, step, spent, now).await
    }

    async fn spend_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        spent: &Spent<'_>,
        now: u64,
    ) -> Result<Option<usize>, StoreError> {
        self.d1
            .spend_recovery_code(user_id, code_hash, spent, now)
            .await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        now: u64,
    ) -> Result<(), StoreError> {
        self.d1.replace_recovery_codes(user_id, hashes, now).await
    }

    async fn delete_authenticator(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
        self.d1.delete_authenticator(user_id, id).await
    }

    async fn reset_authenticators(&self, user_id: &str) -> Result<(), StoreError> {
        self.d1.reset_authenticators(user_id).await
    }
}
