//! The token endpoint's exchange (RFC 6749 §3.2): authenticate the client, then check,
//! enrich, sign and commit. Each grant's `check` only reads; the claims pipeline may deny;
//! the tokens are signed; then [`commit`] does every write of the exchange in one atomic
//! storage operation, so a failure anywhere before leaves storage as it was.

use super::claims::pipeline::{enrich, Pipeline};
use super::client_auth::{authenticate, credentials};
use super::events::{record, Actor};
use super::facts::Facts;
use super::grant::checked::{Checked, Commit};
use super::grant::commit::commit;
use super::grant::mfa;
use super::grant::user::second_factor_asked;
use super::grant::{authorization_code, client_credentials, password, passwordless, refresh_token};
use super::keys::KeyRing;
use super::params::Params;
use super::signin::SignInError;
use super::token::issue;
use crate::error::{ErrorCode, OAuthError};
use crate::model::GrantType;
use crate::port::crypto::Crypto;
use crate::port::random::Random;
use crate::port::settled::Settle;
use crate::port::{ClaimsStore, EventSink, KeyStore, Stores};
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
    /// Where the exchange's log event goes.
    pub events: &'a dyn EventSink,
}

/// What an exchange learned before it ended, for its log event.
#[derive(Debug, Default)]
struct Seen {
    grant: Option<GrantType>,
    /// The log kind of a refused sign-in (a wrong password, a lock).
    failure_kind: Option<&'static str>,
    client_id: Option<String>,
    user_id: Option<String>,
    user_name: Option<String>,
    /// The recovery codes the user has left after the recovery-code grant spent one.
    recovery_codes_left: Option<usize>,
    /// The mfa-otp grant's code confirmed a new authenticator app.
    enrolled: bool,
}

impl<P: Stores, C: Crypto, S: ClaimsStore, K: KeyStore> TokenExchange<'_, P, C, S, K> {
    /// Runs one token request: `authorization` is its `Authorization` header, if any, and
    /// `params` its body. Returns the token response (§5.1), and records its log event (a
    /// success or failure of the grant, once a grant and an authenticated client are known).
    pub async fn run(
        &self,
        authorization: Option<&str>,
        params: &Params,
    ) -> Result<Value, OAuthError> {
        let mut seen = Seen::default();
        let result = self
            .exchange(authorization, params, &mut seen)
            .settle()
            .await;
        self.record(&seen, params, result.as_ref().err());
        result
    }

    fn record(&self, seen: &Seen, params: &Params, failure: Option<&OAuthError>) {
        use crate::model::log::kinds::*;
        let (Some(grant), Some(_)) = (seen.grant, seen.client_id.as_ref()) else {
            return;
        };
        let kind = match (grant, failure) {
            (GrantType::Password, None) => LOGIN,
            (GrantType::Password, Some(_)) => seen.failure_kind.unwrap_or(FAILED_LOGIN),
            (GrantType::PasswordlessOtp, None) => LOGIN,
            (GrantType::PasswordlessOtp, Some(_)) => FAILED_LOGIN,
            (GrantType::MfaOtp, None) if seen.enrolled => MFA_ENROLLED,
            (GrantType::MfaOtp, None) => MFA_SUCCEEDED,
            (GrantType::MfaOtp, Some(_)) => seen.failure_kind.unwrap_or(MFA_FAILED),
            (GrantType::MfaRecoveryCode, None) => RECOVERY_SUCCEEDED,
            (GrantType::MfaRecoveryCode, Some(_)) => seen.failure_kind.unwrap_or(RECOVERY_FAILED),
            (GrantType::ClientCredentials, None) => CLIENT_CREDENTIALS,
            (GrantType::ClientCredentials, Some(_)) => CLIENT_CREDENTIALS_FAILED,
            (GrantType::RefreshToken, None) => REFRESH,
            (GrantType::RefreshToken, Some(_)) => REFRESH_FAILED,
            (GrantType::AuthorizationCode, None) => CODE,
            (GrantType::AuthorizationCode, Some(_)) => CODE_FAILED,
            // Never a token request's grant (`GrantType::parse` refuses it).
            (GrantType::Implicit, _) => return,
        };
        // A server error's description is internal detail: the Worker's log has it, the
        // tenant's log event only the code.
        let description = match failure {
            None => format!("{} exchange", grant.as_str()),
            Some(e) if e.code == ErrorCode::ServerError => e.code.as_str().to_string(),
            Some(e) => e
                .description
                .clone()
                .unwrap_or_else(|| e.code.as_str().to_string()),
        };
        let user_name = seen.user_name.as_deref().or_else(|| {
            matches!(grant, GrantType::Password | GrantType::PasswordlessOtp)
                .then(|| params.get("username"))
                .flatten()
        });
        let actor = Actor {
            client_id: seen.client_id.as_deref(),
            user_id: seen.user_id.as_deref(),
            user_name,
        };
        let details = serde_json::json!({ "grant_type": grant.as_str() });
        record(
            self.events,
            self.random,
            &self.facts,
            kind,
            &description,
            actor,
            details,
        );
    }

    async fn exchange(
        &self,
        authorization: Option<&str>,
        params: &Params,
        seen: &mut Seen,
    ) -> Result<Value, OAuthError> {
        let (ports, facts) = (self.ports, &self.facts);
        let grant_type = params
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        let grant_type = GrantType::parse(grant_type)?;
        seen.grant = Some(grant_type);
        let client = authenticate(ports.clients(), &credentials(authorization, params)?)
            .settle()
            .await?;
        seen.client_id = Some(client.client.client_id.clone());

        // Check: each grant yields an issuance and the writes it needs; nothing is stored.
        let Checked {
            mut issuance,
            commit: writes,
        } = match grant_type {
            GrantType::AuthorizationCode => {
                authorization_code::check(ports, facts, &client, params)
                    .settle()
                    .await?
            }
            GrantType::ClientCredentials => {
                client_credentials::check(ports.clients(), &client, params)
                    .settle()
                    .await?
            }
            GrantType::Password => {
                let (crypto, random) = (self.crypto, self.random);
                let pipeline = &self.pipeline;
                let checked =
                    password::check(ports, crypto, random, facts, &client, params, pipeline);
                checked.settle().await.map_err(|e| {
                    seen.failure_kind = Some(e.log_kind());
                    e.into_grant_error()
                })?
            }
            GrantType::PasswordlessOtp => {
                let pipeline = &self.pipeline;
                let (crypto, random) = (self.crypto, self.random);
                let checked =
                    passwordless::check(ports, crypto, random, facts, &client, params, pipeline);
                checked
                    .settle()
                    .await
                    .map_err(SignInError::into_grant_error)?
            }
            GrantType::MfaOtp | GrantType::MfaRecoveryCode => {
                let kek = self.pipeline.kek;
                let checked =
                    mfa::check(ports, self.random, facts, &client, params, grant_type, kek);
                let redeemed = checked.settle().await.map_err(|e| {
                    if e == SignInError::Locked {
                        seen.failure_kind = Some(e.log_kind());
                    }
                    e.into_grant_error()
                })?;
                seen.recovery_codes_left = redeemed.recovery_left;
                seen.enrolled = redeemed.enrolled;
                redeemed.checked
            }
            GrantType::RefreshToken => {
                refresh_token::check(ports, facts, &client, params)
                    .settle()
                    .await?
            }
            GrantType::Implicit => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "grant_type implicit is not a token request",
                ))
            }
        };

        if let Some(user) = &issuance.user {
            seen.user_id = Some(user.user_id.clone());
            seen.user_name.clone_from(&user.email);
        }

        // Enrich: rules and hooks add custom claims, or deny, or ask for a second factor.
        let enrichment = enrich(&self.pipeline, facts, &mut issuance)
            .settle()
            .await?;
        issuance.custom = enrichment.claims;
        let by_user = matches!(grant_type, GrantType::Password | GrantType::PasswordlessOtp);
        if let (true, true, Commit::Login(login)) = (enrichment.multifactor, by_user, &writes) {
            let kek = self.pipeline.kek;
            let asked =
                second_factor_asked(ports, self.random, facts, params, &issuance, login, kek);
            asked.settle().await.map_err(|e| {
                seen.failure_kind = Some(e.log_kind());
                e.into_grant_error()
            })?;
        }

        // Sign, then commit every write of the exchange at once.
        let minted = issue(&self.keys, facts, &issuance).settle().await?;
        commit(ports, facts.now, &issuance, writes, &minted)
            .settle()
            .await?;
        let mut body = minted.body;
        if let Some(left) = seen.recovery_codes_left {
            body["recovery_codes_remaining"] = left.into();
        }
        Ok(body)
    }
}
