//! The one atomic write of each token exchange.

use super::codec::{num, opt};
use super::refresh::{family_args, insert_token, token_args, INSERT_FAMILY};
use super::D1Store;
use crate::error::StoreError;
use crate::model::RefreshRecord;
use crate::port::{ExchangeStore, Login};
use wasm_bindgen::JsValue;

impl ExchangeStore for D1Store {
    async fn commit_login(
        &self,
        login: &Login,
        now: u64,
        refresh: Option<&RefreshRecord>,
    ) -> Result<(), StoreError> {
        let forget: [JsValue; 2] = [login.user_key.as_str().into(), login.ip.as_str().into()];
        let record: [JsValue; 3] = [login.user_id.as_str().into(), num(now), opt(&login.rehash)];
        let insert = insert_token("");
        let (family, token) = match refresh {
            Some(r) => (family_args(r), token_args(r)),
            None => (Vec::new(), Vec::new()),
        };
        let mut statements: Vec<(&str, &[JsValue])> = vec![
            (
                "DELETE FROM login_failures WHERE user_key = ?1 AND ip = ?2",
                &forget,
            ),
            (
                "UPDATE users SET last_login = ?2, logins_count = logins_count + 1, \
                 password_hash = coalesce(?3, password_hash) WHERE user_id = ?1",
                &record,
            ),
        ];
        if refresh.is_some() {
            statements.push((INSERT_FAMILY, &family));
            statements.push((&insert, &token));
        }
        self.batch(&statements).await.map(|_| ())
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
        let consume: [JsValue; 4] = [
            token_hash.into(),
            client_id.into(),
            num(now),
            next.token_hash.as_str().into(),
        ];
        let mut token = token_args(next);
        token.push(token_hash.into());
        let insert = insert_token(
            "AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ?12 AND replaced_by = ?1)",
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
            .await?;
        Ok(changes.get(1).copied().unwrap_or(0) == 1)
    }
}
