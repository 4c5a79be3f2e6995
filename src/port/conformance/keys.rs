//! The key store's lifecycle contract: one current and one next key per algorithm however
//! many isolates insert at once, rotation as one step, only previous keys revocable, dropping
//! by age, re-sealing by compare-and-set.

use super::{ensure, Check, Fixture};
use crate::model::{KeyState, StoredKey};
use crate::port::KeyStore;
use futures_util::future::join_all;

/// A key of an algorithm of the run's own, so the issuer's real keys are untouched.
fn key(fx: &Fixture, alg: &str, name: &str, state: KeyState, at: u64) -> StoredKey {
    StoredKey {
        kid: format!("conformance-{}-{name}", fx.run_id),
        alg: alg.into(),
        public_jwk: "{}".into(),
        private_key_enc: format!("v1.{name}."),
        created_at: at,
        state,
        current_since: (state == KeyState::Current).then_some(at),
        current_until: None,
        revoked_at: None,
        promotion: None,
    }
}

fn failed(e: impl ToString) -> String {
    e.to_string()
}

pub async fn concurrent_inserts<S: KeyStore>(store: &S, fx: &Fixture) -> Check {
    let alg = format!("conformance-{}-inserts", fx.run_id);
    for state in [KeyState::Current, KeyState::Next] {
        let keys: Vec<StoredKey> = (0..10)
            .map(|i| key(fx, &alg, &format!("{}{i}", state.as_str()), state, fx.now))
            .collect();
        let results = join_all(keys.iter().map(|k| store.insert_key(k))).await;
        let mut stored = Vec::new();
        for (k, r) in keys.iter().zip(results) {
            if r.map_err(failed)? {
                stored.push(k.kid.clone());
            }
        }
        ensure(stored.len() == 1, || {
            format!("{} {} keys stored", stored.len(), state.as_str())
        })?;
    }
    let published = store.published_keys_now().await.map_err(failed)?;
    let ours: Vec<KeyState> = published
        .iter()
        .filter(|k| k.alg == alg)
        .map(|k| k.state)
        .collect();
    ensure(ours.len() == 2, || format!("published: {ours:?}"))?;
    let signing = store.signing_keys(&alg).await.map_err(failed)?;
    ensure(
        signing.len() == 1 && signing[0].state == KeyState::Current,
        || format!("signing keys: {signing:?}"),
    )
}

pub async fn lifecycle<S: KeyStore>(store: &S, fx: &Fixture) -> Check {
    let alg = format!("conformance-{}-lifecycle", fx.run_id);
    // Long ago, so dropping by age below cannot reach the issuer's real keys.
    let t0 = 1_000;
    let (a, b) = (
        key(fx, &alg, "a", KeyState::Current, t0),
        key(fx, &alg, "b", KeyState::Next, t0),
    );
    for k in [&a, &b] {
        ensure(store.insert_key(k).await.map_err(failed)?, || {
            format!("{} not stored", k.kid)
        })?;
    }
    let c = key(fx, &alg, "c", KeyState::Next, t0 + 10);
    let rotated = store.rotate_keys(&c, t0 + 10).await.map_err(failed)?;
    ensure(rotated, || "the next key was not promoted".into())?;
    let state_of = |keys: &[StoredKey], kid: &str| {
        keys.iter()
            .find(|k| k.kid == kid)
            .map(|k| (k.state, k.current_since, k.current_until))
    };
    let all = store.all_keys().await.map_err(failed)?;
    ensure(
        state_of(&all, &a.kid) == Some((KeyState::Previous, Some(t0), Some(t0 + 10)))
            && state_of(&all, &b.kid) == Some((KeyState::Current, Some(t0 + 10), None))
            && state_of(&all, &c.kid) == Some((KeyState::Next, None, None)),
        || format!("after rotation: {all:?}"),
    )?;
    // Only a previous key may be revoked; the current and next keys stay as they are.
    for kid in [&b.kid, &c.kid] {
        let after = store.revoke_key(kid, t0 + 20).await.map_err(failed)?;
        ensure(after.is_some_and(|k| k.state != KeyState::Revoked), || {
            format!("{kid} was revoked although not previous")
        })?;
    }
    let missing = store.revoke_key("no-such-kid", t0).await.map_err(failed)?;
    ensure(missing.is_none(), || "a missing key was found".into())?;
    let revoked = store.revoke_key(&a.kid, t0 + 20).await.map_err(failed)?;
    ensure(
        revoked.is_some_and(|k| k.state == KeyState::Revoked && k.revoked_at == Some(t0 + 20)),
        || "the previous key was not revoked".into(),
    )?;
    let published = store.published_keys_now().await.map_err(failed)?;
    ensure(!published.iter().any(|k| k.kid == a.kid), || {
        "a revoked key is still published".into()
    })?;
    // A second rotation; the key it retires is dropped once older than the cut-off.
    let d = key(fx, &alg, "d", KeyState::Next, t0 + 30);
    store.rotate_keys(&d, t0 + 30).await.map_err(failed)?;
    store.drop_previous_keys(t0 + 31).await.map_err(failed)?;
    let all = store.all_keys().await.map_err(failed)?;
    let ours: Vec<(&str, KeyState)> = all
        .iter()
        .filter(|k| k.alg == alg)
        .map(|k| (k.kid.as_str(), k.state))
        .collect();
    ensure(
        ours.len() == 3
            && state_of(&all, &b.kid).is_none()
            && state_of(&all, &a.kid).map(|s| s.0) == Some(KeyState::Revoked),
        || format!("after dropping: {ours:?}"),
    )?;
    // Re-sealing is a compare-and-set on the sealed text.
    let stale = store
        .reseal_key(&c.kid, "v1.not-it.", "v1.new.")
        .await
        .map_err(failed)?;
    let fresh = store
        .reseal_key(&c.kid, &c.private_key_enc, "v1.new.")
        .await
        .map_err(failed)?;
    ensure(!stale && fresh, || {
        format!("reseal: stale {stale}, fresh {fresh}")
    })
}
