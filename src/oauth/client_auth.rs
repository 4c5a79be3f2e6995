//! Client authentication at the token endpoint (RFC 6749 §2.3.1): `client_secret_basic`
//! and `client_secret_post`, exactly one per request.

use crate::error::{ErrorCode, OAuthError};
use crate::model::secret::{verify_client_secret, Secret};
use crate::model::Client;
use crate::oauth::params::Params;
use crate::port::settled::Settle;
use crate::port::ClientStore;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use percent_encoding::percent_decode_str;

/// How the client presented its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client identified by `client_id` alone (token endpoint method `none`).
    None,
}

/// Credentials as presented, before they are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    /// `None` for a public client.
    pub secret: Option<Secret<String>>,
    pub method: AuthMethod,
}

/// A client whose credentials were checked against the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedClient {
    pub client: Client,
    pub method: AuthMethod,
}

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
fn form_decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// Parses an `Authorization: Basic` value (scheme case-insensitive).
fn parse_basic(value: &str) -> Result<(String, String), OAuthError> {
    let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid_client(
            "unsupported authorization scheme at the token endpoint",
        ));
    }
    let malformed = || invalid_client("malformed Basic credentials");
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok((id, secret))
}

/// Extracts the credentials a request presents: `authorization` is its `Authorization`
/// header, if any. More than one method is `invalid_request`
/// (RFC 6749 §2.3); none at all is `invalid_client`.
pub fn credentials(
    authorization: Option<&str>,
    params: &Params,
) -> Result<ClientCredentials, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some(header) = authorization {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "client authenticated with more than one method",
            ));
        }
        let (client_id, secret) = parse_basic(header)?;
        if body_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Basic credentials",
            ));
        }
        return Ok(ClientCredentials {
            client_id,
            secret: Some(Secret::new(secret)),
            method: AuthMethod::ClientSecretBasic,
        });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(ClientCredentials {
            client_id: id.to_string(),
            secret: Some(Secret::new(secret.to_string())),
            method: AuthMethod::ClientSecretPost,
        }),
        (Some(id), None) => Ok(ClientCredentials {
            client_id: id.to_string(),
            secret: None,
            method: AuthMethod::None,
        }),
        _ => Err(invalid_client("client authentication is required")),
    }
}

/// Checks credentials against the store. An unknown client, a wrong secret, a confidential
/// client without its secret and a public client with one all answer the same
/// `invalid_client`, so the answer does not reveal which ids exist.
pub async fn authenticate<S: ClientStore>(
    store: &S,
    creds: &ClientCredentials,
) -> Result<AuthenticatedClient, OAuthError> {
    let client = store.client(&creds.client_id).settle().await?;
    let stored = client.as_ref().and_then(|c| c.secret_hash.as_deref());
    let ok = match (&creds.secret, stored) {
        (Some(secret), Some(hash)) => verify_client_secret(secret.expose(), hash),
        (Some(secret), None) => {
            // Unknown or public client: the same hashing work, then refuse.
            let _ = verify_client_secret(secret.expose(), "sha256:");
            false
        }
        (None, None) => client.is_some(),
        (None, Some(_)) => false,
    };
    match client {
        Some(client) if ok => Ok(AuthenticatedClient {
            client,
            method: creds.method,
        }),
        _ => Err(invalid_client("client authentication failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Params {
        Params::from_form(body.as_bytes()).unwrap()
    }

    fn basic(id_secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(id_secret))
    }

    #[test]
    fn basic_credentials_are_url_decoded() {
        let c = credentials(Some(&basic("my%3Aclient:p%40ss+word")), &params("")).unwrap();
        assert_eq!(c.client_id, "my:client");
        assert_eq!(c.secret.unwrap().expose(), "p@ss word");
        assert_eq!(c.method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn basic_scheme_is_case_insensitive() {
        let value = basic("a:b").replacen("Basic", "bAsIc", 1);
        assert_eq!(
            credentials(Some(&value), &params("")).unwrap().client_id,
            "a"
        );
    }

    #[test]
    fn post_credentials_are_read_from_the_body() {
        let c = credentials(None, &params("client_id=a&client_secret=b")).unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.method),
            ("a", AuthMethod::ClientSecretPost)
        );
    }

    #[test]
    fn two_methods_at_once_are_invalid_request() {
        let e = credentials(Some(&basic("a:b")), &params("client_secret=b")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = credentials(Some(&basic("a:b")), &params("client_id=other")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn client_id_alone_is_a_public_client() {
        let c = credentials(None, &params("client_id=spa")).unwrap();
        assert_eq!((c.client_id.as_str(), c.method), ("spa", AuthMethod::None));
        assert!(c.secret.is_none());
    }

    #[test]
    fn missing_or_malformed_credentials_are_invalid_client() {
        let cases = [
            (None, "client_secret=a"),
            (Some("Basic !!!"), ""),
            (Some("Basic Og=="), ""), // ":" – empty id
            (Some("Bearer abc"), ""),
        ];
        for (auth, body) in cases {
            let e = credentials(auth, &params(body)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{auth:?} {body}");
        }
    }
}
