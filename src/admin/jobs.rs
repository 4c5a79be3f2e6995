//! Bulk user import: `POST /api/v2/jobs/users-imports` takes Auth0's user import file (a
//! multipart upload with the parts `users`, `connection_id`, `upsert`, `external_id`,
//! `send_completion_email`, as Auth0's API and SDK send it; or the same as one JSON body) and
//! imports it at once, in chunked D1 batches; `GET /api/v2/jobs/{id}` and
//! `/api/v2/jobs/{id}/errors` report what became of it. Password hashes come as
//! `custom_password_hash` (bcrypt, PBKDF2-SHA256) or Auth0's older bcrypt `password_hash`.
//! `POST /api/v2/jobs/verification-email` sends a user a verification link, at once.

use super::call::Call;
use super::error::{from_store, invalid, not_found, Fields, Reply};
use super::list::iso8601;
use super::multipart;
use super::users::CustomHash;
use crate::model::{Connection, Imported, Job, User};
use crate::oauth::password::imported_hash;
use crate::oauth::provision::{provision, Credential, Draft, Refused};
use crate::port::crypto::Crypto;
use crate::port::settled::Settle;
use crate::port::{ConnectionStore, Stores, UserStore};
use serde_json::{json, Value};

/// Most users one job takes.
pub const MAX_USERS: usize = 20_000;
/// The largest import body (the file and its form).
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// The members of a row of Auth0's import format this issuer keeps; any other is a row error.
const ROW_MEMBERS: [&str; 13] = [
    "email",
    "email_verified",
    "user_id",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
    "blocked",
    "user_metadata",
    "app_metadata",
    "password_hash",
    "custom_password_hash",
];

/// What the request asks: the rows, the connection, upsert, the caller's id for the job.
struct Upload {
    users: Vec<Value>,
    connection: String,
    upsert: bool,
    external_id: Option<String>,
}

fn flag(value: Option<&str>) -> Result<bool, Reply> {
    match value.map(str::trim) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(invalid(&format!("upsert is true or false, not {other}"))),
    }
}

fn upload(content_type: Option<&str>, body: &[u8]) -> Result<Upload, Reply> {
    if let Some(b) = content_type.and_then(multipart::boundary) {
        let parts = multipart::parts(body, b).map_err(|why| invalid(&why))?;
        let text = |name: &str| {
            parts
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| std::str::from_utf8(p.body).ok())
        };
        let users = text("users").ok_or_else(|| invalid("Missing required property: users"))?;
        let users = match crate::model::strict_json::parse(users.as_bytes()) {
            Ok(Value::Array(users)) => users,
            _ => return Err(invalid("users must be a JSON array of user objects")),
        };
        let connection = text("connection_id")
            .or_else(|| text("connection"))
            .ok_or_else(|| invalid("Missing required property: connection_id"))?;
        return Ok(Upload {
            users,
            connection: connection.trim().to_string(),
            upsert: flag(text("upsert"))?,
            external_id: text("external_id").map(str::to_string),
        });
    }
    let mut f = super::error::members(
        body,
        &[
            "users",
            "connection_id",
            "connection",
            "upsert",
            "external_id",
            "send_completion_email",
        ],
    )?;
    f.flag("send_completion_email")?;
    let users = match f.0.remove("users") {
        Some(Value::Array(users)) => users,
        _ => return Err(invalid("users is a list of user objects")),
    };
    let (connection_id, connection) = (f.text("connection_id")?, f.text("connection")?);
    let j = (
        users,
        f.flag("upsert")?.unwrap_or(false),
        f.text("external_id")?,
    );
    Ok(Upload {
        users: j.0,
        connection: connection_id
            .or(connection)
            .ok_or_else(|| invalid("Missing required property: connection_id"))?,
        upsert: j.1,
        external_id: j.2,
    })
}

/// An Auth0 row error.
fn row_error(row: &Value, code: &str, message: &str, path: &str) -> Value {
    json!({
        "user": { "email": row.get("email"), "user_id": row.get("user_id") },
        "errors": [{ "code": code, "message": message, "path": path }],
    })
}

/// The user a row describes (through the one provisioning path), or its error.
async fn user_of<P: Stores, C: Crypto>(
    call: &Call<'_, '_, P, C>,
    raw: &Value,
    connection: &Connection,
    now: u64,
) -> Result<User, Value> {
    let format = |why: &str, path: &str| row_error(raw, "INVALID_FORMAT", why, path);
    // A row read member by member; a refusal's words are the row's error.
    let words = |r: Reply| {
        let message = r.body.get("message").and_then(Value::as_str);
        format(message.unwrap_or("the row is malformed"), "")
    };
    let Value::Object(map) = raw else {
        return Err(format("a row is an object", ""));
    };
    let mut row = Fields::of(map.clone(), "", &ROW_MEMBERS).map_err(words)?;
    let custom = CustomHash::read(&mut row).map_err(words)?;
    let credential = match (&custom, row.text("password_hash").map_err(words)?) {
        (Some(_), Some(_)) => {
            let m = "give custom_password_hash or password_hash, not both";
            return Err(format(m, "password_hash"));
        }
        (Some(c), None) => Credential::Hash(
            imported_hash(&c.algorithm, &c.hash.value)
                .map_err(|m| format(&m, "custom_password_hash"))?,
        ),
        (None, Some(h)) => {
            Credential::Hash(imported_hash("bcrypt", &h).map_err(|m| format(&m, "password_hash"))?)
        }
        (None, None) => Credential::None,
    };
    let mut text = |name: &str| row.text(name).map_err(words);
    let (user_id, name, given_name, family_name, nickname, picture) = (
        text("user_id")?,
        text("name")?,
        text("given_name")?,
        text("family_name")?,
        text("nickname")?,
        text("picture")?,
    );
    let draft = Draft {
        id: user_id.map(|id| id.strip_prefix("auth0|").unwrap_or(&id).to_string()),
        email: row
            .text("email")
            .map_err(words)?
            .ok_or_else(|| format("missing field `email`", "email"))?,
        email_verified: row.flag("email_verified").map_err(words)?.unwrap_or(false),
        name,
        given_name,
        family_name,
        nickname,
        picture,
        user_metadata: row.object("user_metadata").map_err(words)?,
        app_metadata: row.object("app_metadata").map_err(words)?,
        blocked: row.flag("blocked").map_err(words)?.unwrap_or(false),
        credential,
    };
    let issuer = call.issuer;
    let made = provision(
        issuer.crypto,
        issuer.random,
        issuer.config,
        now,
        connection,
        draft,
    );
    made.settle().await.map_err(|refused| match refused {
        Refused::Field(field, why) => {
            let path = if field == "user_id" { "user_id" } else { "" };
            row_error(raw, "INVALID_FORMAT", &why, path)
        }
        Refused::Password(why) => row_error(raw, "INVALID_FORMAT", &why.message(), "password"),
        Refused::Failed(e) => row_error(raw, "INTERNAL", &e.to_string(), ""),
    })
}

/// The job as Auth0 shows it.
/// The job as Auth0 shows it: `connection_id` the id the job stored, `connection` the
/// connection's name (when it still exists).
fn view(job: &Job, name: Option<&str>) -> Value {
    if job.kind == VERIFICATION {
        return json!({
            "id": job.job_id, "type": job.kind, "status": job.status,
            "created_at": iso8601(job.created_at),
        });
    }
    json!({
        "id": job.job_id,
        "type": job.kind,
        "status": job.status,
        "created_at": iso8601(job.created_at),
        "connection_id": job.connection,
        "connection": name,
        "upsert": job.upsert,
        "external_id": job.external_id,
        "summary": job.summary,
    })
}

const VERIFICATION: &str = "verification_email";

/// `POST /api/v2/jobs/verification-email` (`{user_id, client_id}`): a verification link sent
/// to the user's address, now; the job is answered `completed` and kept for
/// `GET /api/v2/jobs/{id}`. A user with no address, or a verified one, is refused.
pub async fn verification_email<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let mut f = attempt!(super::error::members(
        call.req.body,
        &["user_id", "client_id"]
    ));
    let Some(user_id) = attempt!(f.text("user_id")) else {
        return invalid("Missing required property: user_id");
    };
    let client_id = attempt!(f.text("client_id"));
    let issuer = call.issuer;
    let user = match issuer.stores.users().user(&user_id).settle().await {
        Ok(Some(u)) => u,
        Ok(None) => return not_found("user"),
        Err(e) => return from_store(e, "Conflict.", issuer.log),
    };
    if user.email.is_none() || user.email_verified {
        return invalid("The user has no email address to verify, or it is verified already");
    }
    if !super::users::send_verification(call, &user, client_id.as_deref())
        .settle()
        .await
    {
        return super::error::from_oauth(&crate::error::OAuthError::server(
            "the verification link could not be made",
        ));
    }
    let job = Job {
        job_id: attempt!(call.new_id("job_")),
        kind: VERIFICATION.into(),
        status: "completed".into(),
        // An import's column: a verification job is of no connection.
        connection: String::new(),
        upsert: false,
        external_id: None,
        created_at: issuer.clock.now(),
        summary: json!({}),
        errors: json!([]),
    };
    match issuer.stores.users().put_job(&job).settle().await {
        Ok(()) => Reply::json(201, &view(&job, None)),
        Err(e) => from_store(e, "Conflict.", issuer.log),
    }
}

/// `POST /api/v2/jobs/users-imports`.
pub async fn import_users<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let upload = attempt!(upload(call.req.content_type, call.req.body));
    // `connection_id` is the connection's id, as Auth0 takes it (its name is accepted too).
    let connection = attempt!(
        super::users::database_connection(call, &upload.connection)
            .settle()
            .await
    );
    if upload.users.is_empty() || upload.users.len() > MAX_USERS {
        return invalid(&format!("users must hold 1 to {MAX_USERS} users"));
    }
    let now = call.issuer.clock.now();
    let mut errors = Vec::new();
    let mut users: Vec<User> = Vec::with_capacity(upload.users.len());
    let mut seen = std::collections::HashSet::new();
    for raw in &upload.users {
        match user_of(call, raw, &connection, now).settle().await {
            Ok(u) => {
                // Look-alike addresses are one address (model::email::key).
                let email = crate::model::email::key(u.email.as_deref().unwrap_or(""));
                if seen.insert(email) {
                    users.push(u);
                } else {
                    let m = "the file holds this email twice";
                    errors.push(row_error(raw, "DUPLICATED_USER", m, "email"));
                }
            }
            Err(e) => errors.push(e),
        }
    }
    let outcomes = match call
        .issuer
        .stores
        .users()
        .import_users(&users, upload.upsert)
        .settle()
        .await
    {
        Ok(o) => o,
        Err(e) => return from_store(e, "Conflict.", call.issuer.log),
    };
    let count = |kind: Imported| outcomes.iter().filter(|o| **o == kind).count();
    for (u, _) in users
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == Imported::Duplicate)
    {
        let row = json!({ "email": u.email, "user_id": u.user_id });
        let m = "The user already exists (upsert is off).";
        errors.push(row_error(&row, "DUPLICATED_USER", m, "email"));
    }
    let job_id = attempt!(call.new_id("job_"));
    let job = Job {
        job_id,
        kind: "users_import".into(),
        status: "completed".into(),
        connection: connection.id.clone(),
        upsert: upload.upsert,
        external_id: upload.external_id,
        created_at: now,
        summary: json!({
            "total": upload.users.len(),
            "inserted": count(Imported::Inserted),
            "updated": count(Imported::Updated),
            "failed": errors.len(),
        }),
        errors: Value::Array(errors),
    };
    match call.issuer.stores.users().put_job(&job).settle().await {
        Ok(()) => Reply::json(201, &view(&job, Some(&connection.name))),
        Err(e) => from_store(e, "Conflict.", call.issuer.log),
    }
}

async fn stored<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Result<Job, Reply> {
    match call.issuer.stores.users().job(call.id()).settle().await {
        Ok(Some(j)) => Ok(j),
        Ok(None) => Err(not_found("job")),
        Err(e) => Err(from_store(e, "Conflict.", call.issuer.log)),
    }
}

/// `GET /api/v2/jobs/{id}`.
pub async fn get<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    let job = attempt!(stored(call).settle().await);
    let all = call
        .issuer
        .stores
        .connections()
        .all_connections()
        .settle()
        .await;
    let name = all
        .ok()
        .and_then(|all| all.into_iter().find(|c| c.id == job.connection))
        .map(|c| c.name);
    Reply::json(200, &view(&job, name.as_deref()))
}

/// `GET /api/v2/jobs/{id}/errors`: the refused rows (never their password hashes).
pub async fn errors<P: Stores, C: Crypto>(call: &Call<'_, '_, P, C>) -> Reply {
    stored(call)
        .settle()
        .await
        .map_or_else(|r| r, |j| Reply::json(200, &j.errors))
}
