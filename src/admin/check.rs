//! Checks the management API's bodies share: URLs, origins, scope names, metadata objects.

use super::error::{invalid, Reply};
use serde_json::{Map, Value};

/// Most entries of one list field (callbacks, origins, scopes).
pub const MAX_LIST: usize = 100;

fn bad(field: &str, value: &str, what: &str) -> Reply {
    invalid(&format!("{field}: \"{value}\" is not {what}"))
}

/// An absolute `http(s)` URL with a host, no fragment (RFC 6749 §3.1.2), no spaces.
pub fn url(field: &str, value: &str) -> Result<(), Reply> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?']).next().unwrap_or(""));
    let ok = host.is_some_and(|h| !h.is_empty() && !h.contains('@'))
        && !value.contains('#')
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(bad(
            field,
            value,
            "an absolute http(s) URL without a fragment",
        ))
    }
}

/// A URL this issuer will call with user data (a hook, an email webhook): https, or
/// plain-http loopback when the issuer itself is on plain http (local development against
/// `make dev`); and allowed by the Worker's outbound rule (checked again at each call).
pub fn callable(field: &str, value: &str, config: &crate::model::Config) -> Result<(), Reply> {
    url(field, value)?;
    let local = config.is_local();
    if !value.starts_with("https://") && !local {
        return Err(invalid(&format!(
            "{field} must be https: the requests carry user data"
        )));
    }
    match crate::port::outbound::refusal(value, local) {
        Some(why) => Err(invalid(&format!("{field} is not callable: {why}"))),
        None => Ok(()),
    }
}

/// A browser origin: `scheme://host[:port]`, nothing after.
pub fn origin(field: &str, value: &str) -> Result<(), Reply> {
    url(field, value)?;
    let rest = value.split_once("://").map_or("", |(_, r)| r);
    if rest.contains(['/', '?']) {
        return Err(bad(
            field,
            value,
            "an origin (scheme://host[:port], no path)",
        ));
    }
    Ok(())
}

/// A list of at most [`MAX_LIST`] entries, each passing `check`.
pub fn list(
    field: &str,
    values: &[String],
    check: fn(&str, &str) -> Result<(), Reply>,
) -> Result<(), Reply> {
    if values.len() > MAX_LIST {
        return Err(invalid(&format!(
            "{field} has more than {MAX_LIST} entries"
        )));
    }
    values.iter().try_for_each(|v| check(field, v))
}

/// A scope name (RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`).
pub fn scope(field: &str, value: &str) -> Result<(), Reply> {
    let ok = !value.is_empty()
        && value.len() <= 280
        && value
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(bad(field, value, "a scope name"))
    }
}

/// Auth0's `client_metadata`: at most 10 properties, string values of at most 255
/// characters, names of at most 255.
pub fn client_metadata(value: &Map<String, Value>) -> Result<(), Reply> {
    if value.len() > 10 {
        return Err(invalid("client_metadata has more than 10 properties"));
    }
    for (k, v) in value {
        let ok = k.len() <= 255 && v.as_str().is_some_and(|s| s.chars().count() <= 255);
        if !ok {
            return Err(invalid(&format!(
                "client_metadata.{k} must be a string of at most 255 characters"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_origins_and_scopes() {
        for good in [
            "https://app.example/cb",
            "http://127.0.0.1:3000/",
            "https://a.example?x=1",
        ] {
            assert!(url("callbacks", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "app.example/cb",
            "javascript:alert(1)",
            "https://",
            "https://a.example/#f",
            "https://u@a.example/",
            "https://a.example/a b",
            "ftp://a.example",
        ] {
            assert!(url("callbacks", bad).is_err(), "{bad}");
        }
        assert!(origin("web_origins", "https://app.example:8443").is_ok());
        assert!(origin("web_origins", "https://app.example/").is_err());
        assert!(scope("scopes", "read:data").is_ok());
        for bad in ["", "a b", "a\"b", "a\\b", "é"] {
            assert!(scope("scopes", bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..101).map(|i| format!("https://a.example/{i}")).collect();
        assert!(list("callbacks", &many, url).is_err());
    }

    #[test]
    fn client_metadata_holds_short_strings() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert!(client_metadata(&m(serde_json::json!({"tier": "gold"}))).is_ok());
        assert!(client_metadata(&m(serde_json::json!({"tier": 1}))).is_err());
        assert!(client_metadata(&m(serde_json::json!({"tier": "x".repeat(256)}))).is_err());
    }
}
