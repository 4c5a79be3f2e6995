//! Clients, their grants and APIs, through the registry and the client port the token
//! endpoint reads. `cached` is what the Worker's token endpoint reads through (the isolate's
//! memory and KV in front of D1); `store` the rest. Every write must show in the next read of
//! `cached`, and a read racing a write must never put back what the write removed.

use super::{ensure, token, Check, Fixture, ALL};
use crate::model::{Api, Client, ClientGrant, Permission, Role};
use crate::port::{ClientStore, RefreshStore, RegistryStore, RoleStore};

fn api(fx: &Fixture, name: &str) -> Api {
    Api {
        identifier: format!("https://conformance-{}.example/{name}", fx.run_id),
        name: format!("conformance {name}"),
        scopes: vec!["read:x".into(), "write:x".into()],
        token_lifetime: 60,
        rbac_enabled: false,
        token_permissions: false,
        user_grantable_scopes: vec![],
        signing_alg: "ES256".into(),
    }
}

fn client(fx: &Fixture, name: &str) -> Client {
    let mut client: Client = serde_json::from_value(serde_json::json!({
        "client_id": format!("conformance-{}-{name}", fx.run_id),
        "name": name,
        "secret_hash": "sha256:first",
        "grant_types": ["client_credentials", "refresh_token"],
        "default_audience": null,
    }))
    .unwrap_or_else(|_| unreachable!("a valid client"));
    client.web_origins = vec![format!("https://{name}.conformance-{}.example", fx.run_id)];
    client
}

fn err(e: crate::error::StoreError) -> String {
    e.to_string()
}

/// Create, read through the cached port, update, rotate the secret, delete: each step shows
/// in the next cached read, and the delete takes the client's grants and refresh tokens.
pub async fn client_lifecycle<C, S>(cached: &C, store: &S, fx: &Fixture) -> Check
where
    C: ClientStore + RegistryStore,
    S: RefreshStore,
{
    let a = api(fx, "lifecycle");
    let mut c = client(fx, "lifecycle");
    cached.create_api(&a).await.map_err(err)?;
    ensure(
        cached.client(&c.client_id).await.map_err(err)?.is_none(),
        || "an unknown client was found".into(),
    )?;
    cached.create_client(&c).await.map_err(err)?;
    let grant = ClientGrant {
        client_id: c.client_id.clone(),
        audience: a.identifier.clone(),
        scopes: vec!["read:x".into()],
    };
    ensure(
        cached.create_client_grant(&grant).await.map_err(err)?,
        || "the grant was not made".into(),
    )?;
    let origin = &c.web_origins[0].clone();
    let registered = cached.registered_client(&c.client_id).await.map_err(err)?;
    ensure(
        registered.as_ref().map(|r| &r.name) == Some(&c.name),
        || format!("the registered client: {registered:?}"),
    )?;
    let clients = cached.list_clients(ALL).await.map_err(err)?;
    ensure(
        clients.items.iter().any(|r| r.client_id == c.client_id),
        || "the client is not listed".into(),
    )?;
    let apis = cached.list_apis(ALL).await.map_err(err)?;
    ensure(apis.items.contains(&a), || "the API is not listed".into())?;
    let read = cached.client(&c.client_id).await.map_err(err)?;
    ensure(
        read.as_ref().is_some_and(|r| {
            r.grants.len() == 1 && r.grants[0].api == a && r.grants[0].scopes == grant.scopes
        }),
        || format!("created, read back: {read:?}"),
    )?;
    ensure(
        cached.web_origin_registered(origin).await.map_err(err)?,
        || "the client's origin is not registered".into(),
    )?;

    // An update and a secret rotation show at once; the old origin is gone.
    c.name = "renamed".into();
    c.secret_hash = Some("sha256:second".into());
    c.web_origins = vec![];
    ensure(cached.update_client(&c).await.map_err(err)?, || {
        "the update found no client".into()
    })?;
    let read = cached.client(&c.client_id).await.map_err(err)?;
    ensure(
        read.as_ref().is_some_and(|r| {
            r.name == "renamed"
                && r.secret_hash.as_deref() == Some("sha256:second")
                && r.grants.len() == 1
        }),
        || format!("updated, read back: {read:?}"),
    )?;
    ensure(
        !cached.web_origin_registered(origin).await.map_err(err)?,
        || "a dropped origin is still registered".into(),
    )?;
    let narrowed = ClientGrant {
        scopes: vec!["read:x".into(), "write:x".into()],
        ..grant.clone()
    };
    ensure(
        cached.update_client_grant(&narrowed).await.map_err(err)?,
        || "the grant update found no grant".into(),
    )?;
    let read = cached.client(&c.client_id).await.map_err(err)?;
    ensure(
        read.as_ref()
            .is_some_and(|r| r.grants.first().map(|g| &g.scopes) == Some(&narrowed.scopes)),
        || format!("the grant's new scopes: {read:?}"),
    )?;

    // An API's new lifetime shows in the next read of it and of the client's grant.
    let longer = Api {
        token_lifetime: 7_200,
        ..a.clone()
    };
    ensure(cached.update_api(&longer).await.map_err(err)?, || {
        "the API update found no API".into()
    })?;
    let read = cached.api(&a.identifier).await.map_err(err)?;
    let registered = cached.registered_api(&a.identifier).await.map_err(err)?;
    ensure(read.as_ref() == Some(&longer) && registered == read, || {
        format!("the updated API: {read:?}, registered {registered:?}")
    })?;
    let read = cached.client(&c.client_id).await.map_err(err)?;
    ensure(
        read.as_ref()
            .is_some_and(|r| r.grants.first().map(|g| &g.api) == Some(&longer)),
        || format!("the grant's API after the update: {read:?}"),
    )?;

    // A grant removed is gone from the next read; put back for the delete below.
    ensure(
        cached
            .delete_client_grant(&c.client_id, &a.identifier)
            .await
            .map_err(err)?,
        || "the grant delete found no grant".into(),
    )?;
    let read = cached.client(&c.client_id).await.map_err(err)?;
    ensure(read.as_ref().is_some_and(|r| r.grants.is_empty()), || {
        format!("a removed grant is still read: {read:?}")
    })?;
    cached.create_client_grant(&grant).await.map_err(err)?;

    // A delete takes the grants and the refresh tokens with it.
    let t = crate::model::RefreshRecord {
        client_id: c.client_id.clone(),
        ..token(fx, "registry-client", "registry-client")
    };
    ensure(store.insert_refresh(&t).await.map_err(err)?, || {
        "the token was not stored".into()
    })?;
    ensure(
        cached.delete_client(&c.client_id).await.map_err(err)?,
        || "the delete found no client".into(),
    )?;
    ensure(
        cached.client(&c.client_id).await.map_err(err)?.is_none(),
        || "a deleted client is still read".into(),
    )?;
    let grants = cached
        .list_client_grants(Some(&c.client_id), None, ALL)
        .await
        .map_err(err)?;
    ensure(grants.total == 0, || format!("grants left: {grants:?}"))?;
    let left = store.find_refresh(&t.token_hash).await.map_err(err)?;
    ensure(left.is_none(), || {
        format!("a refresh token outlived its client: {left:?}")
    })?;
    ensure(
        !cached.delete_client(&c.client_id).await.map_err(err)?,
        || "a second delete found the client".into(),
    )?;
    cached.delete_api(&a.identifier).await.map_err(err)?;
    Ok(())
}

/// Deleting an API takes it out of every client's grants and every role's permissions, and a
/// read of it racing the delete does not bring it back into the cache.
pub async fn api_deletion<C, S>(cached: &C, store: &S, fx: &Fixture) -> Check
where
    C: ClientStore + RegistryStore,
    S: RoleStore,
{
    let a = api(fx, "deleted");
    let c = client(fx, "holder");
    cached.create_api(&a).await.map_err(err)?;
    cached.create_client(&c).await.map_err(err)?;
    let grant = ClientGrant {
        client_id: c.client_id.clone(),
        audience: a.identifier.clone(),
        scopes: vec!["read:x".into()],
    };
    cached.create_client_grant(&grant).await.map_err(err)?;
    let role = Role {
        role_id: format!("conformance-{}-api-role", fx.run_id),
        name: format!("conformance-{}-api-role", fx.run_id),
        description: None,
    };
    store.create_role(&role).await.map_err(err)?;
    let permission = Permission {
        audience: a.identifier.clone(),
        permission: "read:x".into(),
    };
    store
        .add_permissions(&role.role_id, &[permission])
        .await
        .map_err(err)?;
    // Both in the cache now.
    let before = cached.client(&c.client_id).await.map_err(err)?;
    ensure(before.is_some_and(|r| r.grants.len() == 1), || {
        "the grant is not read".into()
    })?;
    ensure(
        cached.api(&a.identifier).await.map_err(err)?.is_some(),
        || "the API is not read".into(),
    )?;

    let (deleted, _) = futures_util::join!(cached.delete_api(&a.identifier), async {
        // Reads while the delete is under way: whatever they see, they must not keep.
        for _ in 0..3 {
            let _ = cached.api(&a.identifier).await;
            let _ = cached.client(&c.client_id).await;
        }
    });
    ensure(deleted.map_err(err)?, || "the delete found no API".into())?;
    let api_now = cached.api(&a.identifier).await.map_err(err)?;
    ensure(api_now.is_none(), || {
        format!("a deleted API is still read: {api_now:?}")
    })?;
    let holder = cached.client(&c.client_id).await.map_err(err)?;
    ensure(holder.as_ref().is_some_and(|r| r.grants.is_empty()), || {
        format!("a deleted API is still granted: {holder:?}")
    })?;
    let permissions = store
        .role_permissions(&role.role_id, ALL)
        .await
        .map_err(err)?;
    ensure(permissions.total == 0, || {
        format!("a deleted API's permissions are left: {permissions:?}")
    })?;
    cached.delete_client(&c.client_id).await.map_err(err)?;
    store.delete_role(&role.role_id).await.map_err(err)?;
    Ok(())
}
