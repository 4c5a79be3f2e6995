//! Time-based one-time passwords (RFC 6238 over HOTP, RFC 4226) as authenticator apps make
//! them: HMAC-SHA-1, 6 digits, 30-second steps, which every app reads from an `otpauth://`
//! URI (apps may ignore other algorithms, digits or periods, so none other is offered).

use crate::error::CryptoError;
use crate::port::random::Random;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The time step, in seconds (RFC 6238 §5.2's recommended 30).
pub const STEP: u64 = 30;
/// Digits per code (RFC 4226 §5.3: at least 6).
pub const DIGITS: u32 = 6;
/// Secret bytes: 160 bits, RFC 4226 R6's recommended length.
pub const SECRET_BYTES: usize = 20;

/// HOTP (RFC 4226 §5.3): the `digits`-digit value of `secret` at `counter`.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // Dynamic truncation (§5.4): 31 bits at the offset the last nibble names.
    let offset = usize::from(hash[19] & 0x0f);
    let bits = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    bits % 10u32.pow(digits)
}

/// The time step of `now` (RFC 6238 §4: T = floor(unix time / X), a 64-bit counter).
pub fn step_of(now: u64) -> u64 {
    now / STEP
}

/// The code `secret` shows at `now`, as typed (zero-padded).
pub fn code_at(secret: &[u8], now: u64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step_of(now), DIGITS),
        width = DIGITS as usize
    )
}

/// The time step `code` matches: the current one or one step either side (RFC 6238 §5.2: at
/// most one step of delay, and a clock a little ahead), and only a step later than
/// `last_step`, the one last accepted, so no code is taken twice (§5.2). Constant time in the
/// code.
pub fn matching_step(secret: &[u8], code: &str, now: u64, last_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(now);
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let made = format!(
            "{:0width$}",
            hotp(secret, step, DIGITS),
            width = DIGITS as usize
        );
        let fresh = last_step.is_none_or(|last| step > last);
        if bool::from(made.as_bytes().ct_eq(code.as_bytes())) && fresh && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The purpose a secret is sealed for under the key-encryption key: bound to its
/// authenticator's id, so a sealed secret moved to another row opens nothing.
pub fn secret_purpose(id: &str) -> String {
    format!("edge-issuer totp secret v1 {id}")
}

/// A new secret: [`SECRET_BYTES`] random bytes.
pub fn new_secret(random: &dyn Random) -> Result<Vec<u8>, CryptoError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    random.fill(&mut secret)?;
    Ok(secret)
}

/// The secret as apps take it typed in: base32 (RFC 4648) without padding.
pub fn base32(secret: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, secret)
}

/// The `otpauth://totp/` URI an app scans (the Key URI format): the label
/// `issuer:account` and the issuer again as a parameter, with no `:` in either part.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let clean = |s: &str| s.replace(':', " ");
    // RFC 3986's unreserved characters stay as they are.
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let part = |s: &str| percent_encoding::utf8_percent_encode(&clean(s), ESCAPED).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        part(issuer),
        part(account),
        base32(secret),
        part(issuer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed, and the 8-digit codes at each test time.
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        for (time, code) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(SEED, step_of(time), 8), code, "T = {time}");
        }
    }

    #[test]
    fn rfc_4226_appendix_d_vectors() {
        let codes = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in codes.into_iter().enumerate() {
            assert_eq!(hotp(SEED, counter as u64, 6), code);
        }
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_once() {
        let now = 1_700_000_000;
        let step = step_of(now);
        let at = |t| code_at(SEED, t);
        assert_eq!(matching_step(SEED, &at(now), now, None), Some(step));
        assert_eq!(
            matching_step(SEED, &at(now - STEP), now, None),
            Some(step - 1)
        );
        assert_eq!(
            matching_step(SEED, &at(now + STEP), now, None),
            Some(step + 1)
        );
        assert_eq!(matching_step(SEED, &at(now - 2 * STEP), now, None), None);
        assert_eq!(matching_step(SEED, &at(now + 2 * STEP), now, None), None);
        // Once a step is accepted, its code and any earlier one are refused.
        assert_eq!(matching_step(SEED, &at(now), now, Some(step)), None);
        assert_eq!(matching_step(SEED, &at(now - STEP), now, Some(step)), None);
        assert_eq!(
            matching_step(SEED, &at(now + STEP), now, Some(step)),
            Some(step + 1)
        );
        // Not six digits: refused before anything is computed.
        for bad in ["", "12345", "1234567", "12345a", "١٢٣٤٥٦"] {
            assert_eq!(matching_step(SEED, bad, now, None), None);
        }
        assert_eq!(
            matching_step(SEED, &format!(" {} ", at(now)), now, None),
            Some(step)
        );
    }

    #[test]
    fn the_uri_names_the_issuer_twice_and_the_secret_in_base32() {
        assert_eq!(base32(SEED), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            otpauth_uri("Edge Issuer", "ann:x@example.com", SEED),
            "otpauth://totp/Edge%20Issuer:ann%20x%40example.com?\
             secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Edge%20Issuer\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
