//! Users: `/api/v2/users` (list and search, create), `/api/v2/users/{id}` (get, update,
//! delete) and `/api/v2/users-by-email`. A user's own token may get and change their own
//! `user_metadata` (self-service), at most `self_service_writes_per_minute` times a minute.

mod body;
pub mod identities;
pub mod links;
pub mod search;

use super::call::Call;
use super::error::{error_code, from_store, invalid, invalid_query, not_found, Reply};
use super::list::Query;
use super::Caller;
use crate::model::{Connection, LockoutPolicy, Paging, User, UserChanges, UserFilter, UserQuery};
use crate::oauth::password;
use crate::oauth::provision::{check_password, provision, Credential, Draft, Refused};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{AttemptStore, ConnectionStore, Stores, UserStore};
pub(super) use body::{check_metadata, check_profile, CustomHash};
use body::{check_metadata_size, view, NewUser, UserPatch};
use serde_json::Value;

/// A user as lists of members and role holders show them (Auth0's short form).
pub fn user_summary(u: &User) -> Value {
    let mut v = serde_json::json!({ "user_id": u.user_id, "email": u.email });
    for (field, value) in [("name", &u.name), ("picture", &u.picture)] {
        if let Some(value) = value {
            v[field] = Value::String(value.clone());
        }
    }
    v
}

/// The message of a 409 for a taken email.
const TAKEN: &str = "The user already exists.";

/// `GET /api/v2/users`: `q`, `sort`, paging, `include_totals`, `fields`.
pub async fn list<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(
        call.req.query,
        &["q", "sort", "search_engine"]
    ));
    let filters = match query.get("q").map(search::parse_q).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(why) => return invalid_query(&why),
    };
    let sort = match query.get("sort").map(search::parse_sort).transpose() {
        Ok(s) => s,
        Err(why) => return invalid_query(&why),
    };
    let paging = attempt!(query.paging());
    let users = call.issuer.stores.users();
    let listed = match users
        .list_users(&UserQuery {
            filters,
            sort,
            paging,
        })
        .settle()
        .await
    {
        Ok(l) => l,
        Err(e) => return from_store(e, TAKEN, call.issuer.log),
    };
    query.reply(
        "users",
        listed.items.iter().map(view).collect(),
        listed.total,
    )
}

/// `GET /api/v2/users-by-email?email=…`: every user with that email (ASCII case ignored),
/// in any connection.
pub async fn by_email<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &["email"]));
    let Some(email) = query.get("email").filter(|e| !e.is_empty()) else {
        return invalid_query("Missing required property: email");
    };
    let filter = UserQuery {
        filters: vec![UserFilter::Email(crate::model::email::normalize(email))],
        sort: None,
        paging: Paging {
            offset: 0,
            limit: 100,
        },
    };
    match call
        .issuer
        .stores
        .users()
        .list_users(&filter)
        .settle()
        .await
    {
        Ok(listed) => {
            let items: Result<Vec<Value>, Reply> =
                listed.items.iter().map(|u| query.select(view(u))).collect();
            items.map_or_else(|r| r, |items| Reply::json(200, &Value::Array(items)))
        }
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}

/// `GET /api/v2/users/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let query = attempt!(Query::parse(call.req.query, &[]));
    let mut shown = match call.issuer.stores.users().user(call.id()).settle().await {
        Ok(Some(u)) => view(&u),
        Ok(None) => return not_found("user"),
        Err(e) => return from_store(e, TAKEN, call.issuer.log),
    };
    if matches!(
        call.caller,
        Caller::Machine {
            idp_tokens: true,
            ..
        }
    ) {
        attempt!(show_idp_tokens(call, &mut shown).settle().await);
    }
    query
        .select(shown)
        .map_or_else(|r| r, |v| Reply::json(200, &v))
}

/// The provider tokens kept on the user's identities (`store_idp_tokens`), opened into the
/// identities `shown`, as Auth0 shows them to `read:user_idp_tokens` (one more read).
async fn show_idp_tokens<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    shown: &mut Value,
) -> Result<(), Reply> {
    let kept = call
        .issuer
        .stores
        .users()
        .identity_tokens(call.id())
        .settle()
        .await;
    let kept = kept.map_err(|e| from_store(e, TAKEN, call.issuer.log))?;
    let (Some(kek), Some(Value::Array(identities))) =
        (call.issuer.kek, shown.get_mut("identities"))
    else {
        return Ok(());
    };
    for (provider, identity_id, sealed) in kept {
        let opened = kek
            .open(&format!("{provider}|{identity_id}"), &sealed)
            .ok()
            .and_then(|plain| crate::model::strict_json::parse(&plain).ok());
        let identity = identities
            .iter_mut()
            .find(|i| i["provider"] == provider.as_str() && i["user_id"] == identity_id.as_str());
        if let (Some(Value::Object(tokens)), Some(Value::Object(identity))) = (opened, identity) {
            for (name, value) in tokens {
                identity.insert(name, value);
            }
        }
    }
    Ok(())
}

/// `POST /api/v2/users`: a user of a database connection (by name, as Auth0), with a
/// password (checked against the connection's policy and hashed here) or a
/// `custom_password_hash` brought from another system; through the one provisioning path.
pub async fn create<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let issuer = call.issuer;
    let new = attempt!(NewUser::read(call.req.body));
    let connection = attempt!(database_connection(call, &new.connection).settle().await);
    let credential = match (new.password, &new.custom_password_hash) {
        (Some(_), Some(_)) => return invalid("give password or custom_password_hash, not both"),
        (None, None) => return invalid("Missing required property: password"),
        (None, Some(custom)) if custom.hash.encoding.as_deref().is_some_and(|e| e != "utf8") => {
            return invalid("custom_password_hash: hash.encoding must be utf8");
        }
        (None, Some(custom)) => {
            match password::imported_hash(&custom.algorithm, &custom.hash.value) {
                Ok(h) => Credential::Hash(h),
                Err(why) => return invalid(&format!("custom_password_hash: {why}")),
            }
        }
        (Some(pw), None) => Credential::Password(pw),
    };
    let verify = new.verify_email.unwrap_or(!new.email_verified);
    let draft = Draft {
        id: new.user_id,
        email: new.email,
        email_verified: new.email_verified,
        name: new.name,
        given_name: new.given_name,
        family_name: new.family_name,
        nickname: new.nickname,
        picture: new.picture,
        user_metadata: new.user_metadata,
        app_metadata: new.app_metadata,
        blocked: new.blocked,
        credential,
    };
    let (crypto, random, config) = (issuer.crypto, issuer.random, issuer.config);
    let made = provision(
        crypto,
        random,
        config,
        issuer.clock.now(),
        &connection,
        draft,
    );
    let user = match made.settle().await {
        Ok(u) => u,
        Err(refused) => return refusal(refused),
    };
    let users = issuer.stores.users();
    match users.create_user(&user).settle().await {
        // As stored, with its identity.
        Ok(()) => match users.user(&user.user_id).settle().await {
            Ok(Some(stored)) => {
                if verify && !stored.email_verified {
                    send_verification(call, &stored, None).settle().await;
                }
                Reply::json(201, &view(&stored))
            }
            Ok(None) => not_found("user"),
            Err(e) => from_store(e, TAKEN, issuer.log),
        },
        Err(e) => from_store(e, TAKEN, issuer.log),
    }
}

/// The database connection named `name`, or Auth0's 400 `inexistent_connection`.
pub(super) async fn database_connection<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    name: &str,
) -> Result<Connection, Reply> {
    let all = call
        .issuer
        .stores
        .connections()
        .all_connections()
        .settle()
        .await;
    let all = all.map_err(|e| from_store(e, TAKEN, call.issuer.log))?;
    all.into_iter()
        .find(|c| (c.name == name || c.id == name) && c.is_database())
        .ok_or_else(|| {
            error_code(
                400,
                "inexistent_connection",
                "The connection does not exist.",
            )
        })
}

/// A refused draft, in the API's words.
pub(super) fn refusal(refused: Refused) -> Reply {
    match refused {
        Refused::Field(_, why) => invalid(&why),
        Refused::Password(why) => error_code(
            400,
            "invalid_body",
            &format!("PasswordStrengthError: {}", why.message()),
        ),
        Refused::Failed(e) => super::error::from_oauth(&e),
    }
}

/// `PATCH /api/v2/users/{id}`: the fields given change; `user_metadata` and `app_metadata`
/// merge ([`crate::model::merge_metadata`]). A user acting on themselves may send
/// `user_metadata` only, within their write budget.
pub async fn update<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let issuer = call.issuer;
    let patch = attempt!(UserPatch::read(call.req.body));
    if let Caller::User { user_id } = &call.caller {
        if patch.beyond_user_metadata() {
            return error_code(
                403,
                "insufficient_scope",
                "A user may change only their own user_metadata",
            );
        }
        if let Some(reply) = over_budget(call, user_id).settle().await {
            return reply;
        }
    }
    let users = issuer.stores.users();
    let Some(current) = (match users.user(call.id()).settle().await {
        Ok(u) => u,
        Err(e) => return from_store(e, TAKEN, issuer.log),
    }) else {
        return not_found("user");
    };
    // A new address is not verified unless the patch says so, and is sent a link unless
    // `verify_email` is false (Auth0's behaviour).
    let new_address = patch.email.as_ref().and_then(Option::as_deref);
    let verify = patch
        .verify_email
        .unwrap_or_else(|| address_changed(&current, new_address));
    let changes = attempt!(changes(call, &current, patch).settle().await);
    let now = issuer.clock.now();
    match users.update_user(call.id(), &changes, now).settle().await {
        Ok(Some(u)) => {
            if verify && !u.email_verified {
                send_verification(call, &u, None).settle().await;
            }
            Reply::json(200, &view(&u))
        }
        // Deleted, or grown past the limit by a concurrent write, since it was read.
        Ok(None) => error_code(
            409,
            "conflict",
            "The user changed while it was updated; retry.",
        ),
        Err(e) => from_store(e, TAKEN, issuer.log),
    }
}

/// The checked change a patch asks of `current`.
async fn changes<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    current: &User,
    patch: UserPatch,
) -> Result<UserChanges, Reply> {
    let issuer = call.issuer;
    if patch
        .connection
        .as_ref()
        .is_some_and(|c| *c != current.connection)
    {
        return Err(invalid("a user cannot move to another connection"));
    }
    let email = match &patch.email {
        Some(None) => return Err(invalid("email cannot be removed from a database user")),
        Some(Some(e)) => Some(Some(crate::model::email::normalize(e))),
        None => None,
    };
    fn text(f: &Option<Option<String>>) -> Option<&str> {
        f.as_ref().and_then(Option::as_deref)
    }
    let texts = [
        ("name", text(&patch.name)),
        ("given_name", text(&patch.given_name)),
        ("family_name", text(&patch.family_name)),
        ("nickname", text(&patch.nickname)),
    ];
    let new_email = email.as_ref().and_then(Option::as_deref);
    check_profile(new_email, &texts, text(&patch.picture))?;
    let changed = address_changed(current, new_email);
    let mut changes = UserChanges {
        email,
        // A changed address is unverified unless the patch says otherwise.
        email_verified: patch.email_verified.or(changed.then_some(false)),
        name: patch.name,
        given_name: patch.given_name,
        family_name: patch.family_name,
        nickname: patch.nickname,
        picture: patch.picture,
        blocked: patch.blocked,
        password_hash: None,
        user_metadata: patch.user_metadata,
        app_metadata: patch.app_metadata,
    };
    for (field, meta) in [
        ("user_metadata", &changes.user_metadata),
        ("app_metadata", &changes.app_metadata),
    ] {
        if let Some(m) = meta {
            check_metadata(field, m)?;
        }
    }
    // The whole document after the merge must fit too.
    let merged = changes.apply(current, 0);
    check_metadata_size("user_metadata", &merged.user_metadata)?;
    check_metadata_size("app_metadata", &merged.app_metadata)?;
    if let Some(pw) = &patch.password {
        let email = merged.email.as_deref().unwrap_or("");
        let names: Vec<&str> = [&merged.name, &merged.given_name, &merged.family_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let connection = database_connection(call, &current.connection)
            .settle()
            .await?;
        check_password(&connection, pw, email, &names).map_err(refusal)?;
        let hash = password::hash(
            issuer.crypto,
            issuer.random,
            pw,
            issuer.config.password_iterations,
        )
        .settle()
        .await
        .map_err(|e| super::error::from_oauth(&e))?;
        changes.password_hash = Some(hash);
    }
    Ok(changes)
}

/// Whether `email` (as a patch gives it) is another address than `current`'s, ASCII case
/// aside.
fn address_changed(current: &User, email: Option<&str>) -> bool {
    email.is_some_and(|e| {
        let e = crate::model::email::normalize(e);
        current
            .email
            .as_deref()
            .is_none_or(|c| !c.eq_ignore_ascii_case(&e))
    })
}

/// Sends `user` a verification link (for `client_id`'s application, if named). A message
/// that cannot be made or sent is logged: the user was written either way.
pub async fn send_verification<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    user: &User,
    client_id: Option<&str>,
) -> bool {
    let to = crate::oauth::mail::Recipient {
        user,
        client_id,
        client_name: "",
    };
    let mailer = call.issuer.mailer();
    let sent = mailer.send_ticket(
        crate::model::mail::TicketKind::Verify,
        to,
        (None, None),
        true,
    );
    match sent.settle().await {
        Ok(link) => link.is_some(),
        Err(e) => {
            call.issuer.log_error(&e);
            false
        }
    }
}

/// Counts one self-service write of `user_id`; a reply (429, with `Retry-After`) when the
/// user is past their budget for the minute.
async fn over_budget<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    user_id: &str,
) -> Option<Reply> {
    let issuer = call.issuer;
    let policy = LockoutPolicy {
        max_failures: issuer.config.self_service_writes_per_minute,
        window_seconds: 60,
        lock_seconds: 60,
    };
    let key = format!("self-service\n{user_id}");
    let now = issuer.clock.now();
    match issuer
        .stores
        .attempts()
        .count_attempt(&key, "", now, &policy)
        .settle()
        .await
    {
        Ok(n) if n <= policy.max_failures => None,
        Ok(_) => Some(
            error_code(
                429,
                "too_many_requests",
                "Too many writes to this user; try again later.",
            )
            .with_header("retry-after", policy.lock_seconds.to_string()),
        ),
        Err(e) => Some(from_store(e, TAKEN, issuer.log)),
    }
}

/// `DELETE /api/v2/users/{id}`: the user and everything that is theirs; 204 whether or not
/// the user existed (Auth0 answers the same).
pub async fn delete<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    match call
        .issuer
        .stores
        .users()
        .delete_user(call.id())
        .settle()
        .await
    {
        Ok(_) => Reply::no_content(),
        Err(e) => from_store(e, TAKEN, call.issuer.log),
    }
}
