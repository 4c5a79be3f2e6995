//! What every management route shares: its query string read once (repeats and unknown
//! names refused), Auth0's paging (`page`, `per_page`, `include_totals`, or checkpoint paging
//! with `from` and `take`), field selection (`fields`, `include_fields`) and its timestamps
//! (ISO 8601).
//!
//! A checkpoint (`next`, given back as `from`) is opaque to callers; it names the position
//! after the last row answered. Lists are in insertion order, so rows added meanwhile come
//! after it and a walk sees every row once; a row deleted meanwhile shifts the rest by one.

use super::error::{invalid_query, Reply};
use crate::model::Paging;
use serde_json::{json, Value};

/// The most rows one page holds (Auth0's limit).
pub const MAX_PER_PAGE: u64 = 100;
/// Rows per page when the request names none (Auth0's default).
pub const DEFAULT_PER_PAGE: u64 = 50;

/// A route's query string, percent-decoded, each name at most once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

/// Names any list accepts besides its own.
const COMMON: [&str; 7] = [
    "page",
    "per_page",
    "include_totals",
    "fields",
    "include_fields",
    "from",
    "take",
];

/// A checkpoint as answered in `next`: the offset of the next row, base64url.
fn checkpoint(offset: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(offset.to_string())
}

/// The offset a checkpoint names, if it is one of ours.
fn from_checkpoint(text: &str) -> Option<u64> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

impl Query {
    /// Reads `raw` (without `?`). Names outside `allowed` and the common ones are refused,
    /// as is a name given twice.
    pub fn parse(raw: &str, allowed: &[&str]) -> Result<Self, Reply> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            if !allowed.contains(&name.as_ref()) && !COMMON.contains(&name.as_ref()) {
                return Err(invalid_query(&format!(
                    "Additional properties not allowed: {name}"
                )));
            }
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(invalid_query(&format!("{name} is given more than once")));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A `true`/`false` parameter, `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, Reply> {
        match self.get(name) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(_) => Err(invalid_query(&format!("{name} must be true or false"))),
        }
    }

    /// A whole-number parameter within `0..=max`.
    fn number(&self, name: &str, default: u64, max: u64) -> Result<u64, Reply> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    invalid_query(&format!("{name} must be a number from 0 to {max}"))
                })
            }
        }
    }

    /// Whether the request pages by checkpoint (`from` or `take`).
    fn checkpointed(&self) -> bool {
        self.get("from").is_some() || self.get("take").is_some()
    }

    /// The page asked for: `page` (from 0) of `per_page` rows (1 to 100, default 50), or
    /// `take` rows (1 to 100, default 50) from the checkpoint `from` (the start without it).
    pub fn paging(&self) -> Result<Paging, Reply> {
        if self.checkpointed() {
            if ["page", "per_page", "include_totals"]
                .iter()
                .any(|n| self.get(n).is_some())
            {
                return Err(invalid_query(
                    "from and take (checkpoint paging) cannot be combined with page, per_page or include_totals",
                ));
            }
            let take = self.number("take", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
            if take == 0 {
                return Err(invalid_query("take must be at least 1"));
            }
            let offset = match self.get("from") {
                None | Some("") => 0,
                Some(from) => from_checkpoint(from)
                    .ok_or_else(|| invalid_query("from is not a checkpoint this API gave"))?,
            };
            return Ok(Paging {
                offset,
                limit: take,
            });
        }
        let per_page = self.number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        if per_page == 0 {
            return Err(invalid_query("per_page must be at least 1"));
        }
        let page = self.number("page", 0, 1_000_000)?;
        Ok(Paging {
            offset: page * per_page,
            limit: per_page,
        })
    }

    /// What a list answers: the bare array, or with `include_totals=true` Auth0's envelope
    /// `{start, limit, length, total, <key>: [...]}`, or with checkpoint paging
    /// `{<key>: [...], next}` (`next` only while rows remain); each item cut to the `fields`
    /// asked for.
    pub fn page(&self, key: &str, items: Vec<Value>, total: u64) -> Result<Value, Reply> {
        let paging = self.paging()?;
        let items: Vec<Value> = items
            .into_iter()
            .map(|v| self.select(v))
            .collect::<Result<_, _>>()?;
        if self.checkpointed() {
            let after = paging.offset + items.len() as u64;
            let mut answer = json!({ key: items });
            if after < total {
                answer["next"] = Value::String(checkpoint(after));
            }
            return Ok(answer);
        }
        if !self.flag("include_totals", false)? {
            return Ok(Value::Array(items));
        }
        Ok(json!({
            "start": paging.offset,
            "limit": paging.limit,
            "length": items.len(),
            "total": total,
            key: items,
        }))
    }

    /// [`Query::page`] as a 200 reply (or the query's refusal).
    pub fn reply(&self, key: &str, items: Vec<Value>, total: u64) -> Reply {
        match self.page(key, items, total) {
            Ok(v) => Reply::json(200, &v),
            Err(r) => r,
        }
    }

    /// `item` with only the `fields` asked for (or all but them, with
    /// `include_fields=false`).
    pub fn select(&self, item: Value) -> Result<Value, Reply> {
        let include = self.flag("include_fields", true)?;
        let (Some(fields), Value::Object(map)) = (self.get("fields"), &item) else {
            return Ok(item);
        };
        let names: Vec<&str> = fields.split(',').map(str::trim).collect();
        let kept = crate::model::object(
            map.iter()
                .filter(|(k, _)| names.contains(&k.as_str()) == include)
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Ok(Value::Object(kept))
    }
}

pub use crate::model::log::iso8601;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_796_079_599), "2026-11-30T22:59:59.000Z");
        assert_eq!(iso8601(4_107_542_400), "2100-03-01T00:00:00.000Z");
    }

    #[test]
    fn paging_defaults_limits_and_refusals() {
        let q = Query::parse("", &[]).unwrap();
        assert_eq!(
            q.paging().unwrap(),
            Paging {
                offset: 0,
                limit: 50
            }
        );
        let q = Query::parse("page=2&per_page=10", &[]).unwrap();
        assert_eq!(
            q.paging().unwrap(),
            Paging {
                offset: 20,
                limit: 10
            }
        );
        for bad in [
            "per_page=101",
            "per_page=0",
            "page=-1",
            "page=x",
            "per_page=1.5",
        ] {
            let q = Query::parse(bad, &[]).unwrap();
            assert_eq!(q.paging().unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn checkpoint_paging_walks_every_row_once_and_refuses_mixing() {
        let rows: Vec<Value> = (0..5).map(|i| json!({ "id": i })).collect();
        let mut from: Option<String> = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            let raw = match &from {
                Some(f) => format!("take=2&from={f}"),
                None => "take=2".into(),
            };
            let q = Query::parse(&raw, &[]).unwrap();
            let p = q.paging().unwrap();
            let slice = rows[p.offset as usize..(p.offset + p.limit).min(5) as usize].to_vec();
            let page = q.page("members", slice, 5).unwrap();
            seen.extend(page["members"].as_array().unwrap().iter().cloned());
            match page.get("next").and_then(Value::as_str) {
                Some(next) => from = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, rows);
        for bad in [
            "take=0",
            "take=101",
            "from=%21%21",
            "take=2&page=1",
            "from=&include_totals=true",
        ] {
            let q = Query::parse(bad, &[]).unwrap();
            assert_eq!(q.paging().unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn unknown_and_repeated_names_are_refused() {
        assert_eq!(Query::parse("nope=1", &["q"]).unwrap_err().status, 400);
        assert_eq!(Query::parse("q=a&q=b", &["q"]).unwrap_err().status, 400);
        let q = Query::parse("q=email%3A%22a%40b.c%22", &["q"]).unwrap();
        assert_eq!(q.get("q"), Some("email:\"a@b.c\""));
    }

    #[test]
    fn totals_envelope_and_field_selection() {
        let q = Query::parse("include_totals=true&per_page=2&fields=a,b", &[]).unwrap();
        let items = vec![json!({"a": 1, "b": 2, "c": 3}), json!({"a": 4, "c": 5})];
        let page = q.page("users", items, 7).unwrap();
        assert_eq!(
            page,
            json!({"start": 0, "limit": 2, "length": 2, "total": 7,
                   "users": [{"a": 1, "b": 2}, {"a": 4}]})
        );
        let q = Query::parse("fields=c&include_fields=false", &[]).unwrap();
        let page = q.page("users", vec![json!({"a": 1, "c": 3})], 1).unwrap();
        assert_eq!(page, json!([{"a": 1}]));
        let q = Query::parse("include_totals=yes", &[]).unwrap();
        assert_eq!(q.page("users", vec![], 0).unwrap_err().status, 400);
    }
}
