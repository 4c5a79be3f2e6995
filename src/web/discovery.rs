//! OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 metadata. It lists only what exists: every
//! endpoint, grant, auth method, algorithm and claim named here is implemented.

use crate::model::config::paths;
use crate::model::config::Config;
use crate::model::GrantType;
use crate::oauth::claims::OIDC_SCOPES;
use crate::oauth::response_type::ResponseType;
use crate::web::HttpResponse;
use serde_json::json;

/// The metadata document, served at both well-known paths (RFC 9068 §4: they must agree).
pub fn metadata(config: &Config) -> serde_json::Value {
    let grants: Vec<&str> = GrantType::ALL
        .iter()
        .chain([&GrantType::Implicit])
        .map(|g| g.as_str())
        .collect();
    let client_auth = ["client_secret_basic", "client_secret_post", "none"];
    json!({
        "issuer": config.issuer,
        "authorization_endpoint": config.url(paths::AUTHORIZE),
        "token_endpoint": config.url(paths::TOKEN),
        "end_session_endpoint": config.url(paths::END_SESSION),
        "jwks_uri": config.url(paths::JWKS),
        "userinfo_endpoint": config.url(paths::USERINFO),
        "revocation_endpoint": config.url(paths::REVOKE),
        "introspection_endpoint": config.url(paths::INTROSPECT),
        "grant_types_supported": grants,
        "response_types_supported": ResponseType::SUPPORTED,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        // RFC 9207: every authorization response carries `iss`.
        "authorization_response_iss_parameter_supported": true,
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        // Confidential clients only: introspection answers about tokens of others.
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "access_token_signing_alg_values_supported": ["ES256", "RS256"],
        "scopes_supported": OIDC_SCOPES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "amr", "azp", "at_hash", "c_hash", "nonce", "sid",
            "name", "given_name", "family_name", "nickname", "picture", "updated_at",
            "email", "email_verified",
        ],
        // Request objects are refused (OIDC Core §6); `request_uri_parameter_supported` is
        // published because OIDC Discovery §3 defaults it to true.
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}

/// `GET` of either metadata path.
pub fn discovery(config: &Config) -> HttpResponse {
    HttpResponse::json(200, &metadata(config)).with_header("cache-control", "public, max-age=300")
}
