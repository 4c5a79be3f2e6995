//! Standard claims (OIDC Core §5.1) released per scope (§5.4), for ID tokens and /userinfo.

use crate::model::scope::Scope;
use crate::model::User;
use serde_json::{Map, Value};

/// The OIDC scopes this issuer understands, besides API scopes.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

fn put(out: &mut Map<String, Value>, name: &str, value: &Option<String>) {
    if let Some(v) = value {
        out.insert(name.into(), Value::String(v.clone()));
    }
}

/// The user's standard claims that `scope` allows: `profile` → name, given_name,
/// family_name, nickname, picture, updated_at; `email` → email, email_verified. `sub` is not
/// included; callers add it.
pub fn standard_claims(user: &User, scope: &Scope) -> Map<String, Value> {
    let mut out = Map::new();
    let has = |s: &str| scope.tokens().iter().any(|t| t == s);
    if has("profile") {
        put(&mut out, "name", &user.name);
        put(&mut out, "given_name", &user.given_name);
        put(&mut out, "family_name", &user.family_name);
        put(&mut out, "nickname", &user.nickname);
        put(&mut out, "picture", &user.picture);
        out.insert("updated_at".into(), user.updated_at.into());
    }
    if has("email") {
        put(&mut out, "email", &user.email);
        if user.email.is_some() {
            out.insert("email_verified".into(), user.email_verified.into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            user_id: "auth0|1".into(),
            email: Some("a@example.com".into()),
            email_verified: true,
            name: Some("Ada".into()),
            updated_at: 5,
            ..Default::default()
        }
    }

    #[test]
    fn claims_follow_the_scopes() {
        let none = standard_claims(&user(), &Scope::parse("openid").unwrap());
        assert!(none.is_empty());
        let email = standard_claims(&user(), &Scope::parse("openid email").unwrap());
        assert_eq!(email["email"], "a@example.com");
        assert_eq!(email["email_verified"], true);
        assert!(!email.contains_key("name"));
        let profile = standard_claims(&user(), &Scope::parse("profile").unwrap());
        assert_eq!(profile["name"], "Ada");
        assert_eq!(profile["updated_at"], 5);
        assert!(!profile.contains_key("email"));
        assert!(
            !profile.contains_key("nickname"),
            "absent values are left out"
        );
    }
}
