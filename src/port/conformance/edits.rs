//! The management API's reads and edits the other cases do not reach: roles and
//! organizations renamed and trimmed, hooks and rules listed and deleted (through the cached
//! pipeline where the backend caches it), a user's sessions listed and ended together, and the
//! published keys as the cached read and the fresh one see them.

use super::{ensure, Check, Fixture, ALL};
use crate::error::StoreError;
use crate::model::{OnFailure, Organization, Permission, Role, Session, StoredHook, Trigger};
use crate::port::{ClaimsStore, KeyStore, OrganizationStore, RoleStore, SessionStore};

fn err(e: StoreError) -> String {
    e.to_string()
}

/// A role is read, renamed (not onto a taken name) and loses permissions and holders; an
/// organization is read by id and by name, listed and renamed.
pub async fn renames<S: RoleStore + OrganizationStore>(store: &S, fx: &Fixture) -> Check {
    let role = |name: &str| Role {
        role_id: format!("rol_edits_{}_{name}", fx.run_id),
        name: format!("edits {} {name}", fx.run_id),
        description: None,
    };
    let (a, b) = (role("a"), role("b"));
    store.create_role(&a).await.map_err(err)?;
    store.create_role(&b).await.map_err(err)?;
    let renamed = Role {
        name: format!("{} renamed", a.name),
        description: Some("now described".into()),
        ..a.clone()
    };
    ensure(
        store.update_role(&renamed).await.map_err(err)?.is_some(),
        || "the rename found no role".into(),
    )?;
    let read = store.role(&a.role_id).await.map_err(err)?;
    ensure(read.as_ref() == Some(&renamed), || {
        format!("renamed: {read:?}")
    })?;
    let onto_taken = store
        .update_role(&Role {
            name: b.name.clone(),
            ..a.clone()
        })
        .await;
    ensure(matches!(onto_taken, Err(StoreError::Conflict(_))), || {
        format!("a rename onto a taken name gave {onto_taken:?}")
    })?;
    let missing = store.update_role(&role("missing")).await.map_err(err)?;
    ensure(missing.is_none(), || "a missing role was renamed".into())?;
    let permission = |p: &str| Permission {
        audience: fx.audience.clone(),
        permission: p.into(),
    };
    let both = [permission("read:a"), permission("read:b")];
    store
        .add_permissions(&a.role_id, &both)
        .await
        .map_err(err)?;
    store
        .remove_permissions(&a.role_id, &[permission("read:a"), permission("no:such")])
        .await
        .map_err(err)?;
    let left = store.role_permissions(&a.role_id, ALL).await.map_err(err)?;
    ensure(left.items == [permission("read:b")], || {
        format!("after removing one: {left:?}")
    })?;
    ensure(
        store
            .assign_roles(&fx.user_id, "", std::slice::from_ref(&a.role_id))
            .await
            .map_err(err)?,
        || "the role was not given".into(),
    )?;
    store
        .remove_roles(&fx.user_id, "", std::slice::from_ref(&a.role_id))
        .await
        .map_err(err)?;
    let holders = store.role_users(&a.role_id, ALL).await.map_err(err)?;
    ensure(holders.total == 0, || format!("holders left: {holders:?}"))?;
    store.delete_role(&a.role_id).await.map_err(err)?;
    store.delete_role(&b.role_id).await.map_err(err)?;

    let org = Organization {
        org_id: format!("org_edits_{}", fx.run_id),
        name: format!("edits-{}", fx.run_id),
        display_name: None,
        token_org_name: false,
    };
    store.create_organization(&org).await.map_err(err)?;
    let by_id = store.organization(&org.org_id).await.map_err(err)?;
    let by_name = store.organization_by_name(&org.name).await.map_err(err)?;
    ensure(by_id.as_ref() == Some(&org) && by_name == by_id, || {
        format!("by id {by_id:?}, by name {by_name:?}")
    })?;
    let listed = store.list_organizations(ALL).await.map_err(err)?;
    ensure(listed.items.contains(&org), || {
        "the organization is not listed".into()
    })?;
    let renamed = Organization {
        name: format!("edits-{}-renamed", fx.run_id),
        display_name: Some("Edits".into()),
        token_org_name: true,
        ..org.clone()
    };
    ensure(
        store
            .update_organization(&renamed)
            .await
            .map_err(err)?
            .is_some(),
        || "the rename found no organization".into(),
    )?;
    let old_name = store.organization_by_name(&org.name).await.map_err(err)?;
    let read = store.organization(&org.org_id).await.map_err(err)?;
    ensure(old_name.is_none() && read == Some(renamed), || {
        format!("after the rename: old name {old_name:?}, read {read:?}")
    })?;
    store.delete_organization(&org.org_id).await.map_err(err)?;
    Ok(())
}

/// A hook is saved, listed, in its trigger's pipeline only while enabled, and deleted; a
/// rule is listed and deleted; the pipeline read after each write shows it.
pub async fn hooks_and_rules<C: ClaimsStore>(cached: &C, fx: &Fixture) -> Check {
    let hook = StoredHook {
        hook_id: format!("conformance-{}-hook", fx.run_id),
        name: "conformance".into(),
        trigger: Trigger::CredentialsExchange,
        position: 9_000,
        enabled: true,
        url: Some("https://hooks.conformance.example/h".into()),
        service: None,
        secret_enc: "sealed".into(),
        timeout_ms: 1_000,
        on_failure: OnFailure::Skip,
    };
    let in_pipeline =
        |hooks: &[StoredHook]| hooks.iter().filter(|h| h.hook_id == hook.hook_id).count();
    cached.put_hook(&hook).await.map_err(err)?;
    let (_, hooks) = cached.pipeline(hook.trigger.as_str()).await.map_err(err)?;
    ensure(in_pipeline(&hooks) == 1, || {
        "the new hook is not in its pipeline".into()
    })?;
    let all = cached.hooks().await.map_err(err)?;
    ensure(all.contains(&hook), || {
        "the hook is not listed as saved".into()
    })?;
    let disabled = StoredHook {
        enabled: false,
        ..hook.clone()
    };
    cached.put_hook(&disabled).await.map_err(err)?;
    let (_, hooks) = cached.pipeline(hook.trigger.as_str()).await.map_err(err)?;
    ensure(in_pipeline(&hooks) == 0, || {
        "a disabled hook is in the pipeline".into()
    })?;
    ensure(
        cached.delete_hook(&hook.hook_id).await.map_err(err)?,
        || "the delete found no hook".into(),
    )?;
    let all = cached.hooks().await.map_err(err)?;
    ensure(all.iter().all(|h| h.hook_id != hook.hook_id), || {
        "a deleted hook is listed".into()
    })?;
    ensure(
        !cached.delete_hook(&hook.hook_id).await.map_err(err)?,
        || "a second delete found the hook".into(),
    )?;

    // The rule the pipeline case saved: listed, then deleted, then gone from the pipeline.
    let rule_id = format!("conformance-{}", fx.run_id);
    let rules = cached.rules().await.map_err(err)?;
    ensure(rules.iter().any(|r| r.rule_id == rule_id), || {
        "the saved rule is not listed".into()
    })?;
    ensure(cached.delete_rule(&rule_id).await.map_err(err)?, || {
        "the delete found no rule".into()
    })?;
    let (rules, _) = cached.pipeline("post-login").await.map_err(err)?;
    ensure(rules.iter().all(|r| r.rule_id != rule_id), || {
        "a deleted rule is still in the pipeline".into()
    })
}

/// A user's sessions are listed oldest first and ended together.
pub async fn user_sessions<S: SessionStore + crate::port::ExchangeStore>(
    store: &S,
    fx: &Fixture,
) -> Check {
    let before = store.user_sessions(&fx.user_id, ALL).await.map_err(err)?;
    let session = |n: u64| Session {
        session_id: format!("conformance-{}-user-session-{n}", fx.run_id),
        user_id: fx.user_id.clone(),
        auth_time: fx.now + n,
        created_at: fx.now + n,
        idle_expires_at: fx.now + 100,
        absolute_expires_at: fx.now + 200,
        authenticated: None,
    };
    for n in [1, 2] {
        let s = session(n);
        store
            .commit_authorization(
                &crate::port::SignIn {
                    new_user: None,
                    login: None,
                    session: Some(&s),
                    touched: None,
                    code: None,
                    upstream: None,
                },
                fx.now,
            )
            .await
            .map_err(err)?;
    }
    let listed = store.user_sessions(&fx.user_id, ALL).await.map_err(err)?;
    let mine: Vec<&Session> = listed
        .items
        .iter()
        .filter(|s| {
            s.session_id
                .starts_with(&format!("conformance-{}-user-session", fx.run_id))
        })
        .collect();
    ensure(
        listed.total == before.total + 2 && mine == [&session(1), &session(2)],
        || format!("listed: {listed:?}"),
    )?;
    store.delete_user_sessions(&fx.user_id).await.map_err(err)?;
    let after = store.user_sessions(&fx.user_id, ALL).await.map_err(err)?;
    ensure(after.total == 0, || format!("sessions left: {after:?}"))
}

/// The published keys read through the cache are the set a fresh read finds (a fresh read
/// refreshes what the cache keeps).
pub async fn published_keys<C: KeyStore>(cached: &C) -> Check {
    let fresh = cached.published_keys_now().await.map_err(err)?;
    let kept = cached.published_keys().await.map_err(err)?;
    let kids = |keys: &[crate::model::StoredKey]| {
        let mut kids: Vec<String> = keys.iter().map(|k| k.kid.clone()).collect();
        kids.sort();
        kids
    };
    ensure(kids(&fresh) == kids(&kept), || {
        format!("fresh {:?}, kept {:?}", kids(&fresh), kids(&kept))
    })
}
