//! The one atomic write of each token exchange.

use super::codec::{flag_arg, num, opt};
use super::codes::{code_args, INSERT_CODE};
use super::refresh::{family_args, insert_token, token_args, INSERT_FAMILY};
use super::sessions::{session_args, touch_args, INSERT_SESSION, TOUCH_SESSION};
use super::sql::{Sql, Value};
use super::users::{email_key, identity_args, primary_identity, user_args, INSERT_USER};
use super::SqlStore;
use crate::error::StoreError;
use crate::model::{IssuedAccess, RefreshRecord};
use crate::port::settled::Settle;
use crate::port::{ExchangeStore, Login, SignIn, UpstreamLogin};

impl<B: Sql> ExchangeStore for SqlStore<B> {
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let [forget, record, rehash] = login_args(login, now);
        let insert = insert_token("");
        let (family, token) = match refresh {
            Some(r) => (family_args(r), token_args(r)),
            None => (Vec::new(), Vec::new()),
        };
        let new_user = login.new_user.as_deref().map(user_args).transpose()?;
        let identity = primary_identity("?1", "?2", "?3");
        let identity_args = login.new_user.as_deref().map(identity_args);
        let mut statements: Vec<(&str, &[Value])> = Vec::new();
        if let (Some(user), Some(args)) = (&new_user, &identity_args) {
            statements.push((INSERT_USER, user));
            statements.push((&identity, args));
        }
        statements.extend([(FORGET, &forget[..]), (RECORD, &record), (REHASH, &rehash)]);
        if refresh.is_some() {
            statements.push((INSERT_FAMILY, &family));
            statements.push((&insert, &token));
        }
        self.batch(&statements).settle().await.map(|_| ())
    }

    async fn commit_rotation(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
        next: &RefreshRecord,
    ) -> Result<bool, StoreError> {
        // One batch: the compare-and-set marks the old token used and names its successor;
        // the new token is stored only if this very batch did that, so a lost race stores
        // nothing.
        let consume: [Value; 4] = [
            token_hash.into(),
            client_id.into(),
            num(now),
            next.token_hash.as_str().into(),
        ];
        let mut token = token_args(next);
        token.push(token_hash.into());
        let insert = insert_token(
            "AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ?17 AND replaced_by = ?1)",
        );
        let changes = self
            .batch(&[
                (
                    "UPDATE refresh_tokens SET used_at = ?3, replaced_by = ?4 \
                     WHERE token_hash = ?1 AND client_id = ?2 AND used_at IS NULL \
                       AND idle_expires_at > ?3 AND absolute_expires_at > ?3 \
                       AND EXISTS (SELECT 1 FROM refresh_families f \
                                   WHERE f.family_id = refresh_tokens.family_id \
                                     AND f.revoked_at IS NULL)",
                    &consume,
                ),
                (&insert, &token),
            ])
            .settle()
            .await?;
        Ok(changes.get(1).copied().unwrap_or(0) == 1)
    }

    async fn commit_authorization(&self, sign_in: &SignIn<'_>, now: u64) -> Result<(), StoreError> {
        // A sign-up, or a user a custom database signed in for the first time.
        let new_user = sign_in
            .new_user
            .or(sign_in.login.and_then(|l| l.new_user.as_deref()));
        let identity_args = new_user.map(identity_args);
        let new_user = new_user.map(user_args).transpose()?;
        let login = sign_in.login.map(|l| login_args(l, now));
        let session = sign_in.session.map(session_args);
        let touched = sign_in.touched.map(touch_args);
        let code = sign_in.code.map(code_args);
        let mut statements: Vec<(&str, &[Value])> = Vec::new();
        // The unique index on (connection, lower(email)) fails the whole batch when the email
        // of a sign-up is taken.
        let identity = primary_identity("?1", "?2", "?3");
        if let (Some(user), Some(args)) = (&new_user, &identity_args) {
            statements.push((INSERT_USER, user));
            statements.push((&identity, args));
        }
        if let Some([forget, record, rehash]) = &login {
            statements.push((FORGET, forget));
            statements.push((RECORD, record));
            statements.push((REHASH, rehash));
        }
        if let Some(session) = &session {
            statements.push((INSERT_SESSION, session));
        }
        if let Some(touched) = &touched {
            statements.push((TOUCH_SESSION, touched));
        }
        if let Some(code) = &code {
            statements.push((INSERT_CODE, code));
        }
        let upstream = sign_in.upstream.map(|u| upstream_args(u, now));
        if let Some([record, identity, root]) = &upstream {
            statements.push((RECORD, record));
            let write = match sign_in.upstream.and_then(|u| u.link.as_ref()) {
                Some(_) => LINK_IDENTITY,
                None => IDENTITY_PROFILE,
            };
            statements.push((write, identity));
            if !root.is_empty() {
                statements.push((ROOT_PROFILE, root));
            }
        }
        self.batch(&statements).settle().await.map(|_| ())
    }

    async fn commit_redemption(
        &self,
        code_hash: &str,
        client_id: &str,
        now: u64,
        access: &IssuedAccess,
        refresh: Option<&RefreshRecord>,
    ) -> Result<bool, StoreError> {
        // One batch: the compare-and-set marks the code used and names the access token and
        // the family issued from it; the family and its first token are stored only if this
        // very batch did that, so a lost race stores nothing.
        let family_id = refresh.map(|r| r.family_id.clone());
        let redeem: [Value; 6] = [
            code_hash.into(),
            client_id.into(),
            num(now),
            opt(&family_id),
            access.jti.as_str().into(),
            num(access.expires_at),
        ];
        let (mut family, token) = match refresh {
            Some(r) => (family_args(r), token_args(r)),
            None => (Vec::new(), Vec::new()),
        };
        family.push(code_hash.into());
        let insert = insert_token("");
        let mut statements: Vec<(&str, &[Value])> = vec![(
            "UPDATE authorization_codes SET used_at = ?3, family_id = ?4, access_jti = ?5, \
             access_expires_at = ?6 WHERE code_hash = ?1 AND client_id = ?2 AND used_at IS NULL AND expires_at > ?3",
            &redeem,
        )];
        if refresh.is_some() {
            statements.push((
                "INSERT INTO refresh_families (family_id, client_id, user_id, created_at) \
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM authorization_codes \
                 WHERE code_hash = ?5 AND family_id = ?1)",
                &family,
            ));
            statements.push((&insert, &token));
        }
        let changes = self.batch(&statements).settle().await?;
        Ok(changes.first().copied().unwrap_or(0) == 1)
    }
}

/// Forgets the attempts of a login's (user key, IP).
const FORGET: &str = "DELETE FROM login_failures WHERE user_key = ?1 AND ip = ?2";
/// Records a login on the user: when, how many.
const RECORD: &str =
    "UPDATE users SET last_login = ?2, logins_count = logins_count + 1 WHERE user_id = ?1";
/// Stores a rehash (`?1`, if any) on the credential checked: the user of connection `?2`
/// with email `?3` (the signed-in user, or an account linked into it).
const REHASH: &str = "UPDATE users SET password_hash = ?1 \
     WHERE ?1 IS NOT NULL AND connection = ?2 AND lower(email) = ?3";

/// The provider's profile `?3`, `?4` and sealed tokens `?5` on the identity `?1`/`?2`.
const IDENTITY_PROFILE: &str = "UPDATE identities SET profile_data = ?3, is_social = ?4, \
    tokens = ?5 WHERE provider = ?1 AND identity_id = ?2";
/// A new identity `?1`/`?2` with its profile `?3`, `?4` and sealed tokens `?5`, joining the
/// user `?6` of connection `?7` at `?8`.
const LINK_IDENTITY: &str = "INSERT INTO identities (provider, identity_id, profile_data, \
    is_social, tokens, user_id, connection, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// The provider's profile fields on the user `?1` (the unique email key fails the batch when
/// another user of the connection holds the address).
const ROOT_PROFILE: &str = "UPDATE users SET email = ?2, email_verified = ?3, name = ?4, \
    given_name = ?5, family_name = ?6, nickname = ?7, picture = ?8, updated_at = ?9, \
    email_key = ?10 WHERE user_id = ?1";

fn upstream_args(u: &UpstreamLogin, now: u64) -> [Vec<Value>; 3] {
    let root = match &u.root {
        Some(r) => vec![
            r.user_id.as_str().into(),
            opt(&r.email),
            flag_arg(r.email_verified),
            opt(&r.name),
            opt(&r.given_name),
            opt(&r.family_name),
            opt(&r.nickname),
            opt(&r.picture),
            num(now),
            email_key(&r.email),
        ],
        None => Vec::new(),
    };
    [
        vec![u.user_id.as_str().into(), num(now)],
        match &u.link {
            Some(connection) => vec![
                u.provider.as_str().into(),
                u.identity_id.as_str().into(),
                u.profile_data.as_str().into(),
                flag_arg(u.is_social),
                opt(&u.tokens),
                u.user_id.as_str().into(),
                connection.as_str().into(),
                num(now),
            ],
            None => vec![
                u.provider.as_str().into(),
                u.identity_id.as_str().into(),
                u.profile_data.as_str().into(),
                flag_arg(u.is_social),
                opt(&u.tokens),
            ],
        },
        root,
    ]
}

fn login_args(login: &Login, now: u64) -> [Vec<Value>; 3] {
    [
        vec![login.user_key.as_str().into(), login.ip.as_str().into()],
        vec![login.user_id.as_str().into(), num(now)],
        vec![
            opt(&login.rehash),
            login.connection.as_str().into(),
            login.email_lower.as_str().into(),
        ],
    ]
}
