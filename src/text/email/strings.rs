//! Whether any string of a value holds an address, asked of the value's `Serialize` without
//! building anything: what [`super::mask_issue`] asks before it turns an issue into a JSON
//! tree, masks it and reads it back, which most issues (no address anywhere) need not pay.
//!
//! The serializer sees what `serde_json::to_value` would make strings or object keys of:
//! every string and char, map keys, struct and variant field names, unit variant names.

use std::fmt;

use serde::ser::{self, Serialize};

/// Whether [`super::mask_emails`] would change any string or key of `value` as
/// `serde_json::to_value` would see it. True too when `value` fails to serialise, so that
/// the caller's own serialisation decides.
pub(super) fn holds_address<T: Serialize + ?Sized>(value: &T) -> bool {
    value.serialize(Finder).is_err()
}

/// Stops the walk: an address was found, or the value's `Serialize` failed.
#[derive(Debug)]
struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address, or an error")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop
    }
}

type Done = Result<(), Stop>;

fn text(s: &str) -> Done {
    match super::mask_emails(s) {
        std::borrow::Cow::Borrowed(_) => Ok(()),
        std::borrow::Cow::Owned(_) => Err(Stop),
    }
}

/// The serializer: every method checks the strings it is given and walks what it holds.
struct Finder;

impl ser::Serializer for Finder {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Finder;
    type SerializeTuple = Finder;
    type SerializeTupleStruct = Finder;
    type SerializeTupleVariant = Finder;
    type SerializeMap = Finder;
    type SerializeStruct = Finder;
    type SerializeStructVariant = Finder;

    fn serialize_bool(self, _: bool) -> Done {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Done {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Done {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Done {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Done {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Done {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Done {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Done {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Done {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Done {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Done {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Done {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Done {
        Ok(())
    }
    fn serialize_char(self, c: char) -> Done {
        text(c.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, s: &str) -> Done {
        text(s)
    }
    fn serialize_bytes(self, _: &[u8]) -> Done {
        // An array of numbers in JSON.
        Ok(())
    }
    fn serialize_none(self) -> Done {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Done {
        value.serialize(Finder)
    }
    fn serialize_unit(self) -> Done {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Done {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Done {
        text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Done {
        value.serialize(Finder)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Done {
        text(variant)?;
        value.serialize(Finder)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Finder, Stop> {
        Ok(Finder)
    }
    fn serialize_tuple(self, _: usize) -> Result<Finder, Stop> {
        Ok(Finder)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Finder, Stop> {
        Ok(Finder)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Finder, Stop> {
        text(variant)?;
        Ok(Finder)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Finder, Stop> {
        Ok(Finder)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Finder, Stop> {
        Ok(Finder)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Finder, Stop> {
        text(variant)?;
        Ok(Finder)
    }
}

/// The compound serializers: each walks its elements (and checks the field names it is given).
macro_rules! walk_elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Finder {
            type Ok = ();
            type Error = Stop;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
                value.serialize(Finder)
            }
            fn end(self) -> Done {
                Ok(())
            }
        }
    )*};
}

macro_rules! walk_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Finder {
            type Ok = ();
            type Error = Stop;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Done {
                text(name)?;
                value.serialize(Finder)
            }
            fn end(self) -> Done {
                Ok(())
            }
        }
    )*};
}

walk_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);
walk_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Finder {
    type Ok = ();
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Done {
        key.serialize(Finder)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Done {
        value.serialize(Finder)
    }
    fn end(self) -> Done {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    enum Kind {
        Plain,
        Named { who: String },
        Wrapped(String),
        Pair(u32, String),
    }

    #[derive(serde::Serialize)]
    struct Sample {
        title: String,
        tags: Vec<String>,
        extra: BTreeMap<String, String>,
        kind: Kind,
        initial: Option<char>,
        bytes: Vec<u8>,
    }

    fn sample() -> Sample {
        Sample {
            title: "mount failed at boot".into(),
            tags: vec!["lnet".into(), "10.0.0.1@o2ib1".into()],
            extra: BTreeMap::from([("Reporter".to_string(), "jdoe".to_string())]),
            kind: Kind::Plain,
            initial: Some('x'),
            bytes: b"a@b.org".to_vec(),
        }
    }

    #[test]
    fn a_value_without_an_address_is_left_alone() {
        assert!(!holds_address(&sample()));
    }

    #[test]
    fn an_address_anywhere_a_json_tree_has_a_string_is_found() {
        let with = |f: &dyn Fn(&mut Sample)| {
            let mut s = sample();
            f(&mut s);
            holds_address(&s)
        };
        assert!(with(&|s| s.title = "mail jdoe@example.com".into()));
        assert!(with(&|s| s.tags.push("jdoe [at] example.org".into())));
        assert!(with(&|s| {
            s.extra.insert("jdoe@example.com".into(), "x".into());
        }));
        assert!(with(&|s| {
            s.extra.insert("x".into(), "a%40example.org".into());
        }));
        assert!(with(&|s| {
            s.kind = Kind::Named {
                who: "jdoe@example.com".into(),
            }
        }));
        assert!(with(&|s| s.kind = Kind::Wrapped("jdoe@example.com".into())));
        assert!(with(&|s| s.kind = Kind::Pair(1, "jdoe@example.com".into())));
    }

    /// The question asked of every issue agrees with the JSON tree the masking walks: an
    /// issue is passed over exactly when masking its tree changes nothing.
    #[test]
    fn the_finder_agrees_with_masking_the_json_tree() {
        let texts = [
            "plain",
            "jdoe@example.com",
            "retina image@2x.png",
            "a at b dot org",
            "ssh git@github.com:org/repo",
            "履歷請寄至hr@example.com.tw",
            "npm foo@1.2.3",
            "x (at) y (dot) org",
        ];
        for t in texts {
            let mut s = sample();
            s.title = t.to_string();
            let mut tree = serde_json::to_value(&s).unwrap();
            assert_eq!(
                holds_address(&s),
                super::super::mask_value(&mut tree),
                "{t}"
            );
        }
    }
}
