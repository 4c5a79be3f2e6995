//! Auth0's MFA API beside the token endpoint, for the holder of an MFA token: `/mfa/associate`
//! (enroll a first authenticator app), `/mfa/authenticators` (what the user has) and
//! `/mfa/challenge` (which factor comes next). The MFA grants finish the sign-in.

use super::token::MfaToken;
use super::{recovery, totp};
use crate::error::{ErrorCode, OAuthError};
use crate::model::config::Config;
use crate::model::mfa::{recovery_code_id, Authenticator, Guardian, OTP, RECOVERY_CODE, TOTP};
use crate::oauth::keys::Kek;
use crate::port::mfa::MfaStore;
use crate::port::random::Random;
use crate::port::settled::Settle;
use serde_json::{json, Value};

/// The MFA token `value` carries, if it opens and is live and is not the hosted login page's.
/// The client it was made for is checked by the grant that spends it, and by [`challenge`].
pub fn opened(kek: Option<&Kek>, value: &str, now: u64) -> Result<MfaToken, OAuthError> {
    let kek = kek.ok_or_else(|| OAuthError::server("KEY_ENCRYPTION_KEY secret is not set"))?;
    MfaToken::open(kek, value.trim(), None, now)
        .filter(|t| !t.hosted())
        .ok_or_else(invalid_token)
}

fn invalid_token() -> OAuthError {
    OAuthError::new(
        ErrorCode::InvalidToken,
        "the mfa_token is invalid or expired",
    )
}

/// The MFA token of an `Authorization: Bearer` header, as [`opened`].
pub fn bearer(
    kek: Option<&Kek>,
    authorization: Option<&str>,
    now: u64,
) -> Result<MfaToken, OAuthError> {
    let value = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .ok_or_else(invalid_token)?;
    opened(kek, value, now)
}

/// `POST /mfa/associate` with `authenticator_types: ["otp"]`: a new authenticator app for the
/// token's user, unconfirmed until its first code is redeemed by the mfa-otp grant, and on a
/// first enrollment ten recovery codes (when that factor is on). Refused when the user has a
/// confirmed factor already (`mine`, the user's authenticators as read): a first factor alone
/// never adds one to such an account.
#[allow(clippy::too_many_arguments)]
pub async fn associate(
    store: &impl MfaStore,
    mine: &[Authenticator],
    guardian: Guardian,
    kek: &Kek,
    random: &dyn Random,
    config: &Config,
    token: &MfaToken,
    types: &[String],
    now: u64,
) -> Result<Value, OAuthError> {
    if types.iter().all(|t| t != OTP) {
        return Err(OAuthError::invalid_request(
            "authenticator_types must include otp, the one type offered",
        ));
    }
    if !guardian.is_enabled(OTP) {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the otp factor is not enabled",
        ));
    }
    if mine.iter().any(|a| a.confirmed) {
        return Err(
            OAuthError::new(ErrorCode::AccessDenied, "User is already enrolled.").with_status(403),
        );
    }
    let id = format!("totp|dev_{}", random.hex(8)?);
    let secret = totp::new_secret(random)?;
    let sealed = kek.seal_for(random, &totp::secret_purpose(&id), &secret)?;
    let codes = match guardian.is_enabled(RECOVERY_CODE) {
        true => Some(recovery::new_codes(random)?),
        false => None,
    };
    let hashes: Option<Vec<String>> = codes
        .as_ref()
        .map(|c| c.iter().map(|c| recovery::code_hash(c)).collect());
    let app = Authenticator {
        id: id.clone(),
        user_id: token.user_id.clone(),
        kind: TOTP.into(),
        name: None,
        secret_sealed: Some(sealed),
        last_step: None,
        confirmed: false,
        created_at: now,
        last_auth_at: None,
        credential: None,
    };
    store.enroll(&app, hashes.as_deref(), now).settle().await?;
    let account = token.asked("email").unwrap_or(&token.user_id);
    let mut answer = json!({
        "authenticator_type": OTP,
        "id": id,
        "secret": totp::base32(&secret),
        "barcode_uri": totp::otpauth_uri(issuer_label(config), account, &secret),
    });
    if let Some(codes) = codes {
        answer["recovery_codes"] = json!(codes);
    }
    Ok(answer)
}

/// The name an authenticator app shows for this issuer: its host.
pub fn issuer_label(config: &Config) -> &str {
    let url = config.issuer.as_str();
    let host = url.split_once("://").map_or(url, |(_, rest)| rest);
    host.split(['/', ':']).next().unwrap_or(host)
}

/// `GET /mfa/authenticators`: the token's user's authenticator apps as Auth0 lists them, with
/// their recovery codes as one authenticator when any are left. Security keys and passkeys
/// are used on the hosted pages only, so this API does not list them.
pub async fn authenticators(store: &impl MfaStore, token: &MfaToken) -> Result<Value, OAuthError> {
    let (mine, left) = store.authenticators(&token.user_id).settle().await?;
    let mut list: Vec<Value> = mine
        .iter()
        .filter(|a| a.kind == TOTP)
        .map(|a| json!({ "id": a.id, "authenticator_type": OTP, "active": a.confirmed }))
        .collect();
    if left > 0 {
        list.push(json!({
            "id": recovery_code_id(&token.user_id),
            "authenticator_type": RECOVERY_CODE,
            "active": true,
        }));
    }
    Ok(Value::Array(list))
}

/// `POST /mfa/challenge`: which factor to prove. An authenticator app needs nothing sent, so
/// the answer only confirms `otp`; other types are not offered.
pub async fn challenge(
    store: &impl MfaStore,
    token: &MfaToken,
    client_id: &str,
    types: &str,
) -> Result<Value, OAuthError> {
    if token.client_id != client_id {
        return Err(invalid_token());
    }
    if !types.is_empty() && types.split(' ').all(|t| t != OTP) {
        return Err(OAuthError::invalid_request(
            "challenge_type must include otp, the one type offered",
        ));
    }
    let (mine, _) = store.authenticators(&token.user_id).settle().await?;
    if !mine.iter().any(|a| a.confirmed && a.kind == TOTP) {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "The user has no authenticator to challenge: enroll one with /mfa/associate.",
        )
        .with_status(403));
    }
    Ok(json!({ "challenge_type": OTP }))
}
