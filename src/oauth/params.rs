//! Request parameters (RFC 6749 §3.2): form or JSON bodies and query strings, with
//! duplicated parameters rejected and empty values treated as omitted.

use crate::error::OAuthError;
use std::collections::HashSet;

/// Largest request body read (the token endpoint's limit); larger answers 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Most parameters one request may carry.
pub const MAX_PARAMS: usize = 256;

/// Parsed parameters: each name at most once, empty values dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Every parameter with a value, in the order received.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The value of a parameter; `None` when absent or empty (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Builds from pairs, rejecting a repeated name and dropping empty values. Linear in the
    /// number of pairs; more than [`MAX_PARAMS`] is `invalid_request` (no endpoint takes
    /// nearly that many, and the cap bounds the work a body can cause).
    pub fn from_pairs(
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, OAuthError> {
        Self::from_vec(pairs.into_iter().collect())
    }

    /// [`Params::from_pairs`], one copy for every kind of source.
    fn from_vec(pairs: Vec<(String, String)>) -> Result<Self, OAuthError> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for (name, value) in pairs {
            if seen.len() == MAX_PARAMS {
                return Err(OAuthError::invalid_request(format!(
                    "too many parameters (at most {MAX_PARAMS})"
                )));
            }
            if !seen.insert(name.clone()) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {name} is repeated"
                )));
            }
            if !value.is_empty() {
                out.push((name, value));
            }
        }
        Ok(Self(out))
    }

    /// Parses `application/x-www-form-urlencoded` text.
    pub fn from_form(raw: &[u8]) -> Result<Self, OAuthError> {
        Self::from_pairs(form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())))
    }

    /// Parses a JSON object whose members are strings (Auth0 accepts JSON token requests).
    /// Numbers and booleans are taken as their text; nested values are `invalid_request`.
    pub fn from_json(raw: &[u8]) -> Result<Self, OAuthError> {
        let bad = |why: &str| {
            OAuthError::invalid_request(format!("body is not a JSON object of strings: {why}"))
        };
        let value =
            crate::model::strict_json::parse(raw).map_err(|e| bad(&json_error_words(&e)))?;
        let serde_json::Value::Object(members) = value else {
            let kind = match value {
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                _ => "not an object",
            };
            return Err(bad(&format!("the body is {kind}: expected an object")));
        };
        let mut pairs = Vec::with_capacity(members.len());
        for (name, value) in members {
            let text = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(bad(&format!("member {name} is not a string"))),
            };
            pairs.push((name, text));
        }
        Self::from_pairs(pairs)
    }

    /// Parses the body of a POST by its content type: form or JSON; any other type, a missing
    /// one, or a body over [`MAX_BODY_BYTES`] (413) is refused.
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Result<Self, OAuthError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(OAuthError::invalid_request("request body is too large").with_status(413));
        }
        let content_type = content_type.unwrap_or("");
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media_type.as_str() {
            "application/x-www-form-urlencoded" => Self::from_form(body),
            "application/json" => Self::from_json(body),
            _ => Err(OAuthError::invalid_request(
                "content type must be application/x-www-form-urlencoded or application/json",
            )),
        }
    }
}

/// A serde_json message in JSON's own vocabulary: `map` → object, `sequence` → array,
/// `struct X` → an object, `i64`/`u64` → an integer; positions dropped.
pub fn json_error_words(e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        return "the body is not valid JSON".into();
    }
    let text = e.to_string();
    let text = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    let mut out: Vec<String> = Vec::new();
    let mut words = text.split(' ');
    while let Some(word) = words.next() {
        let core = word.trim_end_matches([',', ';', ':']);
        let tail = &word[core.len()..];
        let (plain, tail) = match core {
            // `struct Rule,`: the type's name goes, its punctuation stays.
            "struct" | "enum" => {
                let name = words.next().unwrap_or("");
                let kind = if core == "struct" { "object" } else { "value" };
                (kind, &name[name.trim_end_matches([',', ';', ':']).len()..])
            }
            "map" => ("object", tail),
            "sequence" => ("array", tail),
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => ("integer", tail),
            "f32" | "f64" => ("number", tail),
            _ => {
                out.push(word.to_string());
                continue;
            }
        };
        let article = if plain == "value" { "a" } else { "an" };
        if out.last().is_some_and(|w| w == "a") {
            out.pop();
        }
        out.push(format!("{article} {plain}{tail}"));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(content_type: &'a str, body: &'a str) -> (Option<&'a str>, &'a [u8]) {
        (Some(content_type), body.as_bytes())
    }

    fn from_body((content_type, body): (Option<&str>, &[u8])) -> Result<Params, OAuthError> {
        Params::from_body(content_type, body)
    }

    #[test]
    fn form_is_decoded_and_empty_values_are_omitted() {
        let p = from_body(req(
            "application/x-www-form-urlencoded; charset=UTF-8",
            "grant_type=client_credentials&scope=&audience=https%3A%2F%2Fapi.example.com",
        ))
        .unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        assert_eq!(p.get("scope"), None);
        assert_eq!(p.get("audience"), Some("https://api.example.com"));
    }

    #[test]
    fn repeated_form_parameter_is_invalid_request() {
        let e = from_body(req("application/x-www-form-urlencoded", "scope=a&scope=b")).unwrap_err();
        assert_eq!(e.body()["error"], "invalid_request");
        assert!(e.description.unwrap().contains("scope"));
    }

    #[test]
    fn json_body_is_accepted_and_repeats_refused() {
        let p = from_body(req(
            "application/json",
            r#"{"grant_type":"client_credentials"}"#,
        ))
        .unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        let e = from_body(req("application/json", r#"{"a":"1","a":"2"}"#)).unwrap_err();
        assert_eq!(e.body()["error"], "invalid_request");
    }

    #[test]
    fn json_that_is_not_a_flat_object_is_invalid_request() {
        for body in [
            r#"{"a":{"b":1}}"#,
            "[1]",
            "not json",
            r#"{"a":"1"} trailing"#,
        ] {
            let e = from_body(req("application/json", body)).unwrap_err();
            assert_eq!(e.body()["error"], "invalid_request", "{body}");
        }
    }

    #[test]
    fn json_errors_are_told_in_json_terms() {
        for (body, says) in [
            ("[1]", "the body is an array: expected an object"),
            ("{\"a\":", "the body is not valid JSON"),
            ("{\"a\":[1]}", "member a is not a string"),
        ] {
            let e = from_body(req("application/json", body)).unwrap_err();
            let d = e.description.unwrap();
            assert!(d.ends_with(says), "{body}: {d}");
            assert!(
                !d.contains("line") && !d.contains("sequence"),
                "{body}: {d}"
            );
        }
    }

    #[test]
    fn other_or_missing_content_type_is_invalid_request() {
        for ct in ["text/plain", "multipart/form-data", ""] {
            let e = from_body(req(ct, "grant_type=client_credentials")).unwrap_err();
            assert_eq!(e.body()["error"], "invalid_request", "{ct}");
        }
    }

    #[test]
    fn too_many_parameters_are_refused_in_linear_time() {
        let body = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let form = "application/x-www-form-urlencoded";
        assert!(from_body(req(form, &body(MAX_PARAMS))).is_ok());
        let e = from_body(req(form, &body(MAX_PARAMS + 1))).unwrap_err();
        assert_eq!(e.body()["error"], "invalid_request");
        assert!(e.description.unwrap().contains("too many parameters"));
        let e = from_body(req(
            "application/json",
            &format!(
                "{{{}}}",
                (0..300)
                    .map(|i| format!("\"p{i}\":\"v\""))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ))
        .unwrap_err();
        assert!(e.description.unwrap().contains("too many parameters"));
        // ~9,300 distinct names inside 64 KiB: refused at the cap.
        let big = (0..9_300)
            .map(|i| format!("{i}="))
            .collect::<Vec<_>>()
            .join("&");
        assert!(big.len() < MAX_BODY_BYTES);
        let e = from_body(req(form, &big)).unwrap_err();
        assert!(e.description.unwrap().contains("too many parameters"));
    }

    #[test]
    fn oversized_body_is_413() {
        let big = format!("scope={}", "a".repeat(MAX_BODY_BYTES));
        let e = from_body(req("application/x-www-form-urlencoded", &big)).unwrap_err();
        assert_eq!(e.http_status(), 413);
    }
}
