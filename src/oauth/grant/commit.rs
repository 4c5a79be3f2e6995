//! The last step of every exchange: its writes, in one atomic storage operation, after the
//! claims pipeline allowed the issuance and the tokens were signed.

use super::authorization_code::lost_redemption;
use super::checked::Commit;
use super::refresh_token::{lost_rotation, store_retry};
use crate::error::OAuthError;
use crate::model::Issuance;
use crate::oauth::token::issue::Minted;
use crate::port::settled::Settle;
use crate::port::{ExchangeStore, HasCodes, HasExchange, HasRefresh};

/// Performs the writes of an exchange in one atomic storage operation; `minted` is what the
/// response carries (the refresh token's record, if any, and the access token's `jti`).
pub async fn commit<P: HasExchange + HasRefresh + HasCodes>(
    ports: &P,
    now: u64,
    issuance: &Issuance,
    commit: Commit,
    minted: &Minted,
) -> Result<(), OAuthError> {
    let store = ports.exchange();
    let refresh = minted.refresh.as_ref();
    match (commit, refresh) {
        (Commit::Nothing, None) => Ok(()),
        (Commit::Redeem { code_hash }, refresh) => {
            let client_id = &issuance.client.client_id;
            if store
                .commit_redemption(&code_hash, client_id, now, &minted.access, refresh)
                .settle()
                .await?
            {
                return Ok(());
            }
            Err(lost_redemption(ports, now, &code_hash).settle().await)
        }
        (Commit::Login(login), refresh) => {
            Ok(store.commit_login(&login, now, refresh).settle().await?)
        }
        (Commit::Rotate { token_hash }, Some(next)) => {
            let client_id = &issuance.client.client_id;
            if store
                .commit_rotation(&token_hash, client_id, now, next)
                .settle()
                .await?
            {
                return Ok(());
            }
            lost_rotation(ports.refresh(), now, &issuance.client, &token_hash, next)
                .settle()
                .await
        }
        (Commit::Retry, Some(next)) => store_retry(ports.refresh(), next).settle().await,
        // Only a rotation, or its retry, without a refresh token to store.
        _ => Err(OAuthError::server(
            "a refresh token rotation minted no refresh token",
        )),
    }
}
