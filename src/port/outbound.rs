//! The one rule for every URL the Worker itself calls (hooks now; upstream providers and
//! email webhooks next), checked when the URL is saved and again before each call (OWASP
//! SSRF Prevention): https only; no userinfo; never a link-local, metadata, unspecified,
//! private, shared (CGNAT), multicast or broadcast address, in any spelling a WHATWG URL
//! parser accepts (decimal, hex or octal IPv4, IPv4-mapped and NAT64 IPv6); never a metadata
//! host name (`metadata.google.internal`, `*.internal`, `instance-data`); loopback
//! (`127.0.0.0/8`, `::1`, `localhost`) only when `local` (an issuer on plain http, local
//! development), and plain http then only to loopback. Callers also never follow a redirect. A name that resolves to a private
//! address cannot be checked here (the Worker has no DNS); Cloudflare's `fetch` does not
//! reach private networks.

use crate::error::OutboundError;
use crate::port::hooks::LocalBoxFuture;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One outbound HTTP request. The URL is checked by [`refusal`] before it leaves; a redirect
/// is answered as the 3xx it is, never followed.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    /// `GET` or `POST`.
    pub method: &'static str,
    pub url: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    /// The whole exchange's limit.
    pub timeout_ms: u64,
    /// The longest answer read; a longer one is [`OutboundError::TooLarge`].
    pub max_bytes: usize,
}

/// The answer to a [`Call`], whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The one way out to the network (hooks, upstream providers): in the Worker, `fetch` with
/// [`refusal`], the timeout and the size limit (`edge::http`).
pub trait Http {
    fn call<'a>(&'a self, call: Call<'a>) -> LocalBoxFuture<'a, Result<Answer, OutboundError>>;
}

/// No network: every call fails (deployments and tests with no outbound calls).
pub struct NoHttp;

impl Http for NoHttp {
    fn call<'a>(&'a self, _call: Call<'a>) -> LocalBoxFuture<'a, Result<Answer, OutboundError>> {
        Box::pin(async { Err(OutboundError::NoTransport) })
    }
}

/// Why `url` may not be called, or `None` when it may.
pub fn refusal(url: &str, local: bool) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://").filter(|_| local))
        .or_else(|| {
            let lower = url.get(..8)?.to_ascii_lowercase();
            (lower == "https://").then(|| &url[8..])
        });
    let Some(rest) = rest else {
        return Some("the URL must be https".into());
    };
    // Plain http reaches this machine only (local development), never the network.
    let plain = !url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let only_loopback =
        || Some("plain http is for this machine only (127.0.0.1, localhost)".to_string());
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    if authority.contains('@') || authority.contains('%') {
        return Some("the URL may not carry credentials or escapes in its host".into());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((inner, _)) => {
                let loopback = inner.parse::<Ipv6Addr>().is_ok_and(|ip| {
                    ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                });
                return match v6_refusal(inner, local) {
                    None if plain && !loopback => only_loopback(),
                    other => other,
                };
            }
            None => return Some("the URL's host is malformed".into()),
        }
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Some("the URL has no host".into());
    }
    match whatwg_ipv4(&host) {
        Some(Some(ip)) if plain && !ip.is_loopback() => return only_loopback(),
        Some(Some(ip)) => return v4_refusal(ip, local),
        Some(None) => return Some(format!("{host} is not a valid address")),
        None => {}
    }
    let loopback_name = host == "localhost" || host.ends_with(".localhost");
    if loopback_name && !local {
        return Some("the URL names this machine (localhost)".into());
    }
    if plain && !loopback_name {
        return only_loopback();
    }
    let metadata = ["metadata", "metadata.goog", "instance-data"].contains(&host.as_str())
        || host.ends_with(".internal");
    metadata.then(|| format!("{host} is a cloud metadata or internal name"))
}

/// The IPv4 address a WHATWG URL parser makes of `host`, if it treats it as one (its last
/// label is a number): `Some(None)` for a number that is no valid address.
fn whatwg_ipv4(host: &str) -> Option<Option<Ipv4Addr>> {
    let number = |part: &str| -> Option<u64> {
        let (digits, radix) = match part {
            p if p.starts_with("0x") || p.starts_with("0X") => (&p[2..], 16),
            p if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
            p => (p, 10),
        };
        if digits.is_empty() {
            return Some(0);
        }
        u64::from_str_radix(digits, radix).ok()
    };
    let parts: Vec<&str> = host.split('.').collect();
    number(parts.last()?)?;
    let values: Option<Vec<u64>> = parts.iter().map(|p| number(p)).collect();
    let Some(values) = values.filter(|v| v.len() <= 4) else {
        return Some(None);
    };
    let (last, init) = values.split_last()?;
    if init.iter().any(|v| *v > 255) || *last >= 256u64.pow(5 - values.len() as u32) {
        return Some(None);
    }
    let mut ip = *last;
    for (i, v) in init.iter().enumerate() {
        ip += v << (8 * (3 - i));
    }
    Some(u32::try_from(ip).ok().map(Ipv4Addr::from))
}

fn v4_refusal(ip: Ipv4Addr, local: bool) -> Option<String> {
    let [a, b, ..] = ip.octets();
    let refused = ip.is_unspecified()
        || a == 0
        || ip.is_private()
        || ip.is_link_local()
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b))
        || ip.is_multicast()
        || ip.is_broadcast()
        || a >= 240
        || (ip.is_loopback() && !local);
    refused.then(|| PRIVATE.to_string())
}

/// Why an address is refused. (The address itself is the URL's: formatting it again would
/// cost the Worker the address printers.)
const PRIVATE: &str = "the URL's host is a private, link-local or reserved address";

fn v6_refusal(text: &str, local: bool) -> Option<String> {
    let Ok(ip) = text.parse::<Ipv6Addr>() else {
        return Some("the URL's IPv6 host is malformed".into());
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_refusal(v4, local);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
        return v4_refusal(v4, local);
    }
    let refused = ip.is_unspecified()
        || (ip.is_loopback() && !local)
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xff00) == 0xff00
        || (s[..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback());
    refused.then(|| PRIVATE.to_string())
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn link_local_metadata_private_and_odd_spellings_are_refused() {
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "https://169.254.170.2/v2/credentials",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[::]/",
            "https://[fd00::1]/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://metadata.google.internal./x",
            "https://METADATA.GOOGLE.INTERNAL/",
            "https://instance-data/latest",
            "https://2852039166/",
            "https://0xa9fea9fe/",
            "https://0251.0376.0251.0376/",
            "https://169.254.43518/",
            "https://0.0.0.0/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1:8443/",
            "https://100.64.0.1/",
            "https://127.0.0.1/",
            "https://127.1/",
            "https://[::1]/",
            "https://localhost/",
            "https://api.localhost/",
            "https://user@example.com/",
            "https://example.com%2f@169.254.169.254/",
            "http://example.com/",
            "ftp://example.com/",
            "https://999.1.1.1/",
        ] {
            assert!(refusal(url, false).is_some(), "{url}");
        }
    }

    #[test]
    fn public_hosts_pass_and_loopback_only_in_local_development() {
        for url in [
            "https://hooks.example.com/claims",
            "https://8.8.8.8/x",
            "https://[2606:4700::1111]/",
            "https://example.com:8443/a?b=1",
            "https://1password.com/",
        ] {
            assert_eq!(refusal(url, false), None, "{url}");
        }
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://localhost:9000/",
            "http://[::1]:9000/",
        ] {
            assert!(refusal(url, false).is_some(), "{url}");
            assert_eq!(refusal(url, true), None, "{url}");
        }
        assert!(refusal("http://169.254.169.254/", true).is_some());
        // Plain http only to this machine, even in local development.
        for url in [
            "http://example.com/",
            "http://8.8.8.8/",
            "http://[2606:4700::1111]/",
        ] {
            assert!(refusal(url, true).is_some(), "{url}");
        }
        assert_eq!(refusal("https://hooks.example.com/", true), None);
    }
}
