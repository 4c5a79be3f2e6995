//! The Guardian settings (which second factors are on, and the policy) through the isolate's
//! memory, as the connections are: a password sign-in reads them with no round trip while
//! warm; a write through the management API drops them (other isolates see it within
//! `CACHE_TTL_SECONDS`). Everything about one user goes to D1.

use super::EdgeStores;
use crate::error::StoreError;
use crate::model::mfa::Guardian;
use crate::port::settled::Settle;
use crate::port::MfaStore;

/// The one entry of [`super::IsolateCache::guardian`].
const ALL: &str = "";

impl EdgeStores<'_> {
    pub(super) async fn remembered_guardian(&self) -> Result<Guardian, StoreError> {
        let shelf = &self.memory.guardian;
        self.remembered(shelf, ALL, self.d1.guardian())
            .settle()
            .await
    }

    pub(super) fn forget_guardian_now(&self) {
        self.memory.guardian.forget(ALL);
    }
}
