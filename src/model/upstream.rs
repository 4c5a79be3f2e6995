//! Upstream identity providers: connections whose users sign in at another provider and come
//! back with its answer. The `oidc` strategy is any OpenID provider (code flow with PKCE, the
//! ID token verified against the provider's keys). Options keep Auth0's names, so an admin
//! script written for Auth0 creates the same connection here.

use super::Connection;
use serde_json::{Map, Value};

/// Any OpenID provider.
pub const OIDC: &str = "oidc";

/// Google, an OpenID provider whose endpoints are known (Auth0's `google-oauth2`).
pub const GOOGLE: &str = "google-oauth2";

/// Google's issuer, and the other spelling its ID tokens may carry (Google's OpenID Connect
/// documentation: `https://accounts.google.com` or `accounts.google.com`).
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_ISSUER_ALIAS: &str = "accounts.google.com";

/// The option that holds the client secret, sealed under the key-encryption key with the
/// connection's id. Never accepted from a request and never shown.
pub const SEALED_SECRET: &str = "client_secret_sealed";

/// The endpoints an `oidc` connection needs: given, or found by discovery and stored.
pub const ENDPOINTS: [&str; 3] = ["authorization_endpoint", "token_endpoint", "jwks_uri"];

/// Which profile fields a returning user's sign-in writes over (Auth0's
/// `set_user_root_attributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootAttributes {
    /// The provider's profile replaces the user's on each login (the default).
    OnEachLogin,
    /// Only the first login sets them; later changes are the tenant's.
    OnFirstLogin,
}

/// What a sign-in through an upstream connection needs, read from its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The identities' provider: `oidc` (ids `<connection>|<sub>`) or `google-oauth2` (ids
    /// `<sub>`, a social identity).
    pub provider: &'static str,
    /// Another spelling of the issuer its ID tokens may carry.
    pub issuer_alias: Option<&'static str>,
    /// The provider's issuer identifier: the ID token's `iss` and RFC 9207's `iss`.
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub client_id: String,
    /// The sealed client secret ([`SEALED_SECRET`]).
    pub sealed_secret: String,
    /// The scopes asked for, `openid` always among them.
    pub scope: String,
    /// Fixed extra authorization parameters (`upstream_params`: `{name: {value}}`).
    pub params: Vec<(String, String)>,
    /// `client_secret_post` (else `client_secret_basic`, RFC 6749 §2.3.1's default).
    pub secret_in_body: bool,
    pub root_attributes: RootAttributes,
    /// `link_verified_email`: a first sign-in whose email the provider marks verified joins
    /// the one user here with that email, also verified, instead of making a new user.
    pub link_verified_email: bool,
}

impl Upstream {
    /// Whether `iss` names this provider (the ID token's `iss`, RFC 9207's): its issuer, a
    /// trailing `/` aside, or its other spelling.
    pub fn is_issuer(&self, iss: &str) -> bool {
        iss.trim_end_matches('/') == self.issuer.trim_end_matches('/')
            || Some(iss) == self.issuer_alias
    }

    /// The upstream configuration of `connection`, if it is an upstream connection whose
    /// options are complete.
    pub fn of(connection: &Connection) -> Option<Self> {
        let google = match connection.strategy.as_str() {
            OIDC => false,
            GOOGLE => true,
            _ => return None,
        };
        let o = &connection.options;
        let text = |name: &str| o.get(name).and_then(Value::as_str).map(str::to_string);
        // Auth0 sends Google's scopes as a list.
        let listed = o.get("scope").and_then(Value::as_array).map(|l| {
            let names: Vec<&str> = l.iter().filter_map(Value::as_str).collect();
            names.join(" ")
        });
        let mut scope = listed
            .or_else(|| text("scope"))
            .unwrap_or_else(|| "openid profile email".into());
        if !scope.split(' ').any(|s| s == "openid") {
            scope = format!("openid {scope}");
        }
        let params = o
            .get("upstream_params")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.get("value")?.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        // Google's endpoints are its discovery document's; nothing is fetched to save it.
        let known = |url: &str| google.then(|| url.to_string());
        Some(Self {
            provider: if google { GOOGLE } else { OIDC },
            issuer_alias: google.then_some(GOOGLE_ISSUER_ALIAS),
            issuer: known(GOOGLE_ISSUER).or_else(|| text("issuer"))?,
            authorization_endpoint: known("https://accounts.google.com/o/oauth2/v2/auth")
                .or_else(|| text("authorization_endpoint"))?,
            token_endpoint: known("https://oauth2.googleapis.com/token")
                .or_else(|| text("token_endpoint"))?,
            jwks_uri: known("https://www.googleapis.com/oauth2/v3/certs")
                .or_else(|| text("jwks_uri"))?,
            client_id: text("client_id")?,
            sealed_secret: text(SEALED_SECRET)?,
            scope,
            params,
            secret_in_body: text("token_endpoint_auth_method").as_deref()
                == Some("client_secret_post"),
            link_verified_email: o.get("link_verified_email") == Some(&Value::Bool(true)),
            root_attributes: match text("set_user_root_attributes").as_deref() {
                Some("on_first_login") => RootAttributes::OnFirstLogin,
                _ => RootAttributes::OnEachLogin,
            },
        })
    }
}

/// The options an `oidc` connection accepts, and their checks.
pub struct UpstreamOptions;

impl UpstreamOptions {
    /// The options that hold URLs (each is also checked against the outbound rule).
    pub const URLS: [&'static str; 6] = [
        "issuer",
        "discovery_url",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
    ];

    /// Why `options` cannot be stored for an `oidc` connection, if they cannot: an option
    /// this issuer does not act on is refused rather than kept and ignored.
    pub fn check(options: &Map<String, Value>) -> Option<String> {
        for (name, value) in options {
            let text = value.as_str();
            let why = match name.as_str() {
                "type" => (text != Some("back_channel")).then(|| {
                    "type is back_channel: the code flow with the client secret (front_channel, \
                     an ID token through the browser, is not supported)"
                        .to_string()
                }),
                url if Self::URLS.contains(&url) => match text {
                    Some(u) if u.len() <= 2048 && u.starts_with("http") => None,
                    _ => Some(format!("{url} is an https URL")),
                },
                "client_id" | "client_secret" => match text {
                    Some(s) if (1..=1024).contains(&s.len()) => None,
                    _ => Some(format!("{name} is a string of 1 to 1024 characters")),
                },
                "scope" => match text {
                    Some(s) if s.len() <= 1024 && !s.contains(['"', '\\']) => None,
                    _ => Some("scope is a space-separated string of scopes".into()),
                },
                "upstream_params" => {
                    let ok = value.as_object().is_some_and(|m| {
                        m.len() <= 20
                            && m.iter().all(|(k, v)| {
                                !RESERVED_PARAMS.contains(&k.as_str())
                                    && v.as_object().is_some_and(|o| {
                                        o.len() == 1 && o.get("value").is_some_and(Value::is_string)
                                    })
                            })
                    });
                    (!ok).then(|| {
                        format!(
                            "upstream_params is {{name: {{value: string}}}}, up to 20, none of \
                             {}",
                            RESERVED_PARAMS.join(", ")
                        )
                    })
                }
                "token_endpoint_auth_method" => (!matches!(
                    text,
                    Some("client_secret_basic" | "client_secret_post")
                ))
                .then(|| {
                    "token_endpoint_auth_method is client_secret_basic or client_secret_post".into()
                }),
                "set_user_root_attributes" => {
                    (!matches!(text, Some("on_each_login" | "on_first_login"))).then(|| {
                        "set_user_root_attributes is on_each_login or on_first_login".into()
                    })
                }
                "icon_url" => (!text.is_some_and(|u| u.starts_with("https://")))
                    .then(|| "icon_url is an https URL".into()),
                "link_verified_email" => {
                    (!value.is_boolean()).then(|| "link_verified_email is true or false".into())
                }
                other => Some(format!(
                    "option {other} is not supported; the oidc strategy takes type, issuer, \
                     discovery_url, client_id, client_secret, scope, upstream_params, \
                     authorization_endpoint, token_endpoint, jwks_uri, userinfo_endpoint, \
                     token_endpoint_auth_method, set_user_root_attributes, icon_url, \
                     link_verified_email"
                )),
            };
            if why.is_some() {
                return why;
            }
        }
        None
    }
}

/// The options a `google-oauth2` connection accepts: Auth0's `client_id`, `client_secret`,
/// `scope` (a list, or a string), its `email` and `profile` switches (the scopes they name are
/// asked for anyway), and this issuer's `upstream_params`, `set_user_root_attributes`,
/// `link_verified_email`.
pub fn check_google(options: &Map<String, Value>) -> Option<String> {
    for (name, value) in options {
        let why = match name.as_str() {
            "scope" => {
                let ok = value.is_string()
                    || value
                        .as_array()
                        .is_some_and(|l| l.len() <= 50 && l.iter().all(Value::is_string));
                (!ok).then(|| "scope is a list of scopes, or a space-separated string".into())
            }
            "email" | "profile" => {
                (!value.is_boolean()).then(|| format!("{name} is true or false"))
            }
            "client_id"
            | "client_secret"
            | "upstream_params"
            | "set_user_root_attributes"
            | "link_verified_email" => {
                let mut one = Map::new();
                one.insert(name.clone(), value.clone());
                UpstreamOptions::check(&one)
            }
            other => Some(format!(
                "option {other} is not supported; the google-oauth2 strategy takes client_id, \
                 client_secret, scope, email, profile, upstream_params, \
                 set_user_root_attributes, link_verified_email"
            )),
        };
        if why.is_some() {
            return why;
        }
    }
    None
}

/// Authorization parameters the issuer sets itself: `upstream_params` may not name them.
const RESERVED_PARAMS: [&str; 9] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oidc_options_are_checked_and_unknown_ones_refused() {
        let ok = json!({
            "type": "back_channel",
            "issuer": "https://op.example.com",
            "client_id": "edge",
            "client_secret": "s3cret",
            "scope": "openid email",
            "upstream_params": { "prompt": { "value": "select_account" } },
            "set_user_root_attributes": "on_first_login",
        });
        assert_eq!(UpstreamOptions::check(ok.as_object().unwrap()), None);
        for bad in [
            json!({ "type": "front_channel" }),
            json!({ "issuer": 7 }),
            json!({ "client_secret": "" }),
            json!({ "upstream_params": { "state": { "value": "x" } } }),
            json!({ "upstream_params": { "prompt": "login" } }),
            json!({ "set_user_root_attributes": "never" }),
            json!({ SEALED_SECRET: "x" }),
            json!({ "attribute_map": {} }),
        ] {
            assert!(
                UpstreamOptions::check(bad.as_object().unwrap()).is_some(),
                "{bad}"
            );
        }
    }
}
