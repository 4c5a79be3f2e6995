//! The issuer's scheduled work (the Worker's Cron Trigger) and the re-encryption under a new
//! key-encryption key that the management API can also start at once.

use super::keys::{KeyRing, Maintenance};
use crate::error::OAuthError;
use crate::port::crypto::Crypto;
use crate::port::{ClaimsStore, KeyStore, RefreshStore, UserStore};

/// Users given their email key per scheduled run (one D1 batch of updates).
pub const EMAIL_KEYS_PER_RUN: u32 = 500;

/// One scheduled run: signing keys made where missing, rotated where due, dropped once every
/// token they signed has expired; whatever the previous KEK sealed, sealed again; revoked
/// access tokens forgotten once expired; users from before email keys given theirs.
pub async fn scheduled<S, C, H, R, U>(
    ring: &KeyRing<'_, S, C>,
    hooks: &H,
    refresh: &R,
    users: &U,
) -> Result<Maintenance, OAuthError>
where
    S: KeyStore,
    C: Crypto,
    H: ClaimsStore,
    R: RefreshStore,
    U: UserStore,
{
    let mut done = ring.maintain().await?;
    done.resealed += reseal_hooks(ring, hooks).await?;
    done.revocations_pruned = refresh
        .prune_revoked_access_tokens(ring.clock.now())
        .await?;
    done.email_keys = users.backfill_email_keys(EMAIL_KEYS_PER_RUN).await?;
    Ok(done)
}

/// Moves every signing key and hook secret that only the previous KEK opens under the
/// current one; answers how many moved. Once it has run, `KEY_ENCRYPTION_KEY_PREVIOUS` may
/// be removed.
pub async fn rekey<S: KeyStore, C: Crypto, H: ClaimsStore>(
    ring: &KeyRing<'_, S, C>,
    hooks: &H,
) -> Result<u32, OAuthError> {
    let keys = ring.store.all_keys().await?;
    let moved = ring.reseal(&keys).await?;
    Ok(moved + reseal_hooks(ring, hooks).await?)
}

async fn reseal_hooks<S: KeyStore, C: Crypto, H: ClaimsStore>(
    ring: &KeyRing<'_, S, C>,
    hooks: &H,
) -> Result<u32, OAuthError> {
    let Some(kek) = ring.kek else {
        return Ok(0);
    };
    let mut moved = 0;
    for hook in hooks.hooks().await? {
        if let Some(sealed) = kek.reseal(ring.rng, &hook.hook_id, &hook.secret_enc)? {
            hooks
                .put_hook(&crate::model::StoredHook {
                    secret_enc: sealed,
                    ..hook
                })
                .await?;
            moved += 1;
        }
    }
    Ok(moved)
}
