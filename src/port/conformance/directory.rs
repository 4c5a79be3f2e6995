//! The user directory's contracts as the management API uses them: unique ids and emails,
//! atomic metadata merges, search and paging, and deletion with what is the user's.

use super::{ensure, Check, Fixture};
use crate::error::StoreError;
use crate::model::{
    Paging, Session, User, UserChanges, UserFilter, UserQuery, UserSort, MAX_METADATA_BYTES,
};
use crate::port::{SessionStore, UserStore};
use futures_util::future::join_all;
use serde_json::{json, Map, Value};

fn err(e: StoreError) -> String {
    e.to_string()
}

fn user(fx: &Fixture, name: &str, email: &str, tag: Value) -> User {
    User {
        user_id: format!("auth0|conformance-{}-{name}", fx.run_id),
        connection: "conformance".into(),
        email: Some(format!("{email}-{}@example.com", fx.run_id)),
        user_metadata: json!({}),
        app_metadata: json!({ "run": fx.run_id, "tag": tag }),
        created_at: fx.now,
        updated_at: fx.now,
        ..User::default()
    }
}

fn patch(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Ids and emails (per connection, ASCII case ignored) are taken once; a user is stored with
/// the identity it was created with.
pub async fn unique_users<S: UserStore>(store: &S, fx: &Fixture) -> Check {
    let a = user(fx, "unique", "unique", json!(0));
    store.create_user(&a).await.map_err(err)?;
    let same_id = User {
        email: Some(format!("other-{}@example.com", fx.run_id)),
        ..a.clone()
    };
    let same_email = User {
        user_id: format!("{}-2", a.user_id),
        email: a.email.as_ref().map(|e| e.to_ascii_uppercase()),
        ..a.clone()
    };
    for (what, u) in [("id", same_id), ("email", same_email)] {
        let r = store.create_user(&u).await;
        ensure(matches!(r, Err(StoreError::Conflict(_))), || {
            format!("a taken {what} gave {r:?}")
        })?;
    }
    // Stored as given, with the identity it was created with.
    let stored = store.user(&a.user_id).await.map_err(err)?;
    let primary = crate::model::Identity {
        connection: a.connection.clone(),
        provider: "auth0".into(),
        user_id: format!("conformance-{}-unique", fx.run_id),
        is_social: false,
        profile_data: Map::new(),
    };
    let expected = User {
        identities: vec![primary],
        ..a
    };
    ensure(stored.as_ref() == Some(&expected), || {
        format!("stored {stored:?}")
    })
}

/// Concurrent patches of different metadata properties all last; nulls remove; a merge
/// past the size limit writes nothing.
pub async fn metadata_merges<S: UserStore>(store: &S, fx: &Fixture) -> Check {
    let u = User {
        user_metadata: json!({"keep": {"a": 1}, "drop": true}),
        ..user(fx, "merge", "merge", json!(0))
    };
    store.create_user(&u).await.map_err(err)?;
    let changes: Vec<UserChanges> = (0..10)
        .map(|i| UserChanges {
            user_metadata: Some(patch(json!({ format!("k{i}"): i, "drop": null }))),
            ..UserChanges::default()
        })
        .collect();
    let results = join_all(
        changes
            .iter()
            .map(|c| store.update_user(&u.user_id, c, fx.now + 1)),
    )
    .await;
    for r in results {
        ensure(matches!(r, Ok(Some(_))), || format!("a patch gave {r:?}"))?;
    }
    let stored = store.user(&u.user_id).await.map_err(err)?.ok_or("gone")?;
    let mut expected = json!({"keep": {"a": 1}});
    for i in 0..10 {
        expected[format!("k{i}")] = json!(i);
    }
    ensure(stored.user_metadata == expected, || {
        format!("merged {}", stored.user_metadata)
    })?;
    ensure(stored.updated_at == fx.now + 1, || {
        "updated_at unchanged".into()
    })?;
    let huge = UserChanges {
        user_metadata: Some(patch(json!({"big": "x".repeat(MAX_METADATA_BYTES)}))),
        name: Some(Some("not written".into())),
        ..UserChanges::default()
    };
    let r = store.update_user(&u.user_id, &huge, fx.now + 2).await;
    ensure(matches!(r, Ok(None)), || {
        format!("an oversized merge gave {r:?}")
    })?;
    let after = store.user(&u.user_id).await.map_err(err)?.ok_or("gone")?;
    ensure(after == stored, || {
        "an oversized merge wrote something".into()
    })?;
    let missing = store
        .update_user("auth0|no-such-user", &UserChanges::default(), fx.now)
        .await;
    ensure(matches!(missing, Ok(None)), || {
        format!("a missing user gave {missing:?}")
    })
}

/// Filters, sorting, paging in insertion order, and totals.
pub async fn search_and_paging<S: UserStore>(store: &S, fx: &Fixture) -> Check {
    let names = ["s-c", "s-a", "s-e", "s-b", "s-d"];
    for (i, name) in names.iter().enumerate() {
        let tag = if i % 2 == 0 { json!("even") } else { json!(i) };
        store
            .create_user(&user(fx, name, name, tag))
            .await
            .map_err(err)?;
    }
    let run = UserFilter::Metadata {
        app: true,
        path: vec!["run".into()],
        value: fx.run_id.clone(),
    };
    let ids = |users: &[User]| -> Vec<String> {
        users
            .iter()
            .map(|u| u.user_id.rsplit('-').next().unwrap_or("").to_string())
            .collect()
    };
    let query = |filters: Vec<UserFilter>, sort, offset, limit| UserQuery {
        filters: [vec![run.clone()], filters].concat(),
        sort,
        paging: Paging { offset, limit },
    };
    // Users the other cases made have this run's tag too: take only this case's.
    let mine = UserFilter::Connection("conformance".into());
    let all = store
        .list_users(&query(vec![mine.clone()], None, 0, 100))
        .await
        .map_err(err)?;
    let in_order: Vec<String> = ids(&all.items)
        .into_iter()
        .filter(|id| ["a", "b", "c", "d", "e"].contains(&id.as_str()))
        .collect();
    ensure(in_order == ["c", "a", "e", "b", "d"], || {
        format!("insertion order {in_order:?}")
    })?;
    let even = UserFilter::Metadata {
        app: true,
        path: vec!["tag".into()],
        value: "even".into(),
    };
    let page = store
        .list_users(&query(vec![even.clone()], None, 1, 1))
        .await
        .map_err(err)?;
    ensure(page.total == 3 && ids(&page.items) == ["e"], || {
        format!(
            "second page of even: {:?} of {}",
            ids(&page.items),
            page.total
        )
    })?;
    let three = UserFilter::Metadata {
        app: true,
        path: vec!["tag".into()],
        value: "3".into(),
    };
    let found = store
        .list_users(&query(vec![three], None, 0, 10))
        .await
        .map_err(err)?;
    ensure(ids(&found.items) == ["b"], || {
        format!("tag 3: {:?}", ids(&found.items))
    })?;
    let sorted = store
        .list_users(&query(vec![even], Some((UserSort::Email, true)), 0, 10))
        .await
        .map_err(err)?;
    ensure(ids(&sorted.items) == ["e", "d", "c"], || {
        format!("by email descending: {:?}", ids(&sorted.items))
    })?;
    let email = format!("S-A-{}@EXAMPLE.COM", fx.run_id.to_ascii_uppercase());
    let by_email = store
        .list_users(&query(vec![UserFilter::Email(email)], None, 0, 10))
        .await
        .map_err(err)?;
    ensure(ids(&by_email.items) == ["a"], || {
        format!("by email: {:?}", ids(&by_email.items))
    })
}

/// Deleting a user deletes their sessions; a second delete finds nobody.
pub async fn deletion<S>(store: &S, fx: &Fixture) -> Check
where
    S: UserStore + SessionStore + crate::port::ExchangeStore,
{
    let u = user(fx, "deleted", "deleted", json!(0));
    store.create_user(&u).await.map_err(err)?;
    let session = Session {
        session_id: format!("conformance-{}-deleted-session", fx.run_id),
        user_id: u.user_id.clone(),
        auth_time: fx.now,
        created_at: fx.now,
        idle_expires_at: fx.now + 100,
        absolute_expires_at: fx.now + 100,
        authenticated: None,
    };
    let code = super::code(fx, "deleted-user");
    let code = crate::model::AuthorizationCode {
        user_id: u.user_id.clone(),
        ..code
    };
    store
        .commit_authorization(
            &crate::port::SignIn {
                new_user: None,
                login: None,
                session: Some(&session),
                touched: None,
                code: Some(&code),
                upstream: None,
            },
            fx.now,
        )
        .await
        .map_err(err)?;
    ensure(store.delete_user(&u.user_id).await.map_err(err)?, || {
        "the delete found nobody".into()
    })?;
    ensure(store.user(&u.user_id).await.map_err(err)?.is_none(), || {
        "the user outlived the delete".into()
    })?;
    ensure(
        store
            .session(&session.session_id)
            .await
            .map_err(err)?
            .is_none(),
        || "the user's session outlived them".into(),
    )?;
    ensure(!store.delete_user(&u.user_id).await.map_err(err)?, || {
        "a second delete found the user".into()
    })
}

/// An import inserts new users, leaves taken emails alone (or replaces them, keeping the
/// id, with upsert), and a job reads back as stored.
pub async fn import<S: UserStore>(store: &S, fx: &Fixture) -> Check {
    let a = user(fx, "import-a", "import-a", json!(0));
    let taken = User {
        user_id: format!("{}-other", a.user_id),
        email: a.email.as_ref().map(|e| e.to_ascii_uppercase()),
        ..a.clone()
    };
    let b = user(fx, "import-b", "import-b", json!(0));
    let outcomes = store
        .import_users(&[a.clone(), taken.clone(), b.clone()], false)
        .await
        .map_err(err)?;
    use crate::model::Imported::*;
    ensure(outcomes == [Inserted, Duplicate, Inserted], || {
        format!("without upsert: {outcomes:?}")
    })?;
    let renamed = User {
        name: Some("Renamed".into()),
        password_hash: Some("$2b$04$replaced".into()),
        ..taken
    };
    let outcomes = store.import_users(&[renamed], true).await.map_err(err)?;
    ensure(outcomes == [Updated], || {
        format!("with upsert: {outcomes:?}")
    })?;
    let stored = store.user(&a.user_id).await.map_err(err)?.ok_or("gone")?;
    ensure(
        stored.name.as_deref() == Some("Renamed")
            && stored.password_hash.as_deref() == Some("$2b$04$replaced")
            && stored.created_at == a.created_at,
        || format!("after the upsert: {stored:?}"),
    )?;
    let job = crate::model::Job {
        job_id: format!("job_conformance_{}", fx.run_id),
        kind: "users_import".into(),
        status: "completed".into(),
        connection: "conformance".into(),
        upsert: true,
        external_id: Some("ext".into()),
        created_at: fx.now,
        summary: json!({"total": 1}),
        errors: json!([{"user": {"email": "x"}}]),
    };
    store.put_job(&job).await.map_err(err)?;
    let read = store.job(&job.job_id).await.map_err(err)?;
    ensure(read.as_ref() == Some(&job), || format!("job {read:?}"))
}

/// Log events: stored with retention applied in the same write, listed newest first (ties
/// newest-inserted first) or oldest first, filtered, read by id.
pub async fn logs<S: crate::port::LogStore>(store: &S, fx: &Fixture) -> Check {
    use crate::model::{LogEvent, LogQuery};
    let event = |n: u64, kind: &str, age: u64| LogEvent {
        log_id: format!("conformance-{}-log-{n}", fx.run_id),
        date: fx.now - age,
        kind: kind.into(),
        description: format!("event {n}"),
        client_id: Some(format!("conformance-{}", fx.run_id)),
        user_id: None,
        user_name: None,
        ip: Some("192.0.2.1".into()),
        details: json!({ "n": n }),
    };
    let events = [
        event(1, "s", 10),
        event(2, "fp", 5),
        event(3, "s", 5),
        event(4, "s", 1_000_000),
    ];
    store
        .append_logs(&events, fx.now - 100_000)
        .await
        .map_err(err)?;
    let query = |kind: Option<&str>, ascending| LogQuery {
        kind: kind.map(str::to_string),
        user_id: None,
        client_id: Some(format!("conformance-{}", fx.run_id)),
        ascending,
        paging: Paging {
            offset: 0,
            limit: 10,
        },
    };
    let ns = |l: &crate::model::Listed<LogEvent>| -> Vec<u64> {
        l.items
            .iter()
            .filter_map(|e| e.details["n"].as_u64())
            .collect()
    };
    let newest = store.list_logs(&query(None, false)).await.map_err(err)?;
    ensure(ns(&newest) == [3, 2, 1] && newest.total == 3, || {
        format!("newest first, the old one pruned: {:?}", ns(&newest))
    })?;
    let oldest = store
        .list_logs(&query(Some("s"), true))
        .await
        .map_err(err)?;
    ensure(ns(&oldest) == [1, 3], || {
        format!("logins oldest first: {:?}", ns(&oldest))
    })?;
    let one = store.log(&events[1].log_id).await.map_err(err)?;
    ensure(one.as_ref() == Some(&events[1]), || {
        format!("by id: {one:?}")
    })
}
