//! Revoking a refresh family revokes the access tokens issued with its tokens: listed until
//! they expire, seen by the bearer read in the same round trip as the user.

use super::{code, ensure, token, Check, Fixture};
use crate::model::{IssuedAccess, RefreshRecord};
use crate::port::{CodeStore, ExchangeStore, RefreshStore, SubjectStore, UserKey};

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

/// A redeemed code presented again revokes its access token, with or without a refresh
/// family; an unredeemed code revokes nothing.
pub async fn code_access_tokens<S: RefreshStore + ExchangeStore + CodeStore>(
    store: &S,
    fx: &Fixture,
) -> Check {
    let issued = |name: &str| IssuedAccess {
        jti: format!("conformance-{}-{name}", fx.run_id),
        expires_at: fx.now + 300,
    };
    // A code redeemed without a refresh token, one with, and one never redeemed.
    let alone = code(fx, "code-alone");
    let with_family = code(fx, "code-family");
    let unused = code(fx, "code-unused");
    for c in [&alone, &with_family, &unused] {
        store.insert_code(c).await.map_err(failed)?;
    }
    let (alone_at, family_at) = (issued("code-alone-at"), issued("code-family-at"));
    let family = RefreshRecord {
        access_jti: Some(family_at.jti.clone()),
        ..token(fx, "code-family-rt", "code-family")
    };
    for (c, at, rt) in [
        (&alone, &alone_at, None),
        (&with_family, &family_at, Some(&family)),
    ] {
        let won = store
            .commit_redemption(&c.code_hash, &fx.client_id, fx.now, at, rt)
            .await
            .map_err(failed)?;
        ensure(won, || format!("{} not redeemed", c.code_hash))?;
    }
    for c in [&alone, &with_family, &unused] {
        store
            .revoke_code(&c.code_hash, fx.now)
            .await
            .map_err(failed)?;
    }
    for (jti, listed) in [
        (alone_at.jti.as_str(), true),
        (family_at.jti.as_str(), true),
    ] {
        let revoked = store.access_revoked(jti).await.map_err(failed)?;
        ensure(revoked == listed, || format!("{jti}: revoked {revoked}"))?;
    }
    let rt = store
        .find_refresh(&family.token_hash)
        .await
        .map_err(failed)?;
    ensure(rt.is_some_and(|r| r.revoked_at == Some(fx.now)), || {
        "the code's refresh family was not revoked".into()
    })?;
    let still = store.find_code(&unused.code_hash).await.map_err(failed)?;
    ensure(still.is_some_and(|c| c.used_at.is_none()), || {
        "an unredeemed code changed".into()
    })
}
