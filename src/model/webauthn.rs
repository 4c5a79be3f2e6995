//! WebAuthn (W3C Web Authentication Level 3) as the relying party checks it: the registration
//! ceremony (§7.1) with attestation `none`, and the authentication ceremony (§7.2). Pure: the
//! assertion's signature is checked by the crypto port, over [`Assertion::signed`].
//!
//! The CBOR of the attestation object and its COSE public key (RFC 9052 §7, RFC 9053) is read
//! with the `minicbor` crate. Keys are ES256 (COSE -7, P-256) or RS256 (COSE -257), turned
//! into the JWK the crypto port verifies with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use minicbor::Decoder;
use sha2::{Digest, Sha256};

/// COSE algorithm identifiers this relying party accepts, in its order of preference.
pub const ES256: i64 = -7;
pub const RS256: i64 = -257;

/// The authenticator data's flags (§6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// Why a ceremony's response is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not the shape WebAuthn gives (bad base64url, JSON, CBOR or lengths).
    Malformed,
    /// `clientDataJSON.type` is not this ceremony's.
    Ceremony,
    /// The challenge is not the one this page gave.
    Challenge,
    /// The page the browser ran the ceremony on is not this issuer's.
    Origin,
    /// The credential is scoped to another relying party.
    RpId,
    /// The user was not present (UP), or not verified (UV) where that was required.
    Flags,
    /// A public key of an algorithm or curve this relying party does not take.
    Algorithm,
    /// The signature counter went backwards: the credential may have been cloned.
    Counter,
    /// The signature does not verify.
    Signature,
}

/// What the ceremony must match: the challenge given, the origins the hosted pages are served
/// from, the RP ID, and whether user verification is required.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The challenge, base64url as `clientDataJSON` carries it.
    pub challenge: &'a str,
    pub origin: &'a str,
    pub rp_id: &'a str,
    pub user_verification: bool,
}

/// A new credential, checked (§7.1 steps 5-27 for attestation `none`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// The credential id, base64url.
    pub id: String,
    /// The public key as a JWK (JSON text, with its `alg`) the crypto port verifies with.
    pub public_jwk: String,
    /// [`ES256`] or [`RS256`].
    pub alg: i64,
    pub sign_count: u32,
    /// The user was verified (UV).
    pub verified: bool,
    /// The credential may be backed up (BE): a synced passkey.
    pub backup_eligible: bool,
}

/// An assertion whose client data and authenticator data are checked; its signature is left
/// to the crypto port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// `authenticatorData || SHA-256(clientDataJSON)` (§7.2 step 20).
    pub signed: Vec<u8>,
    /// The signature as the crypto port takes it (ES256: `r || s`).
    pub signature: Vec<u8>,
    pub sign_count: u32,
    pub verified: bool,
}

/// A base64url value of a ceremony's response, decoded (padding tolerated).
pub fn b64(value: &str) -> Result<Vec<u8>, Refusal> {
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| Refusal::Malformed)
}

/// The challenge bound to a login transaction: derived from its random CSRF token, so the
/// page's challenge changes with each page and needs no storage, and says nothing of the
/// token itself.
pub fn challenge_for(csrf: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"edge-issuer webauthn challenge\0");
    h.update(csrf.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// §7.1 steps 5-12 and §7.2 steps 10-15: `clientDataJSON` names this ceremony, carries the
/// challenge, and was made on the expected origin, not inside another site's frame.
fn check_client_data(json: &[u8], ceremony: &str, expected: &Expected) -> Result<(), Refusal> {
    let data = crate::model::strict_json::parse(json).map_err(|_| Refusal::Malformed)?;
    let text = |name: &str| data[name].as_str().ok_or(Refusal::Malformed);
    if text("type")? != ceremony {
        return Err(Refusal::Ceremony);
    }
    if text("challenge")?.trim_end_matches('=') != expected.challenge {
        return Err(Refusal::Challenge);
    }
    if text("origin")? != expected.origin || data["crossOrigin"] == true {
        return Err(Refusal::Origin);
    }
    Ok(())
}

/// The fixed head of authenticator data (§6.1): RP ID hash, flags, counter.
struct Head {
    flags: u8,
    sign_count: u32,
}

fn check_head(auth_data: &[u8], expected: &Expected) -> Result<Head, Refusal> {
    if auth_data.len() < 37 {
        return Err(Refusal::Malformed);
    }
    if auth_data[..32] != Sha256::digest(expected.rp_id.as_bytes())[..] {
        return Err(Refusal::RpId);
    }
    let flags = auth_data[32];
    let present = flags & UP != 0;
    let verified = flags & UV != 0 || !expected.user_verification;
    // A credential backed up (BS) but not eligible for backup (BE) is not well formed.
    if !present || !verified || (flags & BS != 0 && flags & BE == 0) {
        return Err(Refusal::Flags);
    }
    let count = [auth_data[33], auth_data[34], auth_data[35], auth_data[36]];
    Ok(Head {
        flags,
        sign_count: u32::from_be_bytes(count),
    })
}

/// The registration ceremony (§7.1) for a response's `clientDataJSON` and
/// `attestationObject`, both decoded. The page asks for `attestation: "none"`, and browsers
/// then send format `none`: the authenticator's make is not vouched for, and an attestation
/// object of another format is refused as malformed.
pub fn register(
    client_data_json: &[u8],
    attestation_object: &[u8],
    expected: &Expected,
) -> Result<NewCredential, Refusal> {
    check_client_data(client_data_json, "webauthn.create", expected)?;
    let auth_data = attested_auth_data(attestation_object)?;
    let head = check_head(auth_data, expected)?;
    if head.flags & AT == 0 || auth_data.len() < 55 {
        return Err(Refusal::Malformed);
    }
    // attestedCredentialData: AAGUID (16), credential id length (2), id, COSE key.
    let id_len = u16::from_be_bytes([auth_data[53], auth_data[54]]) as usize;
    let key_at = 55 + id_len;
    if id_len == 0 || id_len > 1023 || auth_data.len() <= key_at {
        return Err(Refusal::Malformed);
    }
    let (alg, public_jwk) = cose_key(&auth_data[key_at..])?;
    Ok(NewCredential {
        id: URL_SAFE_NO_PAD.encode(&auth_data[55..key_at]),
        public_jwk,
        alg,
        sign_count: head.sign_count,
        verified: head.flags & UV != 0,
        backup_eligible: head.flags & BE != 0,
    })
}

/// The `authData` of an attestation object (§6.5: a CBOR map of `fmt`, `attStmt`, `authData`)
/// of format `none` (§8.7), the one the page asks for: its statement is empty.
fn attested_auth_data(object: &[u8]) -> Result<&[u8], Refusal> {
    let mut d = Decoder::new(object);
    let bad = |_| Refusal::Malformed;
    let entries = d.map().map_err(bad)?.ok_or(Refusal::Malformed)?;
    let mut auth_data = None;
    for _ in 0..entries {
        match d.str().map_err(bad)? {
            "fmt" if d.str().map_err(bad)? == "none" => {}
            "attStmt" if d.map().map_err(bad)? == Some(0) => {}
            "authData" => auth_data = Some(d.bytes().map_err(bad)?),
            _ => return Err(Refusal::Malformed),
        }
    }
    auth_data.ok_or(Refusal::Malformed)
}

/// A COSE_Key (RFC 9052 §7) as `(alg, JWK)`: EC2 on P-256 with ES256, or RSA with RS256.
fn cose_key(cbor: &[u8]) -> Result<(i64, String), Refusal> {
    let mut d = Decoder::new(cbor);
    let bad = |_| Refusal::Malformed;
    let entries = d.map().map_err(bad)?.ok_or(Refusal::Malformed)?;
    let (mut kty, mut alg, mut crv) = (None, None, None);
    let (mut minus2, mut minus3, mut minus1) = (None, None, None);
    for _ in 0..entries {
        match d.i64().map_err(bad)? {
            1 => kty = Some(d.i64().map_err(bad)?),
            3 => alg = Some(d.i64().map_err(bad)?),
            // -1 is the curve of an EC2 key, the modulus of an RSA key.
            -1 if kty == Some(3) => minus1 = Some(d.bytes().map_err(bad)?),
            -1 => crv = Some(d.i64().map_err(bad)?),
            -2 => minus2 = Some(d.bytes().map_err(bad)?),
            -3 => minus3 = Some(d.bytes().map_err(bad)?),
            // No other parameter belongs to an EC2 or RSA public key (RFC 9053 §7.1, RFC 8230).
            _ => return Err(Refusal::Algorithm),
        }
    }
    let enc = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match (kty, alg, crv, minus1, minus2, minus3) {
        (Some(2), Some(ES256), Some(1), None, Some(x), Some(y))
            if x.len() == 32 && y.len() == 32 =>
        {
            let (x, y) = (enc(x), enc(y));
            let jwk =
                serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "alg": "ES256"});
            Ok((ES256, jwk.to_string()))
        }
        (Some(3), Some(RS256), None, Some(n), Some(e), None) if n.len() >= 256 => {
            let (n, e) = (enc(n), enc(e));
            Ok((
                RS256,
                serde_json::json!({"kty": "RSA", "n": n, "e": e}).to_string(),
            ))
        }
        _ => Err(Refusal::Algorithm),
    }
}

/// The authentication ceremony (§7.2) for a response's `clientDataJSON`, `authenticatorData`
/// and `signature`, all decoded, against a credential of `alg` whose last counter was
/// `stored_count`. The signature is then checked by the crypto port over
/// [`Assertion::signed`].
pub fn assert(
    client_data_json: &[u8],
    auth_data: &[u8],
    signature: &[u8],
    alg: i64,
    stored_count: u32,
    expected: &Expected,
) -> Result<Assertion, Refusal> {
    check_client_data(client_data_json, "webauthn.get", expected)?;
    let head = check_head(auth_data, expected)?;
    // §7.2 step 22: a counter that does not grow, where either is not zero, may mean a
    // cloned authenticator; this relying party refuses it.
    if (head.sign_count != 0 || stored_count != 0) && head.sign_count <= stored_count {
        return Err(Refusal::Counter);
    }
    let signature = match alg {
        ES256 => der_to_raw(signature).ok_or(Refusal::Signature)?,
        RS256 => signature.to_vec(),
        _ => return Err(Refusal::Algorithm),
    };
    let mut signed = auth_data.to_vec();
    signed.extend_from_slice(&Sha256::digest(client_data_json));
    Ok(Assertion {
        signed,
        signature,
        sign_count: head.sign_count,
        verified: head.flags & UV != 0,
    })
}

/// An ECDSA signature in ASN.1 DER (`SEQUENCE { r INTEGER, s INTEGER }`, as WebAuthn gives it)
/// as the 64 bytes `r || s` WebCrypto verifies.
fn der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let (&[0x30, len], rest) = der.split_first_chunk::<2>()? else {
        return None;
    };
    if rest.len() != len as usize {
        return None;
    }
    let mut raw = Vec::with_capacity(64);
    let mut rest = rest;
    for _ in 0..2 {
        let (&[0x02, n], tail) = rest.split_first_chunk::<2>()? else {
            return None;
        };
        let (int, tail) = tail.split_at_checked(n as usize)?;
        let int = match int {
            [0, more @ ..] if more.len() == 32 => more,
            _ if int.len() <= 32 => int,
            _ => return None,
        };
        raw.extend(std::iter::repeat_n(0, 32 - int.len()));
        raw.extend_from_slice(int);
        rest = tail;
    }
    rest.is_empty().then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_der_signature_becomes_r_and_s_of_32_bytes_each() {
        let mut der = vec![0x30, 0x45, 0x02, 0x21, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 0x20]);
        der.extend([0x11; 32]);
        let raw = der_to_raw(&der).unwrap();
        assert_eq!(&raw[..32], &[0x80; 32]);
        assert_eq!(&raw[32..], &[0x11; 32]);
        let short = [0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07];
        let raw = der_to_raw(&short).unwrap();
        assert_eq!((raw[31], raw[63], raw.len()), (5, 7, 64));
        assert_eq!(der_to_raw(&der[..der.len() - 1]), None);
        assert_eq!(der_to_raw(&[0x30, 0x00]), None);
    }
}
