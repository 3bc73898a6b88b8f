//! Every constraint the current Kinesis API model puts on a request member is enforced by
//! `shardlog serve` with the exception and message Kinesis' front end sends.
//!
//! The model is botocore's `data/kinesis/<newest version>/service-2.json` (`.json.gz` in newer
//! botocore), read at test time from the installed package and never copied here: when a newer
//! botocore adds a member or moves a limit, this test holds the server to it. For every operation
//! the server serves it sends, over loopback:
//! - a baseline (the required members, valid), which must pass validation;
//! - one request per constraint (required, string length, pattern, enum, number range, list and
//!   map size, list members, map keys and values, blob size), which must get exactly the
//!   `ValidationException` Kinesis sends;
//! - requests with values on each bound the model allows, which must pass validation;
//! - one request breaking up to ten members at once, whose errors must all be listed together.
//!
//! Operations the server answers with `UnknownOperationException` are listed and skipped, so they
//! are covered as soon as they are served.
//!
//! How the front end words each error is recorded byte for byte in kinesalite's suite
//! (`mhart/kinesalite`, `test/*.js`, recorded against production): `Value '<v>' at '<path>'
//! failed to satisfy constraint: Member must ...`, the value shown as Java prints it (a blob as
//! `java.nio.HeapByteBuffer[pos=0 lim=<n> cap=<n>]`, a list as `[a, b]`, a map as `{k=v}`,
//! a missing member as `null`), nested paths as `records.1.member.partitionKey`; a list's or
//! map's members are checked as a whole (`Member must satisfy constraint: [...]`, `Map keys must
//! satisfy constraint: [...]`); and `"<n> validation error(s) detected: "` heads the errors,
//! joined by `"; "`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ServeProcess, call_json};
use base64::Engine as _;
use serde_json::{Map, Value, json};

/// The botocore data directory, found through the installed package.
fn botocore_data_dir() -> PathBuf {
    let output = Command::new("python3")
        .args([
            "-c",
            "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))",
        ])
        .output()
        .expect("python3 runs (CI's .ci/run installs it, with boto3)");
    assert!(
        output.status.success(),
        "botocore is not installed; `python3 -m pip install boto3` (as .ci/run does): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// The newest Kinesis API model botocore holds, plain or gzip-compressed.
fn kinesis_model() -> (PathBuf, Value) {
    let versions = botocore_data_dir().join("kinesis");
    let newest = std::fs::read_dir(&versions)
        .unwrap_or_else(|error| panic!("{} is readable: {error}", versions.display()))
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.is_dir())
        // Versions are dates (2013-12-02), so the newest sorts last.
        .max()
        .unwrap_or_else(|| panic!("{} holds a model version", versions.display()));
    let plain = newest.join("service-2.json");
    let compressed = newest.join("service-2.json.gz");
    let (path, bytes) = if plain.exists() {
        let bytes = std::fs::read(&plain).expect("the model is readable");
        (plain, bytes)
    } else {
        (compressed.clone(), gunzip(&compressed))
    };
    let model = serde_json::from_slice(&bytes).expect("the model is JSON");
    (path, model)
}

/// The bytes of a gzip file, through Python's `gzip` (the one decompressor certain to be here).
fn gunzip(path: &Path) -> Vec<u8> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
        ])
        .arg(path)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{} decompresses: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// For each pattern in the model: a value that matches it, and a character that can be appended
/// (or cut) to reach a length. A pattern missing here fails the test, naming it.
const PATTERN_EXAMPLES: &[(&str, &str, char)] = &[
    ("[a-zA-Z0-9_.-]+", "a", 'a'),
    ("0|([1-9]\\d{0,128})", "1", '0'),
    ("0|([1-9]\\d{0,38})", "1", '0'),
    (
        "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+",
        "arn:aws:kinesis:us-east-1:000000000000:stream/a",
        'a',
    ),
    (
        "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
        "arn:aws:kinesis:us-east-1:000000000000:stream/a",
        'a',
    ),
    (
        "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+",
        "arn:aws:kinesis:us-east-1:000000000000:stream/a/consumer/c:1",
        '1',
    ),
    ("[a-z0-9]{20}-[a-z0-9]{3}", "abcdefghij0123456789-abc", 'a'),
];

/// A character no pattern of the model admits at any position.
const NEVER_IN_A_PATTERN: char = '!';

/// Whether `value` matches the whole of `pattern` (as Java's `String.matches` does). The values
/// this test builds are ASCII, where Java's and Rust's classes (`\d`, `\S`) agree.
fn matches(pattern: &str, value: &str) -> bool {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .unwrap_or_else(|error| panic!("pattern {pattern} compiles: {error}"))
        .is_match(value)
}

/// One step into a request: a member of a structure or map, or an element of a list.
#[derive(Debug, Clone)]
enum Step {
    Member(String),
    Element(usize),
}

/// Where a member sits in a request.
type Location = Vec<Step>;

/// The member's path as the front end names it: `records.1.member.partitionKey`.
fn path_of(location: &[Step]) -> String {
    location
        .iter()
        .map(|step| match step {
            Step::Member(name) => lower_first(name),
            Step::Element(index) => format!("{}.member", index + 1),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `request` with the member at `location` set to `value`, or removed when `value` is `None`.
fn with_member(request: &Value, location: &[Step], value: Option<Value>) -> Value {
    let mut request = request.clone();
    let (last, parents) = location.split_last().expect("a location names a member");
    let mut parent = &mut request;
    for step in parents {
        parent = match step {
            Step::Member(name) => &mut parent[name.as_str()],
            Step::Element(index) => &mut parent[*index],
        };
    }
    match (last, value) {
        (Step::Member(name), Some(value)) => {
            parent
                .as_object_mut()
                .expect("a structure")
                .insert(name.clone(), value);
        }
        (Step::Member(name), None) => {
            parent.as_object_mut().expect("a structure").remove(name);
        }
        (Step::Element(index), Some(value)) => parent[*index] = value,
        (Step::Element(_), None) => unreachable!("list elements are replaced, never removed"),
    }
    request
}

/// How the front end shows a value in an error.
#[derive(Debug, Clone)]
enum Shown {
    /// `null`, unquoted: the member is missing.
    Null,
    /// Exactly this, in quotes.
    Exact(String),
    /// A map of these `key=value` entries. Its order is Java's hash order, which kinesalite's
    /// recorded tests leave open (they match it with a regular expression).
    MapInAnyOrder(Vec<String>),
    /// A list of this many structures, each printed as Java prints an object,
    /// `com.amazonaws.kinesis.v20131202.<Shape>@<hash code>`; the hash codes cannot be derived
    /// (kinesalite's test/putRecords.js records `PutRecordsRequestEntry@c965e310` for an entry
    /// with empty key and data), so only the form is checked.
    Structures { shape: String, count: usize },
}

/// One error the front end must list.
#[derive(Debug, Clone)]
struct Expected {
    shown: Shown,
    path: String,
    rule: String,
}

impl Expected {
    fn is_exact(&self) -> bool {
        matches!(self.shown, Shown::Null | Shown::Exact(_))
    }

    /// Whether `actual` (one error of a message) is this error.
    fn accepts(&self, actual: &str) -> bool {
        let tail = format!(
            "' at '{}' failed to satisfy constraint: {}",
            self.path, self.rule
        );
        match &self.shown {
            Shown::Null => {
                actual
                    == format!(
                        "Value null at '{}' failed to satisfy constraint: {}",
                        self.path, self.rule
                    )
            }
            Shown::Exact(value) => actual == format!("Value '{value}{tail}"),
            Shown::MapInAnyOrder(entries) => actual
                .strip_prefix("Value '{")
                .and_then(|rest| rest.strip_suffix(&format!("}}{tail}")))
                .is_some_and(|inside| {
                    let mut actual: Vec<&str> = inside.split(", ").collect();
                    let mut wanted: Vec<&str> = entries.iter().map(String::as_str).collect();
                    actual.sort_unstable();
                    wanted.sort_unstable();
                    actual == wanted
                }),
            Shown::Structures { shape, count } => actual
                .strip_prefix("Value '[")
                .and_then(|rest| rest.strip_suffix(&format!("]{tail}")))
                .is_some_and(|inside| {
                    let prefix = format!("com.amazonaws.kinesis.v20131202.{shape}@");
                    let items: Vec<&str> = inside.split(", ").collect();
                    items.len() == *count
                        && items.iter().all(|item| {
                            item.strip_prefix(&prefix).is_some_and(|hash| {
                                hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
                            })
                        })
                }),
        }
    }

    fn describe(&self) -> String {
        format!("{:?} at '{}': {}", self.shown, self.path, self.rule)
    }
}

/// A request that must fail validation with exactly these errors.
struct Violation {
    what: String,
    /// The path of the member it breaks.
    member: String,
    request: Value,
    errors: Vec<Expected>,
}

/// A request the model allows, which must pass validation.
struct Allowed {
    what: String,
    request: Value,
}

/// The shapes of the model.
struct Shapes<'m>(&'m Map<String, Value>);

impl<'m> Shapes<'m> {
    fn get(&self, name: &str) -> &'m Value {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("shape {name} is in the model"))
    }
}

fn number(shape: &Value, key: &str) -> Option<i64> {
    shape.get(key).and_then(Value::as_i64)
}

fn kind(shape: &Value) -> &str {
    shape["type"].as_str().expect("a shape has a type")
}

fn enum_values(shape: &Value) -> Option<Vec<&str>> {
    shape.get("enum").and_then(Value::as_array).map(|values| {
        values
            .iter()
            .map(|value| value.as_str().expect("enum values are strings"))
            .collect()
    })
}

fn pattern(shape: &Value) -> Option<&str> {
    shape.get("pattern").and_then(Value::as_str)
}

fn enum_rule(values: &[&str]) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        values.join(", ")
    )
}

/// A value matching the string shape's pattern (`a` when it has none), and the character that
/// lengthens it.
fn example(shape: &Value) -> (&'static str, char) {
    match pattern(shape) {
        Some(pattern) => {
            let (_, example, filler) = PATTERN_EXAMPLES
                .iter()
                .find(|(known, _, _)| *known == pattern)
                .unwrap_or_else(|| {
                    panic!("the model has a new pattern; add an example of it: {pattern}")
                });
            (example, *filler)
        }
        None => ("a", 'a'),
    }
}

/// A string of `chars` characters, as near to the shape's example as the length allows.
fn string_of_length(shape: &Value, chars: usize) -> String {
    let (example, filler) = example(shape);
    example
        .chars()
        .chain(std::iter::repeat(filler))
        .take(chars)
        .collect()
}

/// The rules of a string shape `value` breaks, in the order the front end lists them: pattern,
/// then length (kinesalite's test/addTagsToStream.js records `''` as a stream name breaking the
/// pattern, then the minimum length), then enum.
fn broken_string_rules(shape: &Value, value: &str) -> Vec<String> {
    let mut rules = Vec::new();
    if let Some(pattern) = pattern(shape).filter(|pattern| !matches(pattern, value)) {
        rules.push(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ));
    }
    let chars = i64::try_from(value.chars().count()).expect("a short string");
    if let Some(min) = number(shape, "min").filter(|min| chars < *min) {
        rules.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = number(shape, "max").filter(|max| chars > *max) {
        rules.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(values) = enum_values(shape).filter(|values| !values.contains(&value)) {
        rules.push(enum_rule(&values));
    }
    rules
}

/// Every constraint of a list member, map key or map value, as the front end lists them when one
/// member breaks any: maximum length first, then minimum (kinesalite's test/addTagsToStream.js and
/// test/removeTagsFromStream.js record `[Member must have length less than or equal to 128, Member
/// must have length greater than or equal to 1]` for a key that is only too long, and `... greater
/// than or equal to 0]` for tag values). Patterns and enums follow; no such member in the model
/// has both, so their order among the lengths is unrecorded.
fn member_constraints(shape: &Value) -> String {
    let mut rules = Vec::new();
    if let Some(max) = number(shape, "max") {
        rules.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    if let Some(min) = number(shape, "min") {
        rules.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(pattern) = pattern(shape) {
        rules.push(format!(
            "Member must satisfy regular expression pattern: {pattern}"
        ));
    }
    if let Some(values) = enum_values(shape) {
        rules.push(enum_rule(&values));
    }
    format!("[{}]", rules.join(", "))
}

/// Values of a string shape that break it, one per constraint.
fn bad_strings(shape: &Value) -> Vec<(String, String)> {
    let mut bad = Vec::new();
    if enum_values(shape).is_some() {
        bad.push(("a value outside the enum".to_owned(), "x".to_owned()));
    }
    if pattern(shape).is_some() {
        let min = number(shape, "min").unwrap_or(1).max(1);
        let chars = usize::try_from(min).expect("a small minimum");
        bad.push((
            "a value outside the pattern".to_owned(),
            NEVER_IN_A_PATTERN.to_string().repeat(chars),
        ));
    }
    if let Some(min) = number(shape, "min").filter(|min| *min > 0) {
        let chars = usize::try_from(min - 1).expect("a small minimum");
        bad.push((
            format!("shorter than {min}"),
            string_of_length(shape, chars),
        ));
    }
    if let Some(max) = number(shape, "max") {
        let chars = usize::try_from(max + 1).expect("a small maximum");
        bad.push((format!("longer than {max}"), string_of_length(shape, chars)));
    }
    bad
}

fn blob(bytes: usize) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(vec![0u8; bytes]))
}

fn shown_blob(bytes: usize) -> String {
    format!("java.nio.HeapByteBuffer[pos=0 lim={bytes} cap={bytes}]")
}

/// Most tags a stream keeps. The model lets a tag map hold 200 entries, and the front end checks
/// that; past 50 Kinesis answers with its tagging rule instead (API reference, CreateStream and
/// AddTagsToStream: "A set of up to 50 tags"), so the bound probed as allowed for tag maps is 50.
const TAGS_ON_A_STREAM_MAX: i64 = 50;

/// Java's `Integer` range: the front end reads integer members into one.
const JAVA_INTEGER: (i64, i64) = (i32::MIN as i64, i32::MAX as i64);

/// What one operation's input is checked with.
struct Generator<'m> {
    shapes: Shapes<'m>,
    violations: Vec<Violation>,
    allowed: Vec<Allowed>,
}

impl<'m> Generator<'m> {
    /// A valid value of `shape`; `seed` keeps list members and map keys apart.
    fn valid(&self, shape: &Value, seed: usize) -> Value {
        match kind(shape) {
            "string" => {
                if let Some(values) = enum_values(shape) {
                    return json!(values[seed % values.len()]);
                }
                if pattern(shape).is_some() {
                    let chars = i64::try_from(example(shape).0.len()).expect("short");
                    let min = number(shape, "min").unwrap_or(0);
                    let max = number(shape, "max").unwrap_or(i64::MAX);
                    let chars = chars.max(min).min(max);
                    return json!(string_of_length(
                        shape,
                        usize::try_from(chars).expect("small")
                    ));
                }
                let min = usize::try_from(number(shape, "min").unwrap_or(0)).expect("small");
                let max = number(shape, "max").map_or(usize::MAX, |max| {
                    usize::try_from(max).expect("a non-negative maximum")
                });
                let text = format!("v{seed}");
                let padded = format!("{text}{}", "a".repeat(min.saturating_sub(text.len())));
                json!(padded.chars().take(max).collect::<String>())
            }
            "integer" | "long" => json!(number(shape, "min").or(number(shape, "max")).unwrap_or(1)),
            "boolean" => json!(false),
            "blob" => {
                blob(usize::try_from(number(shape, "min").unwrap_or(1).max(1)).expect("small"))
            }
            "timestamp" => json!(1_700_000_000),
            "list" => {
                let member = self
                    .shapes
                    .get(shape["member"]["shape"].as_str().expect("named"));
                let count = number(shape, "min").unwrap_or(1).max(1);
                Value::Array(
                    (0..usize::try_from(count).expect("small"))
                        .map(|seed| self.valid(member, seed))
                        .collect(),
                )
            }
            "map" => {
                let key = self
                    .shapes
                    .get(shape["key"]["shape"].as_str().expect("named"));
                let value = self
                    .shapes
                    .get(shape["value"]["shape"].as_str().expect("named"));
                let count = number(shape, "min").unwrap_or(1).max(1);
                Value::Object(
                    (0..usize::try_from(count).expect("small"))
                        .map(|seed| {
                            let key = self.valid(key, seed);
                            (
                                key.as_str().expect("string keys").to_owned(),
                                self.valid(value, seed),
                            )
                        })
                        .collect(),
                )
            }
            "structure" => {
                let required = required_members(shape);
                Value::Object(
                    members(shape)
                        .filter(|(name, _)| required.contains(name))
                        .map(|(name, member)| {
                            (name.to_owned(), self.valid(self.shapes.get(member), 0))
                        })
                        .collect(),
                )
            }
            other => panic!("the model has a member of a new type, {other}"),
        }
    }

    /// The violations and allowed bounds of every member of structure `shape`, which sits at
    /// `location` in `request` (present there).
    fn structure(&mut self, request: &Value, location: &Location, shape: &Value) {
        let required = required_members(shape);
        for (name, member_shape) in members(shape) {
            let mut member_location = location.clone();
            member_location.push(Step::Member(name.to_owned()));
            let member_shape = self.shapes.get(member_shape);
            if required.contains(&name) {
                self.violation(
                    "missing".to_owned(),
                    with_member(request, &member_location, None),
                    vec![Expected {
                        shown: Shown::Null,
                        path: path_of(&member_location),
                        rule: "Member must not be null".to_owned(),
                    }],
                );
            }
            self.member(request, &member_location, member_shape);
        }
    }

    fn violation(&mut self, what: String, request: Value, errors: Vec<Expected>) {
        let member = errors
            .first()
            .map(|error| error.path.clone())
            .unwrap_or_default();
        self.violations.push(Violation {
            what,
            member,
            request,
            errors,
        });
    }

    fn allowed(&mut self, what: String, request: Value) {
        self.allowed.push(Allowed { what, request });
    }

    /// The violations and allowed bounds of the member at `location`, whose siblings are as in
    /// `request`.
    fn member(&mut self, request: &Value, location: &Location, shape: &Value) {
        let path = path_of(location);
        let set = |value: Value| with_member(request, location, Some(value));
        match kind(shape) {
            "string" => {
                for (what, value) in bad_strings(shape) {
                    let errors = broken_string_rules(shape, &value)
                        .into_iter()
                        .map(|rule| Expected {
                            shown: Shown::Exact(value.clone()),
                            path: path.clone(),
                            rule,
                        })
                        .collect();
                    self.violation(format!("{path} {what}"), set(json!(value)), errors);
                }
                for bound in ["min", "max"] {
                    let Some(chars) = number(shape, bound) else {
                        continue;
                    };
                    let value = string_of_length(shape, usize::try_from(chars).expect("small"));
                    if broken_string_rules(shape, &value).is_empty() {
                        self.allowed(format!("{path} of length {chars}"), set(json!(value)));
                    }
                }
            }
            "integer" | "long" => {
                let rules = [
                    ("min", -1, "greater than or equal to", JAVA_INTEGER.0),
                    ("max", 1, "less than or equal to", JAVA_INTEGER.1),
                ];
                for (bound, step, relation, java_bound) in rules {
                    match number(shape, bound) {
                        Some(limit) => {
                            let value = limit + step;
                            self.violation(
                                format!("{path} = {value}"),
                                set(json!(value)),
                                vec![Expected {
                                    shown: Shown::Exact(value.to_string()),
                                    path: path.clone(),
                                    rule: format!("Member must have value {relation} {limit}"),
                                }],
                            );
                            self.allowed(format!("{path} = {limit}"), set(json!(limit)));
                        }
                        // No bound in the model: the front end takes any Integer.
                        None => {
                            self.allowed(format!("{path} = {java_bound}"), set(json!(java_bound)))
                        }
                    }
                }
            }
            "blob" => {
                if let Some(min) = number(shape, "min").filter(|min| *min > 0) {
                    let bytes = usize::try_from(min - 1).expect("small");
                    self.violation(
                        format!("{path} of {bytes} bytes"),
                        set(blob(bytes)),
                        vec![Expected {
                            shown: Shown::Exact(shown_blob(bytes)),
                            path: path.clone(),
                            rule: format!("Member must have length greater than or equal to {min}"),
                        }],
                    );
                }
                if let Some(max) = number(shape, "max") {
                    let bytes = usize::try_from(max + 1).expect("small");
                    self.violation(
                        format!("{path} of {bytes} bytes"),
                        set(blob(bytes)),
                        vec![Expected {
                            shown: Shown::Exact(shown_blob(bytes)),
                            path: path.clone(),
                            rule: format!("Member must have length less than or equal to {max}"),
                        }],
                    );
                    let bytes = usize::try_from(max).expect("small");
                    self.allowed(format!("{path} of {bytes} bytes"), set(blob(bytes)));
                }
            }
            "list" => self.list(request, location, shape),
            "map" => self.map(request, location, shape),
            "structure" => {
                let present = match pointer(request, location) {
                    Some(_) => request.clone(),
                    None => set(self.valid(shape, 0)),
                };
                self.structure(&present, location, shape);
            }
            _ => {}
        }
    }

    /// A list of `count` valid members of shape `member_name`, and how the front end shows it.
    fn list_of(&self, member_name: &str, count: usize) -> (Value, Shown) {
        let member = self.shapes.get(member_name);
        let items: Vec<Value> = (0..count).map(|seed| self.valid(member, seed)).collect();
        let shown = match kind(member) {
            "structure" if count > 0 => Shown::Structures {
                shape: member_name.to_owned(),
                count,
            },
            _ => Shown::Exact(format!(
                "[{}]",
                items
                    .iter()
                    .map(|item| item
                        .as_str()
                        .map_or_else(|| item.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        (Value::Array(items), shown)
    }

    /// A map of `count` valid entries, and its entries as the front end shows them (`k=v`).
    fn map_of(&self, key_shape: &Value, value_shape: &Value, count: usize) -> (Value, Vec<String>) {
        let entries: Vec<(String, String)> = (0..count)
            .map(|seed| {
                let key = self.valid(key_shape, seed);
                let value = self.valid(value_shape, seed);
                (
                    key.as_str().expect("string keys").to_owned(),
                    value.as_str().expect("string values").to_owned(),
                )
            })
            .collect();
        let shown = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let map = entries
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        (Value::Object(map), shown)
    }

    fn list(&mut self, request: &Value, location: &Location, shape: &Value) {
        let path = path_of(location);
        let set = |value: Value| with_member(request, location, Some(value));
        let member_name = shape["member"]["shape"].as_str().expect("named");
        let member = self.shapes.get(member_name);
        if let Some(min) = number(shape, "min").filter(|min| *min > 0) {
            let (value, shown) =
                self.list_of(member_name, usize::try_from(min - 1).expect("small"));
            self.violation(
                format!("{path} with {} members", min - 1),
                set(value),
                vec![Expected {
                    shown,
                    path: path.clone(),
                    rule: format!("Member must have length greater than or equal to {min}"),
                }],
            );
        }
        if let Some(max) = number(shape, "max") {
            let (value, shown) =
                self.list_of(member_name, usize::try_from(max + 1).expect("small"));
            self.violation(
                format!("{path} with {} members", max + 1),
                set(value),
                vec![Expected {
                    shown,
                    path: path.clone(),
                    rule: format!("Member must have length less than or equal to {max}"),
                }],
            );
            let (value, _) = self.list_of(member_name, usize::try_from(max).expect("small"));
            self.allowed(format!("{path} with {max} members"), set(value));
        }
        match kind(member) {
            "string" => {
                for (what, bad) in bad_strings(member) {
                    self.violation(
                        format!("{path} with a member {what}"),
                        set(json!([bad])),
                        vec![Expected {
                            shown: Shown::Exact(format!("[{bad}]")),
                            path: path.clone(),
                            rule: format!(
                                "Member must satisfy constraint: {}",
                                member_constraints(member)
                            ),
                        }],
                    );
                }
            }
            "structure" => {
                let present = match pointer(request, location) {
                    Some(_) => request.clone(),
                    None => set(self.valid(shape, 0)),
                };
                let mut first = location.clone();
                first.push(Step::Element(0));
                self.structure(&present, &first, member);
            }
            other => panic!("the model has a list of a new type, {other}"),
        }
    }

    fn map(&mut self, request: &Value, location: &Location, shape: &Value) {
        let path = path_of(location);
        let set = |value: Value| with_member(request, location, Some(value));
        let key_shape = self
            .shapes
            .get(shape["key"]["shape"].as_str().expect("named"));
        let value_shape = self
            .shapes
            .get(shape["value"]["shape"].as_str().expect("named"));
        if let Some(min) = number(shape, "min").filter(|min| *min > 0) {
            let (value, shown) = self.map_of(
                key_shape,
                value_shape,
                usize::try_from(min - 1).expect("small"),
            );
            self.violation(
                format!("{path} with {} entries", min - 1),
                set(value),
                vec![Expected {
                    shown: Shown::Exact(format!("{{{}}}", shown.join(", "))),
                    path: path.clone(),
                    rule: format!("Member must have length greater than or equal to {min}"),
                }],
            );
        }
        if let Some(max) = number(shape, "max") {
            let (value, shown) = self.map_of(
                key_shape,
                value_shape,
                usize::try_from(max + 1).expect("small"),
            );
            self.violation(
                format!("{path} with {} entries", max + 1),
                set(value),
                vec![Expected {
                    shown: Shown::MapInAnyOrder(shown),
                    path: path.clone(),
                    rule: format!("Member must have length less than or equal to {max}"),
                }],
            );
            let most = if shape["key"]["shape"] == "TagKey" {
                max.min(TAGS_ON_A_STREAM_MAX)
            } else {
                max
            };
            let (value, _) = self.map_of(
                key_shape,
                value_shape,
                usize::try_from(most).expect("small"),
            );
            self.allowed(format!("{path} with {most} entries"), set(value));
        }
        let good_key = self.valid(key_shape, 0);
        let good_key = good_key.as_str().expect("string keys");
        let good_value = self.valid(value_shape, 0);
        let good_value = good_value.as_str().expect("string values");
        for (what, bad) in bad_strings(key_shape) {
            self.violation(
                format!("{path} with a key {what}"),
                set(json!({ bad.clone(): good_value })),
                vec![Expected {
                    shown: Shown::Exact(format!("{{{bad}={good_value}}}")),
                    path: path.clone(),
                    rule: format!(
                        "Map keys must satisfy constraint: {}",
                        member_constraints(key_shape)
                    ),
                }],
            );
        }
        for (what, bad) in bad_strings(value_shape) {
            self.violation(
                format!("{path} with a value {what}"),
                set(json!({ good_key: bad.clone() })),
                vec![Expected {
                    shown: Shown::Exact(format!("{{{good_key}={bad}}}")),
                    path: path.clone(),
                    rule: format!(
                        "Map value must satisfy constraint: {}",
                        member_constraints(value_shape)
                    ),
                }],
            );
        }
    }
}

/// The value at `location` in `request`, if there is one.
fn pointer<'v>(request: &'v Value, location: &[Step]) -> Option<&'v Value> {
    location.iter().try_fold(request, |value, step| match step {
        Step::Member(name) => value.get(name.as_str()),
        Step::Element(index) => value.get(*index),
    })
}

fn members(shape: &Value) -> impl Iterator<Item = (&str, &str)> {
    shape
        .get("members")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, member)| {
            (
                name.as_str(),
                member["shape"].as_str().expect("a member names its shape"),
            )
        })
}

fn required_members(shape: &Value) -> Vec<&str> {
    shape
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The errors of a ValidationException's message, after checking its count.
fn listed_errors(message: &str) -> Result<Vec<&str>, String> {
    let (head, errors) = message
        .split_once(" detected: ")
        .ok_or_else(|| format!("no error count in {message:?}"))?;
    let errors: Vec<&str> = errors.split("; ").collect();
    let plural = if errors.len() == 1 { "" } else { "s" };
    let wanted_head = format!("{} validation error{plural}", errors.len());
    if head != wanted_head {
        return Err(format!("head {head:?} for {} errors", errors.len()));
    }
    Ok(errors)
}

/// What is wrong with `answer` for a request that must get exactly `expected`, in any order
/// when `any_order` (kinesalite's test/helpers.js `assertValidation` accepts the errors in any
/// order: the front end's order follows its own member order, which the model does not give).
fn mismatch(
    answer: &crate::common::Answer,
    expected: &[Expected],
    any_order: bool,
) -> Option<String> {
    let body = serde_json::from_slice::<Value>(&answer.body).unwrap_or(Value::Null);
    let wanted: Vec<String> = expected.iter().map(Expected::describe).collect();
    let got = format!("{} {body}", answer.status);
    if answer.status != http::StatusCode::BAD_REQUEST || body["__type"] != "ValidationException" {
        return Some(format!("wanted ValidationException {wanted:?}, got {got}"));
    }
    let message = body["message"].as_str().unwrap_or_default();
    let errors = match listed_errors(message) {
        Ok(errors) => errors,
        Err(problem) => return Some(format!("{problem}; wanted {wanted:?}")),
    };
    let fits = errors.len() == expected.len()
        && if any_order {
            let mut unmatched: Vec<&Expected> = expected.iter().collect();
            errors.iter().all(|error| {
                match unmatched.iter().position(|wanted| wanted.accepts(error)) {
                    Some(found) => {
                        unmatched.remove(found);
                        true
                    }
                    None => false,
                }
            })
        } else {
            errors
                .iter()
                .zip(expected)
                .all(|(error, wanted)| wanted.accepts(error))
        };
    (!fits).then(|| format!("wanted {wanted:?}, got {message:?}"))
}

/// One request breaking one constraint of each of up to ten top-level members (the front end
/// lists at most ten errors), or `None` when fewer than two members have a violation shown
/// exactly.
fn several_at_once(baseline: &Value, violations: &[Violation]) -> Option<(Value, Vec<Expected>)> {
    let mut request = baseline.clone();
    let mut errors = Vec::new();
    let mut members_broken = Vec::new();
    for violation in violations {
        if members_broken.len() == 10 {
            break;
        }
        let single_member = !violation.member.contains('.')
            && violation
                .errors
                .iter()
                .all(|error| error.is_exact() && error.path == violation.member)
            && !members_broken.contains(&violation.member);
        let Some((name, value)) = single_member
            .then(|| top_level_change(baseline, &violation.request))
            .flatten()
        else {
            continue;
        };
        match value {
            Some(value) => request[name.as_str()] = value,
            None => {
                request.as_object_mut().expect("a structure").remove(&name);
            }
        }
        members_broken.push(violation.member.clone());
        errors.extend(violation.errors.iter().cloned());
    }
    (members_broken.len() >= 2).then_some((request, errors))
}

/// The one top-level member `changed` differs from `baseline` in: its name and new value (`None`
/// when removed).
fn top_level_change(baseline: &Value, changed: &Value) -> Option<(String, Option<Value>)> {
    let (before, after) = (baseline.as_object()?, changed.as_object()?);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let differing: Vec<&String> = names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .collect();
    match differing.as_slice() {
        [name] => Some(((*name).clone(), after.get(*name).cloned())),
        _ => None,
    }
}

/// A body small enough to quote in a failure report.
fn quoted(request: &Value) -> String {
    let text = request.to_string();
    if text.len() <= 300 {
        text
    } else {
        format!(
            "{}... ({} bytes)",
            &text[..text.floor_char_boundary(300)],
            text.len()
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_model_constraint_is_enforced_with_the_kinesis_message() {
    let (model_path, model) = kinesis_model();
    let shapes = model["shapes"].as_object().expect("the model has shapes");
    let operations: BTreeMap<&String, &Value> = model["operations"]
        .as_object()
        .expect("the model has operations")
        .iter()
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let server = ServeProcess::start(dir.path(), &[]);
    let addr = server.addr;

    let mut failures = Vec::new();
    let mut unserved = Vec::new();
    let (mut served, mut violations_checked, mut combined_checked, mut allowed_checked) =
        (0, 0, 0, 0);
    for (name, operation) in operations {
        let input = operation["input"]["shape"]
            .as_str()
            .map(|input| &shapes[input]);
        let mut generator = Generator {
            shapes: Shapes(shapes),
            violations: Vec::new(),
            allowed: Vec::new(),
        };
        let baseline = input.map_or_else(|| json!({}), |input| generator.valid(input, 0));
        let answer = call_json(addr, name, &baseline.to_string()).await;
        let body = serde_json::from_slice::<Value>(&answer.body).unwrap_or(Value::Null);
        match body["__type"].as_str() {
            Some("UnknownOperationException") => {
                unserved.push(name.as_str());
                continue;
            }
            Some(kind @ ("ValidationException" | "SerializationException")) => failures.push(
                format!("{name} baseline {}: {kind} {body}", quoted(&baseline)),
            ),
            _ => {}
        }
        served += 1;
        if let Some(input) = input {
            generator.structure(&baseline, &Vec::new(), input);
        }
        for violation in &generator.violations {
            let answer = call_json(addr, name, &violation.request.to_string()).await;
            if let Some(problem) = mismatch(&answer, &violation.errors, false) {
                failures.push(format!(
                    "{name} {} {}: {problem}",
                    violation.what,
                    quoted(&violation.request)
                ));
            }
        }
        violations_checked += generator.violations.len();
        for allowed in &generator.allowed {
            let answer = call_json(addr, name, &allowed.request.to_string()).await;
            let body = serde_json::from_slice::<Value>(&answer.body).unwrap_or(Value::Null);
            if let Some(kind @ ("ValidationException" | "SerializationException")) =
                body["__type"].as_str()
            {
                failures.push(format!(
                    "{name} {} is allowed by the model, got {kind} {body}",
                    allowed.what
                ));
            }
        }
        allowed_checked += generator.allowed.len();
        if let Some((request, errors)) = several_at_once(&baseline, &generator.violations) {
            let answer = call_json(addr, name, &request.to_string()).await;
            if let Some(problem) = mismatch(&answer, &errors, true) {
                failures.push(format!(
                    "{name} several at once {}: {problem}",
                    quoted(&request)
                ));
            }
            combined_checked += 1;
        }
    }
    server.terminate();

    println!(
        "model {}: {served} operations served; checked {violations_checked} constraints one \
         at a time, {combined_checked} requests breaking several members, {allowed_checked} \
         values on allowed bounds; not served yet, skipped: {}",
        model_path.display(),
        if unserved.is_empty() {
            "none".to_owned()
        } else {
            unserved.join(", ")
        }
    );
    assert!(served > 0, "the server serves operations of the model");
    assert!(
        failures.is_empty(),
        "{} of the model's constraints are not enforced as Kinesis does:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
