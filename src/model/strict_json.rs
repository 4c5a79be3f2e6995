//! JSON read into typed structs with objects only where objects are expected. serde's derived
//! structs also accept a JSON array, member by member in declaration order (`["renamed"]`
//! would set a client's first field); every management body, import row and hook answer goes
//! through [`Strict`], which refuses that, at any depth, with JSON's own words.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses a JSON text into a value, refusing an object that names a member twice (a struct
/// read directly from the text would; a value alone keeps the last).
pub fn parse(text: &[u8]) -> Result<Value, Error> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = Unique.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads any JSON value, refusing repeated member names at any depth.
#[derive(Clone, Copy)]
struct Unique;

impl<'de> DeserializeSeed<'de> for Unique {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(n.into())
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format!("duplicate member `{name}`")));
            }
            let value = map.next_value_seed(self)?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

/// A JSON value deserialized as itself, except that a struct is read from an object only. An
/// error inside an object member or an array item says where: `at <member>.<member>[<index>]:
/// …` (the path a caller needs to mend the body; no other crate is needed for it).
pub struct Strict<'a>(pub &'a Value);

/// `e`, said to be at `segment` (`name` for a member, `[i]` for an item) of the value around it.
fn at(segment: &str, e: Error) -> Error {
    let text = e.to_string();
    let inner = text
        .strip_prefix("at ")
        .and_then(|rest| rest.split_once(": "));
    let message = match inner {
        Some((path, what)) if path.starts_with('[') => format!("at {segment}{path}: {what}"),
        Some((path, what)) => format!("at {segment}.{path}: {what}"),
        None => format!("at {segment}: {text}"),
    };
    de::Error::custom(message)
}

type Error = serde_json::Error;

impl<'de> Deserializer<'de> for Strict<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Items(items.iter().enumerate())),
            Value::Object(members) => visitor.visit_map(Members::new(members)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(members) => visitor.visit_map(Members::new(members)),
            other => Err(de::Error::invalid_type(unexpected(other), &"an object")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Enums here are strings (unit variants); serde_json's own reading of them suffices.
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// The `Unexpected` of a JSON value, for the error message.
fn unexpected(v: &Value) -> de::Unexpected<'_> {
    match v {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

struct Items<'a>(std::iter::Enumerate<std::slice::Iter<'a, Value>>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|(i, v)| {
                seed.deserialize(Strict(v))
                    .map_err(|e| at(&format!("[{i}]"), e))
            })
            .transpose()
    }
}

struct Members<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<(&'a str, &'a Value)>,
}

impl<'a> Members<'a> {
    fn new(members: &'a Map<String, Value>) -> Self {
        Self {
            iter: members.iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Members<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some((k.as_str(), v));
                let key = de::value::BorrowedStrDeserializer::<Error>::new(k.as_str());
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some((k, v)) => seed.deserialize(Strict(v)).map_err(|e| at(k, e)),
            None => Err(de::Error::custom("a value without its member name")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        name: Option<String>,
        inner: Option<Inner>,
        list: Option<Vec<u32>>,
        map: Option<std::collections::BTreeMap<String, Value>>,
    }

    fn read(text: &str) -> Result<Outer, String> {
        let value: Value = serde_json::from_str(text).unwrap();
        Outer::deserialize(Strict(&value)).map_err(|e| e.to_string())
    }

    #[test]
    fn objects_read_as_serde_json_reads_them() {
        let o = read(r#"{"name":"n","inner":{"a":"x"},"list":[1,2],"map":{"k":[1]}}"#).unwrap();
        assert_eq!(o.name.as_deref(), Some("n"));
        assert_eq!(
            o.inner,
            Some(Inner {
                a: Some("x".into())
            })
        );
        assert_eq!(o.list, Some(vec![1, 2]));
        assert!(read(r#"{"list":[1.5]}"#).is_err());
        let nested = read(r#"{"inner":{"a":3}}"#).unwrap_err();
        assert!(nested.starts_with("at inner.a: invalid type"), "{nested}");
        let item = read(r#"{"list":[1,"x"]}"#).unwrap_err();
        assert!(item.starts_with("at list[1]: invalid type"), "{item}");
        assert!(read(r#"{"list":[-1]}"#).is_err());
    }

    #[test]
    fn an_array_where_an_object_is_expected_is_refused_at_any_depth() {
        assert!(parse(br#"{"name":"a","name":"b"}"#).is_err());
        assert!(parse(br#"{"inner":{"a":"x","a":"y"}}"#).is_err());
        assert!(parse(br#"{"a":1} x"#).is_err());
        for text in [
            r#"["renamed"]"#,
            r#"{"inner":["x"]}"#,
            r#"[null, null, null, null]"#,
            "\"s\"",
            "3",
        ] {
            let e = read(text).unwrap_err();
            assert!(e.contains("expected an object"), "{text}: {e}");
        }
    }
}
