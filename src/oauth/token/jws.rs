//! JWS compact serialization (RFC 7515 §7.1): signing, and parsing a token of ours.

use crate::error::OAuthError;
use crate::port::crypto::{Alg, Crypto, SigningKey};
use crate::port::settled::Settle;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// Signs `claims` with `key`; the header gets `alg` and `kid` from the key, plus `typ` when
/// given (RFC 9068 §2.1 `at+jwt` for access tokens; ID tokens carry none).
pub async fn sign_compact<C: Crypto>(
    crypto: &C,
    key: &SigningKey,
    typ: Option<&str>,
    claims: &Value,
) -> Result<String, OAuthError> {
    let mut header = Map::new();
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    sign_with_header(crypto, key, &key.kid, header, claims)
        .settle()
        .await
}

/// Signs `claims` with `key` under a header of `header`'s members, `alg` and `kid` (which
/// may name the key otherwise than the platform's cache does: another party's key id).
pub async fn sign_with_header<C: Crypto>(
    crypto: &C,
    key: &SigningKey,
    kid: &str,
    mut header: Map<String, Value>,
    claims: &Value,
) -> Result<String, OAuthError> {
    header.insert("alg".into(), key.alg.as_str().into());
    header.insert("kid".into(), kid.into());
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = crypto.sign(key, input.as_bytes()).settle().await?;
    if key.alg == Alg::ES256 {
        if sig.len() != 64 {
            return Err(OAuthError::server(format!(
                "ES256 signature of {} bytes",
                sig.len()
            )));
        }
        // WebCrypto may answer either of the two valid `s`; we publish only the low one, so
        // a token has one signature and verifiers may refuse the other (see `canonical_es256`).
        low_s(&mut sig[32..]);
    }
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// The order `n` of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `n / 2` (rounded down): an `s` above it is "high".
const P256_HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// Replaces a high `s` (32 bytes, big-endian, below `n`) with `n - s`: the same signature's
/// other valid form (ECDSA signatures are malleable in `s`).
fn low_s(s: &mut [u8]) {
    if s[..] > P256_HALF_N[..] {
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(P256_N[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(d < 0);
            s[i] = (d + (borrow << 8)) as u8;
        }
    }
}

/// Whether an ES256 signature is in the one form we issue: 64 bytes, `r` and `s` non-zero
/// and below `n`, `s` low (at most `n / 2`). A token with the high-`s` twin of our signature,
/// or a zero signature, is refused before any key is tried.
pub fn canonical_es256(sig: &[u8]) -> bool {
    let Some((r, s)) = sig.split_at_checked(32).filter(|(_, s)| s.len() == 32) else {
        return false;
    };
    let nonzero = |x: &[u8]| x.iter().any(|b| *b != 0);
    nonzero(r) && nonzero(s) && r < &P256_N[..] && s <= &P256_HALF_N[..]
}

/// A compact JWS split and decoded, signature not yet checked.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS; `None` when it is not one.
pub fn parse(token: &str) -> Option<Parsed> {
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let object = |b64: &str| -> Option<Map<String, Value>> {
        match crate::model::strict_json::parse(&URL_SAFE_NO_PAD.decode(b64).ok()?).ok()? {
            Value::Object(m) => Some(m),
            _ => None,
        }
    };
    Some(Parsed {
        header: object(h)?,
        claims: object(p)?,
        signing_input: format!("{h}.{p}"),
        signature: URL_SAFE_NO_PAD.decode(s).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refuses_what_is_not_a_compact_jws() {
        for t in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.AA",
            "e30.W10.AA",
            "e30.e30.!!",
        ] {
            assert!(parse(t).is_none(), "{t}");
        }
        let ok = parse("e30.eyJhIjoxfQ.AAEC").unwrap();
        assert_eq!(ok.claims["a"], 1);
        assert_eq!(ok.signature, vec![0, 1, 2]);
    }

    #[test]
    fn a_high_s_becomes_n_minus_s_and_only_low_s_is_canonical() {
        // s = n - 1 (high) becomes 1; s = n/2 + 1 becomes n/2.
        let mut s = P256_N;
        s[31] -= 1;
        low_s(&mut s);
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(s, one);
        let mut above_half = P256_HALF_N;
        above_half[31] += 1;
        low_s(&mut above_half);
        assert_eq!(above_half, P256_HALF_N);
        let mut low = one;
        low_s(&mut low);
        assert_eq!(low, one, "a low s is kept");

        let sig = |r: [u8; 32], s: [u8; 32]| [r, s].concat();
        assert!(canonical_es256(&sig(one, P256_HALF_N)));
        let mut high = P256_HALF_N;
        high[31] += 1;
        assert!(!canonical_es256(&sig(one, high)), "high s");
        assert!(!canonical_es256(&sig([0; 32], one)), "zero r");
        assert!(!canonical_es256(&sig(one, [0; 32])), "zero s");
        assert!(!canonical_es256(&sig(P256_N, one)), "r not below n");
        assert!(!canonical_es256(&[0u8; 63]), "short");
        assert!(!canonical_es256(&[1u8; 65]), "long");
    }
}
