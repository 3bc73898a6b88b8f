//! Reading typed fields out of a request tree, and checking them against the API model.
//!
//! Two kinds of failure, in the order Kinesis' front end reports them:
//! - a field of the wrong type is a `SerializationException` at once, with the message the Java
//!   front end prints (`class java.lang.String can not be converted to an Integer`,
//!   `class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an
//!   String`, `class java.lang.Boolean can not be converted to milliseconds since epoch`);
//! - constraint violations (length, range, pattern, enum, required) are collected by [`Checks`]
//!   and reported together as one `ValidationException`, `"2 validation errors detected: Value
//!   'x' at 'streamName' failed to satisfy constraint: Member must ...; ..."`.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use shardlog::StreamError;
use shardlog::stream::TAG_KEY_CHARS_MAX;
use shardlog::stream::consumers::CONSUMER_NAME_CHARS_MAX;
pub use shardlog::stream::error::MemberRole;
use shardlog::stream::error::{Constraint, Rule, Validation, Violation};
use shardlog::stream::names::{
    HASH_KEY_PATTERN, NAME_PATTERN, SHARD_ID_CHARS_MAX, STREAM_NAME_CHARS_MAX,
};

use super::{Node, Protocol};
use crate::error::ApiError;

/// The fields of one structure in a request.
#[derive(Clone, Copy)]
pub struct Fields<'r, 'a> {
    entries: &'r [(Cow<'a, str>, Node<'a>)],
    /// The request's encoding (decides how timestamps and blobs are read).
    pub protocol: Protocol,
}

impl<'r, 'a> Fields<'r, 'a> {
    /// The fields of a map node (any other node has none).
    pub fn new(node: &'r Node<'a>, protocol: Protocol) -> Fields<'r, 'a> {
        let entries = match node {
            Node::Map(entries) => entries.as_slice(),
            _ => &[],
        };
        Fields { entries, protocol }
    }

    /// The field's value, if present and not null. Of duplicate keys the last wins, as in
    /// Kinesis' parser (`{"Limit": 1, "Limit": null}` has no limit).
    pub fn get(&self, name: &str) -> Option<&'r Node<'a>> {
        self.entries
            .iter()
            .rfind(|(key, _)| key == name)
            .map(|(_, value)| value)
            .filter(|value| **value != Node::Null)
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<Option<&'r str>, ApiError> {
        self.get(name).map(as_string).transpose()
    }

    /// An integer field; a number with a fraction is floored, and one beyond Java's `int` is
    /// clamped to it, as the Java front end does (kinesalite's test/createStream.js records a
    /// `ShardCount` of 100000000000 reported as `Value '2147483647'`).
    pub fn integer(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name).map(as_integer).transpose()
    }

    /// A boolean field.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|node| match node {
                Node::Bool(value) => Ok(*value),
                Node::Text(text) => Err(ApiError::serialization(format!(
                    "'{}' can not be converted to an Boolean",
                    text.to_uppercase()
                ))),
                other => Err(mismatch(other, "an Boolean")),
            })
            .transpose()
    }

    /// A blob field: base64 text in JSON (checked as strictly as the Java decoder), bytes in CBOR.
    pub fn blob(&self, name: &str) -> Result<Option<Cow<'r, [u8]>>, ApiError> {
        self.get(name).map(as_blob).transpose()
    }

    /// A timestamp field, in Unix ms. A value that is not a number is refused in the words of
    /// the Java front end, which converts timestamps to "milliseconds since epoch".
    pub fn timestamp_ms(&self, name: &str) -> Result<Option<u64>, ApiError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        let number = match node {
            Node::Integer(value) => *value as f64,
            Node::Float(value) => *value,
            other => return Err(mismatch(other, "milliseconds since epoch")),
        };
        self.protocol
            .timestamp_ms(number)
            .map(Some)
            .ok_or_else(|| ApiError::serialization("Timestamp is out of range"))
    }

    /// A list field.
    pub fn list(&self, name: &str) -> Result<Option<&'r [Node<'a>]>, ApiError> {
        self.get(name).map(as_list).transpose()
    }

    /// A structure field.
    pub fn structure(&self, name: &str) -> Result<Option<Fields<'r, 'a>>, ApiError> {
        self.get(name)
            .map(|node| match node {
                Node::Map(_) => Ok(Fields::new(node, self.protocol)),
                Node::List(_) => Err(ApiError::serialization(
                    "Start of list found where not expected",
                )),
                _ => Err(ApiError::serialization("Expected null")),
            })
            .transpose()
    }

    /// A map of strings to strings (tags), in body order. Of duplicate keys the last wins, as
    /// in [`Fields::get`].
    pub fn string_map(&self, name: &str) -> Result<Option<Vec<(&'r str, &'r str)>>, ApiError> {
        let Some(node) = self.get(name) else {
            return Ok(None);
        };
        match node {
            Node::Map(entries) => {
                let last: HashMap<&str, usize> = entries
                    .iter()
                    .enumerate()
                    .map(|(position, (key, _))| (key.as_ref(), position))
                    .collect();
                entries
                    .iter()
                    .enumerate()
                    .filter(|(position, (key, value))| {
                        last.get(key.as_ref()) == Some(position) && *value != Node::Null
                    })
                    .map(|(_, (key, value))| Ok((key.as_ref(), as_string(value)?)))
                    .collect::<Result<Vec<_>, ApiError>>()
                    .map(Some)
            }
            Node::List(_) => Err(ApiError::serialization(
                "Start of list found where not expected",
            )),
            _ => Err(ApiError::serialization("Expected map or null")),
        }
    }
}

/// A node that must be a string.
pub fn as_string<'r>(node: &'r Node<'_>) -> Result<&'r str, ApiError> {
    match node {
        Node::Text(text) => Ok(text),
        other => Err(mismatch(other, "an String")),
    }
}

/// A node that must be a list.
pub fn as_list<'r, 'a>(node: &'r Node<'a>) -> Result<&'r [Node<'a>], ApiError> {
    match node {
        Node::List(items) => Ok(items),
        Node::Map(_) => Err(ApiError::serialization(
            "Start of structure or map found where not expected.",
        )),
        _ => Err(ApiError::serialization("Expected list or null")),
    }
}

fn as_integer(node: &Node<'_>) -> Result<i64, ApiError> {
    let java_int = |value: i128| {
        i64::from(i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX }))
    };
    match node {
        Node::Integer(value) => Ok(java_int(*value)),
        Node::Float(value) if value.is_finite() => Ok(java_int(value.floor() as i128)),
        other => Err(mismatch(other, "an Integer")),
    }
}

fn as_blob<'r>(node: &'r Node<'_>) -> Result<Cow<'r, [u8]>, ApiError> {
    match node {
        Node::Bytes(bytes) => Ok(Cow::Borrowed(bytes.as_slice())),
        Node::Text(text) => decode_base64(text).map(Cow::Owned),
        other => Err(mismatch(other, "a Blob")),
    }
}

/// Decodes base64 as strictly as the Java front end: length a multiple of 4, only the base64
/// alphabet, padding only at the end, no stray bits in the last character.
fn decode_base64(text: &str) -> Result<Vec<u8>, ApiError> {
    let fail = |reason: String| {
        let shown: String = text.chars().take(64).collect();
        ApiError::serialization(format!(
            "'{shown}' can not be converted to a Blob: {reason}"
        ))
    };
    if !text.len().is_multiple_of(4) {
        return Err(fail(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            text.len()
        )));
    }
    let bytes = text.as_bytes();
    let body = text.trim_end_matches('=');
    if bytes.len() - body.len() > 2 {
        return Err(fail("Invalid Base64 character: '='".to_owned()));
    }
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/'))
    {
        return Err(fail(format!("Invalid Base64 character: '{bad}'")));
    }
    base64::engine::general_purpose::STANDARD
        .decode(bytes)
        .map_err(|_| fail("Invalid last non-pad Base64 character dectected".to_owned()))
}

fn mismatch(node: &Node<'_>, wanted: &str) -> ApiError {
    match node {
        Node::List(_) => ApiError::serialization("Start of list found where not expected"),
        Node::Map(_) => {
            ApiError::serialization("Start of structure or map found where not expected.")
        }
        other => ApiError::serialization(format!(
            "{} can not be converted to {wanted}",
            other.java_class()
        )),
    }
}

/// Most constraint violations listed in one ValidationException, as the front end lists.
const VIOLATIONS_LISTED_MAX: usize = 10;

/// Constraint violations found so far in one request.
#[derive(Debug, Default)]
pub struct Checks {
    violations: Vec<Violation>,
}

impl Checks {
    /// No violations yet.
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Records a violation: `value` as the front end shows it (`None` prints `null`).
    pub fn fail(&mut self, value: Option<&str>, path: &str, constraint: Constraint) {
        self.violate(value, path, Rule::Member(constraint));
    }

    /// Records a violation of `rule`.
    fn violate(&mut self, value: Option<&str>, path: &str, rule: Rule) {
        if self.violations.len() >= VIOLATIONS_LISTED_MAX {
            return;
        }
        self.violations.push(Violation {
            value: value.map(str::to_owned),
            member: path.to_owned(),
            rule,
        });
    }

    /// A required member.
    pub fn required<T>(&mut self, path: &str, value: &Option<T>) {
        if value.is_none() {
            self.fail(None, path, Constraint::NotNull);
        }
    }

    /// A string member's pattern and length (in characters), in the order the front end checks.
    pub fn text(
        &mut self,
        path: &str,
        value: Option<&str>,
        pattern: Option<Pattern>,
        length: (usize, usize),
    ) {
        let Some(value) = value else { return };
        if let Some(pattern) = pattern.filter(|pattern| !(pattern.matches)(value)) {
            self.fail(Some(value), path, Constraint::Pattern(pattern.shown));
        }
        let chars = value.chars().count();
        self.length(Some(value), path, chars, length);
    }

    /// An integer member's range.
    pub fn range(&mut self, path: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(value) = value else { return };
        if value < min {
            self.fail(
                Some(&value.to_string()),
                path,
                Constraint::ValueAtLeast(min),
            );
        }
        if value > max {
            self.fail(Some(&value.to_string()), path, Constraint::ValueAtMost(max));
        }
    }

    /// An enum member.
    pub fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &'static [&'static str]) {
        let Some(value) = value else { return };
        if !allowed.contains(&value) {
            self.fail(Some(value), path, Constraint::OneOf(allowed));
        }
    }

    /// A list's or map's number of members; `shown` is the whole, as [`shown_list`] or
    /// [`shown_map`] print it.
    pub fn size(&mut self, path: &str, shown: &str, size: usize, bounds: (usize, usize)) {
        self.length(Some(shown), path, size, bounds);
    }

    /// A length (characters, members) against its bounds.
    fn length(&mut self, shown: Option<&str>, path: &str, length: usize, bounds: (usize, usize)) {
        let (min, max) = bounds;
        if length < min {
            self.fail(shown, path, Constraint::LengthAtLeast(min));
        }
        if length > max {
            self.fail(shown, path, Constraint::LengthAtMost(max));
        }
    }

    /// The members of a list, or the keys or values of a map, against the constraints of their
    /// shape. The front end reports them as one violation of the whole collection (`shown`),
    /// listing every constraint of the member shape, not only the one broken: `Value '[a, b]'
    /// at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must
    /// have length less than or equal to 128, Member must have length greater than or equal to
    /// 1]` (recorded in kinesalite's test/removeTagsFromStream.js and test/addTagsToStream.js).
    pub fn members<'v>(
        &mut self,
        path: &str,
        shown: &str,
        role: MemberRole,
        rule: &MemberRule,
        members: impl IntoIterator<Item = &'v str>,
    ) {
        if members.into_iter().all(|member| rule.admits(member)) {
            return;
        }
        let rule = Rule::Members {
            role,
            constraints: rule.constraints(),
        };
        self.violate(Some(shown), path, rule);
    }

    /// The ValidationException for everything recorded, if anything was.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.violations.is_empty() {
            return Ok(());
        }
        Err(StreamError::Validation(Validation::Violations(self.violations)).into())
    }
}

/// The constraints of the string shape of a list's members or a map's keys or values.
pub enum MemberRule {
    /// A length range, in characters.
    Length(usize, usize),
    /// One of these values (the model's order).
    OneOf(&'static [&'static str]),
}

impl MemberRule {
    fn admits(&self, member: &str) -> bool {
        match self {
            MemberRule::Length(min, max) => (*min..=*max).contains(&member.chars().count()),
            MemberRule::OneOf(values) => values.contains(&member),
        }
    }

    /// The constraints as the front end lists them: the maximum length before the minimum, even
    /// a minimum of 0 (kinesalite's test/addTagsToStream.js records `[Member must have length
    /// less than or equal to 256, Member must have length greater than or equal to 0]`).
    fn constraints(&self) -> Vec<Constraint> {
        match self {
            MemberRule::Length(min, max) => vec![
                Constraint::LengthAtMost(*max),
                Constraint::LengthAtLeast(*min),
            ],
            MemberRule::OneOf(values) => vec![Constraint::OneOf(values)],
        }
    }
}

/// A list of strings as Java prints it: `[a, b]` (an empty string prints as nothing: `[""]` is
/// `[]`).
pub fn shown_list<'v>(members: impl IntoIterator<Item = &'v str>) -> String {
    format!("[{}]", members.into_iter().collect::<Vec<_>>().join(", "))
}

/// A map of strings as Java prints it: `{k=v, k2=v2}`, here in the request's order.
pub fn shown_map<'v>(entries: impl IntoIterator<Item = (&'v str, &'v str)>) -> String {
    let entries: Vec<String> = entries
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// A regular expression of the API model, with a hand-written matcher.
#[derive(Clone, Copy)]
pub struct Pattern {
    /// The expression as the model (and the error message) spells it.
    pub shown: &'static str,
    /// Whether a value matches it.
    pub matches: fn(&str) -> bool,
}

/// The lengths, in characters, of a stream name (the model's `StreamName`).
pub const STREAM_NAME_LENGTH: (usize, usize) = (1, STREAM_NAME_CHARS_MAX);
/// The lengths of a shard id (the model's `ShardId`).
pub const SHARD_ID_LENGTH: (usize, usize) = (1, SHARD_ID_CHARS_MAX);
/// The lengths of a consumer name (the model's `ConsumerName`).
pub const CONSUMER_NAME_LENGTH: (usize, usize) = (1, CONSUMER_NAME_CHARS_MAX);
/// The lengths of a tag key (the model's `TagKey`).
pub const TAG_KEY_LENGTH: (usize, usize) = (1, TAG_KEY_CHARS_MAX);

/// `[a-zA-Z0-9_.-]+`: stream names, shard ids, consumer names.
pub const NAME: Pattern = Pattern {
    shown: NAME_PATTERN,
    matches: |text| {
        !text.is_empty()
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
    },
};

/// `0|([1-9]\d{0,128})`: sequence numbers.
pub const SEQUENCE_NUMBER: Pattern = Pattern {
    shown: "0|([1-9]\\d{0,128})",
    matches: |text| decimal(text, 129),
};

/// `0|([1-9]\d{0,38})`: hash keys.
pub const HASH_KEY: Pattern = Pattern {
    shown: HASH_KEY_PATTERN,
    matches: |text| decimal(text, 39),
};

/// `arn:aws.*:kinesis:.*:\d{12}:stream/\S+`: stream ARNs.
pub const STREAM_ARN: Pattern = Pattern {
    shown: "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
    matches: |text| is_kinesis_arn(text, false),
};

/// `^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`:
/// consumer ARNs.
pub const CONSUMER_ARN: Pattern = Pattern {
    shown: "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
    matches: is_consumer_arn,
};

/// Whether `text` matches [`CONSUMER_ARN`] as Java's regular expressions do (the pattern, not
/// whether the ARN names anything: its creation time may be any number of digits). Names hold no
/// `/` and the creation time no `:`, so the text must end in exactly one way,
/// `stream/<name>/consumer/<name>:<digits>`, read from the end; what comes before `stream/` is
/// RESOURCE_ARN's. Linear in the text's length.
fn is_consumer_arn(text: &str) -> bool {
    let name = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    };
    let parts = text.rsplit_once(':').and_then(|(head, created)| {
        let (head, consumer) = head.rsplit_once('/')?;
        let (head, stream) = head.strip_suffix("/consumer")?.rsplit_once('/')?;
        let before_stream = head.strip_suffix("stream")?;
        Some((before_stream, stream, consumer, created))
    });
    parts.is_some_and(|(before_stream, stream, consumer, created)| {
        name(stream)
            && name(consumer)
            && !created.is_empty()
            && created.bytes().all(|b| b.is_ascii_digit())
            && is_kinesis_arn(&format!("{before_stream}stream/x"), true)
    })
}

/// `arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`: resource ARNs (streams and their consumers).
pub const RESOURCE_ARN: Pattern = Pattern {
    shown: "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
    matches: |text| is_kinesis_arn(text, true),
};

/// `[a-z0-9]{20}-[a-z0-9]{3}`: stream ids (a member the model reserves for future use).
pub const STREAM_ID: Pattern = Pattern {
    shown: "[a-z0-9]{20}-[a-z0-9]{3}",
    matches: |text| {
        let part = |part: &str, len: usize| {
            part.len() == len
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        text.split_once('-')
            .is_some_and(|(head, tail)| part(head, 20) && part(tail, 3))
    },
};

/// Whether `text` matches [`STREAM_ARN`] (or, with `any_before_stream`, [`RESOURCE_ARN`]'s
/// `.*` before `stream/`) as Java's regular expressions do: each `.*` may cross the literal parts
/// after it, `.` matches no line terminator, and `\S` no Java white space (` \t\n\x0B\f\r`).
///
/// Linear in the text's length (the text is a client's, of any length): instead of trying every
/// way the `.*`s can split it, it uses what each choice must satisfy. Everything before the name
/// is `.*`s and literals, so it lies before the first line terminator; the name (`\S+`) runs to
/// the end, so it starts after the last white space. The first `:kinesis:` and the first
/// `:<12 digits>:` after it then leave the most room for the rest, and of the `stream/`s after
/// those, the last one that leaves a name before the end and no terminator before it is the one
/// most likely to start its name after the last white space.
fn is_kinesis_arn(text: &str, any_before_stream: bool) -> bool {
    const PREFIX: &str = "arn:aws";
    const STREAM: &str = "stream/";
    if !text.starts_with(PREFIX) {
        return false;
    }
    let terminator = text
        .find(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
        .unwrap_or(text.len());
    let name_from = text
        .rfind([' ', '\t', '\n', '\x0B', '\x0C', '\r'])
        .map_or(0, |at| at + 1);
    let Some(kinesis) = text[PREFIX.len()..].find(":kinesis:") else {
        return false;
    };
    let after_kinesis = PREFIX.len() + kinesis + ":kinesis:".len();
    // The colons `:\d{12}:` can start at, before the first terminator.
    let mut accounts = text[after_kinesis..]
        .match_indices(':')
        .map(|(at, _)| after_kinesis + at)
        .take_while(|&colon| colon <= terminator)
        .filter(|&colon| {
            text.get(colon + 1..colon + 13)
                .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
                && text.get(colon + 13..colon + 14) == Some(":")
        });
    // `stream/` at `stream`: no terminator before it, a name after it, after the last white space.
    let fits = |stream: usize| {
        let name = stream + STREAM.len();
        stream <= terminator && name < text.len() && name >= name_from
    };
    if any_before_stream {
        let Some(account) = accounts.next() else {
            return false;
        };
        let after_account = account + 14;
        text[after_account..]
            .match_indices(STREAM)
            .map(|(at, _)| after_account + at)
            .filter(|&stream| stream <= terminator && stream + STREAM.len() < text.len())
            .last()
            .is_some_and(fits)
    } else {
        accounts.any(|colon| {
            let stream = colon + 14;
            text.get(stream..)
                .is_some_and(|rest| rest.starts_with(STREAM))
                && fits(stream)
        })
    }
}

fn decimal(text: &str, digits_max: usize) -> bool {
    text == "0"
        || (!text.is_empty()
            && text.len() <= digits_max
            && !text.starts_with('0')
            && text.bytes().all(|b| b.is_ascii_digit()))
}

/// The parts of a stream ARN: (region, account id, stream name).
pub fn parse_stream_arn(text: &str) -> Option<(&str, &str, &str)> {
    let rest = text.strip_prefix("arn:aws")?;
    let (_partition, rest) = rest.split_once(":kinesis:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, name) = rest.split_once(":stream/")?;
    let valid = account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.chars().any(char::is_whitespace);
    valid.then_some((region, account, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_counted_and_joined_as_the_front_end_does() {
        let mut checks = Checks::new();
        checks.text("streamName", Some(""), Some(NAME), (1, 128));
        checks.range("limit", Some(0), 1, 10000);
        let error = checks.finish().unwrap_err();
        assert_eq!(
            error.message.as_deref(),
            Some(
                "3 validation errors detected: Value '' at 'streamName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; \
                 Value '' at 'streamName' failed to satisfy constraint: Member must have length \
                 greater than or equal to 1; Value '0' at 'limit' failed to satisfy constraint: \
                 Member must have value greater than or equal to 1"
            )
        );
        let mut one = Checks::new();
        one.required::<&str>("shardIterator", &None);
        assert_eq!(
            one.finish().unwrap_err().message.as_deref(),
            Some(
                "1 validation error detected: Value null at 'shardIterator' failed to satisfy \
                 constraint: Member must not be null"
            )
        );
    }

    #[test]
    fn a_collection_breaking_its_member_constraints_is_one_error_naming_them_all() {
        let mut checks = Checks::new();
        let keys = ["a", ""];
        let shown = shown_list(keys);
        checks.size("tagKeys", &shown, keys.len(), (1, 50));
        let rule = MemberRule::Length(1, 128);
        checks.members("tagKeys", &shown, MemberRole::ListMember, &rule, keys);
        let tags = [("k", "v")];
        let shown = shown_map(tags);
        let rule = MemberRule::Length(0, 0);
        checks.members(
            "tags",
            &shown,
            MemberRole::MapValue,
            &rule,
            tags.map(|(_, v)| v),
        );
        assert_eq!(
            checks.finish().unwrap_err().message.as_deref(),
            Some(
                "2 validation errors detected: Value '[a, ]' at 'tagKeys' failed to satisfy \
                 constraint: Member must satisfy constraint: [Member must have length less than \
                 or equal to 128, Member must have length greater than or equal to 1]; Value \
                 '{k=v}' at 'tags' failed to satisfy constraint: Map value must satisfy \
                 constraint: [Member must have length less than or equal to 0, Member must have \
                 length greater than or equal to 0]"
            )
        );
    }

    #[test]
    fn resource_arns_match_as_the_java_expression_does() {
        let matches = RESOURCE_ARN.matches;
        for arn in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s",
            "arn:aws-cn:kinesis:cn-north-1:000000000000:stream/s/consumer/c:1",
            // Each `.*` may take in the literal parts after it.
            "arn:aws:kinesis:a:kinesis:b:000000000000:stream/s",
            "arn:aws:kinesis:r:1:000000000000:x-stream/s",
        ] {
            assert!(matches(arn), "{arn}");
        }
        for arn in [
            "",
            "!",
            "arn:aws:kinesis:us-east-1:0000:stream/s",
            "arn:aws:kinesis:us-east-1:000000000000:stream/",
            "arn:aws:kinesis:us-east-1:000000000000:stream/a b",
            "arn:aws:kinesis:us\n:000000000000:stream/s",
            "arn:aws:sqs:us-east-1:000000000000:stream/s",
        ] {
            assert!(!matches(arn), "{arn:?}");
        }
    }

    /// The matchers against the regex crate's (linear, not backtracking) reading of the same
    /// expressions, with Java's `.` and `\S` spelled out, on texts built from the patterns'
    /// pieces: they must agree on every one.
    #[test]
    fn arn_matchers_agree_with_the_expressions_on_generated_texts() {
        let dot = r"[^\n\r\x{85}\x{2028}\x{2029}]";
        let non_space = r"[^ \t\n\x0B\x0C\r]";
        let stream = regex::Regex::new(&format!(
            r"^arn:aws{dot}*:kinesis:{dot}*:\d{{12}}:stream/{non_space}+$"
        ))
        .unwrap();
        let resource = regex::Regex::new(&format!(
            r"^arn:aws{dot}*:kinesis:{dot}*:\d{{12}}:{dot}*stream/{non_space}+$"
        ))
        .unwrap();
        let consumer = regex::Regex::new(&format!(
            r"^(arn):aws{dot}*:kinesis:{dot}*:\d{{12}}:{dot}*stream/[a-zA-Z0-9_.-]+/consumer/[a-zA-Z0-9_.-]+:[0-9]+$"
        ))
        .unwrap();
        let pieces = [
            "arn:aws",
            ":kinesis:",
            ":",
            "000000000000",
            "stream/",
            "s",
            "/consumer/",
            "7",
            " ",
            "\n",
            "\u{85}",
            "-",
            "stream",
            "123",
        ];
        let mut state = 0x0a2e_u64;
        let mut draw = |bound: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % bound
        };
        let mut agreed = [0usize; 2];
        let mut consumers = 0;
        for _ in 0..20_000 {
            // The expressions' skeleton, each part dropped now and then, with random pieces
            // between the parts.
            let skeleton = [
                "arn:aws",
                ":kinesis:",
                ":000000000000:",
                "stream/",
                "s",
                "/consumer/",
                "c",
                ":7",
            ];
            let mut text = String::new();
            for part in skeleton {
                if draw(8) != 0 {
                    text.push_str(part);
                }
                for _ in 0..draw(4).saturating_sub(2) {
                    text.push_str(pieces[draw(pieces.len())]);
                }
            }
            assert_eq!(
                (STREAM_ARN.matches)(&text),
                stream.is_match(&text),
                "{text:?}"
            );
            assert_eq!(
                (RESOURCE_ARN.matches)(&text),
                resource.is_match(&text),
                "{text:?}"
            );
            assert_eq!(
                (CONSUMER_ARN.matches)(&text),
                consumer.is_match(&text),
                "{text:?}"
            );
            agreed[usize::from(resource.is_match(&text))] += 1;
            consumers += usize::from(consumer.is_match(&text));
        }
        // The texts reach both answers, so the agreement says something.
        assert!(agreed.iter().all(|&count| count > 1000), "{agreed:?}");
        assert!(consumers > 100, "{consumers} consumer ARNs");
    }

    #[test]
    fn stream_arns_match_as_the_java_expression_does() {
        let matches = STREAM_ARN.matches;
        assert!(matches("arn:aws:kinesis:us-east-1:000000000000:stream/s"));
        assert!(matches("arn:aws:kinesis:a:kinesis:b:000000000000:stream/s"));
        assert!(matches(
            "arn:aws:kinesis:a:000000000000:b:000000000000:stream/s"
        ));
        assert!(!matches("arn:aws:kinesis:r:000000000000:x-stream/s"));
        assert!(!matches("arn:aws:kinesis:r:000000000000:stream/a\tb"));
    }

    #[test]
    fn stream_ids_are_twenty_and_three_lowercase_letters_or_digits() {
        let matches = STREAM_ID.matches;
        assert!(matches("abcdefghij0123456789-abc"));
        assert!(!matches("ABCDEFGHIJ0123456789-abc"));
        assert!(!matches("abcdefghij0123456789-abcd"));
        assert!(!matches("abcdefghij012345678-abc"));
        assert!(!matches(""));
    }

    #[test]
    fn base64_is_checked_strictly() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        let message = |text| decode_base64(text).unwrap_err().message.unwrap();
        assert!(message("aGk").ends_with("multiple of 4 bytes but found: 3"));
        assert!(message("a*k=").ends_with("Invalid Base64 character: '*'"));
        assert!(message("aGl=").ends_with("Invalid last non-pad Base64 character dectected"));
    }

    #[test]
    fn resource_arns_and_stream_ids_match_as_the_models_expressions_do() {
        for arn in [
            "arn:aws:kinesis:us-east-1:000000000000:stream/s-1",
            "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s/consumer/c:1700000000",
            "arn:aws:kinesis::000000000000:prefix-stream/s",
            "arn:aws:kinesis:x:y:000000000000:stream/s",
        ] {
            assert!((RESOURCE_ARN.matches)(arn), "{arn}");
        }
        for arn in [
            "arn:aws:kinesis:us-east-1:00000000000:stream/s",
            "arn:aws:kinesis:us-east-1:000000000000:stream/",
            "arn:aws:kinesis:us-east-1:000000000000:stream/a b",
            "arn:aws:kinesis:us-east-1:000000000000:table/s",
            "arn:aws:kinesis:us-east-1\n:000000000000:stream/s",
            "arn:aws:sqs:us-east-1:000000000000:stream/s",
            "stream/s",
        ] {
            assert!(!(RESOURCE_ARN.matches)(arn), "{arn}");
        }
        assert!((STREAM_ID.matches)("abcdefghij0123456789-a1b"));
        assert!(!(STREAM_ID.matches)("Abcdefghij0123456789-a1b"));
        assert!(!(STREAM_ID.matches)("abcdefghij012345678-a1b"));
        assert!(!(STREAM_ID.matches)("abcdefghij0123456789-a1b-"));
    }

    #[test]
    fn consumer_arns_match_the_model_pattern() {
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000";
        assert!((CONSUMER_ARN.matches)(arn));
        assert!((RESOURCE_ARN.matches)(arn));
        assert!(!(CONSUMER_ARN.matches)(
            "arn:aws:kinesis:us-east-1:000000000000:stream/s"
        ));
        assert!(!(CONSUMER_ARN.matches)(&format!("{arn}x")));
    }

    #[test]
    fn stream_arns_split_into_region_account_and_name() {
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s-1"),
            Some(("us-east-1", "000000000000", "s-1"))
        );
        assert_eq!(
            parse_stream_arn("arn:aws:kinesis:us-east-1:0000:stream/s"),
            None
        );
        assert_eq!(parse_stream_arn("stream/s"), None);
    }
}
