//! WebAuthn on the hosted pages: security keys and passkeys, as a second factor after the
//! password and as a passwordless sign-in with a discoverable passkey.
//!
//! The challenge is bound to the login transaction: it is derived from the page's fresh CSRF
//! token ([`webauthn::challenge_for`]), so each page shown has its own, and an assertion
//! answers only the page it was made for. The challenge is spent with the sign-in, as an MFA
//! token is (the second factor's page spends its token; the login page spends
//! `webauthn|{challenge}`): one page's answer signs in once.
//!
//! The relying party is the issuer's host. At an issuer on a loopback IP address (`make dev`
//! at `http://127.0.0.1:8787`) browsers refuse an IP address as RP ID, so the hosted pages
//! reached at `http://localhost:{port}` use the RP ID `localhost` there.
//!
//! Who may: registering a credential needs the password (or the passkey) just proven and no
//! confirmed factor yet, as an authenticator app does; an assertion signs in only the user
//! whose credential it is, and only with the user verified where the page required it.

use crate::model::authentication::Method;
use crate::model::config::Config;
use crate::model::mfa::{Authenticator, Credential, WEBAUTHN_PLATFORM, WEBAUTHN_ROAMING};
use crate::model::strict_json;
use crate::model::webauthn::{self, b64, Expected, Refusal, ES256};
use crate::oauth::signin::SignInError;
use crate::port::crypto::{Alg, Crypto};
use crate::port::random::Random;
use crate::port::settled::Settle;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Where the hosted pages run WebAuthn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    pub rp_id: String,
    pub origin: String,
}

impl RelyingParty {
    /// The issuer's origin and host; at a loopback-IP issuer, `localhost` on the same port
    /// when the request came there (`host`), and none otherwise (no WebAuthn at an IP).
    pub fn of(config: &Config, host: Option<&str>) -> Option<Self> {
        let (scheme, rest) = config.issuer.split_once("://")?;
        let authority = rest.split('/').next()?;
        let name = authority
            .rsplit_once(':')
            .map_or(authority, |(name, _)| name);
        match localhost_for(config) {
            // Another IP address: no RP ID a browser takes.
            None if name.starts_with('[') || name.parse::<std::net::IpAddr>().is_ok() => None,
            None => Some(Self {
                rp_id: name.into(),
                origin: format!("{scheme}://{authority}"),
            }),
            Some(local) => (host == Some(local.as_str())).then(|| Self {
                rp_id: "localhost".into(),
                origin: format!("{scheme}://{local}"),
            }),
        }
    }

    fn expected<'a>(&'a self, challenge: &'a str, verify: bool) -> Expected<'a> {
        Expected {
            challenge,
            origin: &self.origin,
            rp_id: &self.rp_id,
            user_verification: verify,
        }
    }
}

/// At an issuer on a loopback IP address (`http://127.0.0.1:8787`, `make dev`): `localhost`
/// with the issuer's port, where its hosted pages can offer passkeys.
pub fn localhost_for(config: &Config) -> Option<String> {
    let rest = config.issuer.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let (name, port) = match authority.rsplit_once(':') {
        Some((name, port)) if !port.contains(']') => (name, Some(port)),
        _ => (authority, None),
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.parse::<std::net::IpAddr>()
        .ok()
        .filter(|ip| ip.is_loopback())?;
    Some(match port {
        Some(port) => format!("localhost:{port}"),
        None => "localhost".into(),
    })
}

/// A ceremony's answer as the hosted page posts it (the `webauthn` form field, JSON, every
/// binary value base64url).
#[derive(Debug)]
pub struct Response {
    pub id: String,
    pub client_data_json: String,
    pub attestation_object: Option<String>,
    pub authenticator_data: Option<String>,
    pub signature: Option<String>,
    pub user_handle: Option<String>,
    /// `platform` or `cross-platform`, as the browser reports it.
    pub attachment: Option<String>,
}

impl Response {
    pub fn parse(json: &str) -> Option<Self> {
        let v = strict_json::parse(json.as_bytes()).ok()?;
        let text = |name: &str| v[name].as_str().map(str::to_string);
        Some(Self {
            id: text("id")?,
            client_data_json: text("clientDataJSON")?,
            attestation_object: text("attestationObject"),
            authenticator_data: text("authenticatorData"),
            signature: text("signature"),
            user_handle: text("userHandle"),
            attachment: text("attachment"),
        })
    }

    /// The user id the passkey was registered for (its user handle).
    pub fn user_id(&self) -> Option<String> {
        let bytes = b64(self.user_handle.as_deref()?).ok()?;
        String::from_utf8(bytes).ok()
    }

    pub fn is_registration(&self) -> bool {
        self.attestation_object.is_some()
    }
}

/// A checked assertion, or a checked registration, ready to be accepted by the store.
#[derive(Debug)]
pub struct Checked {
    /// The credential's authenticator (a new one, unconfirmed, for a registration).
    pub authenticator: Authenticator,
    pub sign_count: u32,
    /// RFC 8176 methods the ceremony proved: `hwk` or `swk`, and `user`.
    pub methods: [&'static str; 2],
    /// The user was verified (a PIN or biometric on the authenticator).
    pub verified: bool,
}

fn refused(_: Refusal) -> SignInError {
    SignInError::WrongKey
}

/// The registration ceremony: a new credential for `user_id`, unconfirmed until stored with
/// its first acceptance.
pub fn register(
    rp: &RelyingParty,
    challenge: &str,
    response: &Response,
    user_id: &str,
    random: &dyn Random,
    now: u64,
) -> Result<Checked, SignInError> {
    let client_data = b64(&response.client_data_json).map_err(refused)?;
    let object = b64(response.attestation_object.as_deref().unwrap_or("")).map_err(refused)?;
    let expected = rp.expected(challenge, false);
    let new = webauthn::register(&client_data, &object, &expected).map_err(refused)?;
    let kind = match response.attachment.as_deref() {
        Some("platform") => WEBAUTHN_PLATFORM,
        _ => WEBAUTHN_ROAMING,
    };
    let id = format!("{kind}|dev_{}", random.token(12)?);
    Ok(Checked {
        authenticator: Authenticator {
            id,
            user_id: user_id.to_string(),
            kind: kind.to_string(),
            name: None,
            secret_sealed: None,
            last_step: None,
            confirmed: false,
            created_at: now,
            last_auth_at: None,
            credential: Some(Credential {
                id: new.id,
                public_jwk: new.public_jwk,
                sign_count: new.sign_count,
            }),
        },
        sign_count: new.sign_count,
        methods: [key_method(new.backup_eligible), Method::PRESENCE],
        verified: new.verified,
    })
}

fn key_method(backup_eligible: bool) -> &'static str {
    match backup_eligible {
        true => Method::SOFTWARE_KEY,
        false => Method::HARDWARE_KEY,
    }
}

/// The authentication ceremony against one of `authenticators` (the user's): the response's
/// credential, confirmed, its client and authenticator data checked and its signature
/// verified by `crypto`.
pub async fn assert<C: Crypto>(
    crypto: &C,
    rp: &RelyingParty,
    challenge: &str,
    response: &Response,
    authenticators: &[Authenticator],
    require_verification: bool,
) -> Result<Checked, SignInError> {
    let found = authenticators.iter().find_map(|a| {
        let credential = a.credential.as_ref()?;
        (a.confirmed && credential.id == response.id).then_some((a, credential))
    });
    let (authenticator, credential) = found.ok_or(SignInError::WrongKey)?;
    let jwk =
        strict_json::parse(credential.public_jwk.as_bytes()).map_err(|_| SignInError::WrongKey)?;
    let alg = match jwk["alg"].as_str() {
        Some("RS256") => Alg::RS256,
        _ => Alg::ES256,
    };
    let cose_alg = match alg {
        Alg::RS256 => webauthn::RS256,
        Alg::ES256 => ES256,
    };
    let bytes = |v: &Option<String>| b64(v.as_deref().unwrap_or("")).map_err(refused);
    let client_data = b64(&response.client_data_json).map_err(refused)?;
    let (auth_data, signature) = (
        bytes(&response.authenticator_data)?,
        bytes(&response.signature)?,
    );
    let expected = rp.expected(challenge, require_verification);
    let assertion = webauthn::assert(
        &client_data,
        &auth_data,
        &signature,
        cose_alg,
        credential.sign_count,
        &expected,
    )
    .map_err(refused)?;
    let kid = format!("webauthn:{}", credential.id);
    let verify = crypto.verify(
        alg,
        &kid,
        &credential.public_jwk,
        &assertion.signed,
        &assertion.signature,
    );
    if !verify
        .settle()
        .await
        .map_err(|e| SignInError::Failed(e.into()))?
    {
        return Err(SignInError::WrongKey);
    }
    let backup_eligible = auth_data.get(32).is_some_and(|f| f & 0x08 != 0);
    Ok(Checked {
        authenticator: authenticator.clone(),
        sign_count: assertion.sign_count,
        methods: [key_method(backup_eligible), Method::PRESENCE],
        verified: assertion.verified,
    })
}

/// The options the hosted page's script hands to `navigator.credentials`: `create` for `user`
/// (its id and email) with the user's credentials excluded, or `get` with the user's
/// credentials allowed (none for a discoverable passkey).
pub fn options(
    rp: &RelyingParty,
    challenge: &str,
    create_for: Option<(&str, &str)>,
    credentials: &[Authenticator],
    verification: &str,
) -> serde_json::Value {
    let ids: Vec<&str> = credentials
        .iter()
        .filter_map(|a| a.credential.as_ref().map(|c| c.id.as_str()))
        .collect();
    let mut options = serde_json::json!({
        "challenge": challenge,
        "rpId": rp.rp_id,
        "credentials": ids,
        "userVerification": verification,
    });
    if let Some((user_id, email)) = create_for {
        options["user"] = serde_json::json!({
            "id": URL_SAFE_NO_PAD.encode(user_id),
            "name": email,
        });
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(issuer: &str, host: Option<&str>) -> Option<(String, String)> {
        let config = Config::new(issuer).unwrap();
        RelyingParty::of(&config, host).map(|rp| (rp.rp_id, rp.origin))
    }

    #[test]
    fn the_relying_party_is_the_issuers_host_or_localhost_beside_a_loopback_ip() {
        let named = Some(("id.example.com".into(), "https://id.example.com".into()));
        assert_eq!(rp("https://id.example.com/", None), named);
        assert_eq!(rp("https://id.example.com/", Some("evil.test")), named);
        let dev = Some(("localhost".into(), "http://localhost:8787".into()));
        assert_eq!(rp("http://127.0.0.1:8787/", Some("localhost:8787")), dev);
        assert_eq!(rp("http://127.0.0.1:8787/", Some("127.0.0.1:8787")), None);
        assert_eq!(rp("http://127.0.0.1:8787/", Some("localhost:9999")), None);
        assert_eq!(rp("http://127.0.0.1:8787/", None), None);
        assert_eq!(rp("http://10.0.0.5:8787/", Some("10.0.0.5:8787")), None);
        assert_eq!(rp("http://[::1]:8787/", Some("localhost:8787")), dev);
    }
}
