//! Reading the issuer's own JSON documents back into its types (the KV cache's entries, the
//! JSON columns of D1 rows): a JSON value is parsed once and each type takes its members by
//! hand. Why not serde's derived readers: each derived type compiled a reader of its own per
//! JSON source (several KiB of the Worker each); these readers are a few lines per type over
//! the one `serde_json::Value` reader the Worker has anyway. What they read was written by
//! serde's derived writers (`Serialize`), so the member names are the fields' names.

use super::client::{Api, ApiGrant, Client};
use super::hook::{OnFailure, StoredHook};
use super::key::KeyState;
use super::rule::{Assignment, Conditions, Rule};
use super::{ClaimTarget, Trigger};
use serde_json::{Map, Value};

/// A type read from a JSON value; the error names what was wrong.
pub trait FromJson: Sized {
    fn from_json(v: Value) -> Result<Self, String>;
}

/// `text` parsed and read as `T`.
pub fn parse<T: FromJson>(text: &[u8]) -> Result<T, String> {
    let value: Value = crate::model::strict_json::parse(text).map_err(|e| e.to_string())?;
    T::from_json(value)
}

fn expected<T>(what: &str) -> Result<T, String> {
    Err(format!("expected {what}"))
}

impl FromJson for Value {
    fn from_json(v: Value) -> Result<Self, String> {
        Ok(v)
    }
}

impl FromJson for Map<String, Value> {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::Object(m) => Ok(m),
            _ => expected("an object"),
        }
    }
}

impl FromJson for String {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(s),
            _ => expected("a string"),
        }
    }
}

impl FromJson for bool {
    fn from_json(v: Value) -> Result<Self, String> {
        v.as_bool().map_or_else(|| expected("true or false"), Ok)
    }
}

impl FromJson for u64 {
    fn from_json(v: Value) -> Result<Self, String> {
        v.as_u64().map_or_else(|| expected("a whole number"), Ok)
    }
}

impl FromJson for i64 {
    fn from_json(v: Value) -> Result<Self, String> {
        v.as_i64().map_or_else(|| expected("a whole number"), Ok)
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: Value) -> Result<Self, String> {
        match v {
            Value::Null => Ok(None),
            v => T::from_json(v).map(Some),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: Value) -> Result<Self, String> {
        let Value::Array(items) = v else {
            return expected("an array");
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(T::from_json(item)?);
        }
        Ok(out)
    }
}

/// The members of an object, taken one by one.
pub struct Members(Map<String, Value>);

impl Members {
    pub fn of(v: Value) -> Result<Self, String> {
        Map::from_json(v).map(Members)
    }

    /// A member that must be there (and not null, unless `T` is an `Option`).
    pub fn take<T: FromJson>(&mut self, name: &str) -> Result<T, String> {
        let v = self.0.remove(name).unwrap_or(Value::Null);
        T::from_json(v).map_err(|e| at(name, e))
    }

    /// A member that may be missing or null: then `default`.
    pub fn or<T: FromJson>(&mut self, name: &str, default: T) -> Result<T, String> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => T::from_json(v).map_err(|e| at(name, e)),
        }
    }
}

/// An error of the member `name` (one copy for every member type).
#[inline(never)]
fn at(name: &str, e: String) -> String {
    format!("{name}: {e}")
}

/// One of a closed set of names.
fn named<T: Copy>(v: Value, names: &[(&str, T)]) -> Result<T, String> {
    let found = v.as_str().and_then(|s| names.iter().find(|(n, _)| *n == s));
    match found {
        Some((_, t)) => Ok(*t),
        None => Err(format!("unknown value {v}")),
    }
}

impl FromJson for Trigger {
    fn from_json(v: Value) -> Result<Self, String> {
        named(
            v,
            &[
                ("post-login", Trigger::PostLogin),
                ("credentials-exchange", Trigger::CredentialsExchange),
            ],
        )
    }
}

impl FromJson for OnFailure {
    fn from_json(v: Value) -> Result<Self, String> {
        named(v, &[("deny", OnFailure::Deny), ("skip", OnFailure::Skip)])
    }
}

impl FromJson for ClaimTarget {
    fn from_json(v: Value) -> Result<Self, String> {
        named(
            v,
            &[
                ("access_token", ClaimTarget::AccessToken),
                ("id_token", ClaimTarget::IdToken),
                ("userinfo", ClaimTarget::Userinfo),
            ],
        )
    }
}

impl FromJson for KeyState {
    fn from_json(v: Value) -> Result<Self, String> {
        named(
            v,
            &[
                ("next", KeyState::Next),
                ("current", KeyState::Current),
                ("previous", KeyState::Previous),
                ("revoked", KeyState::Revoked),
            ],
        )
    }
}

impl FromJson for Api {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(Api {
            identifier: m.take("identifier")?,
            name: m.take("name")?,
            scopes: m.take("scopes")?,
            token_lifetime: m.take("token_lifetime")?,
            rbac_enabled: m.or("rbac_enabled", false)?,
            token_permissions: m.or("token_permissions", false)?,
            user_grantable_scopes: m.or("user_grantable_scopes", Vec::new())?,
            signing_alg: m.or("signing_alg", super::client::DEFAULT_ACCESS_ALG.to_string())?,
        })
    }
}

impl FromJson for ApiGrant {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(ApiGrant {
            api: m.take("api")?,
            scopes: m.take("scopes")?,
        })
    }
}

impl FromJson for Client {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(Client {
            client_id: m.take("client_id")?,
            name: m.take("name")?,
            secret_hash: m.take("secret_hash")?,
            grant_types: m.take("grant_types")?,
            default_audience: m.take("default_audience")?,
            grants: m.or("grants", Vec::new())?,
            refresh_absolute_lifetime: m.or(
                "refresh_absolute_lifetime",
                super::client::DEFAULT_ABSOLUTE_LIFETIME,
            )?,
            refresh_idle_lifetime: m.or(
                "refresh_idle_lifetime",
                super::client::DEFAULT_IDLE_LIFETIME,
            )?,
            refresh_reuse_interval: m.or("refresh_reuse_interval", 0)?,
            id_token_signed_response_alg: m.or(
                "id_token_signed_response_alg",
                super::client::DEFAULT_ID_TOKEN_ALG.to_string(),
            )?,
            client_metadata: m.or("client_metadata", Value::Object(Map::new()))?,
            redirect_uris: m.or("redirect_uris", Vec::new())?,
            web_origins: m.or("web_origins", Vec::new())?,
            allowed_logout_urls: m.or("allowed_logout_urls", Vec::new())?,
            initiate_login_uri: m.or("initiate_login_uri", None)?,
        })
    }
}

impl FromJson for Conditions {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(Conditions {
            client_ids: m.or("client_ids", Vec::new())?,
            audiences: m.or("audiences", Vec::new())?,
            grant_types: m.or("grant_types", Vec::new())?,
            required_scope: m.or("required_scope", None)?,
            organization: m.or("organization", None)?,
            role: m.or("role", None)?,
        })
    }
}

impl FromJson for Assignment {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(Assignment {
            target: m.take("target")?,
            claim: m.take("claim")?,
            // A literal `null` is kept as a value, as serde's reader kept it.
            value: m.0.remove("value"),
            path: m.or("path", None)?,
        })
    }
}

impl FromJson for Rule {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(Rule {
            rule_id: m.or("rule_id", String::new())?,
            name: m.take("name")?,
            trigger: m.take("trigger")?,
            position: m.or("position", 0)?,
            enabled: m.or("enabled", true)?,
            conditions: m.or("conditions", Conditions::default())?,
            assignments: m.take("assignments")?,
            allow_user_controlled: m.or("allow_user_controlled", false)?,
            multifactor: m.or("multifactor", false)?,
        })
    }
}

impl FromJson for StoredHook {
    fn from_json(v: Value) -> Result<Self, String> {
        let mut m = Members::of(v)?;
        Ok(StoredHook {
            hook_id: m.take("hook_id")?,
            name: m.take("name")?,
            trigger: m.take("trigger")?,
            position: m.take("position")?,
            enabled: m.take("enabled")?,
            url: m.take("url")?,
            service: m.take("service")?,
            secret_enc: m.take("secret_enc")?,
            timeout_ms: m.take("timeout_ms")?,
            on_failure: m.take("on_failure")?,
        })
    }
}

impl<A: FromJson, B: FromJson> FromJson for (A, B) {
    fn from_json(v: Value) -> Result<Self, String> {
        let Value::Array(items) = v else {
            return expected("a pair");
        };
        let [a, b] = <[Value; 2]>::try_from(items).or_else(|_| expected("a pair"))?;
        Ok((A::from_json(a)?, B::from_json(b)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: serde::Serialize + FromJson + PartialEq + std::fmt::Debug>(t: T) {
        let text = serde_json::to_vec(&t).unwrap();
        assert_eq!(parse::<T>(&text).unwrap(), t);
    }

    #[test]
    fn what_serde_wrote_reads_back_the_same() {
        let api = Api {
            identifier: "https://api".into(),
            name: "API".into(),
            scopes: vec!["read".into()],
            token_lifetime: 60,
            rbac_enabled: true,
            token_permissions: true,
            user_grantable_scopes: vec!["read".into()],
            signing_alg: "RS256".into(),
        };
        round_trip(Client {
            client_id: "c".into(),
            name: "C".into(),
            secret_hash: Some("sha256:x".into()),
            grant_types: vec!["password".into()],
            default_audience: None,
            grants: vec![ApiGrant {
                api: api.clone(),
                scopes: vec!["read".into()],
            }],
            refresh_absolute_lifetime: 10,
            refresh_idle_lifetime: 5,
            refresh_reuse_interval: 2,
            id_token_signed_response_alg: "ES256".into(),
            client_metadata: serde_json::json!({"tier": "gold"}),
            redirect_uris: vec!["https://app/cb".into()],
            web_origins: vec![],
            allowed_logout_urls: vec![],
            initiate_login_uri: Some("https://app/login".into()),
        });
        round_trip(api);
        let rule = Rule {
            rule_id: "rul_1".into(),
            name: "r".into(),
            trigger: Trigger::CredentialsExchange,
            position: -3,
            enabled: false,
            conditions: Conditions {
                client_ids: vec!["c".into()],
                required_scope: Some("read".into()),
                ..Conditions::default()
            },
            assignments: vec![Assignment {
                target: ClaimTarget::Userinfo,
                claim: "https://x/y".into(),
                value: Some(serde_json::json!([1, "two"])),
                path: None,
            }],
            allow_user_controlled: true,
            multifactor: true,
        };
        let hook = StoredHook {
            hook_id: "hook_1".into(),
            name: "h".into(),
            trigger: Trigger::PostLogin,
            position: 1,
            enabled: true,
            url: None,
            service: Some("HOOKS".into()),
            secret_enc: "v1.x.y".into(),
            timeout_ms: 100,
            on_failure: OnFailure::Skip,
        };
        round_trip((vec![rule], vec![hook]));
        round_trip(vec![KeyState::Revoked, KeyState::Next]);
        assert!(parse::<Client>(b"{\"client_id\": 1}")
            .unwrap_err()
            .contains("client_id"));
    }
}
