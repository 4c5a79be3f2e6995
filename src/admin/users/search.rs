//! The user search of `GET /api/v2/users`: Auth0's `q` (the subset this issuer answers:
//! exact matches joined by `AND`) and `sort`.

use crate::model::{UserFilter, UserSort};

/// Longest `q` accepted.
const MAX_Q_BYTES: usize = 2048;
/// Most terms one `q` may join.
const MAX_TERMS: usize = 10;

/// Reads `q`: `field:"value"` (or `field:value` without spaces), terms joined by ` AND `.
/// Fields: `email`, `user_id`, `name`, `identities.connection` (or `connection`),
/// `blocked`, `email_verified`, and `app_metadata.<key>…` / `user_metadata.<key>…` whose keys
/// are letters, digits, `_` and `-`. Anything else is refused with the reason.
pub fn parse_q(q: &str) -> Result<Vec<UserFilter>, String> {
    if q.len() > MAX_Q_BYTES {
        return Err(format!("q is longer than {MAX_Q_BYTES} bytes"));
    }
    let mut filters = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        if filters.len() == MAX_TERMS {
            return Err(format!("q joins more than {MAX_TERMS} terms"));
        }
        let (field, after) = rest
            .split_once(':')
            .ok_or_else(|| format!("expected field:value in q at \"{rest}\""))?;
        let (value, after) = value(after)?;
        filters.push(filter(field.trim(), value)?);
        rest = after.trim_start();
        if rest.is_empty() {
            break;
        }
        rest = rest
            .strip_prefix("AND ")
            .ok_or_else(|| format!("terms of q are joined by AND, found \"{rest}\""))?
            .trim_start();
        if rest.is_empty() {
            return Err("q ends with AND".into());
        }
    }
    Ok(filters)
}

/// A quoted value (`\"` and `\\` escape) or a bare one up to the next space; and what
/// follows it.
fn value(s: &str) -> Result<(String, &str), String> {
    let Some(quoted) = s.strip_prefix('"') else {
        let end = s.find(' ').unwrap_or(s.len());
        let bare = &s[..end];
        if bare.is_empty() || bare.contains(['"', '*', '(', ')']) {
            return Err(format!("q has an empty or unsupported value at \"{s}\""));
        }
        return Ok((bare.to_string(), &s[end..]));
    };
    let mut out = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &quoted[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                _ => return Err("q has a bad escape in a quoted value".into()),
            },
            c => out.push(c),
        }
    }
    Err("q has an unterminated quoted value".into())
}

fn filter(field: &str, value: String) -> Result<UserFilter, String> {
    let flag = |v: &str| match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{field} is true or false")),
    };
    Ok(match field {
        "email" => UserFilter::Email(crate::model::email::normalize(&value)),
        "user_id" => UserFilter::UserId(value),
        "name" => UserFilter::Name(value),
        "connection" | "identities.connection" => UserFilter::Connection(value),
        "blocked" => UserFilter::Blocked(flag(&value)?),
        "email_verified" => UserFilter::EmailVerified(flag(&value)?),
        _ => {
            let (app, path) = if let Some(p) = field.strip_prefix("app_metadata.") {
                (true, p)
            } else if let Some(p) = field.strip_prefix("user_metadata.") {
                (false, p)
            } else {
                return Err(format!("searching by {field} is not supported"));
            };
            let keys: Vec<String> = path.split('.').map(str::to_string).collect();
            let key_ok = |k: &String| {
                !k.is_empty()
                    && k.len() <= 64
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            };
            if keys.len() > 8 || !keys.iter().all(key_ok) {
                return Err(format!(
                    "{field}: metadata keys are letters, digits, _ and -"
                ));
            }
            UserFilter::Metadata {
                app,
                path: keys,
                value,
            }
        }
    })
}

/// Reads `sort`: `field:1` (ascending) or `field:-1` (descending).
pub fn parse_sort(sort: &str) -> Result<(UserSort, bool), String> {
    let (field, dir) = sort.split_once(':').ok_or("sort is field:1 or field:-1")?;
    let field = UserSort::parse(field).ok_or_else(|| format!("cannot sort by {field}"))?;
    match dir {
        "1" => Ok((field, false)),
        "-1" => Ok((field, true)),
        _ => Err("sort is field:1 or field:-1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(app: bool, path: &[&str], value: &str) -> UserFilter {
        UserFilter::Metadata {
            app,
            path: path.iter().map(|s| s.to_string()).collect(),
            value: value.into(),
        }
    }

    #[test]
    fn terms_quoted_bare_and_joined() {
        assert_eq!(
            parse_q(r#"email:"ada@example.com""#).unwrap(),
            vec![UserFilter::Email("ada@example.com".into())]
        );
        assert_eq!(
            parse_q(r#"app_metadata.plan:"gold plus" AND blocked:false"#).unwrap(),
            vec![
                meta(true, &["plan"], "gold plus"),
                UserFilter::Blocked(false)
            ]
        );
        assert_eq!(
            parse_q(r#"user_metadata.a.b-c:x AND identities.connection:"db""#).unwrap(),
            vec![
                meta(false, &["a", "b-c"], "x"),
                UserFilter::Connection("db".into())
            ]
        );
        assert_eq!(
            parse_q(r#"name:"say \"hi\" \\ ok""#).unwrap(),
            vec![UserFilter::Name(r#"say "hi" \ ok"#.into())]
        );
        assert_eq!(parse_q("  ").unwrap(), vec![]);
    }

    #[test]
    fn what_is_not_supported_is_refused() {
        for bad in [
            "ada",
            "email:",
            r#"email:"open"#,
            "email:a OR name:b",
            "email:a AND",
            "email:a*",
            "phone:1",
            "app_metadata.:x",
            r#"app_metadata.a"b:x"#,
            "app_metadata.a[0]:x",
            "blocked:maybe",
            r#"name:"\n""#,
        ] {
            assert!(parse_q(bad).is_err(), "{bad}");
        }
        let many = ["blocked:true"; 11].join(" AND ");
        assert!(parse_q(&many).is_err());
        assert!(parse_q(&"x".repeat(3000)).is_err());
    }

    #[test]
    fn sort_names_a_field_and_a_direction() {
        assert_eq!(parse_sort("created_at:1"), Ok((UserSort::CreatedAt, false)));
        assert_eq!(parse_sort("email:-1"), Ok((UserSort::Email, true)));
        for bad in ["created_at", "created_at:0", "password_hash:1", ":1"] {
            assert!(parse_sort(bad).is_err(), "{bad}");
        }
    }
}
