//! Authorization codes.

use super::codec::{int, num, opt, opt_int};
use super::refresh::revoke_family_statements;
use super::sql::{Sql, Value};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{Authenticated, AuthorizationCode};
use crate::port::settled::Settle;
use crate::port::CodeStore;

crate::row! {
    pub(super) struct CodeRow {
        code_hash: String,
        client_id: String,
        user_id: String,
        redirect_uri: String,
        code_challenge: Option<String>,
        nonce: Option<String>,
        scope: String,
        audience: Option<String>,
        org_id: Option<String>,
        session_id: Option<String>,
        auth_time: f64,
        created_at: f64,
        expires_at: f64,
        used_at: Option<f64>,
        family_id: Option<String>,
        connection: Option<String>,
        amr: Option<String>,
        acr: Option<String>,
    }
}

impl From<CodeRow> for AuthorizationCode {
    fn from(r: CodeRow) -> Self {
        AuthorizationCode {
            code_hash: r.code_hash,
            client_id: r.client_id,
            user_id: r.user_id,
            redirect_uri: r.redirect_uri,
            code_challenge: r.code_challenge,
            nonce: r.nonce,
            scope: r.scope,
            audience: r.audience,
            org_id: r.org_id,
            session_id: r.session_id,
            auth_time: int(r.auth_time),
            created_at: int(r.created_at),
            expires_at: int(r.expires_at),
            used_at: opt_int(r.used_at),
            family_id: r.family_id,
            authenticated: Authenticated::from_columns(r.connection, r.amr, r.acr),
        }
    }
}

pub(super) const COLUMNS: &str =
    "code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, \
    scope, audience, org_id, session_id, auth_time, created_at, expires_at, used_at, family_id, \
    connection, amr, acr";

/// Stores a new code (unredeemed).
pub(super) const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, client_id, \
    user_id, redirect_uri, code_challenge, nonce, scope, audience, org_id, session_id, \
    auth_time, created_at, expires_at, connection, amr, acr) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

pub(super) fn code_args(c: &AuthorizationCode) -> Vec<Value> {
    let [connection, amr, acr] = Authenticated::columns(c.authenticated.as_ref());
    vec![
        c.code_hash.as_str().into(),
        c.client_id.as_str().into(),
        c.user_id.as_str().into(),
        c.redirect_uri.as_str().into(),
        opt(&c.code_challenge),
        opt(&c.nonce),
        c.scope.as_str().into(),
        opt(&c.audience),
        opt(&c.org_id),
        opt(&c.session_id),
        num(c.auth_time),
        num(c.created_at),
        num(c.expires_at),
        opt(&connection),
        opt(&amr),
        opt(&acr),
    ]
}

impl<B: Sql> CodeStore for SqlStore<B> {
    async fn insert_code(&self, code: &AuthorizationCode) -> Result<(), StoreError> {
        self.run(INSERT_CODE, &code_args(code))
            .settle()
            .await
            .map(|_| ())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthorizationCode>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM authorization_codes WHERE code_hash = ?1");
        let row: Option<CodeRow> = self.first(&sql, &[code_hash.into()]).settle().await?;
        Ok(row.map(AuthorizationCode::from))
    }

    async fn revoke_code(&self, code_hash: &str, now: u64) -> Result<(), StoreError> {
        // One batch: the code's own access token, then its family and the family's access
        // tokens (as revoke_family does), all found through the redeemed code row.
        let args = [code_hash.into(), num(now)];
        let [revoke_family, list_family] = revoke_family_statements(
            "(SELECT family_id FROM authorization_codes WHERE code_hash = ?1 AND used_at IS NOT NULL)",
        );
        self.batch(&[
            (
                "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) \
                 SELECT access_jti, access_expires_at, ?2 FROM authorization_codes \
                 WHERE code_hash = ?1 AND used_at IS NOT NULL AND access_jti IS NOT NULL \
                   AND access_expires_at > ?2 \
                 ON CONFLICT (jti) DO NOTHING",
                &args,
            ),
            (&revoke_family, &args),
            (&list_family, &args),
        ])
        .settle()
        .await
        .map(|_| ())
    }
}
