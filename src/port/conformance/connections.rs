//! Connections through the port sign-in reads (`cached`: the Worker's isolate memory and KV in
//! front of D1), and account linking. Every write must show in the next read of `cached`: a
//! new client signs in through every connection at once, and a changed connection's enabled
//! clients and options are what the next sign-in sees.

use super::{ensure, Check, Fixture, ALL};
use crate::model::{Connection, User};
use crate::port::{ConnectionStore, RegistryStore, SubjectStore, UserKey, UserStore};
use serde_json::{json, Map};

fn err(e: crate::error::StoreError) -> String {
    e.to_string()
}

fn find<'c>(all: &'c [Connection], name: &str) -> Option<&'c Connection> {
    all.iter().find(|c| c.name == name)
}

/// Create, read through the cache, change the enabled clients and the options, add a
/// client, delete: each step shows at the next cached read.
pub async fn lifecycle<C>(cached: &C, fx: &Fixture) -> Check
where
    C: ConnectionStore + RegistryStore,
{
    let name = format!("conformance-{}", fx.run_id.replace('_', "-"));
    // Read (and so cache) the list before anything changes.
    let before = cached.all_connections().await.map_err(err)?;
    ensure(find(&before, &name).is_none(), || {
        format!("{name} exists already")
    })?;
    let connection = Connection {
        id: format!("con_{}", &format!("{:0>16}", fx.run_id)[..16]),
        name: name.clone(),
        strategy: "auth0".into(),
        display_name: Some("Conformance".into()),
        options: json!({ "disable_signup": true })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        metadata: Map::new(),
        enabled_clients: vec![fx.client_id.clone(), "no-such-client".into()],
        created_at: fx.now,
    };
    cached.create_connection(&connection).await.map_err(err)?;
    let taken = cached.create_connection(&connection).await;
    ensure(taken.is_err(), || {
        "a taken name or id was stored twice".into()
    })?;
    let all = cached.all_connections().await.map_err(err)?;
    let read = find(&all, &name).cloned();
    let expected = Connection {
        enabled_clients: vec![fx.client_id.clone()],
        ..connection.clone()
    };
    ensure(read.as_ref() == Some(&expected), || {
        format!("created, then read through the cache: {read:?}")
    })?;
    // Options and enabled clients replaced.
    let changed = Connection {
        options: Map::new(),
        enabled_clients: vec![],
        ..expected.clone()
    };
    ensure(
        cached.update_connection(&changed).await.map_err(err)?,
        || "update found no connection".into(),
    )?;
    let all = cached.all_connections().await.map_err(err)?;
    ensure(find(&all, &name) == Some(&changed), || {
        format!("after the update: {:?}", find(&all, &name))
    })?;
    // A new client is enabled on every connection, this one included.
    let mut client: crate::model::Client = serde_json::from_value(json!({
        "client_id": format!("conformance-{}-connected", fx.run_id),
        "name": "connected", "grant_types": ["authorization_code"], "default_audience": null,
    }))
    .map_err(|e| e.to_string())?;
    client.secret_hash = None;
    cached.create_client(&client).await.map_err(err)?;
    let all = cached.all_connections().await.map_err(err)?;
    let everywhere = all.iter().all(|c| c.enabled_for(&client.client_id));
    ensure(everywhere, || {
        "a new client is not on every connection".into()
    })?;
    // One client off, by the clients route's operation.
    let off = [(client.client_id.clone(), false)];
    ensure(
        cached
            .set_connection_clients(&connection.id, &off)
            .await
            .map_err(err)?,
        || "set_connection_clients found no connection".into(),
    )?;
    let all = cached.all_connections().await.map_err(err)?;
    ensure(
        find(&all, &name).is_some_and(|c| !c.enabled_for(&client.client_id)),
        || "the client is still enabled".into(),
    )?;
    let listed = cached
        .list_connections(Some("auth0"), Some(&name), ALL)
        .await
        .map_err(err)?;
    ensure(listed.total == 1 && listed.items.len() == 1, || {
        format!("listed by name: {listed:?}")
    })?;
    ensure(
        cached
            .delete_connection(&connection.id)
            .await
            .map_err(err)?,
        || "delete found no connection".into(),
    )?;
    let all = cached.all_connections().await.map_err(err)?;
    ensure(find(&all, &name).is_none(), || {
        "deleted, yet read through the cache".into()
    })?;
    cached.delete_client(&client.client_id).await.map_err(err)?;
    Ok(())
}

fn user(fx: &Fixture, name: &str) -> User {
    User {
        user_id: format!("auth0|conformance-{}-{name}", fx.run_id),
        connection: "conformance".into(),
        email: Some(format!("{name}-{}@example.com", fx.run_id)),
        user_metadata: json!({}),
        app_metadata: json!({}),
        password_hash: Some(format!("$pbkdf2-sha256$i=1${name}")),
        created_at: fx.now,
        updated_at: fx.now,
        ..User::default()
    }
}

/// Linking moves the secondary's identities to the primary and hides the secondary, whose
/// email then finds the primary (with the secondary's password); unlinking undoes it.
pub async fn linking<S: UserStore + SubjectStore>(store: &S, fx: &Fixture) -> Check {
    let (a, b) = (user(fx, "primary"), user(fx, "secondary"));
    for u in [&a, &b] {
        store.create_user(u).await.map_err(err)?;
    }
    let linked = store
        .link_user(&a.user_id, &b.user_id, fx.now)
        .await
        .map_err(err)?;
    ensure(linked, || "link_user linked nothing".into())?;
    let again = store
        .link_user(&b.user_id, &a.user_id, fx.now)
        .await
        .map_err(err)?;
    ensure(!again, || "a linked user was linked again".into())?;
    let primary = store.user(&a.user_id).await.map_err(err)?;
    let ids: Vec<String> = primary
        .iter()
        .flat_map(|u| u.identities.iter().map(|i| i.as_user_id()))
        .collect();
    ensure(ids == [a.user_id.clone(), b.user_id.clone()], || {
        format!("the primary's identities: {ids:?}")
    })?;
    let hidden = store.user(&b.user_id).await.map_err(err)?;
    ensure(hidden.is_none(), || {
        format!("the secondary is still a user: {hidden:?}")
    })?;
    let email = b.email.clone().unwrap_or_default().to_ascii_lowercase();
    let key = UserKey::Email {
        connection: "conformance",
        email_lower: &email,
    };
    let found = store.subject(key, None, None).await.map_err(err)?;
    let signs_in = found
        .user
        .as_ref()
        .is_some_and(|u| u.user_id == a.user_id && u.password_hash == b.password_hash);
    ensure(signs_in, || {
        format!("the secondary's email found {:?}", found.user)
    })?;
    let (provider, id) = b.user_id.split_once('|').unwrap_or_default();
    let unlinked = store
        .unlink_identity(&a.user_id, provider, id)
        .await
        .map_err(err)?;
    ensure(unlinked, || "unlink_identity unlinked nothing".into())?;
    let back = store.user(&b.user_id).await.map_err(err)?;
    ensure(
        back.is_some_and(|u| u.identities.len() == 1 && u.identities[0].as_user_id() == b.user_id),
        || "the secondary is not its own user again".into(),
    )?;
    let (provider, id) = a.user_id.split_once('|').unwrap_or_default();
    let own = store
        .unlink_identity(&a.user_id, provider, id)
        .await
        .map_err(err)?;
    ensure(!own, || "the primary identity was unlinked".into())?;
    for u in [&a, &b] {
        store.delete_user(&u.user_id).await.map_err(err)?;
    }
    Ok(())
}
