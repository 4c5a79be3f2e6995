//! Revoking a refresh family revokes the access tokens issued with its tokens: listed until
//! they expire, seen by the bearer read in the same round trip as the user.

use super::{ensure, token, Check, Fixture};
use crate::model::RefreshRecord;
use crate::port::{ExchangeStore, RefreshStore, SubjectStore, UserKey};

fn failed(e: impl ToString) -> String {
    e.to_string()
}

fn jti(r: &RefreshRecord) -> &str {
    r.access_jti.as_deref().unwrap_or_default()
}

pub async fn family_access_tokens<S: RefreshStore + ExchangeStore + SubjectStore>(
    store: &S,
    fx: &Fixture,
) -> Check {
    // Family `den`: one token whose access token has expired, one live, one rotated from it;
    // family `other` is left alone.
    let expired = RefreshRecord {
        access_expires_at: Some(fx.now - 1),
        ..token(fx, "den-expired", "den")
    };
    let live = token(fx, "den-live", "den");
    let rotated = token(fx, "den-rotated", "den");
    let other = token(fx, "other-live", "other");
    for r in [&expired, &live, &other] {
        ensure(store.insert_refresh(r).await.map_err(failed)?, || {
            format!("{} not stored", r.token_hash)
        })?;
    }
    let done = store
        .commit_rotation(&live.token_hash, &fx.client_id, fx.now, &rotated)
        .await
        .map_err(failed)?;
    ensure(done, || "the rotation did not happen".into())?;
    let user = UserKey::Id(&fx.user_id);
    let before = store
        .bearer_subject(jti(&live), user, None, None)
        .await
        .map_err(failed)?;
    ensure(before.is_some_and(|s| s.user.is_some()), || {
        "the bearer read did not find the user".into()
    })?;

    store
        .revoke_family(&live.family_id, fx.now)
        .await
        .map_err(failed)?;
    for (r, listed) in [
        (&live, true),
        (&rotated, true),
        (&expired, false),
        (&other, false),
    ] {
        let revoked = store.access_revoked(jti(r)).await.map_err(failed)?;
        ensure(revoked == listed, || {
            format!("{}: revoked {revoked}, expected {listed}", jti(r))
        })?;
    }
    let refused = store
        .bearer_subject(jti(&rotated), user, None, None)
        .await
        .map_err(failed)?;
    ensure(refused.is_none(), || {
        "a revoked token's bearer read found its user".into()
    })?;
    let kept = store
        .bearer_subject(jti(&other), user, None, None)
        .await
        .map_err(failed)?;
    ensure(kept.is_some(), || {
        "another family's token was refused".into()
    })?;

    let ours = |list: Vec<crate::model::RevokedToken>| -> Vec<String> {
        let prefix = format!("conformance-{}-den", fx.run_id);
        list.into_iter()
            .map(|r| r.jti)
            .filter(|j| j.starts_with(&prefix))
            .collect()
    };
    let now = ours(store.revoked_access_tokens(fx.now).await.map_err(failed)?);
    ensure(now == [jti(&live), jti(&rotated)], || {
        format!("listed now: {now:?}")
    })?;
    store
        .prune_revoked_access_tokens(fx.now)
        .await
        .map_err(failed)?;
    ensure(
        store.access_revoked(jti(&live)).await.map_err(failed)?,
        || "pruning removed a token that has not expired".into(),
    )?;
    let later = ours(
        store
            .revoked_access_tokens(fx.now + 300)
            .await
            .map_err(failed)?,
    );
    ensure(later.is_empty(), || {
        format!("listed after expiry: {later:?}")
    })
}
