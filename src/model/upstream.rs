//! Upstream identity providers: connections whose users sign in at another provider and come
//! back with its answer. The `oidc` strategy is any OpenID provider (code flow with PKCE, the
//! ID token verified against the provider's keys). Options keep Auth0's names, so an admin
//! script written for Auth0 creates the same connection here.

use super::Connection;
use serde_json::{Map, Value};

/// Any OpenID provider.
pub const OIDC: &str = "oidc";

/// Any OAuth 2.0 provider that answers who the access token's user is at a userinfo URL.
pub const OAUTH2: &str = "oauth2";

/// Google, an OpenID provider whose endpoints are known (Auth0's `google-oauth2`).
pub const GOOGLE: &str = "google-oauth2";

/// GitHub (OAuth 2.0, not OpenID): the user and the user's emails from its API.
pub const GITHUB: &str = "github";

/// Sign in with Apple: an OpenID provider whose client secret is a short-lived JWT signed
/// with the team's key, and whose answer comes as a form post.
pub const APPLE: &str = "apple";

/// Apple's issuer and audience of the client secret JWT.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

/// Google's issuer, and the other spelling its ID tokens may carry (Google's OpenID Connect
/// documentation: `https://accounts.google.com` or `accounts.google.com`).
const GOOGLE_ISSUER: &str = "https://accounts.google.com";
const GOOGLE_ISSUER_ALIAS: &str = "accounts.google.com";

/// The option that holds the client secret, sealed under the key-encryption key with the
/// connection's id. Never accepted from a request and never shown.
pub const SEALED_SECRET: &str = "client_secret_sealed";

/// The endpoints an `oidc` connection needs: given, or found by discovery and stored.
pub const ENDPOINTS: [&str; 3] = ["authorization_endpoint", "token_endpoint", "jwks_uri"];

/// The profile fields an `oauth2` connection's `profile_map` may name, and the member of the
/// userinfo answer each is read from when it does not (`user_id`: `sub`, else `id`).
pub const PROFILE_FIELDS: [&str; 8] = [
    "user_id",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "nickname",
    "picture",
];

/// Which profile fields a returning user's sign-in writes over (Auth0's
/// `set_user_root_attributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootAttributes {
    /// The provider's profile replaces the user's on each login (the default).
    OnEachLogin,
    /// Only the first login sets them; later changes are the tenant's.
    OnFirstLogin,
}

/// How the provider's answer proves who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// An OpenID provider's ID token, issued by `issuer` (or its other spelling `alias`) and
    /// signed by a key of `jwks_uri`.
    IdToken {
        issuer: String,
        alias: Option<&'static str>,
        jwks_uri: String,
    },
    /// A plain OAuth 2.0 provider: the profile its `userinfo` URL answers for the access
    /// token, its members renamed by `map` (profile field, member path), and for GitHub the
    /// primary email from `emails`, with whether the provider verified it.
    Profile {
        userinfo: String,
        emails: Option<String>,
        map: Vec<(String, String)>,
    },
}

/// A client secret made at each code redemption: a JWT signed (ES256) with the key sealed as
/// the connection's secret (Apple's: `iss` the team, `kid` the key's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedSecret {
    pub team_id: String,
    pub key_id: String,
}

/// What a sign-in through an upstream connection needs, read from its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// The identities' provider: `oidc` and `oauth2` (ids `<connection>|<id>`), or a social
    /// provider (`google-oauth2`, `github`: ids the provider's own).
    pub provider: &'static str,
    pub proof: Proof,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    /// The sealed client secret ([`SEALED_SECRET`]).
    pub sealed_secret: String,
    /// The scopes asked for (`openid` always among them for an OpenID provider).
    pub scope: String,
    /// Fixed extra authorization parameters (`upstream_params`: `{name: {value}}`).
    pub params: Vec<(String, String)>,
    /// `client_secret_post` (else `client_secret_basic`, RFC 6749 §2.3.1's default).
    pub secret_in_body: bool,
    pub root_attributes: RootAttributes,
    /// `link_verified_email`: a first sign-in whose email the provider marks verified joins
    /// the one user here with that email, also verified, instead of making a new user.
    pub link_verified_email: bool,
    /// `store_idp_tokens`: the provider's tokens are kept, sealed, on the identity.
    pub store_tokens: bool,
    /// Apple's: the sealed secret is a private key, and the client secret a JWT it signs.
    pub signed_secret: Option<SignedSecret>,
}

/// GitHub's scopes by the switches Auth0's `github` connection takes, `switch scope` pairs.
const GITHUB_SWITCHES: &str = "email user:email,read_user read:user,follow user:follow,\
    public_repo public_repo,repo repo,repo_deployment repo_deployment,repo_status repo:status,\
    delete_repo delete_repo,notifications notifications,gist gist,read_repo_hook \
    read:repo_hook,write_repo_hook write:repo_hook,admin_repo_hook admin:repo_hook,read_org \
    read:org,write_org write:org,admin_org admin:org,read_public_key read:public_key,\
    write_public_key write:public_key,admin_public_key admin:public_key";

/// GitHub's scope for the switch `name`, if it is one (`profile` asks for none).
fn github_scope(name: &str) -> Option<&'static str> {
    GITHUB_SWITCHES
        .split(',')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix(' '))
}

impl Upstream {
    /// Whether `iss` names this provider (the ID token's `iss`, RFC 9207's): its issuer, a
    /// trailing `/` aside, or its other spelling. A provider without an issuer (plain OAuth
    /// 2.0) is told apart by its redirect URI alone.
    pub fn is_issuer(&self, iss: &str) -> bool {
        match &self.proof {
            Proof::IdToken { issuer, alias, .. } => {
                iss.trim_end_matches('/') == issuer.trim_end_matches('/') || Some(iss) == *alias
            }
            Proof::Profile { .. } => true,
        }
    }

    /// Whether the identities' ids are qualified by the connection (any OpenID or OAuth 2.0
    /// provider) rather than the provider's own (a social provider).
    pub fn qualified(&self) -> bool {
        self.provider == OIDC || self.provider == OAUTH2
    }

    /// The upstream configuration of `connection`, if it is an upstream connection whose
    /// options are complete.
    pub fn of(connection: &Connection) -> Option<Self> {
        let provider = [OIDC, OAUTH2, GOOGLE, GITHUB, APPLE]
            .into_iter()
            .find(|p| *p == connection.strategy)?;
        let o = &connection.options;
        let text = |name: &str| o.get(name).and_then(Value::as_str).map(str::to_string);
        // Auth0 sends social scopes as a list.
        let listed = o.get("scope").and_then(Value::as_array).map(|l| {
            let names: Vec<&str> = l.iter().filter_map(Value::as_str).collect();
            names.join(" ")
        });
        let mut scope = listed.or_else(|| text("scope")).unwrap_or_else(|| {
            match provider {
                GITHUB => "read:user user:email",
                OAUTH2 => "",
                APPLE => "name email",
                _ => "openid profile email",
            }
            .into()
        });
        let mut params: Vec<(String, String)> = o
            .get("upstream_params")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.get("value")?.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let (authorization_endpoint, token_endpoint, proof) = match provider {
            // Google's endpoints are its discovery document's; nothing is fetched to save it.
            GOOGLE => (
                "https://accounts.google.com/o/oauth2/v2/auth".into(),
                "https://oauth2.googleapis.com/token".into(),
                Proof::IdToken {
                    issuer: GOOGLE_ISSUER.into(),
                    alias: Some(GOOGLE_ISSUER_ALIAS),
                    jwks_uri: "https://www.googleapis.com/oauth2/v3/certs".into(),
                },
            ),
            // Apple answers with a form post whenever a scope is asked (its documentation).
            APPLE => {
                params.push(("response_mode".into(), "form_post".into()));
                (
                    "https://appleid.apple.com/auth/authorize".into(),
                    "https://appleid.apple.com/auth/token".into(),
                    Proof::IdToken {
                        issuer: APPLE_ISSUER.into(),
                        alias: None,
                        jwks_uri: "https://appleid.apple.com/auth/keys".into(),
                    },
                )
            }
            OIDC => (
                text("authorization_endpoint")?,
                text("token_endpoint")?,
                Proof::IdToken {
                    issuer: text("issuer")?,
                    alias: None,
                    jwks_uri: text("jwks_uri")?,
                },
            ),
            // github.com, or a GitHub Enterprise Server (its API under /api/v3).
            GITHUB => {
                let (site, api) = match text("enterprise_url") {
                    Some(url) => {
                        let url = url.trim_end_matches('/').to_string();
                        (url.clone(), format!("{url}/api/v3"))
                    }
                    None => ("https://github.com".into(), "https://api.github.com".into()),
                };
                let map = [
                    ("user_id", "id"),
                    ("nickname", "login"),
                    ("picture", "avatar_url"),
                ];
                (
                    format!("{site}/login/oauth/authorize"),
                    format!("{site}/login/oauth/access_token"),
                    Proof::Profile {
                        userinfo: format!("{api}/user"),
                        emails: Some(format!("{api}/user/emails")),
                        map: map.map(|(f, m)| (f.into(), m.into())).into(),
                    },
                )
            }
            _ => (
                text("authorizationURL")?,
                text("tokenURL")?,
                Proof::Profile {
                    userinfo: text("userinfo_endpoint")?,
                    emails: None,
                    map: o
                        .get("profile_map")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                                .collect()
                        })
                        .unwrap_or_default(),
                },
            ),
        };
        if provider == GITHUB {
            for (name, _) in o.iter().filter(|(_, v)| **v == Value::Bool(true)) {
                if let Some(s) = github_scope(name).filter(|s| !scope.split(' ').any(|x| x == *s)) {
                    scope = format!("{scope} {s}");
                }
            }
        }
        if provider == APPLE {
            // Auth0's switches turn Apple's two scopes off.
            let off = |name: &str| o.get(name) == Some(&Value::Bool(false));
            let kept: Vec<&str> = scope.split(' ').filter(|s| !off(s)).collect();
            scope = kept.join(" ");
        } else if matches!(proof, Proof::IdToken { .. }) && !scope.split(' ').any(|s| s == "openid")
        {
            scope = format!("openid {scope}");
        }
        let signed_secret = match provider {
            APPLE => Some(SignedSecret {
                team_id: text("team_id")?,
                key_id: text("kid")?,
            }),
            _ => None,
        };
        Some(Self {
            provider,
            proof,
            authorization_endpoint,
            token_endpoint,
            client_id: text("client_id")?,
            sealed_secret: text(SEALED_SECRET)?,
            scope: scope.trim().to_string(),
            params,
            // GitHub and Apple take the client's credentials in the body.
            secret_in_body: provider == GITHUB
                || provider == APPLE
                || text("token_endpoint_auth_method").as_deref() == Some("client_secret_post"),
            link_verified_email: o.get("link_verified_email") == Some(&Value::Bool(true)),
            store_tokens: o.get("store_idp_tokens") == Some(&Value::Bool(true)),
            signed_secret,
            root_attributes: match text("set_user_root_attributes").as_deref() {
                Some("on_first_login") => RootAttributes::OnFirstLogin,
                _ => RootAttributes::OnEachLogin,
            },
        })
    }
}

/// The options of the upstream strategies, and their checks.
pub struct UpstreamOptions;

impl UpstreamOptions {
    /// The options that hold URLs (each is also checked against the outbound rule).
    pub const URLS: [&'static str; 9] = [
        "issuer",
        "discovery_url",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "authorizationURL",
        "tokenURL",
        "enterprise_url",
    ];

    /// The options every upstream strategy takes.
    const COMMON: &'static str = "client_id, client_secret, scope, upstream_params, \
        set_user_root_attributes, link_verified_email, store_idp_tokens, icon_url";

    /// The options `strategy` takes besides [`Self::COMMON`] (and GitHub's scope switches).
    fn own(strategy: &str) -> &'static str {
        match strategy {
            OIDC => {
                "type, issuer, discovery_url, authorization_endpoint, token_endpoint, \
                jwks_uri, userinfo_endpoint, token_endpoint_auth_method"
            }
            OAUTH2 => {
                "authorizationURL, tokenURL, userinfo_endpoint, profile_map, \
                token_endpoint_auth_method"
            }
            GOOGLE => "email, profile",
            APPLE => "app_secret, team_id, kid, name, email",
            GITHUB => {
                "enterprise_url, profile, and the scope switches (email, read_user, \
                read_org, repo, ...)"
            }
            _ => "",
        }
    }

    /// Why `options` cannot be stored for a `strategy` connection, if they cannot: an option
    /// this issuer does not act on is refused rather than kept and ignored.
    pub fn check(strategy: &str, options: &Map<String, Value>) -> Option<String> {
        let own = Self::own(strategy);
        for (name, value) in options {
            let text = value.as_str();
            let known = Self::COMMON
                .split(", ")
                .chain(own.split(", "))
                .any(|t| t == name)
                || (strategy == GITHUB && github_scope(name).is_some());
            if !known {
                return Some(match name.as_str() {
                    "scripts" if strategy == OAUTH2 => "scripts do not run here: give \
                        userinfo_endpoint and, where its members are named otherwise, \
                        profile_map"
                        .into(),
                    other => format!(
                        "option {other} is not supported; the {strategy} strategy takes {}, {own}",
                        Self::COMMON
                    ),
                });
            }
            let why = match name.as_str() {
                "client_secret" if strategy == APPLE => Some(
                    "apple takes app_secret (the .p8 key Apple gives), team_id and kid, not \
                     client_secret"
                        .into(),
                ),
                "team_id" | "kid" => (!text.is_some_and(|s| (1..=64).contains(&s.len())))
                    .then(|| format!("{name} is a string of 1 to 64 characters")),
                "app_secret" => text
                    .is_none_or(|s| s.len() > 4096)
                    .then(|| "app_secret is the PEM text of the .p8 key".into()),
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
                "scope" => {
                    let fits = |s: &str| s.len() <= 1024 && !s.contains(['"', '\\']);
                    let ok = text.is_some_and(fits)
                        || value.as_array().is_some_and(|l| {
                            l.len() <= 50 && l.iter().all(|v| v.as_str().is_some_and(fits))
                        });
                    (!ok).then(|| "scope is a list of scopes, or a space-separated string".into())
                }
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
                "profile_map" => {
                    let ok = value.as_object().is_some_and(|m| {
                        m.iter().all(|(k, v)| {
                            PROFILE_FIELDS.contains(&k.as_str())
                                && v.as_str().is_some_and(|p| (1..=200).contains(&p.len()))
                        })
                    });
                    (!ok).then(|| {
                        format!(
                            "profile_map is {{field: member}}, the member a name (or a.b path) \
                             in the userinfo answer, the field one of {}",
                            PROFILE_FIELDS.join(", ")
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
                // The switches (Google's email and profile, GitHub's scopes).
                _ => (!value.is_boolean()).then(|| format!("{name} is true or false")),
            };
            if why.is_some() {
                return why;
            }
        }
        None
    }
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
        assert_eq!(UpstreamOptions::check(OIDC, ok.as_object().unwrap()), None);
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
                UpstreamOptions::check(OIDC, bad.as_object().unwrap()).is_some(),
                "{bad}"
            );
        }
    }
}
