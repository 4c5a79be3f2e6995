//! What the management API asks of the user directory: a filtered, sorted page of users, and
//! a change to one user, with the metadata merge Auth0's Management API v2 defines.

use super::User;
use serde_json::{Map, Value};

/// Largest `user_metadata` or `app_metadata`, serialized (bytes).
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// One condition of a user search (Auth0's `q`, the subset this issuer answers). Strings are
/// compared exactly, emails ignoring ASCII case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFilter {
    Email(String),
    UserId(String),
    Name(String),
    Connection(String),
    Blocked(bool),
    EmailVerified(bool),
    /// A value inside `app_metadata` (`true`) or `user_metadata` (`false`), by its path of
    /// object keys, equal to the string, or to the JSON number, boolean or null it spells.
    Metadata {
        app: bool,
        path: Vec<String>,
        value: String,
    },
}

impl UserFilter {
    /// Whether `user` meets the condition (the in-memory store; D1 says it in SQL).
    pub fn matches(&self, user: &User) -> bool {
        let eq = |field: &Option<String>, v: &str| field.as_deref() == Some(v);
        match self {
            UserFilter::Email(e) => user
                .email
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(e)),
            UserFilter::UserId(v) => user.user_id == *v,
            UserFilter::Name(v) => eq(&user.name, v),
            UserFilter::Connection(v) => user.connection == *v,
            UserFilter::Blocked(b) => user.blocked == *b,
            UserFilter::EmailVerified(b) => user.email_verified == *b,
            UserFilter::Metadata { app, path, value } => {
                let root = if *app {
                    &user.app_metadata
                } else {
                    &user.user_metadata
                };
                let found = path.iter().try_fold(root, |v, key| v.get(key));
                match found {
                    Some(Value::String(s)) => s == value,
                    Some(other @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        scalar_literal(value).as_deref() == Some(other.to_string().as_str())
                    }
                    _ => false,
                }
            }
        }
    }
}

/// The JSON text of `value` read as a number, boolean or null, if it is one.
pub fn scalar_literal(value: &str) -> Option<String> {
    match crate::model::strict_json::parse(value.as_bytes()) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Some(v.to_string()),
        _ => None,
    }
}

/// What a user list may be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    CreatedAt,
    UpdatedAt,
    LastLogin,
    LoginsCount,
    Email,
    Name,
    UserId,
}

impl UserSort {
    /// The field by its Auth0 name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "created_at" => UserSort::CreatedAt,
            "updated_at" => UserSort::UpdatedAt,
            "last_login" => UserSort::LastLogin,
            "logins_count" => UserSort::LoginsCount,
            "email" => UserSort::Email,
            "name" => UserSort::Name,
            "user_id" => UserSort::UserId,
            _ => return None,
        })
    }

    /// The column it names.
    pub fn column(self) -> &'static str {
        match self {
            UserSort::CreatedAt => "created_at",
            UserSort::UpdatedAt => "updated_at",
            UserSort::LastLogin => "last_login",
            UserSort::LoginsCount => "logins_count",
            UserSort::Email => "email",
            UserSort::Name => "name",
            UserSort::UserId => "user_id",
        }
    }
}

/// A page of a list: `offset` rows skipped, at most `limit` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub offset: u64,
    pub limit: u64,
}

/// A user search: every filter must hold; sorted by `sort` (descending when `descending`),
/// ties (and the default order) broken by insertion order, so a page boundary does not move
/// when users are added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub filters: Vec<UserFilter>,
    pub sort: Option<(UserSort, bool)>,
    pub paging: Paging,
}

/// One page, and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: u64,
}

impl<T> Listed<T> {
    /// The same page with each item converted, or the first failure.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Listed<U>, E> {
        Ok(Listed {
            items: try_each(self.items, f)?,
            total: self.total,
        })
    }
}

/// Each item converted, or the first failure. A loop rather than `collect` into a `Result`:
/// this runs for many item types, and the iterator adapter costs the Worker several times the
/// code of the loop for each.
pub fn try_each<T, U, E>(items: Vec<T>, mut f: impl FnMut(T) -> Result<U, E>) -> Result<Vec<U>, E> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(f(item)?);
    }
    Ok(out)
}

/// A change to one user: each field `Some` is set (`Some(None)` clears a text field); the
/// metadata patches are merged by [`merge_metadata`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub email: Option<Option<String>>,
    pub email_verified: Option<bool>,
    pub name: Option<Option<String>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub nickname: Option<Option<String>>,
    pub picture: Option<Option<String>>,
    pub blocked: Option<bool>,
    /// A new password, hashed.
    pub password_hash: Option<String>,
    pub user_metadata: Option<Map<String, Value>>,
    pub app_metadata: Option<Map<String, Value>>,
}

impl UserChanges {
    /// `user` with the changes made, at `now`.
    pub fn apply(&self, user: &User, now: u64) -> User {
        let mut u = user.clone();
        let set = |field: &mut Option<String>, change: &Option<Option<String>>| {
            if let Some(v) = change {
                field.clone_from(v);
            }
        };
        set(&mut u.email, &self.email);
        set(&mut u.name, &self.name);
        set(&mut u.given_name, &self.given_name);
        set(&mut u.family_name, &self.family_name);
        set(&mut u.nickname, &self.nickname);
        set(&mut u.picture, &self.picture);
        u.email_verified = self.email_verified.unwrap_or(u.email_verified);
        u.blocked = self.blocked.unwrap_or(u.blocked);
        if let Some(hash) = &self.password_hash {
            u.password_hash = Some(hash.clone());
        }
        if let Some(patch) = &self.user_metadata {
            u.user_metadata = merge_metadata(&u.user_metadata, patch);
        }
        if let Some(patch) = &self.app_metadata {
            u.app_metadata = merge_metadata(&u.app_metadata, patch);
        }
        u.updated_at = now;
        u
    }
}

/// Auth0's metadata merge: each top-level property of `patch` replaces the stored one whole
/// (a nested object is not merged into the old one), a property set to `null` is removed, and
/// properties the patch does not name are untouched. Inside a new value, object members set
/// to `null` are dropped (RFC 7396, which D1's `json_patch` applies the same way).
pub fn merge_metadata(stored: &Value, patch: &Map<String, Value>) -> Value {
    let mut merged = match stored {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    for (key, value) in patch {
        merged.remove(key);
        if !value.is_null() {
            merged.insert(key.clone(), without_nulls(value));
        }
    }
    Value::Object(merged)
}

/// `value` with object members set to `null` removed, at every depth (not inside arrays).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(super::object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v))),
        )),
        other => other.clone(),
    }
}

/// Why a metadata document or patch (`field`) cannot be stored, if it cannot: a key empty,
/// with `.` or starting with `$` (Auth0's rule), or more than [`MAX_METADATA_BYTES`]
/// serialized.
pub fn metadata_refusal(field: &str, value: &serde_json::Map<String, Value>) -> Option<String> {
    if let Some(key) = value
        .keys()
        .find(|k| k.contains('.') || k.starts_with('$') || k.is_empty())
    {
        return Some(format!(
            "{field}: the property name \"{key}\" may not be empty, contain '.' or start with '$'"
        ));
    }
    (metadata_bytes(&Value::Object(value.clone())) > MAX_METADATA_BYTES)
        .then(|| format!("{field} is larger than {MAX_METADATA_BYTES} bytes"))
}

/// The serialized size of a metadata document, bytes.
pub fn metadata_bytes(value: &Value) -> usize {
    value.to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn top_level_properties_merge_and_null_removes() {
        let stored = json!({"theme": "dark", "lang": "en", "keep": 1});
        let merged = merge_metadata(&stored, &patch(json!({"theme": "light", "lang": null})));
        assert_eq!(merged, json!({"theme": "light", "keep": 1}));
    }

    #[test]
    fn a_nested_object_is_replaced_whole_not_merged() {
        let stored = json!({"address": {"home": "A", "work": "B"}, "other": {"x": 1}});
        let merged = merge_metadata(&stored, &patch(json!({"address": {"home": "C"}})));
        assert_eq!(merged, json!({"address": {"home": "C"}, "other": {"x": 1}}));
    }

    #[test]
    fn nulls_inside_a_new_object_are_dropped_but_not_inside_arrays() {
        let merged = merge_metadata(&json!({}), &patch(json!({"a": {"b": null, "c": [null]}})));
        assert_eq!(merged, json!({"a": {"c": [null]}}));
    }

    #[test]
    fn an_empty_patch_changes_nothing() {
        let stored = json!({"a": 1});
        assert_eq!(merge_metadata(&stored, &Map::new()), stored);
    }

    #[test]
    fn metadata_filters_match_strings_and_spelled_scalars() {
        let user = User {
            app_metadata: json!({"plan": "gold", "seats": 5, "beta": true, "org": {"id": "o1"}}),
            ..User::default()
        };
        let f = |path: &[&str], value: &str| UserFilter::Metadata {
            app: true,
            path: path.iter().map(|s| s.to_string()).collect(),
            value: value.into(),
        };
        assert!(f(&["plan"], "gold").matches(&user));
        assert!(!f(&["plan"], "Gold").matches(&user));
        assert!(f(&["seats"], "5").matches(&user));
        assert!(f(&["beta"], "true").matches(&user));
        assert!(f(&["org", "id"], "o1").matches(&user));
        assert!(!f(&["org"], "o1").matches(&user));
        assert!(!f(&["missing"], "null").matches(&user));
    }
}
