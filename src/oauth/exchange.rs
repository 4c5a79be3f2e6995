//! The token endpoint's exchange (RFC 6749 §3.2): authenticate the client, then check,
//! enrich, sign and commit. Each grant's `check` only reads; the claims pipeline may deny;
//! the tokens are signed; then [`commit`] does every write of the exchange in one atomic
//! storage operation, so a failure anywhere before leaves storage as it was.

use super::claims::pipeline::{enrich, Pipeline};
use super::client_auth::{authenticate, credentials};
use super::facts::Facts;
use super::grant::checked::Checked;
use super::grant::commit::commit;
use super::grant::{authorization_code, client_credentials, password, refresh_token};
use super::keys::KeyRing;
use super::params::Params;
use super::token::issue;
use crate::error::OAuthError;
use crate::model::GrantType;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::{ClaimsStore, KeyStore, Stores};
use serde_json::Value;

/// What an exchange uses. The token endpoint serves every grant, so it holds every storage
/// port; each grant it calls takes only its own.
pub struct TokenExchange<'a, P, C, S, K> {
    pub ports: &'a P,
    pub crypto: &'a C,
    pub random: &'a dyn Random,
    pub pipeline: Pipeline<'a, S>,
    pub keys: KeyRing<'a, K, C>,
    pub facts: Facts<'a>,
}

impl<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore> TokenExchange<'_, P, C, S, K> {
    /// Runs one token request: `authorization` is its `Authorization` header, if any, and
    /// `params` its body. Returns the token response (§5.1).
    pub async fn run(
        &self,
        authorization: Option<&str>,
        params: &Params,
    ) -> Result<Value, OAuthError> {
        let (ports, facts) = (self.ports, &self.facts);
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        let grant_type = GrantType::parse(grant_type)?;
        let client = authenticate(ports.clients(), &credentials(authorization, params)?).await?;

        // Check: each grant yields an issuance and the writes it needs; nothing is stored.
        let Checked {
            mut issuance,
            commit: writes,
        } = match grant_type {
            GrantType::AuthorizationCode => {
                authorization_code::check(ports, facts, &client, params).await?
            }
            GrantType::ClientCredentials => {
                client_credentials::check(ports.clients(), &client, params).await?
            }
            GrantType::Password => {
                let (crypto, random) = (self.crypto, self.random);
                password::check(ports, crypto, random, facts, &client, params).await?
            }
            GrantType::RefreshToken => refresh_token::check(ports, facts, &client, params).await?,
        };

        // Enrich: rules and hooks add custom claims, or deny.
        issuance.custom = enrich(&self.pipeline, facts, &mut issuance).await?.claims;

        // Sign, then commit every write of the exchange at once.
        let minted = issue(&self.keys, facts, &issuance).await?;
        let refresh = minted.refresh.as_ref();
        commit(ports, facts.now, &issuance, writes, refresh).await?;
        Ok(minted.body)
    }
}
