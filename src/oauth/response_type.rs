//! `response_type` at the authorization endpoint (OAuth 2.0 Multiple Response Type Encoding
//! Practices §3, §5; OIDC Core §3.1, §3.2, §3.3): which of `code`, `id_token` and `token` the
//! authorization response carries. `code` is the authorization code flow; any type with
//! `id_token` or `token` sends tokens through the browser (implicit: `id_token`,
//! `id_token token`; hybrid: `code id_token`, `code token`, `code id_token token`), which only
//! a client allowed the `implicit` grant may ask for (RFC 9700 §2.1.2 advises against it).

/// A parsed `response_type`: its values in any order, each once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    /// The types this issuer serves, as discovery lists them.
    pub const SUPPORTED: [&'static str; 6] = [
        "code",
        "id_token",
        "id_token token",
        "code id_token",
        "code token",
        "code id_token token",
    ];

    /// Parses a space-separated `response_type`; `None` for anything but the six supported
    /// combinations (a value repeated or unknown, `token` alone, `none`).
    pub fn parse(value: &str) -> Option<Self> {
        let mut out = Self::default();
        for v in value.split(' ') {
            let seen = match v {
                "code" => &mut out.code,
                "id_token" => &mut out.id_token,
                "token" => &mut out.token,
                _ => return None,
            };
            if *seen {
                return None;
            }
            *seen = true;
        }
        let token_alone = out.token && !out.code && !out.id_token;
        (out != Self::default() && !token_alone).then_some(out)
    }

    /// Its values, in the canonical order (`code`, `id_token`, `token`).
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.code, "code"),
            (self.id_token, "id_token"),
            (self.token, "token"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// Whether tokens travel in the authorization response (implicit and hybrid).
    pub fn front_channel(self) -> bool {
        self.id_token || self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_types_parse_in_any_order_and_nothing_else() {
        for t in ResponseType::SUPPORTED {
            assert!(ResponseType::parse(t).is_some(), "{t}");
            let reversed: Vec<&str> = t.split(' ').rev().collect();
            assert_eq!(
                ResponseType::parse(&reversed.join(" ")),
                ResponseType::parse(t)
            );
        }
        for bad in [
            "",
            "token",
            "none",
            "code code",
            "id_token  token",
            "Code",
            "code x",
        ] {
            assert_eq!(ResponseType::parse(bad), None, "{bad:?}");
        }
        let hybrid = ResponseType::parse("code id_token token").unwrap();
        assert!(hybrid.code && hybrid.id_token && hybrid.token && hybrid.front_channel());
        assert!(!ResponseType::parse("code").unwrap().front_channel());
    }
}
