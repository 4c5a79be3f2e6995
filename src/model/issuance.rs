//! What a grant decided: who, for which client, API and scopes, and how to refresh.

use super::{
    Api, Authenticated, Client, CustomClaims, GrantType, Organization, Scope, User, UserAccess,
};

/// Whether and how to issue a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshPlan {
    None,
    /// A new family (first issue after a login), whose grant is the issuance's scope.
    NewFamily,
    /// The next token of an existing family (rotation). It carries the family's grant scope
    /// unchanged (RFC 6749 §6), however the access token's scope was narrowed.
    Continue {
        family_id: String,
        absolute_expires_at: u64,
        grant_scope: String,
    },
}

/// A fully validated grant: who, for which client, API and scopes. Nothing is signed or stored
/// before a grant produced one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuance {
    pub grant: GrantType,
    pub client: Client,
    /// The end user; `None` for client_credentials.
    pub user: Option<User>,
    /// The API of the access token; `None` for a token only good at /userinfo.
    pub api: Option<Api>,
    pub scope: Scope,
    /// When the user authenticated.
    pub auth_time: Option<u64>,
    pub nonce: Option<String>,
    /// The browser session of a sign-in (the ID token's `sid`).
    pub session_id: Option<String>,
    pub refresh: RefreshPlan,
    /// The organization the user chose for this grant.
    pub organization: Option<Organization>,
    /// The user's role names (global, and within the organization).
    pub roles: Vec<String>,
    /// The user's permissions on the API (RBAC).
    pub permissions: Vec<String>,
    /// Custom claims from the claims pipeline; empty until it has run.
    pub custom: CustomClaims,
    /// How the user signed in: the ID token's `amr`, the pipeline event's `connection` and
    /// `authentication`. `None` for client_credentials, and for grants from before it was kept.
    pub authenticated: Option<Authenticated>,
    /// The browser request of a sign-in at /authorize, as the pipeline event shows it; `None`
    /// at the token endpoint.
    pub transaction: Option<Transaction>,
}

/// An authorization request as the `post-login` event shows it (Auth0's `event.transaction`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// Auth0's protocol name: `oidc-basic-profile` (code), `oidc-implicit-profile`,
    /// `oidc-hybrid-profile`.
    pub protocol: &'static str,
    pub requested_scopes: Vec<String>,
    pub redirect_uri: String,
    pub response_type: Vec<String>,
    pub response_mode: &'static str,
    pub state: Option<String>,
    pub prompt: Vec<String>,
    pub acr_values: Vec<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Vec<String>,
}

impl Issuance {
    /// A user issuance with no `auth_time`, `nonce` or refresh token yet and no custom claims;
    /// grants fill in what they know with struct update syntax.
    pub fn for_user(
        grant: GrantType,
        client: Client,
        user: User,
        api: Option<Api>,
        scope: Scope,
        organization: Option<Organization>,
        access: UserAccess,
    ) -> Self {
        Self {
            grant,
            client,
            user: Some(user),
            api,
            scope,
            auth_time: None,
            nonce: None,
            session_id: None,
            refresh: RefreshPlan::None,
            organization,
            roles: access.roles,
            permissions: access.permissions,
            custom: CustomClaims::default(),
            authenticated: None,
            transaction: None,
        }
    }

    /// Whether the granted scope contains `s`.
    pub fn has_scope(&self, s: &str) -> bool {
        self.scope.tokens().iter().any(|t| t == s)
    }

    /// `org_id`, and `org_name` when the organization asks for it.
    pub fn org_claims(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        if let Some(org) = &self.organization {
            out.insert("org_id".into(), org.org_id.clone().into());
            if org.token_org_name {
                out.insert("org_name".into(), org.name.clone().into());
            }
        }
        out
    }
}
