//! A decoded request body, before any operation looks at it: the same tree for JSON and CBOR,
//! built within a memory budget proportional to the body.
//!
//! Requests are decoded into this generic tree rather than straight into typed structs so that a
//! field of the wrong type is reported the way the Kinesis front end reports it (a
//! `SerializationException` with its Java-flavoured message, see [`super::fields`]), and so that
//! every constraint can be checked and reported together ("2 validation errors detected").
//! Strings borrow from the body where the codec allows it (JSON without escapes), so a PutRecords
//! body of 500 entries costs a handful of allocations per entry.
//!
//! Why a budget: a tree node takes 32 bytes and a map entry 56, while a JSON array element can be
//! two bytes of body (`0,`) and a CBOR one a single byte, so an unchecked tree of a 16 MiB body
//! `{"x":[0,0,…]}` takes 16 to 32 times the body (290 MB for JSON, 560 MB for CBOR through a
//! generic CBOR value first). Every allocation the decoder makes (the node lists and entry lists,
//! as they grow, and owned strings and byte strings) is charged against
//! [`Budget::for_body`]: the body's length plus [`DECODED_BYTES_FLOOR`]. A body that needs more
//! is refused, as soon as it does, with a bare `SerializationException` (what Kinesis answers for
//! a body it cannot take). No legal request comes near it: decoded strings are never longer than
//! their encoding, and the largest legal tree, a PutRecords of 500 entries, is about 2,500 nodes
//! (under 200 KiB).
//!
//! Other bounds: nesting deeper than [`NESTING_DEPTH_MAX`] is refused (no Kinesis request nests
//! more than four levels), so decoding cannot overflow the stack; a CBOR length prefix is never
//! trusted for an allocation (lists grow as items actually arrive); and a CBOR body must hold
//! exactly one value, with nothing after it.
//!
//! Duplicate keys are kept as they came; [`super::Fields`] reads the last one, as Kinesis' parser
//! does.

use std::borrow::Cow;
use std::fmt;
use std::mem::size_of;

use ciborium_ll::{Decoder, Header, simple};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

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
    /// A map with text keys, in body order (duplicates included).
    Map(Vec<(Cow<'a, str>, Node<'a>)>),
}

/// Decoded bytes allowed beyond the body's own length (room for the node lists of small bodies).
pub const DECODED_BYTES_FLOOR: usize = 1 << 20;

/// Deepest nesting accepted (the top-level map is depth 1).
pub const NESTING_DEPTH_MAX: usize = 32;

/// The bytes a decoder may still allocate for one request body.
#[derive(Debug)]
pub struct Budget {
    remaining_bytes: usize,
}

/// The body needs more memory (or deeper nesting) than it is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

impl Budget {
    /// The budget for a body of `body_bytes`: its length plus [`DECODED_BYTES_FLOOR`].
    pub fn for_body(body_bytes: usize) -> Budget {
        Budget {
            remaining_bytes: body_bytes.saturating_add(DECODED_BYTES_FLOOR),
        }
    }

    fn charge(&mut self, bytes: usize) -> Result<(), Refused> {
        self.remaining_bytes = self.remaining_bytes.checked_sub(bytes).ok_or(Refused)?;
        Ok(())
    }

    /// Makes room for `additional` more items in `items`, charging the capacity it adds before
    /// allocating it. Capacity doubles (from 4), as `Vec` would grow it, so pushes stay amortized
    /// O(1) and the charge is the memory actually held.
    fn reserve<T>(&mut self, items: &mut Vec<T>, additional: usize) -> Result<(), Refused> {
        let needed = items.len().checked_add(additional).ok_or(Refused)?;
        if needed <= items.capacity() {
            return Ok(());
        }
        let capacity = needed.max(items.capacity().saturating_mul(2)).max(4);
        let grown_bytes = (capacity - items.capacity())
            .checked_mul(size_of::<T>().max(1))
            .ok_or(Refused)?;
        self.charge(grown_bytes)?;
        items.reserve_exact(capacity - items.len());
        Ok(())
    }

    /// Makes room for exactly `additional` more items, charging them before allocating.
    fn reserve_exact<T>(&mut self, items: &mut Vec<T>, additional: usize) -> Result<(), Refused> {
        let needed = items.len().checked_add(additional).ok_or(Refused)?;
        if needed <= items.capacity() {
            return Ok(());
        }
        let grown_bytes = (needed - items.capacity())
            .checked_mul(size_of::<T>().max(1))
            .ok_or(Refused)?;
        self.charge(grown_bytes)?;
        items.reserve_exact(additional);
        Ok(())
    }

    fn push<T>(&mut self, items: &mut Vec<T>, item: T) -> Result<(), Refused> {
        self.reserve(items, 1)?;
        items.push(item);
        Ok(())
    }
}

/// Decodes a JSON body (exactly one value, surrounded by whitespace at most).
pub fn from_json<'a>(body: &'a [u8], budget: &mut Budget) -> Result<Node<'a>, Refused> {
    budget.charge(size_of::<Node<'_>>())?;
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let node = NodeSeed { budget, depth: 1 }
        .deserialize(&mut deserializer)
        .map_err(|_| Refused)?;
    deserializer.end().map_err(|_| Refused)?;
    Ok(node)
}

/// Decodes a CBOR body (exactly one value, nothing after it). Tags are transparent (tag 1 around
/// a timestamp becomes the number).
pub fn from_cbor(body: &[u8], budget: &mut Budget) -> Result<Node<'static>, Refused> {
    budget.charge(size_of::<Node<'_>>())?;
    let mut reader = CborReader {
        decoder: Decoder::from(body),
        body_bytes: body.len(),
        budget,
    };
    let node = reader.value(1)?;
    if reader.decoder.offset() != body.len() {
        return Err(Refused);
    }
    Ok(node)
}

/// A CBOR body being read into nodes.
struct CborReader<'b, 'g> {
    decoder: Decoder<&'b [u8]>,
    body_bytes: usize,
    budget: &'g mut Budget,
}

impl CborReader<'_, '_> {
    fn pull(&mut self) -> Result<Header, Refused> {
        self.decoder.pull().map_err(|_| Refused)
    }

    /// Reads one value at nesting `depth`.
    fn value(&mut self, depth: usize) -> Result<Node<'static>, Refused> {
        let header = self.pull()?;
        self.value_after(header, depth)
    }

    /// Reads the rest of the value that starts with `header`.
    fn value_after(&mut self, header: Header, depth: usize) -> Result<Node<'static>, Refused> {
        if depth > NESTING_DEPTH_MAX {
            return Err(Refused);
        }
        Ok(match header {
            Header::Positive(value) => Node::Integer(i128::from(value)),
            Header::Negative(value) => Node::Integer(-1 - i128::from(value)),
            Header::Float(value) => Node::Float(value),
            Header::Simple(simple::FALSE) => Node::Bool(false),
            Header::Simple(simple::TRUE) => Node::Bool(true),
            Header::Simple(simple::NULL | simple::UNDEFINED) => Node::Null,
            Header::Simple(_) | Header::Break => return Err(Refused),
            Header::Tag(_) => self.value(depth + 1)?,
            Header::Bytes(length) => Node::Bytes(self.string(length, false)?),
            Header::Text(length) => {
                let bytes = self.string(length, true)?;
                // Every segment was checked as UTF-8 as it was read, so this cannot fail.
                Node::Text(Cow::Owned(String::from_utf8(bytes).map_err(|_| Refused)?))
            }
            Header::Array(length) => {
                let mut items = Vec::new();
                while let Some(header) = self.next_item(length, items.len())? {
                    let item = self.value_after(header, depth + 1)?;
                    self.budget.push(&mut items, item)?;
                }
                Node::List(items)
            }
            Header::Map(length) => {
                let mut entries = Vec::new();
                while let Some(header) = self.next_item(length, entries.len())? {
                    let Node::Text(key) = self.value_after(header, depth + 1)? else {
                        return Err(Refused);
                    };
                    let value = self.value(depth + 1)?;
                    self.budget.push(&mut entries, (key, value))?;
                }
                Node::Map(entries)
            }
        })
    }

    /// The header of the next item of a list or map of `length` items (`None`: indefinite, up
    /// to a break) of which `read` are read, or `None` at its end. The declared length is only
    /// compared with, never allocated for: each item takes at least one byte of the body.
    fn next_item(&mut self, length: Option<usize>, read: usize) -> Result<Option<Header>, Refused> {
        match length {
            Some(length) if read >= length => Ok(None),
            Some(_) => self.pull().map(Some),
            None => match self.pull()? {
                Header::Break => Ok(None),
                header => Ok(Some(header)),
            },
        }
    }

    /// The content of a byte or text string, from all its segments (one unless indefinite).
    fn string(&mut self, length: Option<usize>, text: bool) -> Result<Vec<u8>, Refused> {
        let mut content = Vec::new();
        if let Some(length) = length {
            // A declared length is allocated only once the body is known to hold that many bytes.
            let left_bytes = self.body_bytes - self.decoder.offset();
            if length > left_bytes {
                return Err(Refused);
            }
            self.budget.reserve_exact(&mut content, length)?;
        }
        let mut scratch = [0u8; 4096];
        if text {
            let mut segments = self.decoder.text(length);
            while let Some(mut segment) = segments.pull().map_err(|_| Refused)? {
                while let Some(chunk) = segment.pull(&mut scratch).map_err(|_| Refused)? {
                    self.budget.reserve(&mut content, chunk.len())?;
                    content.extend_from_slice(chunk.as_bytes());
                }
            }
        } else {
            let mut segments = self.decoder.bytes(length);
            while let Some(mut segment) = segments.pull().map_err(|_| Refused)? {
                while let Some(chunk) = segment.pull(&mut scratch).map_err(|_| Refused)? {
                    self.budget.reserve(&mut content, chunk.len())?;
                    content.extend_from_slice(chunk);
                }
            }
        }
        Ok(content)
    }
}

/// Deserializes one JSON value at nesting `depth`, charging `budget`.
struct NodeSeed<'b> {
    budget: &'b mut Budget,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node<'de>, D::Error> {
        if self.depth > NESTING_DEPTH_MAX {
            return Err(de::Error::custom("nested too deeply"));
        }
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_> {
    fn child(&mut self) -> NodeSeed<'_> {
        NodeSeed {
            budget: self.budget,
            depth: self.depth + 1,
        }
    }
}

fn over_budget<E: de::Error>(_: Refused) -> E {
    E::custom("the decoded body would take more memory than allowed")
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
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

    fn visit_f64<E>(self, value: f64) -> Result<Node<'de>, E> {
        Ok(Node::Float(value))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node<'de>, E> {
        self.budget.charge(value.len()).map_err(over_budget)?;
        Ok(Node::Text(Cow::Owned(value.to_owned())))
    }

    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            self.budget.push(&mut items, item).map_err(over_budget)?;
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(self.child())? {
            let Node::Text(key) = key else {
                return Err(de::Error::custom("map keys must be strings"));
            };
            let value = map.next_value_seed(self.child())?;
            self.budget
                .push(&mut entries, (key, value))
                .map_err(over_budget)?;
        }
        Ok(Node::Map(entries))
    }
}

impl Node<'_> {
    /// The type name the Kinesis front end uses in messages about a value of this kind. Its JSON
    /// parser reads every number, integral or not, as Coral's `TruncatingBigNumber` (as recorded
    /// against Kinesis by kinesalite's suite: `23`, `2147483648` and `34.56` all name it).
    pub(crate) fn java_class(&self) -> &'static str {
        match self {
            Node::Bool(_) => "class java.lang.Boolean",
            Node::Integer(_) | Node::Float(_) => {
                "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
            }
            Node::Text(_) => "class java.lang.String",
            Node::Bytes(_) => "class java.nio.HeapByteBuffer",
            Node::Null => "null",
            Node::List(_) => "list",
            Node::Map(_) => "structure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"x":[0,0,…]}` in JSON, about `bytes` long.
    fn json_zeros(bytes: usize) -> Vec<u8> {
        let mut body = b"{\"x\":[0".to_vec();
        while body.len() < bytes {
            body.extend_from_slice(b",0");
        }
        body.extend_from_slice(b"]}");
        body
    }

    /// `{"x":[0,0,…]}` in CBOR (an indefinite-length list), about `bytes` long.
    fn cbor_zeros(bytes: usize) -> Vec<u8> {
        let mut body = vec![0xa1, 0x61, b'x', 0x9f];
        body.resize(bytes, 0x00);
        body.push(0xff);
        body
    }

    #[test]
    fn a_body_of_many_small_values_is_refused_instead_of_amplified() {
        let json = json_zeros(4 << 20);
        assert_eq!(
            from_json(&json, &mut Budget::for_body(json.len())),
            Err(Refused)
        );
        let cbor = cbor_zeros(4 << 20);
        assert_eq!(
            from_cbor(&cbor, &mut Budget::for_body(cbor.len())),
            Err(Refused)
        );
        // The same shapes, small, fit the floor.
        let json = json_zeros(1000);
        assert!(from_json(&json, &mut Budget::for_body(json.len())).is_ok());
        let cbor = cbor_zeros(1000);
        assert!(from_cbor(&cbor, &mut Budget::for_body(cbor.len())).is_ok());
    }

    #[test]
    fn a_large_legal_body_fits_its_budget() {
        // 500 entries of 20 KiB each, as CBOR byte strings (copied) and as JSON text (borrowed).
        let data = vec![7u8; 20 << 10];
        let entry = |_| {
            ciborium::Value::Map(vec![
                ("Data".into(), ciborium::Value::Bytes(data.clone())),
                ("PartitionKey".into(), "k".into()),
            ])
        };
        let body = ciborium::Value::Map(vec![
            ("StreamName".into(), "s".into()),
            (
                "Records".into(),
                ciborium::Value::Array((0..500).map(entry).collect()),
            ),
        ]);
        let mut cbor = Vec::new();
        ciborium::ser::into_writer(&body, &mut cbor).unwrap();
        let mut budget = Budget::for_body(cbor.len());
        let Node::Map(entries) = from_cbor(&cbor, &mut budget).unwrap() else {
            panic!("a map")
        };
        assert_eq!(entries.len(), 2);
        let json = serde_json::to_vec(&serde_json::json!({
            "StreamName": "s",
            "Records": (0..500).map(|_| serde_json::json!({
                "Data": "A".repeat(27_000), "PartitionKey": "k"
            })).collect::<Vec<_>>(),
        }))
        .unwrap();
        assert!(from_json(&json, &mut Budget::for_body(json.len())).is_ok());
    }

    #[test]
    fn cbor_must_be_one_value_with_nothing_after_it() {
        // {"a": 1}
        let one = [0xa1, 0x61, b'a', 0x01];
        assert!(from_cbor(&one, &mut Budget::for_body(one.len())).is_ok());
        let trailing = [0xa1, 0x61, b'a', 0x01, 0x00];
        assert_eq!(
            from_cbor(&trailing, &mut Budget::for_body(trailing.len())),
            Err(Refused)
        );
        assert_eq!(from_cbor(&[], &mut Budget::for_body(0)), Err(Refused));
    }

    #[test]
    fn cbor_tags_are_transparent_and_declared_lengths_are_not_trusted() {
        // {"t": 1(1000)}
        let tagged = [0xa1, 0x61, b't', 0xc1, 0x19, 0x03, 0xe8];
        assert_eq!(
            from_cbor(&tagged, &mut Budget::for_body(tagged.len())),
            Ok(Node::Map(vec![(Cow::Borrowed("t"), Node::Integer(1000))]))
        );
        // A list declaring 2^32 items, and a byte string declaring 2^32 bytes, with none there.
        for body in [
            &[0xa1, 0x61, b'x', 0x9a, 0xff, 0xff, 0xff, 0xff][..],
            &[0xa1, 0x61, b'x', 0x5a, 0xff, 0xff, 0xff, 0xff][..],
        ] {
            assert_eq!(
                from_cbor(body, &mut Budget::for_body(body.len())),
                Err(Refused)
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        // A leaf inside `lists` lists is at depth `lists + 1`.
        let json = |lists: usize| format!("{}0{}", "[".repeat(lists), "]".repeat(lists));
        let cbor = |lists: usize| {
            let mut body = vec![0x81; lists];
            body.push(0x00);
            body
        };
        let deepest = NESTING_DEPTH_MAX - 1;
        for (lists, fits) in [(deepest, true), (deepest + 1, false)] {
            let body = json(lists);
            let decoded = from_json(body.as_bytes(), &mut Budget::for_body(body.len()));
            assert_eq!(decoded.is_ok(), fits, "JSON, {lists} lists");
            let body = cbor(lists);
            let decoded = from_cbor(&body, &mut Budget::for_body(body.len()));
            assert_eq!(decoded.is_ok(), fits, "CBOR, {lists} lists");
        }
    }
}
