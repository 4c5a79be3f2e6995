//! JWS compact serialization (RFC 7515 §7.1): signing, and parsing a token of ours.

use crate::error::OAuthError;
use crate::port::crypto::{Alg, Crypto, SigningKey};
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
    header.insert("alg".into(), key.alg.as_str().into());
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    header.insert("kid".into(), key.kid.clone().into());
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = crypto.sign(key, input.as_bytes()).await?;
    if key.alg == Alg::ES256 && sig.len() != 64 {
        return Err(OAuthError::server(format!(
            "ES256 signature of {} bytes",
            sig.len()
        )));
    }
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
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
        match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).ok()?).ok()? {
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
}
