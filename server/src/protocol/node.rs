//! A decoded request body, before any operation looks at it: the same tree for JSON and CBOR.
//!
//! Requests are decoded into this generic tree rather than straight into typed structs so that a
//! field of the wrong type is reported the way the Kinesis front end reports it (a
//! `SerializationException` with its Java-flavoured message, see [`super::fields`]), and so that
//! every constraint can be checked and reported together ("2 validation errors detected").
//! Strings borrow from the body where the codec allows it (JSON without escapes), so a PutRecords
//! body of 500 entries costs a handful of allocations per entry.
//!
//! Bounds: the body itself is size-limited before it gets here, serde_json refuses nesting deeper
//! than 128 and ciborium deeper than 256, so decoding cannot overflow the stack.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// One value of a request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// JSON `null` or CBOR null/undefined: treated as an absent field.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i128),
    /// A number with a fraction (or too large for an integer).
    Float(f64),
    /// A text string.
    Text(Cow<'a, str>),
    /// A byte string (CBOR blobs).
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Node<'a>>),
    /// A map with text keys, in body order.
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node<'de>, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON or CBOR value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node<'de>, E> {
        Ok(Node::Integer(i128::from(value)))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node<'de>, E> {
        Ok(Node::Integer(i128::from(value)))
    }

    fn visit_i128<E>(self, value: i128) -> Result<Node<'de>, E> {
        Ok(Node::Integer(value))
    }

    fn visit_u128<E>(self, value: u128) -> Result<Node<'de>, E> {
        Ok(i128::try_from(value).map_or(Node::Float(value as f64), Node::Integer))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Node<'de>, E> {
        Ok(Node::Float(value))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Owned(value)))
    }

    fn visit_bytes<E>(self, value: &[u8]) -> Result<Node<'de>, E> {
        Ok(Node::Bytes(value.to_vec()))
    }

    fn visit_byte_buf<E>(self, value: Vec<u8>) -> Result<Node<'de>, E> {
        Ok(Node::Bytes(value))
    }

    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        // The size hint comes from the (attacker-controlled) length prefix: cap the preallocation.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Node<'de>>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(key) = map.next_key::<Node<'de>>()? {
            let Node::Text(key) = key else {
                return Err(de::Error::custom("map keys must be strings"));
            };
            entries.push((key, map.next_value::<Node<'de>>()?));
        }
        Ok(Node::Map(entries))
    }
}

/// Deepest nesting accepted from CBOR (ciborium itself stops at 256).
const CBOR_DEPTH_MAX: usize = 64;

impl Node<'static> {
    /// Converts a decoded CBOR value. Tags are transparent (tag 1 around a timestamp becomes the
    /// number); `None` for what no Kinesis request contains (non-text map keys, deep nesting).
    pub(crate) fn from_cbor(value: ciborium::Value, depth: usize) -> Option<Node<'static>> {
        if depth > CBOR_DEPTH_MAX {
            return None;
        }
        Some(match value {
            ciborium::Value::Integer(integer) => Node::Integer(i128::from(integer)),
            ciborium::Value::Bytes(bytes) => Node::Bytes(bytes),
            ciborium::Value::Float(float) => Node::Float(float),
            ciborium::Value::Text(text) => Node::Text(Cow::Owned(text)),
            ciborium::Value::Bool(value) => Node::Bool(value),
            ciborium::Value::Null => Node::Null,
            ciborium::Value::Tag(_, inner) => Node::from_cbor(*inner, depth + 1)?,
            ciborium::Value::Array(items) => Node::List(
                items
                    .into_iter()
                    .map(|item| Node::from_cbor(item, depth + 1))
                    .collect::<Option<Vec<_>>>()?,
            ),
            ciborium::Value::Map(entries) => Node::Map(
                entries
                    .into_iter()
                    .map(|(key, value)| match key {
                        ciborium::Value::Text(key) => {
                            Some((Cow::Owned(key), Node::from_cbor(value, depth + 1)?))
                        }
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }
}

impl Node<'_> {
    /// The type name the Kinesis front end uses in messages about a value of this kind.
    pub(crate) fn java_class(&self) -> &'static str {
        match self {
            Node::Bool(_) => "class java.lang.Boolean",
            Node::Integer(_) | Node::Float(_) => "class java.math.BigDecimal",
            Node::Text(_) => "class java.lang.String",
            Node::Bytes(_) => "class java.nio.HeapByteBuffer",
            Node::Null => "null",
            Node::List(_) => "list",
            Node::Map(_) => "structure",
        }
    }
}
