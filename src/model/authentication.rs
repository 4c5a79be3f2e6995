//! How a user proved who they are, as a sign-in's session, codes and refresh tokens keep it.

use serde::{Deserialize, Serialize};

/// The connection a user signed in through and the methods they proved (RFC 8176 `amr`
/// values, such as `pwd`), in the order proven.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticated {
    /// The connection's name.
    pub connection: String,
    pub methods: Vec<String>,
}

impl Authenticated {
    /// A password of `connection`.
    pub fn password(connection: &str) -> Self {
        Self {
            connection: connection.to_string(),
            methods: vec![Method::PASSWORD.into()],
        }
    }

    /// The stored form: the two columns `connection` and `amr` (space-separated).
    pub fn columns(this: Option<&Self>) -> (Option<String>, Option<String>) {
        match this {
            Some(a) => (Some(a.connection.clone()), Some(a.methods.join(" "))),
            None => (None, None),
        }
    }

    /// From the two stored columns; `None` for rows stored before they existed.
    pub fn from_columns(connection: Option<String>, amr: Option<String>) -> Option<Self> {
        Some(Self {
            connection: connection?,
            methods: amr?
                .split(' ')
                .filter(|m| !m.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// RFC 8176 authentication method reference values this issuer reports.
pub struct Method;

impl Method {
    /// A password.
    pub const PASSWORD: &'static str = "pwd";
}
