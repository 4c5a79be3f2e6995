//! Hooks: an HTTPS endpoint or a service binding (another Worker, any language) that receives
//! the event and answers with claims per token, scopes to drop, or a denial.
//!
//! The request is `POST` JSON `{"event": …}` with header
//! `X-Edge-Issuer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, so the
//! receiver can check who sent it and when. The answer (at most 64 KiB) is
//! `{"access_token": {…}, "id_token": {…}, "userinfo": {…}, "drop_scopes": […], "deny": "…"}`,
//! every member optional.

use crate::error::OutboundError;
use crate::model::{is_reserved, ClaimTarget, CustomClaims, TraceAction, TraceEntry};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};

/// Largest hook answer read.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Default time a hook may take.
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

/// The signature header value for `body` sent at `t`.
pub fn signature(secret: &str, t: u64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

/// A parsed hook answer.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub access_token: Map<String, Value>,
    pub id_token: Map<String, Value>,
    pub userinfo: Map<String, Value>,
    pub drop_scopes: Vec<String>,
    pub deny: Option<String>,
    /// A post-login hook asks for a second factor (as Auth0's `api.multifactor.enable`).
    pub multifactor: bool,
}

impl Answer {
    /// Parses an answer body.
    pub fn parse(bytes: &[u8]) -> Result<Self, OutboundError> {
        if bytes.len() > MAX_ANSWER_BYTES {
            return Err(OutboundError::TooLarge(MAX_ANSWER_BYTES));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        // An object only, read member by member (other members are ignored).
        let bad = |why: &str| OutboundError::BadAnswer(why.into());
        let value = crate::model::strict_json::parse(bytes).map_err(|e| bad(&e.to_string()))?;
        let Value::Object(mut members) = value else {
            return Err(bad("the answer is not a JSON object"));
        };
        let mut take = |name: &str| members.remove(name).filter(|v| !v.is_null());
        let mut claims = |name: &str| match take(name) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(bad(&format!("{name} is not an object"))),
        };
        let (access_token, id_token, userinfo) = (
            claims("access_token")?,
            claims("id_token")?,
            claims("userinfo")?,
        );
        let drop_scopes = match take("drop_scopes") {
            None => Vec::new(),
            Some(Value::Array(list)) => {
                let mut scopes = Vec::with_capacity(list.len());
                for v in list {
                    let Value::String(s) = v else {
                        return Err(bad("drop_scopes is not a list of strings"));
                    };
                    scopes.push(s);
                }
                scopes
            }
            Some(_) => return Err(bad("drop_scopes is not a list of strings")),
        };
        let deny = match take("deny") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => return Err(bad("deny is not a string")),
        };
        let multifactor = match take("multifactor") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(bad("multifactor is not true or false")),
        };
        Ok(Self {
            access_token,
            id_token,
            userinfo,
            drop_scopes,
            deny,
            multifactor,
        })
    }

    /// Merges the answer's claims into `out`; reserved claims are dropped and traced.
    pub fn apply(self, hook: &str, out: &mut CustomClaims, trace: &mut Vec<TraceEntry>) {
        let source = format!("hook:{hook}");
        for (target, claims) in [
            (ClaimTarget::AccessToken, self.access_token),
            (ClaimTarget::IdToken, self.id_token),
            (ClaimTarget::Userinfo, self.userinfo),
        ] {
            for (claim, value) in claims {
                let (action, reason) = if is_reserved(&claim) {
                    (
                        TraceAction::Dropped,
                        "reserved claim: the issuer sets it".to_string(),
                    )
                } else if out
                    .target_mut(target)
                    .insert(claim.clone(), value)
                    .is_some()
                {
                    (
                        TraceAction::Overridden,
                        "the hook's value wins over a rule's".to_string(),
                    )
                } else {
                    (TraceAction::Set, String::new())
                };
                trace.push(TraceEntry {
                    source: source.clone(),
                    action,
                    target: Some(target),
                    claim: Some(claim),
                    reason,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_and_body() {
        // Computed independently: Python hmac.new(b"secret", b"1700000000.{}", sha256).
        assert_eq!(
            signature("secret", 1_700_000_000, "{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(signature("secret", 1, "{}"), signature("secret", 2, "{}"));
    }

    #[test]
    fn reserved_claims_in_an_answer_are_dropped() {
        let answer = Answer::parse(
            json!({ "access_token": { "sub": "evil", "https://x/urn": "urn:1" } })
                .to_string()
                .as_bytes(),
        )
        .unwrap();
        let mut out = CustomClaims::default();
        let mut trace = vec![];
        answer.apply("h", &mut out, &mut trace);
        assert!(!out.access_token.contains_key("sub"));
        assert_eq!(out.access_token["https://x/urn"], "urn:1");
        assert!(trace
            .iter()
            .any(|t| t.action == TraceAction::Dropped && t.claim.as_deref() == Some("sub")));
    }

    #[test]
    fn oversized_or_malformed_answers_are_errors() {
        assert!(Answer::parse(&vec![b' '; MAX_ANSWER_BYTES + 1]).is_err());
        assert!(Answer::parse(b"[1,2]").is_err());
        // Positionally, this would be the access token's claims.
        assert!(Answer::parse(br#"[{"https://x/y": 1}]"#).is_err());
        assert!(Answer::parse(br#"{"deny": "a", "deny": "b"}"#).is_err());
        assert!(Answer::parse(b"").is_ok());
    }
}
