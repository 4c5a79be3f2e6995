//! The bodies of `POST /api/v2/users` and `PATCH /api/v2/users/{id}` (Auth0's fields; any
//! other field is refused), their checks, and the user as the API shows it.

use super::super::error::{invalid, members, Fields, Reply};
use super::super::list::iso8601;
use crate::model::directory::{metadata_bytes, metadata_refusal};
use crate::model::{User, MAX_METADATA_BYTES};
use crate::oauth::provision::{self, valid_email};
use serde_json::{json, Map, Value};

/// Auth0's `custom_password_hash`.
#[derive(Debug)]
pub struct CustomHash {
    pub algorithm: String,
    pub hash: HashValue,
}

#[derive(Debug)]
pub struct HashValue {
    pub value: String,
    pub encoding: Option<String>,
}

impl CustomHash {
    /// The `custom_password_hash` member of `f`, if given.
    pub(crate) fn read(f: &mut Fields) -> Result<Option<Self>, Reply> {
        const AT: &str = "custom_password_hash";
        let Some(mut h) = f.nested(AT, &["algorithm", "hash"])? else {
            return Ok(None);
        };
        let missing = |name: &str| invalid(&format!("at {AT}: missing field `{name}`"));
        let mut v = h
            .nested("hash", &["value", "encoding"])?
            .ok_or_else(|| missing("hash"))?;
        Ok(Some(Self {
            algorithm: h.text("algorithm")?.ok_or_else(|| missing("algorithm"))?,
            hash: HashValue {
                value: v.text("value")?.ok_or_else(|| missing("hash.value"))?,
                encoding: v.text("encoding")?,
            },
        }))
    }
}

/// `POST /api/v2/users`.
#[derive(Debug)]
pub struct NewUser {
    pub connection: String,
    pub email: String,
    pub email_verified: bool,
    pub password: Option<String>,
    pub custom_password_hash: Option<CustomHash>,
    /// The id after `auth0|`; generated when absent.
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
    pub blocked: bool,
    /// Whether a verification link is sent (Auth0's default: when the email is not
    /// verified).
    pub verify_email: Option<bool>,
}

impl NewUser {
    /// The body, read member by member; any other member is refused.
    pub fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "connection",
                "email",
                "email_verified",
                "verify_email",
                "password",
                "custom_password_hash",
                "user_id",
                "name",
                "given_name",
                "family_name",
                "nickname",
                "picture",
                "user_metadata",
                "app_metadata",
                "blocked",
            ],
        )?;
        let verify_email = f.flag("verify_email")?;
        let required = |v: Option<String>, name: &str| {
            v.ok_or_else(|| invalid(&format!("missing field `{name}`")))
        };
        let custom_password_hash = CustomHash::read(&mut f)?;
        Ok(Self {
            connection: required(f.text("connection")?, "connection")?,
            email: required(f.text("email")?, "email")?,
            email_verified: f.flag("email_verified")?.unwrap_or(false),
            verify_email,
            password: f.text("password")?,
            custom_password_hash,
            user_id: f.text("user_id")?,
            name: f.text("name")?,
            given_name: f.text("given_name")?,
            family_name: f.text("family_name")?,
            nickname: f.text("nickname")?,
            picture: f.text("picture")?,
            user_metadata: f.object("user_metadata")?,
            app_metadata: f.object("app_metadata")?,
            blocked: f.flag("blocked")?.unwrap_or(false),
        })
    }
}

/// `PATCH /api/v2/users/{id}`: each field given is changed; text fields may be `null`.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub verify_email: Option<bool>,
    pub password: Option<String>,
    pub connection: Option<String>,
    pub name: Option<Option<String>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub picture: Option<Option<String>>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
    pub blocked: Option<bool>,
}

impl UserPatch {
    /// The body, read member by member; any other member is refused. A text field `null`
    /// is `Some(None)` (cleared), absent `None`.
    pub fn read(body: &[u8]) -> Result<Self, Reply> {
        let mut f = members(
            body,
            &[
                "email",
                "email_verified",
                "verify_email",
                "password",
                "connection",
                "name",
                "given_name",
                "family_name",
                "nickname",
                "picture",
                "user_metadata",
                "app_metadata",
                "blocked",
            ],
        )?;
        let mut nullable = |name: &str| f.nullable_text(name);
        let (email, name, given_name, family_name, nickname, picture) = (
            nullable("email")?,
            nullable("name")?,
            nullable("given_name")?,
            nullable("family_name")?,
            nullable("nickname")?,
            nullable("picture")?,
        );
        Ok(Self {
            email,
            email_verified: f.flag("email_verified")?,
            verify_email: f.flag("verify_email")?,
            password: f.text("password")?,
            connection: f.text("connection")?,
            name,
            given_name,
            family_name,
            nickname,
            picture,
            user_metadata: f.object("user_metadata")?,
            app_metadata: f.object("app_metadata")?,
            blocked: f.flag("blocked")?,
        })
    }
}

impl UserPatch {
    /// Whether the patch changes anything but `user_metadata` (what a user may change about
    /// themselves).
    pub fn beyond_user_metadata(&self) -> bool {
        let UserPatch {
            email,
            email_verified,
            verify_email,
            password,
            connection,
            name,
            given_name,
            family_name,
            nickname,
            picture,
            user_metadata: _,
            app_metadata,
            blocked,
        } = self;
        email.is_some()
            || email_verified.is_some()
            || verify_email.is_some()
            || password.is_some()
            || connection.is_some()
            || [name, given_name, family_name, nickname, picture]
                .iter()
                .any(|f| f.is_some())
            || app_metadata.is_some()
            || blocked.is_some()
    }
}

/// Checks the fields both bodies share (the provisioning path's checks, in the API's words).
pub fn check_profile(
    email: Option<&str>,
    texts: &[(&'static str, Option<&str>)],
    picture: Option<&str>,
) -> Result<(), Reply> {
    if let Some(email) = email {
        if !valid_email(email) {
            return Err(invalid(&format!(
                "Object didn't pass validation for format email: {email}"
            )));
        }
    }
    provision::check_profile(texts, picture).map_err(|r| match r {
        provision::Refused::Field(_, why) => invalid(&why),
        _ => invalid("the profile cannot be checked"),
    })
}

/// Checks a metadata document or patch ([`crate::model::directory::metadata_refusal`]).
pub fn check_metadata(field: &str, value: &Map<String, Value>) -> Result<(), Reply> {
    match metadata_refusal(field, value) {
        Some(why) => Err(invalid(&why)),
        None => Ok(()),
    }
}

/// Checks the size of a whole metadata document.
pub fn check_metadata_size(field: &str, value: &Value) -> Result<(), Reply> {
    if metadata_bytes(value) > MAX_METADATA_BYTES {
        return Err(invalid(&format!(
            "{field} is larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The user as the API shows it (Auth0's shape): never the password hash.
pub fn view(u: &User) -> Value {
    let mut v = json!({
        "user_id": u.user_id,
        "email": u.email,
        "email_verified": u.email_verified,
        "user_metadata": u.user_metadata,
        "app_metadata": u.app_metadata,
        "blocked": u.blocked,
        "created_at": iso8601(u.created_at),
        "updated_at": iso8601(u.updated_at),
        "logins_count": u.logins_count,
        "identities": u.identities,
    });
    let optional = [
        ("name", &u.name),
        ("given_name", &u.given_name),
        ("family_name", &u.family_name),
        ("nickname", &u.nickname),
        ("picture", &u.picture),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            v[field] = json!(value);
        }
    }
    if let Some(t) = u.last_login {
        v["last_login"] = json!(iso8601(t));
    }
    if !u.multifactor.is_empty() {
        v["multifactor"] = json!(u.multifactor);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_wrong_types_are_refused() {
        for body in [
            r#"{"connection":"c","email":"a@b.co","role":"admin"}"#,
            r#"{"connection":"c","email":42}"#,
            r#"{"connection":"c","email":"a@b.co","blocked":"yes"}"#,
            r#"{"connection":"c","email":"a@b.co","user_metadata":[1]}"#,
            r#"{"email":"a@b.co"}"#,
        ] {
            let r = NewUser::read(body.as_bytes()).unwrap_err();
            assert_eq!(r.status, 400, "{body}");
            assert_eq!(r.body["errorCode"], "invalid_body", "{body}");
        }
        assert!(UserPatch::read(br#"{"password_hash":"x"}"#).is_err());
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        let p = UserPatch::read(br#"{"name":null,"nickname":"n"}"#).unwrap();
        assert_eq!(p.name, Some(None));
        assert_eq!(p.nickname, Some(Some("n".into())));
        assert_eq!(p.given_name, None);
        assert!(p.beyond_user_metadata());
        let p = UserPatch::read(br#"{"user_metadata":{"a":1}}"#).unwrap();
        assert!(!p.beyond_user_metadata());
        let p = UserPatch::read(br#"{"user_metadata":{},"app_metadata":{}}"#).unwrap();
        assert!(p.beyond_user_metadata());
    }

    #[test]
    fn bad_emails_urls_and_metadata_are_refused() {
        assert!(check_profile(Some("nope"), &[], None).is_err());
        assert!(check_profile(None, &[], Some("javascript:alert(1)")).is_err());
        assert!(check_profile(None, &[], Some("https://x.example/a b")).is_err());
        assert!(check_profile(None, &[("name", Some(""))], None).is_err());
        assert!(check_profile(
            Some("a@b.co"),
            &[("name", Some("Ada"))],
            Some("https://x.example/p.png")
        )
        .is_ok());
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert!(check_metadata("user_metadata", &m(json!({"a.b": 1}))).is_err());
        assert!(check_metadata("user_metadata", &m(json!({"$set": 1}))).is_err());
        assert!(
            check_metadata("user_metadata", &m(json!({"big": "x".repeat(16 * 1024)}))).is_err()
        );
        assert!(check_metadata("user_metadata", &m(json!({"ok": {"a.b": 1}}))).is_ok());
    }

    #[test]
    fn the_view_never_shows_the_password_hash() {
        let u = User {
            user_id: "auth0|abc".into(),
            connection: "db".into(),
            password_hash: Some("$2b$secret".into()),
            last_login: Some(0),
            identities: vec![crate::model::Identity {
                connection: "db".into(),
                provider: "auth0".into(),
                user_id: "abc".into(),
                is_social: false,
                profile_data: Default::default(),
            }],
            ..User::default()
        };
        let v = view(&u);
        assert!(!v.to_string().contains("secret"));
        assert_eq!(v["identities"][0]["user_id"], "abc");
        assert_eq!(v["identities"][0]["provider"], "auth0");
        assert_eq!(v["identities"][0]["isSocial"], false);
        assert!(v["identities"][0].get("profileData").is_none());
        assert_eq!(v["last_login"], "1970-01-01T00:00:00.000Z");
    }
}
