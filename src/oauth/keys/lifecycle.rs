//! When keys change state, as pure rules over the stored keys and the time, so the timing
//! argument (docs/storage.md, "Signing-key lifecycle") is checked with a fake clock.
//!
//! A key is published (in the JWKS) from the moment it is made, as `next`. Verifiers cache
//! the JWKS for at most [`JWKS_MAX_AGE`] after fetching it, and a fetch may be answered from
//! an isolate's memory (`CACHE_TTL_SECONDS`) or a shared HTTP cache that honoured the same
//! max-age. So a key published for longer than two max-ages plus the isolate cache and a
//! minute of clock skew is held by every verifier that follows `Cache-Control`: that is the
//! least [`Config::key_publish_lead`] may be ([`minimum_lead`]). A key signs only once it has
//! been published that long; until then the key it replaced keeps signing.

use crate::model::config::{Config, MAX_TOKEN_LIFETIME};
use crate::model::{KeyState, StoredKey};

/// How long verifiers may cache the JWK Set (its `Cache-Control: max-age`).
pub const JWKS_MAX_AGE: u64 = 300;

/// Clock skew allowed between this issuer and a verifier.
const SKEW: u64 = 60;

/// The least publication lead that keeps every cached JWKS ahead of signing, for an isolate
/// cache of `cache_ttl` seconds.
pub const fn minimum_lead(cache_ttl: u64) -> u64 {
    2 * JWKS_MAX_AGE + cache_ttl + SKEW
}

/// Whether `key` has been published long enough to sign at `now`.
pub fn may_sign(key: &StoredKey, lead: u64, now: u64) -> bool {
    key.created_at.saturating_add(lead) <= now
}

/// Of an algorithm's current and previous keys, the one to sign with at `now`: the most
/// recently promoted key that has been published for `lead`; if none has, the earliest
/// promoted (the key that has signed longest: an issuer's first key signs at once, having
/// nothing older to fall back on). Answers the key and until when that choice holds (when a
/// newer key becomes eligible), if it can change.
pub fn signer(keys: &[StoredKey], lead: u64, now: u64) -> Option<(&StoredKey, Option<u64>)> {
    let mut by_promotion: Vec<&StoredKey> = keys
        .iter()
        .filter(|k| matches!(k.state, KeyState::Current | KeyState::Previous))
        .collect();
    // The most recently promoted first (the current key), by promotion number: times are in
    // seconds, so rotations in one second tie on every time.
    by_promotion.sort_by_key(|k| {
        std::cmp::Reverse((k.promotion.unwrap_or(0), k.state == KeyState::Current))
    });
    let current = *by_promotion.first()?;
    let chosen = by_promotion
        .iter()
        .find(|k| may_sign(k, lead, now))
        .or(by_promotion.last())?;
    if chosen.kid == current.kid {
        return Some((chosen, None));
    }
    // Until the newest key that is not yet eligible becomes so.
    let changes_at = by_promotion
        .iter()
        .take_while(|k| k.kid != chosen.kid)
        .map(|k| k.created_at.saturating_add(lead))
        .min();
    Some((chosen, changes_at))
}

/// Whether the scheduled rotation is due for an algorithm at `now`: its current key has
/// signed for the configured period and its next key may sign.
pub fn rotation_due(current: &StoredKey, next: &StoredKey, config: &Config, now: u64) -> bool {
    let period = config.key_rotation_days.saturating_mul(86_400);
    let since = current.current_since.unwrap_or(current.created_at);
    period > 0
        && since.saturating_add(period) <= now
        && may_sign(next, config.key_publish_lead, now)
}

/// How long a previous key stays published after it stopped being current: it may sign for
/// up to the lead (while its successor is too new), isolates keep a signing key for
/// `key_cache` seconds, and the longest token it signed lives [`MAX_TOKEN_LIFETIME`].
pub fn previous_retention(config: &Config, key_cache: u64) -> u64 {
    config.key_publish_lead + key_cache + MAX_TOKEN_LIFETIME + SKEW
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key made at `created`, promoted `promotion`-th (0: never) at `since`.
    fn key(
        kid: &str,
        state: KeyState,
        created: u64,
        promotion: u64,
        until: Option<u64>,
    ) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            alg: "ES256".into(),
            public_jwk: "{}".into(),
            private_key_enc: String::new(),
            created_at: created,
            state,
            current_since: (promotion > 0).then_some(created),
            current_until: until,
            revoked_at: None,
            promotion: (promotion > 0).then_some(promotion),
        }
    }

    #[test]
    fn a_rotation_in_the_second_the_keys_were_made_keeps_the_old_key_signing() {
        // Both keys made at 100 and rotated at 100: every time ties. Listed either way round,
        // the old key signs until the new one has been published for the lead.
        let old = key("old", KeyState::Previous, 100, 1, Some(100));
        let new = key("new", KeyState::Current, 100, 2, None);
        for keys in [[old.clone(), new.clone()], [new.clone(), old.clone()]] {
            let (k, until) = signer(&keys, 900, 100).unwrap();
            assert_eq!((k.kid.as_str(), until), ("old", Some(1000)));
            assert_eq!(signer(&keys, 900, 1000).unwrap().0.kid, "new");
        }
    }

    #[test]
    fn three_rotations_in_one_second_keep_the_first_promoted_key_signing() {
        // Every time is 100 on every key; in any listed order the first key signs until the
        // lead has passed, then the last promoted.
        let a = key("a", KeyState::Previous, 100, 1, Some(100));
        let b = key("b", KeyState::Previous, 100, 2, Some(100));
        let c = key("c", KeyState::Previous, 100, 3, Some(100));
        let d = key("d", KeyState::Current, 100, 4, None);
        for keys in [
            [a.clone(), b.clone(), c.clone(), d.clone()],
            [d.clone(), c.clone(), b.clone(), a.clone()],
            [b.clone(), d.clone(), a.clone(), c.clone()],
        ] {
            assert_eq!(signer(&keys, 900, 100).unwrap().0.kid, "a");
            assert_eq!(signer(&keys, 900, 999).unwrap().0.kid, "a");
            assert_eq!(signer(&keys, 900, 1000).unwrap().0.kid, "d");
        }
    }

    #[test]
    fn the_newest_eligible_key_signs_and_revoked_or_next_keys_never() {
        let a = key("a", KeyState::Previous, 0, 1, Some(600));
        let b = key("b", KeyState::Previous, 0, 2, Some(720));
        let c = key("c", KeyState::Current, 600, 3, None);
        let keys = [a, b, c];
        assert_eq!(signer(&keys, 900, 720).unwrap().0.kid, "a");
        assert_eq!(signer(&keys, 900, 900).unwrap(), (&keys[1], Some(1500)));
        assert_eq!(signer(&keys, 900, 1500).unwrap(), (&keys[2], None));
        let next = key("n", KeyState::Next, 0, 0, None);
        let revoked = key("r", KeyState::Revoked, 0, 1, Some(1));
        assert_eq!(signer(&[next, revoked], 900, 5000), None);
    }
}
