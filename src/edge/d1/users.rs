//! End users (schema in `migrations/0002_users_refresh.sql`).

use super::codec::{flag, flag_arg, int, json, json_arg, num, opt, opt_int};
use super::D1Store;
use crate::error::StoreError;
use crate::model::User;
use crate::port::UserStore;
use serde::Deserialize;
use wasm_bindgen::JsValue;

#[derive(Deserialize)]
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
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
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
        })
    }
}

/// Creates a user (a sign-up).
pub(super) const INSERT_USER: &str = "INSERT INTO users (user_id, connection, email, \
    email_verified, name, user_metadata, app_metadata, blocked, password_hash, created_at, \
    updated_at, logins_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?9, 0)";

pub(super) fn user_args(u: &User) -> Result<Vec<JsValue>, StoreError> {
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
    ])
}

pub(super) const USER_COLUMNS: &str =
    "user_id, connection, email, email_verified, name, given_name, \
    family_name, nickname, picture, user_metadata, app_metadata, blocked, password_hash, \
    created_at, updated_at, last_login, logins_count";

impl UserStore for D1Store {
    async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_id = ?1");
        let row: Option<UserRow> = self.first(&sql, &[user_id.into()]).await?;
        row.map(User::try_from).transpose()
    }
}
