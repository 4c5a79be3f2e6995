//! RFC 6750 bearer-token challenges.

/// An RFC 6750 §3 `WWW-Authenticate: Bearer` challenge: the realm, then the error code with
/// its description if any (no error when no token was sent, §3.1), then the scope the
/// resource needs. Quotes and backslashes are dropped from the quoted values.
pub fn bearer_challenge(
    realm: &str,
    error: Option<(&str, Option<&str>)>,
    scope: Option<&str>,
) -> String {
    let quoted = |v: &str| v.replace(['"', '\\'], "");
    let mut challenge = format!("Bearer realm=\"{}\"", quoted(realm));
    if let Some((code, description)) = error {
        challenge.push_str(&format!(", error=\"{code}\""));
        if let Some(description) = description {
            let description = quoted(description);
            challenge.push_str(&format!(", error_description=\"{description}\""));
        }
    }
    if let Some(scope) = scope {
        challenge.push_str(&format!(", scope=\"{}\"", quoted(scope)));
    }
    challenge
}
