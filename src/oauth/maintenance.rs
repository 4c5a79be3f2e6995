//! The issuer's scheduled work (the Worker's Cron Trigger) and the re-encryption under a new
//! key-encryption key that the management API can also start at once.

use super::keys::{KeyRing, Maintenance};
use crate::error::OAuthError;
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, ConnectionStore, HasClaims, HasConnections, HasMail, MailStore};
use crate::port::{KeyStore, RefreshStore, UserStore};

/// Users given their email key per scheduled run (one D1 batch of updates).
pub const EMAIL_KEYS_PER_RUN: u32 = 500;

/// One scheduled run: signing keys made where missing, rotated where due, dropped once every
/// token they signed has expired; whatever the previous KEK sealed, sealed again; revoked
/// access tokens forgotten once expired; users from before email keys given theirs.
pub async fn scheduled<S, C, H, R, U>(
    ring: &KeyRing<'_, S, C>,
    sealed: &H,
    refresh: &R,
    users: &U,
) -> Result<Maintenance, OAuthError>
where
    S: KeyStore,
    C: Crypto,
    H: HasClaims + HasConnections + HasMail,
    R: RefreshStore,
    U: UserStore,
{
    let mut done = ring.maintain().settle().await?;
    done.resealed += reseal_secrets(ring, sealed).settle().await?;
    done.revocations_pruned = refresh
        .prune_revoked_access_tokens(ring.clock.now())
        .settle()
        .await?;
    done.email_keys = users
        .backfill_email_keys(EMAIL_KEYS_PER_RUN)
        .settle()
        .await?;
    Ok(done)
}

/// Moves every signing key, hook secret, connection secret and the email provider's secret
/// that only the previous KEK opens under the current one; answers how many moved. Once it
/// has run, `KEY_ENCRYPTION_KEY_PREVIOUS` may be removed.
pub async fn rekey<S: KeyStore, C: Crypto, H: HasClaims + HasConnections + HasMail>(
    ring: &KeyRing<'_, S, C>,
    sealed: &H,
) -> Result<u32, OAuthError> {
    let keys = ring.store.all_keys().settle().await?;
    let moved = ring.reseal(&keys).settle().await?;
    Ok(moved + reseal_secrets(ring, sealed).settle().await?)
}

/// The options of a connection that hold secrets sealed with its id.
const SEALED_OPTIONS: [&str; 2] = [
    crate::model::upstream::SEALED_SECRET,
    crate::model::connection::SEALED_STORE_SECRET,
];

async fn reseal_secrets<S: KeyStore, C: Crypto, H: HasClaims + HasConnections + HasMail>(
    ring: &KeyRing<'_, S, C>,
    stores: &H,
) -> Result<u32, OAuthError> {
    let Some(kek) = ring.kek else {
        return Ok(0);
    };
    let mut moved = 0;
    for mut connection in stores.connections().all_connections().settle().await? {
        let mut changed = false;
        for name in SEALED_OPTIONS {
            let old = connection.options.get(name).and_then(|v| v.as_str());
            let Some(old) = old else { continue };
            if let Some(new) = kek.reseal(ring.rng, &connection.id, old)? {
                connection.options.insert(name.into(), new.into());
                changed = true;
            }
        }
        if changed {
            stores
                .connections()
                .update_connection(&connection)
                .settle()
                .await?;
            moved += 1;
        }
    }
    let hooks = stores.claims();
    for hook in hooks.hooks().settle().await? {
        if let Some(sealed) = kek.reseal(ring.rng, &hook.hook_id, &hook.secret_enc)? {
            hooks
                .put_hook(&crate::model::StoredHook {
                    secret_enc: sealed,
                    ..hook
                })
                .settle()
                .await?;
            moved += 1;
        }
    }
    let mail = stores.mail();
    if let Some(mut provider) = mail.email_provider().settle().await? {
        let sealed = provider.credentials_sealed.as_deref().unwrap_or("");
        let new = match sealed {
            "" => None,
            old => kek.reseal(ring.rng, super::mail::SEALED_AS, old)?,
        };
        if let Some(new) = new {
            provider.credentials_sealed = Some(new);
            mail.put_email_provider(&provider, false).settle().await?;
            moved += 1;
        }
    }
    Ok(moved)
}
