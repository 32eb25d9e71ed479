//! A pass over the spec text before it is read as a spec: every object key
//! must be unique (serde_json, like most JSON readers, silently keeps the
//! last of two), and no key or string may be longer than
//! [`MAX_STRING_BYTES`]: no spec value (a path, size, label or setting) is
//! longer than `PATH_MAX`, and a longer one would only be echoed back in
//! messages. Problems carry the JSON pointer of the value at fault. The
//! nesting depth is bounded by serde_json's own recursion limit (128).

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Problem, ProblemKind};
use crate::raw::pointer_token;
use crate::values::prefix_within;

/// The longest key or string a spec may hold: `PATH_MAX` less its NUL.
pub const MAX_STRING_BYTES: usize = 4095;

/// Checks `text` (already known to be valid JSON); returns the problems.
pub fn check(text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = Node { pointer: String::new(), problems: &mut problems }.deserialize(&mut de);
    problems
}

struct Node<'p> {
    pointer: String,
    problems: &'p mut Vec<Problem>,
}

impl Node<'_> {
    fn too_long(&mut self, pointer: String, bytes: usize) {
        self.problems.push(Problem { pointer, kind: ProblemKind::TooLong { bytes, max: MAX_STRING_BYTES } });
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(mut self, value: &str) -> Result<(), E> {
        if value.len() > MAX_STRING_BYTES {
            let pointer = std::mem::take(&mut self.pointer);
            self.too_long(pointer, value.len());
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let pointer = format!("{}/{index}", self.pointer);
            if seq.next_element_seed(Node { pointer, problems: &mut *self.problems })?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let pointer = if key.len() > MAX_STRING_BYTES {
                let pointer = format!("{}/{}…", self.pointer, pointer_token(prefix_within(&key, 64)));
                self.too_long(pointer.clone(), key.len());
                pointer
            } else {
                format!("{}/{}", self.pointer, pointer_token(&key))
            };
            if !seen.insert(key) {
                self.problems.push(Problem { pointer: pointer.clone(), kind: ProblemKind::DuplicateKey });
            }
            map.next_value_seed(Node { pointer, problems: &mut *self.problems })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(String, ProblemKind)> {
        check(text).into_iter().map(|p| (p.pointer, p.kind)).collect()
    }

    #[test]
    fn duplicate_keys_are_named_by_pointer() {
        let got = kinds(r#"{"a": 1, "p": [{"x": {"k": 1, "k": 2}}], "a": 2}"#);
        assert_eq!(
            got,
            [("/p/0/x/k".to_string(), ProblemKind::DuplicateKey), ("/a".to_string(), ProblemKind::DuplicateKey)]
        );
    }

    #[test]
    fn long_strings_and_keys_are_refused_without_echo() {
        let long = "x".repeat(MAX_STRING_BYTES + 1);
        let got = kinds(&format!(r#"{{"s": "{long}", "{long}": 1}}"#));
        let too_long = ProblemKind::TooLong { bytes: MAX_STRING_BYTES + 1, max: MAX_STRING_BYTES };
        assert_eq!(got, [("/s".to_string(), too_long.clone()), (format!("/{}…", "x".repeat(64)), too_long)]);
        assert!(kinds(&format!(r#"{{"s": "{}"}}"#, "x".repeat(MAX_STRING_BYTES))).is_empty());
    }
}
