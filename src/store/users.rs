//! End users (schema in `migrations/0002_users_refresh.sql`).

use super::codec::{flag, flag_arg, int, json, json_arg, num, opt, opt_int};
use super::sql::{Source, Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{
    Identity, Imported, Job, Listed, User, UserChanges, UserFilter, UserQuery, MAX_METADATA_BYTES,
};
use crate::port::settled::Settle;
use crate::port::users::IMPORT_CHUNK;
use crate::port::UserStore;

crate::row! {
    pub(super) struct UserRow {
        user_id: String,
        connection: String,
        email: Option<String>,
        email_verified: f64,
        name: Option<String>,
        given_name: Option<String>,
        family_name: Option<String>,
        nickname: Option<String>,
        picture: Option<String>,
        user_metadata: String,
        app_metadata: String,
        blocked: f64,
        password_hash: Option<String>,
        created_at: f64,
        updated_at: f64,
        last_login: Option<f64>,
        logins_count: f64,
        identities: String,
        mfa: f64,
        browsers_forgotten_at: f64,
    }
}

/// The `identities` column: a JSON list of objects (read through `serde_json::Value`, whose
/// reader the Worker has anyway, rather than a reader made for the type).
fn identities(text: &str) -> Result<Vec<Identity>, StoreError> {
    let corrupt = || StoreError::Corrupt("identities: expected a list of identities".into());
    let serde_json::Value::Array(items) = json::<serde_json::Value>("identities", text)? else {
        return Err(corrupt());
    };
    items
        .into_iter()
        .map(|item| {
            let serde_json::Value::Object(mut o) = item else {
                return Err(corrupt());
            };
            let mut text = |name: &str| match o.remove(name) {
                Some(serde_json::Value::String(s)) => Ok(s),
                _ => Err(corrupt()),
            };
            Ok(Identity {
                connection: text("connection")?,
                provider: text("provider")?,
                user_id: text("user_id")?,
                is_social: o
                    .get("isSocial")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
                profile_data: match o.remove("profileData") {
                    Some(serde_json::Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                },
            })
        })
        .collect()
}

/// `identities` with the one `user_id` was created with first, the linked ones after in the
/// order stored.
fn primary_first(user_id: &str, mut identities: Vec<Identity>) -> Vec<Identity> {
    if let Some(at) = identities.iter().position(|i| i.as_user_id() == user_id) {
        let primary = identities.remove(at);
        identities.insert(0, primary);
    }
    identities
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let identities = primary_first(&r.user_id, identities(&r.identities)?);
        Ok(User {
            user_id: r.user_id,
            connection: r.connection,
            email: r.email,
            email_verified: flag(r.email_verified),
            name: r.name,
            given_name: r.given_name,
            family_name: r.family_name,
            nickname: r.nickname,
            picture: r.picture,
            user_metadata: json("user_metadata", &r.user_metadata)?,
            app_metadata: json("app_metadata", &r.app_metadata)?,
            blocked: flag(r.blocked),
            password_hash: r.password_hash,
            created_at: int(r.created_at),
            updated_at: int(r.updated_at),
            last_login: opt_int(r.last_login),
            logins_count: int(r.logins_count),
            identities,
            multifactor: if r.mfa > 0.0 {
                vec![crate::model::mfa::GUARDIAN.into()]
            } else {
                Vec::new()
            },
            browsers_forgotten_at: int(r.browsers_forgotten_at),
        })
    }
}

/// Creates a user (a sign-up).
pub(super) const INSERT_USER: &str = "INSERT INTO users (user_id, connection, email, \
    email_verified, name, user_metadata, app_metadata, blocked, password_hash, created_at, \
    updated_at, logins_count, email_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9, 0, ?10)";

/// The identity a user is created with, from `user_id` (`provider|id`; a bare id is a
/// database user's), `connection` and `created_at` (SQL expressions). One already linked to
/// another user stays with that user.
pub(super) fn primary_identity(user_id: &str, connection: &str, created_at: &str) -> String {
    format!(
        "INSERT OR IGNORE INTO identities (provider, identity_id, user_id, connection, created_at) \
         SELECT CASE WHEN instr(u, '|') > 0 THEN substr(u, 1, instr(u, '|') - 1) ELSE 'auth0' END, \
         CASE WHEN instr(u, '|') > 0 THEN substr(u, instr(u, '|') + 1) ELSE u END, \
         u, c, t FROM (SELECT {user_id} AS u, {connection} AS c, {created_at} AS t)"
    )
}

/// The arguments of [`primary_identity`]`("?1", "?2", "?3")` for `u`.
pub(super) fn identity_args(u: &User) -> [Value; 3] {
    [
        u.user_id.as_str().into(),
        u.connection.as_str().into(),
        num(u.created_at),
    ]
}

/// Keys a user from before email keys (`?2` its key), or, when a look-alike of the connection
/// holds that key already, gives it a key that matches no address.
const SET_EMAIL_KEY: &str = "UPDATE users SET email_key = CASE WHEN EXISTS \
    (SELECT 1 FROM users o WHERE o.connection = users.connection AND o.email_key = ?2) \
    THEN 'look-alike:' || user_id ELSE ?2 END WHERE user_id = ?1 AND email_key IS NULL";

/// The look-alike key of an email to store beside it (NULL without one).
pub(super) fn email_key(email: &Option<String>) -> Value {
    opt(&email.as_deref().map(crate::model::email::key))
}

pub(super) fn user_args(u: &User) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        u.user_id.as_str().into(),
        u.connection.as_str().into(),
        opt(&u.email),
        flag_arg(u.email_verified),
        opt(&u.name),
        json_arg(&u.user_metadata)?,
        json_arg(&u.app_metadata)?,
        opt(&u.password_hash),
        num(u.created_at),
        email_key(&u.email),
    ])
}

/// A user's own columns.
pub(super) const USER_FIELDS: &str = "user_id, connection, email, email_verified, name, \
    given_name, family_name, nickname, picture, user_metadata, app_metadata, blocked, \
    password_hash, created_at, updated_at, last_login, logins_count";

/// The user's identities as a JSON list (in the order stored), of the user row of `table`.
/// A correlated scalar subquery: D1's SQLite takes no correlation inside a derived table.
fn identities_of(table: &str) -> String {
    format!(
        "(SELECT json_group_array(json_object('connection', i.connection, 'provider', \
         i.provider, 'user_id', i.identity_id, 'isSocial', json(CASE i.is_social WHEN 1 \
         THEN 'true' ELSE 'false' END), 'profileData', json(i.profile_data))) \
         FROM identities i WHERE i.user_id = {table}.user_id) AS identities"
    )
}

/// A user's columns and identities, of the user row of `table`.
pub(super) fn user_select(table: &str) -> String {
    let fields = USER_FIELDS
        .split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{fields}, {}, EXISTS (SELECT 1 FROM authenticators m WHERE m.user_id = {table}.user_id \
         AND m.confirmed = 1) AS mfa, {table}.browsers_forgotten_at",
        identities_of(table)
    )
}

impl<B: Sql> UserStore for SqlStore<B> {
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {} FROM users WHERE user_id = ?1 AND linked_to IS NULL",
            user_select("users")
        );
        let row: Option<UserRow> = self.first(&sql, &[user_id.into()]).settle().await?;
        row.map(User::try_from).transpose()
    }

    async fn create_user(&self, u: &User) -> Result<(), StoreError> {
        // The primary key and the unique index on (connection, lower(email)) refuse a taken
        // id or email: a Conflict (codec::backend).
        let sql = "INSERT INTO users (user_id, connection, email, email_verified, name, \
            given_name, family_name, nickname, picture, user_metadata, app_metadata, blocked, \
            password_hash, created_at, updated_at, logins_count, email_key) \
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, 0, ?15)";
        let args = [
            u.user_id.as_str().into(),
            u.connection.as_str().into(),
            opt(&u.email),
            flag_arg(u.email_verified),
            opt(&u.name),
            opt(&u.given_name),
            opt(&u.family_name),
            opt(&u.nickname),
            opt(&u.picture),
            json_arg(&u.user_metadata)?,
            json_arg(&u.app_metadata)?,
            flag_arg(u.blocked),
            opt(&u.password_hash),
            num(u.created_at),
            email_key(&u.email),
        ];
        let identity = primary_identity("?1", "?2", "?3");
        self.batch(&[(sql, &args), (&identity, &identity_args(u))])
            .settle()
            .await
            .map(|_| ())
    }

    async fn update_user(
        &self,
        user_id: &str,
        changes: &UserChanges,
        now: u64,
    ) -> Result<Option<User>, StoreError> {
        let (sets, guards, args) = update_clauses(user_id, changes, now)?;
        let sql = format!(
            "UPDATE users SET {sets} WHERE user_id = ?1 AND linked_to IS NULL{guards} RETURNING {}",
            user_select("users")
        );
        let row: Option<UserRow> = self.first(&sql, &args).settle().await?;
        row.map(User::try_from).transpose()
    }

    async fn delete_user(&self, user_id: &str) -> Result<bool, StoreError> {
        // Foreign keys cascade to roles, memberships, sessions, codes and refresh tokens.
        let changed = self
            .run(
                "DELETE FROM users WHERE user_id = ?1 AND linked_to IS NULL",
                &[user_id.into()],
            )
            .settle()
            .await?;
        Ok(changed > 0)
    }

    async fn link_user(
        &self,
        primary: &str,
        secondary: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.link(primary, secondary, now).settle().await
    }

    async fn unlink_identity(
        &self,
        primary: &str,
        provider: &str,
        identity_id: &str,
    ) -> Result<bool, StoreError> {
        self.unlink(primary, provider, identity_id).settle().await
    }

    async fn identity_tokens(
        &self,
        user_id: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        crate::row! {
            struct Kept {
                provider: String,
                identity_id: String,
                tokens: String,
            }
        }
        let sql = "SELECT provider, identity_id, tokens FROM identities \
                   WHERE user_id = ?1 AND tokens IS NOT NULL";
        let rows: Vec<Kept> = self
            .all_on(Source::Primary, sql, &[user_id.into()])
            .settle()
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.provider, r.identity_id, r.tokens))
            .collect())
    }

    async fn backfill_email_keys(&self, limit: u32) -> Result<u32, StoreError> {
        crate::row! {
            struct Unkeyed {
                user_id: String,
                email: String,
            }
        }
        let sql = "SELECT user_id, email FROM users \
                   WHERE email_key IS NULL AND email IS NOT NULL LIMIT ?1";
        let rows: Vec<Unkeyed> = self
            .all_on(Source::Primary, sql, &[num(u64::from(limit))])
            .settle()
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let args: Vec<[Value; 2]> = rows
            .iter()
            .map(|r| {
                let key = crate::model::email::key(&r.email);
                [r.user_id.as_str().into(), key.into()]
            })
            .collect();
        let statements: Vec<(&str, &[Value])> =
            args.iter().map(|a| (SET_EMAIL_KEY, &a[..])).collect();
        self.batch(&statements).settle().await?;
        Ok(rows.len() as u32)
    }

    async fn import_users(
        &self,
        users: &[User],
        upsert: bool,
    ) -> Result<Vec<Imported>, StoreError> {
        let mut outcomes = Vec::with_capacity(users.len());
        for chunk in users.chunks(IMPORT_CHUNK) {
            outcomes.extend(self.import_chunk(chunk, upsert).settle().await?);
        }
        Ok(outcomes)
    }

    async fn put_job(&self, job: &Job) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO jobs (job_id, type, status, connection, upsert, external_id, \
             created_at, summary, errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, \
             summary = excluded.summary, errors = excluded.errors",
            &[
                job.job_id.as_str().into(),
                job.kind.as_str().into(),
                job.status.as_str().into(),
                job.connection.as_str().into(),
                flag_arg(job.upsert),
                opt(&job.external_id),
                num(job.created_at),
                json_arg(&job.summary)?,
                json_arg(&job.errors)?,
            ],
        )
        .settle()
        .await
        .map(|_| ())
    }

    async fn job(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        crate::row! {
            struct JobRow {
                job_id: String,
                r#type: String,
                status: String,
                connection: String,
                upsert: f64,
                external_id: Option<String>,
                created_at: f64,
                summary: String,
                errors: String,
            }
        }
        let row: Option<JobRow> = self
            .first(
                "SELECT job_id, type, status, connection, upsert, external_id, created_at, \
                 summary, errors FROM jobs WHERE job_id = ?1",
                &[job_id.into()],
            )
            .settle()
            .await?;
        row.map(|r| {
            Ok(Job {
                job_id: r.job_id,
                kind: r.r#type,
                status: r.status,
                connection: r.connection,
                upsert: flag(r.upsert),
                external_id: r.external_id,
                created_at: int(r.created_at),
                summary: json("summary", &r.summary)?,
                errors: json("errors", &r.errors)?,
            })
        })
        .transpose()
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Listed<User>, StoreError> {
        let (conditions, args) = where_clause(&query.filters);
        let order = match query.sort {
            Some((field, desc)) => {
                let dir = if desc { "DESC" } else { "ASC" };
                format!("{} {dir}, rowid", field.column())
            }
            None => "rowid".into(),
        };
        let from = format!("FROM users{conditions}");
        let rows: Listed<UserRow> = self
            .page(&user_select("users"), &from, &order, &args, query.paging)
            .settle()
            .await?;
        rows.try_map(User::try_from)
    }
}

/// The `SET` list, the guards the metadata size needs, and the arguments of an update.
fn update_clauses(
    user_id: &str,
    c: &UserChanges,
    now: u64,
) -> Result<(String, String, Vec<Value>), StoreError> {
    let mut args: Vec<Value> = vec![user_id.into(), num(now)];
    let mut sets = vec!["updated_at = ?2".to_string()];
    let mut guards = String::new();
    let bind = |args: &mut Vec<Value>, value: Value| {
        args.push(value);
        args.len()
    };
    let texts = [
        ("email", &c.email),
        ("name", &c.name),
        ("given_name", &c.given_name),
        ("family_name", &c.family_name),
        ("nickname", &c.nickname),
        ("picture", &c.picture),
    ];
    for (column, change) in texts {
        if let Some(value) = change {
            let i = bind(&mut args, opt(value));
            sets.push(format!("{column} = ?{i}"));
        }
    }
    if let Some(email) = &c.email {
        let i = bind(&mut args, email_key(email));
        sets.push(format!("email_key = ?{i}"));
    }
    for (column, change) in [("email_verified", c.email_verified), ("blocked", c.blocked)] {
        if let Some(value) = change {
            let i = bind(&mut args, flag_arg(value));
            sets.push(format!("{column} = ?{i}"));
        }
    }
    if let Some(hash) = &c.password_hash {
        let i = bind(&mut args, hash.as_str().into());
        sets.push(format!("password_hash = ?{i}"));
    }
    for (column, patch) in [
        ("user_metadata", &c.user_metadata),
        ("app_metadata", &c.app_metadata),
    ] {
        let Some(patch) = patch else { continue };
        // Every named property removed first, then the patch merged in: each top-level
        // property is replaced whole, as model::merge_metadata does.
        let removals =
            crate::model::object(patch.keys().map(|k| (k.clone(), serde_json::Value::Null)));
        let r = bind(&mut args, json_arg(&removals)?);
        let p = bind(&mut args, json_arg(patch)?);
        let merged = format!("json_patch(json_patch({column}, ?{r}), ?{p})");
        guards.push_str(&format!(
            " AND length(CAST({merged} AS BLOB)) <= {MAX_METADATA_BYTES}"
        ));
        sets.push(format!("{column} = {merged}"));
    }
    Ok((sets.join(", "), guards, args))
}

/// ` WHERE …` for the filters (empty for none), and its arguments from `?1`.
fn where_clause(filters: &[UserFilter]) -> (String, Vec<Value>) {
    let mut args: Vec<Value> = Vec::new();
    let mut conditions = Vec::new();
    for f in filters {
        let mut bind = |value: Value| {
            args.push(value);
            args.len()
        };
        conditions.push(match f {
            UserFilter::Email(v) => format!("lower(email) = lower(?{})", bind(v.as_str().into())),
            UserFilter::UserId(v) => format!("user_id = ?{}", bind(v.as_str().into())),
            UserFilter::Name(v) => format!("name = ?{}", bind(v.as_str().into())),
            // Any of the user's identities, linked ones too.
            UserFilter::Connection(v) => format!(
                "user_id IN (SELECT user_id FROM identities WHERE connection = ?{})",
                bind(v.as_str().into())
            ),
            UserFilter::Blocked(b) => format!("blocked = ?{}", bind(flag_arg(*b))),
            UserFilter::EmailVerified(b) => format!("email_verified = ?{}", bind(flag_arg(*b))),
            UserFilter::Metadata { app, path, value } => {
                let column = if *app {
                    "app_metadata"
                } else {
                    "user_metadata"
                };
                // Keys are limited to [A-Za-z0-9_-] by the query parser; quoted anyway.
                let json_path: String = std::iter::once("$".to_string())
                    .chain(path.iter().map(|k| format!(".\"{k}\"")))
                    .collect();
                let p = bind(json_path.as_str().into());
                let v = bind(value.as_str().into());
                let literal = crate::model::directory::scalar_literal(value);
                let l = bind(opt(&literal));
                format!(
                    "((json_type({column}, ?{p}) = 'text' AND json_extract({column}, ?{p}) = ?{v}) \
                     OR ({column} -> ?{p}) = ?{l})"
                )
            }
        });
    }
    // A user linked into another is no user of its own.
    conditions.push("linked_to IS NULL".to_string());
    (format!(" WHERE {}", conditions.join(" AND ")), args)
}

/// An imported user as one element of the JSON array an import statement reads.
fn import_row(u: &User) -> serde_json::Value {
    serde_json::json!({
        "user_id": u.user_id, "connection": u.connection, "email": u.email,
        "email_verified": u.email_verified, "name": u.name, "given_name": u.given_name,
        "family_name": u.family_name, "nickname": u.nickname, "picture": u.picture,
        "user_metadata": u.user_metadata, "app_metadata": u.app_metadata,
        "blocked": u.blocked, "password_hash": u.password_hash, "created_at": u.created_at,
        "email_key": u.email.as_deref().map(crate::model::email::key),
    })
}

/// Replaces the users of a chunk whose email is taken in their connection (upsert),
/// keeping their id, creation time and login count; returns the emails it replaced.
const IMPORT_UPDATE: &str = "UPDATE users SET email = j.value->>'email', \
    email_verified = j.value->>'email_verified', name = j.value->>'name', \
    given_name = j.value->>'given_name', family_name = j.value->>'family_name', \
    nickname = j.value->>'nickname', picture = j.value->>'picture', \
    user_metadata = json(j.value->'user_metadata'), app_metadata = json(j.value->'app_metadata'), \
    blocked = j.value->>'blocked', password_hash = j.value->>'password_hash', \
    updated_at = j.value->>'created_at', email_key = j.value->>'email_key' \
    FROM (SELECT value FROM json_each(?1)) AS j \
    WHERE users.connection = j.value->>'connection' \
    AND lower(users.email) = lower(j.value->>'email') RETURNING lower(users.email) AS email";

/// Inserts the users of a chunk whose id and email are free; returns their ids.
const IMPORT_INSERT: &str = "INSERT INTO users (user_id, connection, email, email_verified, \
    name, given_name, family_name, nickname, picture, user_metadata, app_metadata, blocked, \
    password_hash, created_at, updated_at, logins_count, email_key) \
    SELECT value->>'user_id', value->>'connection', value->>'email', value->>'email_verified', \
    value->>'name', value->>'given_name', value->>'family_name', value->>'nickname', \
    value->>'picture', json(value->'user_metadata'), json(value->'app_metadata'), \
    value->>'blocked', value->>'password_hash', value->>'created_at', value->>'created_at', 0, \
    value->>'email_key' \
    FROM json_each(?1) WHERE true ON CONFLICT DO NOTHING RETURNING user_id";

crate::row! {
    struct Returned {
        user_id: Option<String>,
        email: Option<String>,
    }
}

impl<B: Sql> SqlStore<B> {
    /// One chunk of an import: one batch (one transaction), the users passed as one JSON
    /// argument (D1 allows 100 bound parameters a statement, and counts statements).
    pub(super) async fn import_chunk(
        &self,
        users: &[User],
        upsert: bool,
    ) -> Result<Vec<crate::model::Imported>, StoreError> {
        use crate::model::Imported;
        let rows: Vec<serde_json::Value> = users.iter().map(import_row).collect();
        let args = [json_arg(&rows)?];
        let mut statements: Vec<(&str, &[Value])> = Vec::new();
        if upsert {
            statements.push((IMPORT_UPDATE, &args));
        }
        statements.push((IMPORT_INSERT, &args));
        // The identities of the users the insert stored (one whose id was stored before
        // has its identity already).
        let identities = primary_identity("value->>'user_id'", "value->>'connection'", "value->>'created_at'")
            .replace(
                "FROM (SELECT value->>'user_id' AS u, value->>'connection' AS c, value->>'created_at' AS t)",
                "FROM (SELECT value->>'user_id' AS u, value->>'connection' AS c, \
                 value->>'created_at' AS t FROM json_each(?1)) \
                 WHERE u IN (SELECT user_id FROM users)",
            );
        statements.push((&identities, &args));
        let results = self.batch_on(Source::Primary, &statements).settle().await?;
        let mut updated = std::collections::HashSet::new();
        let mut inserted = std::collections::HashSet::new();
        for result in &results {
            for r in result.all::<Returned>()? {
                if let Some(e) = r.email {
                    updated.insert(e);
                }
                if let Some(id) = r.user_id {
                    inserted.insert(id);
                }
            }
        }
        Ok(users
            .iter()
            .map(|u| {
                let email = u.email.as_deref().unwrap_or("").to_ascii_lowercase();
                if inserted.contains(&u.user_id) {
                    Imported::Inserted
                } else if upsert && updated.contains(&email) {
                    Imported::Updated
                } else {
                    Imported::Duplicate
                }
            })
            .collect())
    }
}

/// Linking `?2` into `?1` (the last statement: at `?3`): only when both are users of their
/// own and differ.
const LINK: [&str; 4] = [
    "UPDATE users SET linked_to = ?1 WHERE (user_id = ?2 OR linked_to = ?2) AND ?1 <> ?2 \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?1 AND linked_to IS NULL) \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?2 AND linked_to IS NULL)",
    "UPDATE identities SET user_id = ?1 WHERE user_id IN \
     (SELECT user_id FROM users WHERE linked_to = ?1) OR (user_id = ?2 \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?2 AND linked_to = ?1))",
    "DELETE FROM sessions WHERE user_id = ?2 \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?2 AND linked_to = ?1)",
    "UPDATE refresh_families SET revoked_at = ?3 WHERE user_id = ?2 AND revoked_at IS NULL \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?2 AND linked_to = ?1)",
];

/// Unlinking identity `?2|?3` from `?1`: the identity returns to its own user row, which is a
/// user again. The identity moves first; the row is freed only if the identity moved.
const UNLINK: [&str; 2] = [
    "UPDATE identities SET user_id = ?2 || '|' || ?3 WHERE provider = ?2 AND identity_id = ?3 \
     AND user_id = ?1 AND ?2 || '|' || ?3 <> ?1 \
     AND EXISTS (SELECT 1 FROM users WHERE user_id = ?2 || '|' || ?3 AND linked_to = ?1)",
    "UPDATE users SET linked_to = NULL WHERE user_id = ?2 || '|' || ?3 AND linked_to = ?1 \
     AND EXISTS (SELECT 1 FROM identities WHERE provider = ?2 AND identity_id = ?3 \
     AND user_id = ?2 || '|' || ?3)",
];

impl<B: Sql> SqlStore<B> {
    pub(super) async fn link(
        &self,
        primary: &str,
        secondary: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let args = [primary.into(), secondary.into(), num(now)];
        // Each statement gets the arguments it names, as D1 demands.
        let statements: Vec<(&str, &[Value])> = LINK
            .iter()
            .map(|s| {
                (
                    *s,
                    if s.contains("?3") {
                        &args[..]
                    } else {
                        &args[..2]
                    },
                )
            })
            .collect();
        let changes = self.batch(&statements).settle().await?;
        Ok(changes.first().copied().unwrap_or(0) > 0)
    }

    pub(super) async fn unlink(
        &self,
        primary: &str,
        provider: &str,
        identity_id: &str,
    ) -> Result<bool, StoreError> {
        let args = [primary.into(), provider.into(), identity_id.into()];
        let statements: Vec<(&str, &[Value])> = UNLINK.iter().map(|s| (*s, &args[..])).collect();
        let changes = self.batch(&statements).settle().await?;
        Ok(changes.get(1).copied().unwrap_or(0) > 0)
    }
}
