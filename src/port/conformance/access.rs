//! Roles and organizations: unique names, all-or-nothing assignments, memberships that roles
//! within an organization need, and deletes that take what hangs off them.

use super::{ensure, Check, Fixture, ALL};
use crate::error::StoreError;
use crate::model::{Organization, Permission, Role, User};
use crate::port::{OrganizationStore, RoleStore, UserStore};

fn err(e: StoreError) -> String {
    e.to_string()
}

fn role(fx: &Fixture, name: &str) -> Role {
    Role {
        role_id: format!("rol_conformance_{}_{name}", fx.run_id),
        name: format!("conformance {} {name}", fx.run_id),
        description: Some(name.into()),
    }
}

async fn member_user<S: UserStore>(store: &S, fx: &Fixture, name: &str) -> Result<User, String> {
    let u = User {
        user_id: format!("auth0|conformance-{}-{name}", fx.run_id),
        connection: "conformance-access".into(),
        email: Some(format!("{name}-{}@example.com", fx.run_id)),
        user_metadata: serde_json::json!({}),
        app_metadata: serde_json::json!({}),
        created_at: fx.now,
        updated_at: fx.now,
        ..User::default()
    };
    store.create_user(&u).await.map_err(err)?;
    Ok(u)
}

/// Role names are unique; assignments are all or nothing; permissions list once each;
/// deleting a role takes its assignments.
pub async fn roles<S: RoleStore + UserStore>(store: &S, fx: &Fixture) -> Check {
    let (reader, writer) = (role(fx, "reader"), role(fx, "writer"));
    store.create_role(&reader).await.map_err(err)?;
    store.create_role(&writer).await.map_err(err)?;
    let twin = Role {
        role_id: format!("{}_twin", reader.role_id),
        ..reader.clone()
    };
    let r = store.create_role(&twin).await;
    ensure(matches!(r, Err(StoreError::Conflict(_))), || {
        format!("a taken role name gave {r:?}")
    })?;
    let named = store
        .list_roles(Some(&reader.name), ALL)
        .await
        .map_err(err)?;
    ensure(named.items == [reader.clone()] && named.total == 1, || {
        format!("by name: {named:?}")
    })?;
    let perm = |p: &str| Permission {
        audience: fx.audience.clone(),
        permission: p.into(),
    };
    let added = store
        .add_permissions(
            &reader.role_id,
            &[perm("read:a"), perm("read:b"), perm("read:a")],
        )
        .await
        .map_err(err)?;
    ensure(added, || "permissions were not added".into())?;
    let none = store
        .add_permissions("rol_no_such_role", &[perm("read:a")])
        .await
        .map_err(err)?;
    ensure(!none, || "a missing role took permissions".into())?;
    let perms = store
        .role_permissions(&reader.role_id, ALL)
        .await
        .map_err(err)?;
    ensure(perms.items == [perm("read:a"), perm("read:b")], || {
        format!("permissions {perms:?}")
    })?;

    let user = member_user(store, fx, "roles").await?;
    let ids = |roles: &[&Role]| roles.iter().map(|r| r.role_id.clone()).collect::<Vec<_>>();
    let partial = ids(&[&reader])
        .into_iter()
        .chain(["rol_missing".to_string()]);
    let refused = store
        .assign_roles(&user.user_id, "", &partial.collect::<Vec<_>>())
        .await
        .map_err(err)?;
    ensure(!refused, || {
        "an assignment with a missing role was taken".into()
    })?;
    let held = store
        .user_roles(&user.user_id, "", ALL)
        .await
        .map_err(err)?;
    ensure(held.total == 0, || {
        format!("a refused assignment left {held:?}")
    })?;
    for _ in 0..2 {
        let ok = store
            .assign_roles(&user.user_id, "", &ids(&[&writer, &reader]))
            .await
            .map_err(err)?;
        ensure(ok, || "the assignment was refused".into())?;
    }
    let held = store
        .user_roles(&user.user_id, "", ALL)
        .await
        .map_err(err)?;
    ensure(held.items == [writer.clone(), reader.clone()], || {
        format!("held in assignment order: {held:?}")
    })?;
    let perms = store
        .user_permissions(&user.user_id, ALL)
        .await
        .map_err(err)?;
    let names: Vec<&str> = perms
        .items
        .iter()
        .map(|p| p.permission.permission.as_str())
        .collect();
    ensure(names == ["read:a", "read:b"], || {
        format!("user permissions {names:?}")
    })?;
    let holders = store.role_users(&reader.role_id, ALL).await.map_err(err)?;
    ensure(
        holders.items.len() == 1 && holders.items[0].user_id == user.user_id,
        || format!("holders {holders:?}"),
    )?;
    ensure(
        store.delete_role(&reader.role_id).await.map_err(err)?,
        || "the role was not deleted".into(),
    )?;
    let held = store
        .user_roles(&user.user_id, "", ALL)
        .await
        .map_err(err)?;
    ensure(held.items == [writer], || {
        format!("after the delete: {held:?}")
    })
}

/// Members are added all or nothing; roles within an organization need the membership and
/// end with it; deleting the organization takes both.
pub async fn organizations<S>(store: &S, fx: &Fixture) -> Check
where
    S: OrganizationStore + RoleStore + UserStore,
{
    let org = Organization {
        org_id: format!("org_conformance_{}", fx.run_id),
        name: format!("conformance-{}", fx.run_id),
        display_name: Some("Conformance".into()),
        token_org_name: false,
    };
    store.create_organization(&org).await.map_err(err)?;
    let twin = Organization {
        org_id: format!("{}_twin", org.org_id),
        ..org.clone()
    };
    let r = store.create_organization(&twin).await;
    ensure(matches!(r, Err(StoreError::Conflict(_))), || {
        format!("a taken organization name gave {r:?}")
    })?;
    let user = member_user(store, fx, "member").await?;
    let admin = role(fx, "org-admin");
    store.create_role(&admin).await.map_err(err)?;
    let roles = [admin.role_id.clone()];
    let early = store
        .assign_roles(&user.user_id, &org.org_id, &roles)
        .await
        .map_err(err)?;
    ensure(!early, || {
        "a role was given in an organization before membership".into()
    })?;
    let with_stranger = [user.user_id.clone(), "auth0|no-such-user".into()];
    let refused = store
        .add_members(&org.org_id, &with_stranger)
        .await
        .map_err(err)?;
    ensure(!refused, || "a missing user was made a member".into())?;
    let members = store.members(&org.org_id, ALL).await.map_err(err)?;
    ensure(members.total == 0, || {
        format!("a refused add left {members:?}")
    })?;
    let ok = store
        .add_members(&org.org_id, std::slice::from_ref(&user.user_id))
        .await
        .map_err(err)?;
    ensure(ok, || "the member was not added".into())?;
    let ok = store
        .assign_roles(&user.user_id, &org.org_id, &roles)
        .await
        .map_err(err)?;
    ensure(ok, || "a member's role was refused".into())?;
    let global = store
        .user_roles(&user.user_id, "", ALL)
        .await
        .map_err(err)?;
    let within = store
        .user_roles(&user.user_id, &org.org_id, ALL)
        .await
        .map_err(err)?;
    ensure(global.total == 0 && within.items == [admin.clone()], || {
        format!("global {global:?}, within {within:?}")
    })?;
    let mine = store
        .user_organizations(&user.user_id, ALL)
        .await
        .map_err(err)?;
    ensure(mine.items == [org.clone()], || {
        format!("the user's organizations {mine:?}")
    })?;
    store
        .remove_members(&org.org_id, std::slice::from_ref(&user.user_id))
        .await
        .map_err(err)?;
    let within = store
        .user_roles(&user.user_id, &org.org_id, ALL)
        .await
        .map_err(err)?;
    ensure(within.total == 0, || "roles outlived the membership".into())?;
    store
        .add_members(&org.org_id, std::slice::from_ref(&user.user_id))
        .await
        .map_err(err)?;
    store
        .assign_roles(&user.user_id, &org.org_id, &roles)
        .await
        .map_err(err)?;
    ensure(
        store.delete_organization(&org.org_id).await.map_err(err)?,
        || "the organization was not deleted".into(),
    )?;
    let within = store
        .user_roles(&user.user_id, &org.org_id, ALL)
        .await
        .map_err(err)?;
    let mine = store
        .user_organizations(&user.user_id, ALL)
        .await
        .map_err(err)?;
    ensure(within.total == 0 && mine.total == 0, || {
        format!("after the delete: roles {within:?}, organizations {mine:?}")
    })
}
