//! `multipart/form-data` bodies (RFC 7578), as Auth0's import upload sends them: each part's
//! name and bytes. Only what the import needs: no nested multiparts, no transfer encodings.

/// One part: its `name` and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub body: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 70).then_some(v)
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The parts of `body`, or why it is not a well-formed form.
pub fn parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, String> {
    let delimiter = format!("--{boundary}");
    let next = format!("\r\n--{boundary}");
    let start = find(body, delimiter.as_bytes()).ok_or("no boundary in the body")?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a boundary line does not end")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("a part has no header end")?;
        let head =
            std::str::from_utf8(&rest[..head_end]).map_err(|_| "a part header is not UTF-8")?;
        let content = &rest[head_end + 4..];
        let end = find(content, next.as_bytes()).ok_or("a part does not end")?;
        let name = head
            .split("\r\n")
            .filter(|line| {
                line.split_once(':')
                    .is_some_and(|(h, _)| h.trim().eq_ignore_ascii_case("content-disposition"))
            })
            .flat_map(|line| line.split(';'))
            .find_map(|p| {
                p.trim()
                    .strip_prefix("name=")
                    .map(|n| n.trim_matches('"').to_string())
            })
            .ok_or("a part has no name")?;
        parts.push(Part {
            name,
            body: &content[..end],
        });
        rest = &content[end + next.len()..];
        if parts.len() > 20 {
            return Err("too many parts".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_shaped_form_is_read() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"users\"; filename=\"u.json\"\r\nContent-Type: application/json\r\n\r\n[{\"email\":\"a@b.co\"}]\r\n--XyZ\r\nContent-Disposition: form-data; name=\"upsert\"\r\n\r\ntrue\r\n--XyZ--\r\n";
        let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
        let p = parts(body, b).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "users");
        assert_eq!(p[0].body, b"[{\"email\":\"a@b.co\"}]");
        assert_eq!((p[1].name.as_str(), p[1].body), ("upsert", &b"true"[..]));
    }

    #[test]
    fn malformed_forms_are_refused_not_panics() {
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
        for body in [
            &b""[..],
            b"--B",
            b"--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--",
            b"--B\r\nno end",
            b"--B\r\n\r\n\r\nx",
        ] {
            assert!(
                parts(body, "B").is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
