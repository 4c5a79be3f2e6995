//! One conformance suite for every backend of the storage ports: the SQL stores run it
//! natively on SQLite with the real migrations (`tests/conformance.rs`), and inside the Worker
//! on D1 under workerd, with the Worker's caches in front of the ports it caches (the
//! end-to-end test `tests/e2e/conformance.test.mjs`, through a route that exists only when the
//! `BENCH` var is `1`). Each case checks one written contract, concurrency included: on
//! workerd the concurrent calls really interleave at D1's I/O; natively at every round trip.

use super::{
    AttemptStore, ClaimsStore, CodeStore, ExchangeStore, KeyStore, LogStore, Login,
    OrganizationStore, RefreshStore, RoleStore, SessionStore, SignIn, SubjectStore, UserKey,
    UserStore,
};
use crate::model::{AuthorizationCode, LockoutPolicy, RefreshRecord, Rule, Session};
use futures_util::future::join_all;

mod access;
mod connections;
mod directory;
mod edits;
mod keys;
mod mfa;
mod registry;
mod revocation;
use serde::Serialize;

/// Rows the suite needs to exist already (foreign keys): a client and a user.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub client_id: String,
    pub user_id: String,
    /// Makes this run's ids unique, so the suite can run again on the same database.
    pub run_id: String,
    /// The current time.
    pub now: u64,
    /// An API that exists (role permissions name one).
    pub audience: String,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub case: &'static str,
    /// `None` when the contract held; else what was seen.
    pub failure: Option<String>,
}

type Check = Result<(), String>;

/// A page long enough to hold what every run of the suite made.
const ALL: crate::model::Paging = crate::model::Paging {
    offset: 0,
    limit: 1_000,
};

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Check {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// Runs every case against `store`, and the registry's through `cached` (the ports the token
/// endpoint reads through a cache, where the backend has one).
pub async fn run<C, S>(cached: &C, store: &S, fx: &Fixture) -> Vec<Outcome>
where
    C: super::ClientStore + super::RegistryStore + super::ConnectionStore + ClaimsStore + KeyStore,
    S: KeyStore
        + AttemptStore
        + RefreshStore
        + ExchangeStore
        + ClaimsStore
        + CodeStore
        + SessionStore
        + SubjectStore
        + UserStore
        + RoleStore
        + OrganizationStore
        + LogStore
        + super::MfaStore,
{
    let mut out = Vec::new();
    let mut record = |case: &'static str, result: Check| {
        out.push(Outcome {
            case,
            failure: result.err(),
        })
    };
    record(
        "one of 20 concurrent rotations of a token wins",
        concurrent_rotation(store, fx).await,
    );
    record(
        "a revoked family takes no token and keeps none usable",
        family_revocation(store, fx).await,
    );
    record(
        "one of 10 concurrent key inserts becomes the current key, one the next",
        keys::concurrent_inserts(store, fx).await,
    );
    record(
        "a rotation moves next to current and current to previous in one step",
        keys::lifecycle(store, fx).await,
    );
    record(
        "revoking a family lists its unexpired access tokens, and a bearer read sees it",
        revocation::family_access_tokens(store, fx).await,
    );
    record(
        "a redeemed code presented again revokes its access token and family",
        revocation::code_access_tokens(store, fx).await,
    );
    record(
        "a TOTP step and a recovery code are taken once of 20 concurrent tries; a token once",
        mfa::single_use(store, fx).await,
    );
    record(
        "a security key's counter only grows, checked as the assertion is taken",
        mfa::key_counter(store, fx).await,
    );
    record(
        "the remembered browser's settings are kept; a user's forgotten browsers read with it",
        mfa::remembered(store, fx).await,
    );
    record(
        "attempts are counted atomically and the lock holds",
        lockout_counting(store, fx).await,
    );
    record(
        "a saved rule is in the pipeline, once",
        rule_save(cached, fx).await,
    );
    record(
        "one of 20 concurrent redemptions of a code wins",
        concurrent_redemption(store, fx).await,
    );
    record(
        "a sign-in stores its session and code together; logout ends the session",
        authorization_and_session(store, fx).await,
    );
    record(
        "a subject read finds what the single reads find",
        subject_reads(store, fx).await,
    );
    record(
        "a user id and an email are taken once",
        directory::unique_users(store, fx).await,
    );
    record(
        "concurrent metadata patches all last; an oversized one writes nothing",
        directory::metadata_merges(store, fx).await,
    );
    record(
        "user search filters, sorts and pages in insertion order",
        directory::search_and_paging(store, fx).await,
    );
    record(
        "deleting a user deletes their sessions",
        directory::deletion(store, fx).await,
    );
    record(
        "an import inserts, skips taken emails, and upserts keeping the id",
        directory::import(store, fx).await,
    );
    record(
        "log events: retention, newest first, filters",
        directory::logs(store, fx).await,
    );
    record(
        "roles: unique names, all-or-nothing assignments, deletes that cascade",
        access::roles(store, fx).await,
    );
    record(
        "organizations: members all or nothing, roles within need membership",
        access::organizations(store, fx).await,
    );
    record(
        "a client is created, updated, rotated and deleted with its grants and tokens",
        registry::client_lifecycle(cached, store, fx).await,
    );
    record(
        "a deleted API leaves no grant, permission or cached copy, raced or not",
        registry::api_deletion(cached, store, fx).await,
    );
    record(
        "roles and organizations are read, renamed and trimmed",
        edits::renames(store, fx).await,
    );
    record(
        "hooks and rules are saved, listed and deleted, and the pipeline follows",
        edits::hooks_and_rules(cached, fx).await,
    );
    record(
        "a user's sessions are listed and ended together",
        edits::user_sessions(store, fx).await,
    );
    record(
        "the published keys read through the cache are the fresh ones",
        edits::published_keys(cached).await,
    );
    record(
        "connections: every write shows at the next cached read; new clients are on all",
        connections::lifecycle(cached, fx).await,
    );
    record(
        "a linked user signs in as the primary; unlinking gives it back",
        connections::linking(store, fx).await,
    );
    out
}

async fn subject_reads<S>(store: &S, fx: &Fixture) -> Check
where
    S: SubjectStore + UserStore + RefreshStore + CodeStore,
{
    let err = |e: crate::error::StoreError| e.to_string();
    let user = store.user(&fx.user_id).await.map_err(err)?;
    let by_id = store
        .subject(
            UserKey::Id(&fx.user_id),
            Some("no-such-org"),
            Some("no-such-api"),
        )
        .await
        .map_err(err)?;
    ensure(by_id.user == user && user.is_some(), || {
        format!("by id: {:?}, alone: {user:?}", by_id.user)
    })?;
    ensure(by_id.organization.is_none() && !by_id.member, || {
        format!("an unknown organization was found: {by_id:?}")
    })?;
    if let Some(email) = user.as_ref().and_then(|u| u.email.as_deref()) {
        let lower = email.to_ascii_lowercase();
        let connection = user.as_ref().map_or("", |u| u.connection.as_str());
        let key = UserKey::Email {
            connection,
            email_lower: &lower,
        };
        let by_email = store.subject(key, None, None).await.map_err(err)?;
        ensure(by_email.user == user, || {
            format!("by email: {:?}", by_email.user)
        })?;
    }
    let nobody = store
        .subject(UserKey::Id("no-such-user"), None, None)
        .await
        .map_err(err)?;
    ensure(nobody == Default::default(), || {
        format!("nobody: {nobody:?}")
    })?;

    let t = token(fx, "subject", "subject");
    store.insert_refresh(&t).await.map_err(err)?;
    let found = store.refresh_subject(&t.token_hash).await.map_err(err)?;
    let alone = store.find_refresh(&t.token_hash).await.map_err(err)?;
    ensure(
        found.as_ref().map(|(r, _)| r) == alone.as_ref()
            && found.as_ref().is_some_and(|(_, s)| s.user == user),
        || format!("refresh subject: {found:?}, alone: {alone:?}"),
    )?;
    let c = code(fx, "subject");
    store.insert_code(&c).await.map_err(err)?;
    let found = store.code_subject(&c.code_hash).await.map_err(err)?;
    ensure(
        found
            .as_ref()
            .is_some_and(|(code, s)| *code == c && s.user == user),
        || format!("code subject: {found:?}"),
    )?;
    let missing = store.code_subject("no-such-code").await.map_err(err)?;
    ensure(missing.is_none(), || format!("a missing code: {missing:?}"))
}

pub(super) fn code(fx: &Fixture, name: &str) -> AuthorizationCode {
    AuthorizationCode {
        code_hash: format!("conformance-{}-{name}", fx.run_id),
        client_id: fx.client_id.clone(),
        user_id: fx.user_id.clone(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: None,
        nonce: None,
        scope: "openid offline_access".into(),
        audience: None,
        org_id: None,
        session_id: None,
        auth_time: fx.now,
        created_at: fx.now,
        expires_at: fx.now + 60,
        used_at: None,
        family_id: None,
        authenticated: Some(crate::model::Authenticated::password(
            "Username-Password-Authentication",
        )),
    }
}

async fn concurrent_redemption<S: CodeStore + ExchangeStore + RefreshStore>(
    store: &S,
    fx: &Fixture,
) -> Check {
    let c = code(fx, "code-race");
    store.insert_code(&c).await.map_err(|e| e.to_string())?;
    let families: Vec<RefreshRecord> = (0..20)
        .map(|i| token(fx, &format!("code-race-{i}"), &format!("code-race-{i}")))
        .collect();
    let at = crate::model::IssuedAccess {
        jti: format!("conformance-{}-code-race-at", fx.run_id),
        expires_at: fx.now + 60,
    };
    let results = join_all(
        families
            .iter()
            .map(|r| store.commit_redemption(&c.code_hash, &fx.client_id, fx.now, &at, Some(r))),
    )
    .await;
    let mut winners = Vec::new();
    for (r, won) in families.iter().zip(results) {
        if won.map_err(|e| e.to_string())? {
            winners.push(r);
        }
    }
    ensure(winners.len() == 1, || {
        format!("{} redemptions won", winners.len())
    })?;
    let stored = store
        .find_code(&c.code_hash)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the code is gone")?;
    ensure(
        stored.used_at == Some(fx.now) && stored.family_id == Some(winners[0].family_id.clone()),
        || {
            format!(
                "the code records {:?} / {:?}",
                stored.used_at, stored.family_id
            )
        },
    )?;
    for r in &families {
        let found = store
            .find_refresh(&r.token_hash)
            .await
            .map_err(|e| e.to_string())?;
        ensure(
            found.is_some() == (r.family_id == winners[0].family_id),
            || format!("token {} stored: {}", r.token_hash, found.is_some()),
        )?;
    }
    // An expired code is not redeemed.
    let old = AuthorizationCode {
        expires_at: fx.now,
        ..code(fx, "code-expired")
    };
    store.insert_code(&old).await.map_err(|e| e.to_string())?;
    let redeemed = store
        .commit_redemption(&old.code_hash, &fx.client_id, fx.now, &at, None)
        .await
        .map_err(|e| e.to_string())?;
    ensure(!redeemed, || "an expired code was redeemed".into())
}

async fn authorization_and_session<S: CodeStore + ExchangeStore + SessionStore>(
    store: &S,
    fx: &Fixture,
) -> Check {
    let session = Session {
        session_id: format!("conformance-{}-session", fx.run_id),
        user_id: fx.user_id.clone(),
        auth_time: fx.now,
        created_at: fx.now,
        idle_expires_at: fx.now + 100,
        absolute_expires_at: fx.now + 200,
        authenticated: Some(crate::model::Authenticated::password(
            "Username-Password-Authentication",
        )),
    };
    let c = AuthorizationCode {
        session_id: Some(session.session_id.clone()),
        ..code(fx, "code-session")
    };
    store
        .commit_authorization(
            &SignIn {
                new_user: None,
                login: None,
                session: Some(&session),
                touched: None,
                code: Some(&c),
                upstream: None,
            },
            fx.now,
        )
        .await
        .map_err(|e| e.to_string())?;
    let read = |id: &str| {
        let id = id.to_string();
        async move { store.session(&id).await.map_err(|e| e.to_string()) }
    };
    ensure(
        read(&session.session_id).await?.as_ref() == Some(&session),
        || "the session was not stored as given".into(),
    )?;
    ensure(
        store
            .find_code(&c.code_hash)
            .await
            .map_err(|e| e.to_string())?
            .is_some(),
        || "the code was not stored".into(),
    )?;
    // Idle expiry moves, never past the absolute one.
    store
        .touch_session(&session.session_id, fx.now + 500)
        .await
        .map_err(|e| e.to_string())?;
    let touched = read(&session.session_id)
        .await?
        .ok_or("the session is gone")?;
    ensure(touched.idle_expires_at == fx.now + 200, || {
        format!("idle expiry {}", touched.idle_expires_at)
    })?;
    store
        .delete_session(&session.session_id)
        .await
        .map_err(|e| e.to_string())?;
    ensure(read(&session.session_id).await?.is_none(), || {
        "the session outlived logout".into()
    })
}

pub(super) fn token(fx: &Fixture, name: &str, family: &str) -> RefreshRecord {
    RefreshRecord {
        token_hash: format!("conformance-{}-{name}", fx.run_id),
        family_id: format!("conformance-{}-{family}", fx.run_id),
        client_id: fx.client_id.clone(),
        user_id: fx.user_id.clone(),
        audience: None,
        scope: "openid offline_access".into(),
        auth_time: fx.now,
        created_at: fx.now,
        idle_expires_at: fx.now + 600,
        absolute_expires_at: fx.now + 600,
        used_at: None,
        revoked_at: None,
        org_id: None,
        access_jti: Some(format!("conformance-{}-{name}-at", fx.run_id)),
        access_expires_at: Some(fx.now + 300),
        authenticated: Some(crate::model::Authenticated::password(
            "Username-Password-Authentication",
        )),
    }
}

async fn concurrent_rotation<S: RefreshStore + ExchangeStore>(store: &S, fx: &Fixture) -> Check {
    let first = token(fx, "rot-0", "rot");
    ensure(
        store
            .insert_refresh(&first)
            .await
            .map_err(|e| e.to_string())?,
        || "the first token of a new family was not stored".into(),
    )?;
    let nexts: Vec<RefreshRecord> = (1..=20)
        .map(|i| token(fx, &format!("rot-{i}"), "rot"))
        .collect();
    let results = join_all(
        nexts
            .iter()
            .map(|next| store.commit_rotation(&first.token_hash, &fx.client_id, fx.now, next)),
    )
    .await;
    let mut won = Vec::new();
    for (next, result) in nexts.iter().zip(results) {
        if result.map_err(|e| e.to_string())? {
            won.push(next);
        }
    }
    ensure(won.len() == 1, || format!("{} rotations won", won.len()))?;
    for next in &nexts {
        let stored = store
            .find_refresh(&next.token_hash)
            .await
            .map_err(|e| e.to_string())?
            .is_some();
        let winner = won.iter().any(|w| w.token_hash == next.token_hash);
        ensure(stored == winner, || {
            format!("{}: stored {stored}, won {winner}", next.token_hash)
        })?;
    }
    let old = store
        .find_refresh(&first.token_hash)
        .await
        .map_err(|e| e.to_string())?;
    ensure(old.and_then(|r| r.used_at) == Some(fx.now), || {
        "the rotated token is not marked used".into()
    })
}

async fn family_revocation<S: RefreshStore + ExchangeStore>(store: &S, fx: &Fixture) -> Check {
    let a = token(fx, "rev-a", "rev");
    store.insert_refresh(&a).await.map_err(|e| e.to_string())?;
    let revoke = |at| store.revoke_family(&a.family_id, at);
    // Revocations racing each other and an insert: whatever the order, nothing stays usable.
    let late = token(fx, "rev-late", "rev");
    let (r1, r2, inserted) = futures_util::join!(
        revoke(fx.now + 1),
        revoke(fx.now + 2),
        store.insert_refresh(&late)
    );
    r1.map_err(|e| e.to_string())?;
    r2.map_err(|e| e.to_string())?;
    inserted.map_err(|e| e.to_string())?;
    // The token stored before the race must be there, revoked at one of the two times; the
    // one inserted in the race may have been refused, but if it is stored it is revoked too.
    let revoked_at = |hash: String| async move {
        store
            .find_refresh(&hash)
            .await
            .map_err(|e| e.to_string())
            .map(|found| found.map(|r| r.revoked_at))
    };
    let first_time = revoked_at(a.token_hash.clone())
        .await?
        .ok_or("the first token is gone")?;
    ensure(
        first_time == Some(fx.now + 1) || first_time == Some(fx.now + 2),
        || format!("the first token's family was revoked at {first_time:?}"),
    )?;
    if let Some(late_time) = revoked_at(late.token_hash.clone()).await? {
        ensure(late_time.is_some(), || {
            "a token inserted during the revocation is not revoked".into()
        })?;
    }
    revoke(fx.now + 9).await.map_err(|e| e.to_string())?;
    let again = revoked_at(a.token_hash.clone())
        .await?
        .ok_or("the first token is gone")?;
    ensure(first_time == again, || {
        format!("revocation time moved from {first_time:?} to {again:?}")
    })?;
    let after = token(fx, "rev-after", "rev");
    ensure(
        !store
            .insert_refresh(&after)
            .await
            .map_err(|e| e.to_string())?,
        || "a token was stored in a revoked family".into(),
    )?;
    let next = token(fx, "rev-next", "rev");
    let rotated = store
        .commit_rotation(&a.token_hash, &fx.client_id, fx.now, &next)
        .await
        .map_err(|e| e.to_string())?;
    ensure(!rotated, || "a token of a revoked family rotated".into())
}

async fn lockout_counting<S: AttemptStore + ExchangeStore>(store: &S, fx: &Fixture) -> Check {
    let policy = LockoutPolicy {
        max_failures: 5,
        window_seconds: 100,
        lock_seconds: 50,
    };
    let user_key = format!("conformance\n{}", fx.run_id);
    let ip = "192.0.2.1";
    let now = fx.now;
    let counts = join_all((0..12).map(|_| store.count_attempt(&user_key, ip, now, &policy))).await;
    let mut counts = counts
        .into_iter()
        .collect::<Result<Vec<u32>, _>>()
        .map_err(|e| e.to_string())?;
    counts.sort_unstable();
    ensure(counts == (1..=12).collect::<Vec<u32>>(), || {
        format!("concurrent counts {counts:?}")
    })?;
    let under = counts.iter().filter(|c| **c <= policy.max_failures).count();
    ensure(under == 5, || format!("{under} attempts within the limit"))?;
    let locked = store
        .count_attempt(&user_key, ip, now + 49, &policy)
        .await
        .map_err(|e| e.to_string())?;
    ensure(locked > policy.max_failures, || {
        format!("inside the lock an attempt counted {locked}")
    })?;
    let after_lock = store
        .count_attempt(&user_key, ip, now + 50, &policy)
        .await
        .map_err(|e| e.to_string())?;
    ensure(after_lock == 1, || {
        format!("after the lock the count is {after_lock}, not 1")
    })?;
    let login = Login {
        user_id: fx.user_id.clone(),
        user_key: user_key.clone(),
        ip: ip.into(),
        rehash: None,
        connection: "conformance".into(),
        email_lower: format!("lockout-{}@example.com", fx.run_id),
        new_user: None,
    };
    store
        .commit_login(&login, now + 51, None)
        .await
        .map_err(|e| e.to_string())?;
    let fresh = store
        .count_attempt(&user_key, ip, now + 52, &policy)
        .await
        .map_err(|e| e.to_string())?;
    ensure(fresh == 1, || format!("after a login the count is {fresh}"))
}

async fn rule_save<S: ClaimsStore>(store: &S, fx: &Fixture) -> Check {
    let rule = |value: &str| -> Result<Rule, String> {
        serde_json::from_value(serde_json::json!({
            "rule_id": format!("conformance-{}", fx.run_id),
            "name": "conformance",
            "trigger": "post-login",
            "conditions": { "client_ids": ["conformance-no-such-client"] },
            "assignments": [{ "target": "access_token", "claim": "https://conformance.example/x", "value": value }],
        }))
        .map_err(|e| e.to_string())
    };
    store
        .put_rule(&rule("one")?)
        .await
        .map_err(|e| e.to_string())?;
    store
        .put_rule(&rule("two")?)
        .await
        .map_err(|e| e.to_string())?;
    let (rules, _) = store
        .pipeline("post-login")
        .await
        .map_err(|e| e.to_string())?;
    let mine: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.rule_id == format!("conformance-{}", fx.run_id))
        .collect();
    ensure(mine.len() == 1, || {
        format!("{} copies of the rule", mine.len())
    })?;
    ensure(mine[0] == &rule("two")?, || {
        "the pipeline does not hold the rule as last saved".into()
    })
}
