//! Second factors: a TOTP step and a recovery code are each taken once, by one of many
//! concurrent redemptions, and an MFA token works once across both; a security key's counter
//! only grows; the remembered browser's settings and a user's forgotten browsers are kept.

use super::{ensure, Check, Fixture};
use crate::model::mfa::{Authenticator, Credential, RememberBrowser, TOTP, WEBAUTHN_ROAMING};
use crate::port::mfa::{MfaStore, Spent};
use crate::port::UserStore;
use futures_util::future::join_all;

fn failed(e: impl ToString) -> String {
    e.to_string()
}

pub async fn single_use<S: MfaStore>(store: &S, fx: &Fixture) -> Check {
    let id = format!("totp|dev_{}", fx.run_id);
    let app = Authenticator {
        id: id.clone(),
        user_id: fx.user_id.clone(),
        kind: TOTP.into(),
        name: None,
        secret_sealed: Some("sealed".into()),
        last_step: None,
        confirmed: false,
        created_at: fx.now,
        last_auth_at: None,
        credential: None,
    };
    let codes: Vec<String> = (0..3).map(|i| format!("{}-code-{i}", fx.run_id)).collect();
    store
        .enroll(&app, Some(&codes), fx.now)
        .await
        .map_err(failed)?;
    let (mine, left) = store.authenticators(&fx.user_id).await.map_err(failed)?;
    let stored = mine.iter().find(|a| a.id == id);
    ensure(stored.is_some_and(|a| !a.confirmed) && left == 3, || {
        format!("after enrollment: {stored:?}, {left} codes")
    })?;

    // 20 redemptions of the same step, each with its own token: one takes it.
    let tokens: Vec<String> = (0..20).map(|i| format!("{}-jti-{i}", fx.run_id)).collect();
    let names: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let step = fx.now / 30;
    let id = id.as_str();
    let raced = join_all(tokens.iter().zip(&names).map(|(jti, r)| {
        let spent = Spent {
            jti,
            expires_at: fx.now + 600,
            redemption: r,
        };
        async move {
            store
                .accept_step(&fx.user_id, id, step, None, &spent, fx.now)
                .await
        }
    }))
    .await;
    let won = raced.iter().filter(|r| matches!(r, Ok(true))).count();
    ensure(won == 1, || format!("{won} of 20 took one step: {raced:?}"))?;
    let (mine, _) = store.authenticators(&fx.user_id).await.map_err(failed)?;
    let stored = mine.iter().find(|a| a.id == id);
    ensure(
        stored.is_some_and(|a| a.confirmed && a.last_step == Some(step)),
        || format!("after the step: {stored:?}"),
    )?;

    // A token that took a step is spent: a later step with it is refused; a fresh token takes
    // the later step.
    let winner = raced
        .iter()
        .position(|r| matches!(r, Ok(true)))
        .unwrap_or(0);
    let again = Spent {
        jti: &tokens[winner],
        expires_at: fx.now + 600,
        redemption: "again",
    };
    let reused = store
        .accept_step(&fx.user_id, id, step + 1, None, &again, fx.now)
        .await
        .map_err(failed)?;
    ensure(!reused, || "a spent token took a later step".into())?;
    let fresh = Spent {
        jti: &format!("{}-jti-fresh", fx.run_id),
        expires_at: fx.now + 600,
        redemption: "fresh",
    };
    let later = store
        .accept_step(&fx.user_id, id, step + 1, None, &fresh, fx.now)
        .await
        .map_err(failed)?;
    ensure(later, || "a fresh token did not take a later step".into())?;

    // 20 redemptions of one recovery code: one spends it, and two codes are left.
    let hash = &codes[0];
    let raced = join_all(names.iter().enumerate().map(|(i, r)| async move {
        let jti = format!("{}-rc-{i}", fx.run_id);
        let spent = Spent {
            jti: &jti,
            expires_at: fx.now + 600,
            redemption: r,
        };
        store
            .spend_recovery_code(&fx.user_id, hash, &spent, fx.now)
            .await
    }))
    .await;
    let won: Vec<_> = raced.iter().filter(|r| matches!(r, Ok(Some(_)))).collect();
    ensure(won.len() == 1 && matches!(won[0], Ok(Some(2))), || {
        format!("recovery code raced 20-way: {raced:?}")
    })?;
    // A wrong code spends nothing, not even the token, which then takes a good code.
    let token = format!("{}-rc-wrong", fx.run_id);
    let spent = Spent {
        jti: &token,
        expires_at: fx.now + 600,
        redemption: "w",
    };
    let wrong = store
        .spend_recovery_code(&fx.user_id, "no such code", &spent, fx.now)
        .await
        .map_err(failed)?;
    let right = store
        .spend_recovery_code(&fx.user_id, &codes[1], &spent, fx.now)
        .await
        .map_err(failed)?;
    ensure(wrong.is_none() && right == Some(1), || {
        format!("wrong then right: {wrong:?}, {right:?}")
    })?;

    // A reset removes the authenticator and the codes.
    store
        .reset_authenticators(&fx.user_id)
        .await
        .map_err(failed)?;
    let (mine, left) = store.authenticators(&fx.user_id).await.map_err(failed)?;
    ensure(mine.iter().all(|a| a.id != id) && left == 0, || {
        format!("after the reset: {mine:?}, {left} codes")
    })
}

/// A security key's counter only grows: after its registration, an assertion with the stored
/// count (a cloned key, or the loser of two read at once) is refused; a counter never kept (0)
/// is taken while it stays 0.
pub async fn key_counter<S: MfaStore>(store: &S, fx: &Fixture) -> Check {
    let key = |n: &str, count: u32| Authenticator {
        id: format!("webauthn-roaming|dev_{}{n}", fx.run_id),
        user_id: fx.user_id.clone(),
        kind: WEBAUTHN_ROAMING.into(),
        name: None,
        secret_sealed: None,
        last_step: None,
        confirmed: false,
        created_at: fx.now,
        last_auth_at: None,
        credential: Some(Credential {
            id: format!("cred-{}{n}", fx.run_id),
            public_jwk: "{}".into(),
            sign_count: count,
        }),
    };
    let mut n = 0;
    let mut take = |id: String, count: u32| {
        n += 1;
        let jti = format!("{}-key-{n}", fx.run_id);
        async move {
            let spent = Spent {
                jti: &jti,
                expires_at: fx.now + 600,
                redemption: "r",
            };
            let taken = store.accept_step(&fx.user_id, &id, fx.now, Some(count), &spent, fx.now);
            taken.await.map_err(failed)
        }
    };
    let counted = key("c", 5);
    store.enroll(&counted, None, fx.now).await.map_err(failed)?;
    let id = counted.id.clone();
    // Its registration confirms it with the count it was stored with; then only more.
    let steps = [
        (take(id.clone(), 5).await?, true),
        (take(id.clone(), 5).await?, false),
        (take(id.clone(), 6).await?, true),
        (take(id.clone(), 6).await?, false),
        (take(id.clone(), 0).await?, false),
    ];
    ensure(steps.iter().all(|(got, want)| got == want), || {
        format!("a new key counting 5 took 5, 5, 6, 6, 0: {steps:?}")
    })?;
    let uncounted = key("z", 0);
    store
        .enroll(&uncounted, None, fx.now)
        .await
        .map_err(failed)?;
    let id = uncounted.id.clone();
    let (first, second) = (take(id.clone(), 0).await?, take(id, 0).await?);
    ensure(first && second, || {
        format!("a key without a counter took 0 twice: {first}, {second}")
    })
}

/// The remembered browser's settings are kept as set, and a user's browsers forgotten are
/// read with the user (no storage call of their own at sign-in); a user that does not exist
/// forgets nothing.
pub async fn remembered<S: MfaStore + UserStore>(store: &S, fx: &Fixture) -> Check {
    let shipped = store.guardian().await.map_err(failed)?.remember;
    let set = RememberBrowser {
        checkbox: true,
        ticked: true,
        inactivity: 3_600,
        overall: 7_200,
    };
    store.set_remember(&set).await.map_err(failed)?;
    let read = store.guardian().await.map_err(failed)?.remember;
    store.set_remember(&shipped).await.map_err(failed)?;
    ensure(read == set, || format!("set {set:?}, read {read:?}"))?;
    let forgot = store.forget_browsers(&fx.user_id, fx.now).await;
    let user = store.user(&fx.user_id).await.map_err(failed)?;
    let at = user.map(|u| u.browsers_forgotten_at);
    ensure(matches!(forgot, Ok(true)) && at == Some(fx.now), || {
        format!("forgot {forgot:?}: the user reads {at:?}")
    })?;
    let nobody = format!("auth0|nobody-{}", fx.run_id);
    let forgot = store.forget_browsers(&nobody, fx.now).await;
    ensure(matches!(forgot, Ok(false)), || {
        format!("no such user: {forgot:?}")
    })
}
