//! A database connection's password policy, from its options as Auth0 names them
//! (`passwordPolicy`, `password_complexity_options`, `password_no_personal_info`,
//! `password_dictionary`), checked on the server wherever a password is set: sign-up, the
//! management API.
//!
//! Lengths: at least 8 characters whatever the level (NIST SP 800-63B §3.1.1.2), so `none`
//! and `low` are stricter here than Auth0's 1 and 6; `excellent` asks 10; `min_length` raises
//! the floor; at most 128 bytes, so hashing stays bounded. With no `passwordPolicy` the level
//! is `none`: NIST advises against composition rules, which `fair`, `good` and `excellent`
//! add for tenants that want Auth0's. Character kinds are ASCII's (a letter outside ASCII
//! counts as a special character) and comparisons ignore ASCII case: the Worker carries no
//! Unicode case tables for this.

use serde_json::{Map, Value};

/// The floor of every level (NIST SP 800-63B §3.1.1.2).
pub const MIN_CHARS: usize = 8;
/// The longest password accepted.
pub const MAX_BYTES: usize = 128;

/// Passwords too common to allow, compared ignoring case (a short list of the most used
/// ones of 8 characters or more; the length floor already refuses the shorter ones).
const COMMON: [&str; 40] = [
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "password1",
    "password123",
    "iloveyou",
    "11111111",
    "00000000",
    "12341234",
    "abcd1234",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "qwerty123",
    "1q2w3e4r",
    "1qaz2wsx",
    "zaq12wsx",
    "trustno1",
    "letmein1",
    "superman",
    "starwars",
    "passw0rd",
    "p@ssw0rd",
    "qwertyui",
    "asdfghjk",
    "computer",
    "whatever",
    "dragon123",
    "monkey123",
    "changeme",
    "987654321",
    "88888888",
    "123123123",
    "admin123",
    "master123",
];

/// The complexity levels of `passwordPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Low,
    /// Lower case, upper case and a digit.
    Fair,
    /// Three of: lower case, upper case, digit, special character.
    Good,
    /// As `good`, at least 10 characters and no character three times in a row.
    Excellent,
}

/// What a connection asks of a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub level: Level,
    pub min_chars: usize,
    /// The password may not contain the email, its local part or the user's names (it may never
    /// be the email itself).
    pub no_personal_info: bool,
    /// `Some` when the dictionary is on: the connection's own words (the built-in list always
    /// applies then).
    pub dictionary: Option<Vec<String>>,
}

/// Why a password does not meet the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    TooShort(usize),
    TooLong,
    /// It lacks the character kinds of the level.
    Composition(Level),
    /// A character three times in a row (`excellent`).
    Repeated,
    PersonalInfo,
    Common,
}

impl PasswordRefusal {
    /// The sentence for the person setting the password (the page and the API say the same).
    pub fn message(&self) -> String {
        match self {
            Self::TooShort(n) => format!("Use a password of at least {n} characters."),
            Self::TooLong => format!("Use a password of at most {MAX_BYTES} characters."),
            Self::Composition(Level::Fair) => {
                "Use lower-case and upper-case letters and a number.".into()
            }
            Self::Composition(_) => "Use three of: lower-case letters, upper-case letters, \
                                     numbers, special characters."
                .into(),
            Self::Repeated => "Do not repeat a character more than twice in a row.".into(),
            Self::PersonalInfo => {
                "Do not use your email address or your name in your password.".into()
            }
            Self::Common => "This password is too common: choose another.".into(),
        }
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            level: Level::None,
            min_chars: MIN_CHARS,
            no_personal_info: false,
            dictionary: None,
        }
    }
}

impl PasswordPolicy {
    /// The names of the levels.
    pub const LEVELS: [&'static str; 5] = ["none", "low", "fair", "good", "excellent"];

    /// The policy of a connection's `options` (checked when they were stored).
    pub fn from_options(options: &Map<String, Value>) -> Self {
        let level = match options.get("passwordPolicy").and_then(Value::as_str) {
            Some("low") => Level::Low,
            Some("fair") => Level::Fair,
            Some("good") => Level::Good,
            Some("excellent") => Level::Excellent,
            _ => Level::None,
        };
        let asked = options
            .get("password_complexity_options")
            .and_then(|o| o.get("min_length"))
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let level_min = if level == Level::Excellent {
            10
        } else {
            MIN_CHARS
        };
        let enabled = |name: &str| {
            options
                .get(name)
                .and_then(|o| o.get("enable"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let dictionary = enabled("password_dictionary").then(|| {
            options["password_dictionary"]
                .get("dictionary")
                .and_then(Value::as_array)
                .map(|words| {
                    words
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default()
        });
        Self {
            level,
            min_chars: asked.max(level_min).min(MAX_BYTES),
            no_personal_info: enabled("password_no_personal_info"),
            dictionary,
        }
    }

    /// Whether `password` meets the policy for a user with `email` and `names`.
    pub fn check(
        &self,
        password: &str,
        email: &str,
        names: &[&str],
    ) -> Result<(), PasswordRefusal> {
        if password.chars().count() < self.min_chars {
            return Err(PasswordRefusal::TooShort(self.min_chars));
        }
        if password.len() > MAX_BYTES {
            return Err(PasswordRefusal::TooLong);
        }
        let kinds = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        let count = kinds.iter().filter(|k| **k).count();
        let composed = match self.level {
            Level::None | Level::Low => true,
            Level::Fair => kinds[0] && kinds[1] && kinds[2],
            Level::Good | Level::Excellent => count >= 3,
        };
        if !composed {
            return Err(PasswordRefusal::Composition(self.level));
        }
        if self.level == Level::Excellent {
            let chars: Vec<char> = password.chars().collect();
            if chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
                return Err(PasswordRefusal::Repeated);
            }
        }
        let lower = password.to_ascii_lowercase();
        // Never the email itself, whatever the options.
        if lower == email.to_ascii_lowercase() {
            return Err(PasswordRefusal::PersonalInfo);
        }
        if self.no_personal_info {
            let email = email.to_ascii_lowercase();
            let local = email.split('@').next().unwrap_or("");
            let personal = [email.as_str(), local]
                .into_iter()
                .map(str::to_string)
                .chain(names.iter().map(|n| n.to_ascii_lowercase()))
                .filter(|p| p.chars().count() >= 3);
            for p in personal {
                if lower.contains(&p) {
                    return Err(PasswordRefusal::PersonalInfo);
                }
            }
        }
        if let Some(words) = &self.dictionary {
            if COMMON.contains(&lower.as_str()) || words.contains(&lower) {
                return Err(PasswordRefusal::Common);
            }
        }
        Ok(())
    }

    /// The rule in words, for the sign-up page to show before anyone submits.
    pub fn describe(&self) -> String {
        let mut out = format!("At least {} characters", self.min_chars);
        match self.level {
            Level::None | Level::Low => {}
            Level::Fair => out.push_str(", with lower-case and upper-case letters and a number"),
            Level::Good | Level::Excellent => out.push_str(
                ", with three of: lower-case letters, upper-case letters, numbers, special characters",
            ),
        }
        if self.level == Level::Excellent {
            out.push_str(", no character three times in a row");
        }
        if self.no_personal_info {
            out.push_str(", and not containing your email address or name");
        } else {
            out.push_str(", and not your email address");
        }
        out.push('.');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: Value) -> PasswordPolicy {
        PasswordPolicy::from_options(v.as_object().unwrap())
    }

    #[test]
    fn each_level_asks_what_it_says() {
        let none = policy(json!({}));
        assert_eq!(none.check("all lower case", "a@b.co", &[]), Ok(()));
        assert_eq!(
            none.check("short", "a@b.co", &[]),
            Err(PasswordRefusal::TooShort(8))
        );
        assert_eq!(
            none.check(&"x".repeat(129), "a@b.co", &[]),
            Err(PasswordRefusal::TooLong)
        );
        let fair = policy(json!({ "passwordPolicy": "fair" }));
        assert!(fair.check("lowercase1", "a@b.co", &[]).is_err());
        assert_eq!(fair.check("Lowercase1", "a@b.co", &[]), Ok(()));
        let good = policy(json!({ "passwordPolicy": "good" }));
        assert!(good.check("lowercase1", "a@b.co", &[]).is_err());
        assert_eq!(good.check("lowercase1!", "a@b.co", &[]), Ok(()));
        let excellent = policy(json!({ "passwordPolicy": "excellent" }));
        assert_eq!(
            excellent.check("Abc1!defg", "a@b.co", &[]),
            Err(PasswordRefusal::TooShort(10))
        );
        assert_eq!(
            excellent.check("Abc1!deeef", "a@b.co", &[]),
            Err(PasswordRefusal::Repeated)
        );
        assert_eq!(excellent.check("Abc1!deefg", "a@b.co", &[]), Ok(()));
        let longer = policy(json!({ "password_complexity_options": { "min_length": 14 } }));
        assert_eq!(longer.min_chars, 14);
        let shorter = policy(json!({ "password_complexity_options": { "min_length": 4 } }));
        assert_eq!(shorter.min_chars, MIN_CHARS, "never under the floor");
    }

    #[test]
    fn personal_info_and_dictionary_words_are_refused_when_on() {
        let p = policy(json!({
            "password_no_personal_info": { "enable": true },
            "password_dictionary": { "enable": true, "dictionary": ["AcmeCorp2026"] },
        }));
        let email = "grace.hopper@example.com";
        assert_eq!(
            p.check("my grace.hopper pw", email, &[]),
            Err(PasswordRefusal::PersonalInfo)
        );
        assert_eq!(
            p.check("Grace.Hopper@Example.com", email, &[]),
            Err(PasswordRefusal::PersonalInfo)
        );
        assert_eq!(
            p.check("loves cobol hopper", email, &["Hopper"]),
            Err(PasswordRefusal::PersonalInfo)
        );
        assert_eq!(
            p.check("PassWord123", email, &[]),
            Err(PasswordRefusal::Common)
        );
        assert_eq!(
            p.check("acmecorp2026", email, &[]),
            Err(PasswordRefusal::Common)
        );
        assert_eq!(p.check("correct horse battery", email, &[]), Ok(()));
        let off = policy(json!({}));
        assert_eq!(off.check("password123", email, &[]), Ok(()));
        assert!(p.describe().contains("not containing your email"));
        assert_eq!(
            off.check("Grace.Hopper@example.com", email, &[]),
            Err(PasswordRefusal::PersonalInfo)
        );
        assert_eq!(
            off.describe(),
            "At least 8 characters, and not your email address."
        );
    }
}
