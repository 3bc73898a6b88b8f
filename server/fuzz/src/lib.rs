//! The body of the server's fuzz target, `server_request_decode`.
//!
//! `fuzz_targets/server_request_decode.rs` is one line that hands libFuzzer's input to
//! [`server_request_decode`]. The server's `tests/fuzz_corpus_replay.rs` includes this very file
//! with `#[path]` and runs every file of `corpus/server_request_decode/` through [`Fixture::run`],
//! so a plain `cargo test` replays the corpus without libFuzzer. Hence this code may use only what
//! the server package depends on.
//!
//! An input is one selector byte and a request body. The selector's low bit picks the encoding
//! (JSON or CBOR), the rest picks one of the served operations or an unknown one. The body goes
//! through the steps the server's `execute` takes after HTTP and the signature check, with
//! the server's own functions: [`Operation::from_name`], [`Protocol::decode`] (which decodes the
//! body within its memory budget), [`Fields::new`] and [`Operation::run`], which reads, type-checks and validates every field and then calls the
//! engine. The engine is real: a small one over a temporary directory, holding one stream `s`
//! with two shards and a few records, reset after every call that may have changed it, so each
//! input meets the same state.
//!
//! The property: decoding and validating never panics and never allocates without bound (libFuzzer's
//! `-rss_limit_mb`/`-malloc_limit_mb` catch that); every answer is either a reply whose body
//! parses in the request's encoding, or an error with HTTP 400, a Kinesis exception name, and an
//! error body that parses and names it. A 500 (`InternalFailure`) would mean a healthy disk failed
//! or a request reached a state the server does not handle: a bug either way.
//!
//! Two placeholders let the fuzzer reach what it could not forge: a text value `$ITERATOR` becomes a
//! valid shard iterator (TRIM_HORIZON of shard 0) and `$SEQUENCE` the sequence number of the first
//! record, after decoding and before the operation runs. Everything else is the body as sent.

pub mod event_stream;

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::StatusCode;
use shardlog::engine::EngineLimits;
use shardlog::{Engine, EngineOptions, ManualClock};
use shardlog_server::error::ApiError;
use shardlog_server::ops::{Context, Operation, Reply};
use shardlog_server::protocol::{Fields, Node, Protocol};

/// Largest body fuzzed. Far above any valid body libFuzzer grows to, far below the server's
/// 16 MiB limit: what matters is that allocation stays proportional to the input.
pub const BODY_BYTES_MAX: usize = 1 << 20;

/// Every operation the server serves, by its `X-Amz-Target` name.
pub const OPERATIONS: [&str; 26] = [
    "CreateStream",
    "DeleteStream",
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "PutRecord",
    "PutRecords",
    "GetShardIterator",
    "GetRecords",
    "ListShards",
    "SplitShard",
    "MergeShards",
    "UpdateShardCount",
    "UpdateStreamMode",
    "IncreaseStreamRetentionPeriod",
    "DecreaseStreamRetentionPeriod",
    "AddTagsToStream",
    "RemoveTagsFromStream",
    "ListTagsForStream",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "DescribeLimits",
    "EnableEnhancedMonitoring",
    "DisableEnhancedMonitoring",
    "UpdateMaxRecordSize",
];

/// The operations that change nothing: after any other one succeeds, the fixture is rebuilt.
const READ_ONLY: [&str; 9] = [
    "DescribeStream",
    "DescribeStreamSummary",
    "ListStreams",
    "GetShardIterator",
    "GetRecords",
    "ListShards",
    "ListTagsForStream",
    "ListTagsForResource",
    "DescribeLimits",
];

/// The exception names a client error may carry: those of the Kinesis API the server implements.
pub const CLIENT_ERRORS: [&str; 11] = [
    "SerializationException",
    "UnknownOperationException",
    "ValidationException",
    "InvalidArgumentException",
    "ResourceNotFoundException",
    "ResourceInUseException",
    "LimitExceededException",
    "ExpiredIteratorException",
    "ExpiredNextTokenException",
    "ProvisionedThroughputExceededException",
    "AccessDeniedException",
];

/// The stream every input finds.
pub const STREAM: &str = "s";
/// Its ARN.
pub const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
/// The fixture's time at the start, Unix ms.
const START_MS: u64 = 1_764_000_000_000;

/// The selector byte for an operation (an index into [`OPERATIONS`], or its length for an
/// unknown operation) and an encoding.
pub fn selector(operation: usize, protocol: Protocol) -> u8 {
    let operation = u8::try_from(operation).expect("fewer than 128 operations");
    (operation << 1) | u8::from(protocol == Protocol::Cbor)
}

/// Runs one input through the process's fixture.
pub fn server_request_decode(data: &[u8]) {
    static FIXTURE: OnceLock<Mutex<Fixture>> = OnceLock::new();
    let fixture = FIXTURE.get_or_init(|| Mutex::new(Fixture::open(process_dir(), None)));
    // A panic while holding the lock ends the fuzzing process anyway.
    let mut fixture = fixture
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = fixture.run(data);
}

/// An engine holding the stream every input starts from.
pub struct Fixture {
    engine: Engine,
    clock: Arc<ManualClock>,
    /// A valid iterator token for shard 0 from TRIM_HORIZON (`$ITERATOR`).
    iterator: String,
    /// The sequence number of the first record (`$SEQUENCE`).
    sequence_number: String,
    /// Drops last: the engine's files live here (when the fixture owns its directory).
    _dir: Option<tempfile::TempDir>,
}

/// The scratch directories' parent: /dev/shm where there is one (fsync is then nearly free).
fn scratch_base() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_owned()
    } else {
        std::env::temp_dir()
    }
}

/// What a fuzzing process's directories are called, before the process id.
const PROCESS_DIR_PREFIX: &str = "shardlog-server-fuzz-";

/// The fuzzing process's fixture directory. The static fixture is never dropped, so its files
/// outlive the process; the directory is named after the process so that the next run removes
/// those of processes that have ended.
fn process_dir() -> PathBuf {
    let base = scratch_base();
    for entry in fs::read_dir(&base).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(PROCESS_DIR_PREFIX))
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
    let dir = base.join(format!("{PROCESS_DIR_PREFIX}{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("creating the fixture's directory");
    dir
}

impl Fixture {
    /// A new engine in a temporary directory (in /dev/shm where there is one), with small
    /// segments and small limits, so that no input can make it take much memory or disk.
    /// The directory is removed when the fixture is dropped.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir_in(scratch_base()).expect("a temporary directory");
        Fixture::open(dir.path().to_owned(), Some(dir))
    }

    /// A fixture in `path`, owning `dir` (which holds `path`) if given.
    fn open(path: PathBuf, dir: Option<tempfile::TempDir>) -> Fixture {
        let clock = Arc::new(ManualClock::new(START_MS));
        let options = EngineOptions {
            segment_bytes: 1 << 20,
            clock: Arc::clone(&clock) as Arc<dyn shardlog::Clock>,
            limits: EngineLimits {
                max_streams: 3,
                max_on_demand_streams: 2,
                max_shards_per_stream: 8,
                max_open_shards: 12,
                // The fixture's clock stands still: keep every reshard reachable.
                shard_count_updates_per_day: None,
                mode_switches_per_day: None,
            },
            maintenance_interval: None,
            ..EngineOptions::default()
        };
        let engine = Engine::open(&path, options).expect("the fixture's engine opens");
        let mut fixture = Fixture {
            engine,
            clock,
            iterator: String::new(),
            sequence_number: String::new(),
            _dir: dir,
        };
        fixture.populate();
        fixture
    }

    /// Runs one input; panics if the answer breaks the property. Returns the exception name of a
    /// (well-formed) error answer, so that seeds can be checked to be accepted requests.
    pub fn run(&mut self, data: &[u8]) -> Result<(), &'static str> {
        let Some((&selector, body)) = data.split_first() else {
            return Ok(());
        };
        if body.len() > BODY_BYTES_MAX {
            return Ok(());
        }
        let protocol = if selector & 1 == 0 {
            Protocol::Json
        } else {
            Protocol::Cbor
        };
        let name = OPERATIONS
            .get(usize::from(selector >> 1) % (OPERATIONS.len() + 1))
            .copied()
            .unwrap_or("NoSuchOperation");
        match self.call(protocol, name, body) {
            Ok(reply) => {
                if !reply.body.is_empty() {
                    assert!(
                        protocol.decode(&reply.body).is_ok(),
                        "{name}: the reply does not parse as {protocol:?}: {:?}",
                        String::from_utf8_lossy(&reply.body)
                    );
                }
                if !READ_ONLY.contains(&name) {
                    self.reset();
                }
                Ok(())
            }
            Err(error) => {
                check_error(protocol, name, &error);
                Err(error.kind)
            }
        }
    }

    /// What the server's `execute` does with a body once HTTP has delivered it, through the same
    /// functions: operation name, body syntax, then the operation's own reading, validation and
    /// work.
    /// (The signature check before decoding needs headers; it is fuzzed by nothing here.)
    fn call(&self, protocol: Protocol, name: &str, body: &[u8]) -> Result<Reply, ApiError> {
        let operation = Operation::from_name(name)
            .ok_or_else(|| ApiError::bare("UnknownOperationException"))?;
        let mut tree = protocol.decode(body)?;
        substitute(&mut tree, &self.iterator, &self.sequence_number);
        let context = Context {
            engine: &self.engine,
            protocol,
            default_max_record_size_kib: None,
        };
        operation.run(&context, Fields::new(&tree, protocol))
    }

    /// A call the fixture itself makes, which must succeed; the reply as JSON.
    fn setup(&self, name: &str, body: serde_json::Value) -> serde_json::Value {
        let body = body.to_string();
        let reply = self
            .call(Protocol::Json, name, body.as_bytes())
            .unwrap_or_else(|error| panic!("fixture: {name} {body} failed: {error:?}"));
        if reply.body.is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_slice(&reply.body).expect("fixture: a JSON reply")
    }

    /// Creates stream `s` (two shards, retention 48 h, a tag) with three records.
    fn populate(&mut self) {
        use serde_json::json;
        self.setup(
            "CreateStream",
            json!({"StreamName": STREAM, "ShardCount": 2}),
        );
        self.setup(
            "IncreaseStreamRetentionPeriod",
            json!({"StreamName": STREAM, "RetentionPeriodHours": 48}),
        );
        self.setup(
            "AddTagsToStream",
            json!({"StreamName": STREAM, "Tags": {"team": "a"}}),
        );
        let put = self.setup(
            "PutRecords",
            json!({"StreamName": STREAM, "Records": [
                {"PartitionKey": "a", "Data": "aGk=", "ExplicitHashKey": "0"},
                {"PartitionKey": "b", "Data": "", "ExplicitHashKey": "1"},
                {"PartitionKey": "c", "Data": "AAEC"},
            ]}),
        );
        self.sequence_number = put["Records"][0]["SequenceNumber"]
            .as_str()
            .expect("fixture: a sequence number")
            .to_owned();
        let iterator = self.setup(
            "GetShardIterator",
            json!({"StreamName": STREAM, "ShardId": "shardId-000000000000",
                   "ShardIteratorType": "TRIM_HORIZON"}),
        );
        self.iterator = iterator["ShardIterator"]
            .as_str()
            .expect("fixture: an iterator")
            .to_owned();
    }

    /// Deletes every stream and builds `s` again, a second later (so its shards are new ones).
    fn reset(&mut self) {
        let names = self.engine.list_streams(None, 100).names;
        for name in names {
            self.engine
                .delete_stream(name.as_str())
                .expect("fixture: a stream deletes");
        }
        self.clock.advance_ms(1000);
        self.populate();
    }
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

/// An error must be a client error of the Kinesis API, and encode into a body that says so.
fn check_error(protocol: Protocol, name: &str, error: &ApiError) {
    assert_eq!(
        error.status,
        StatusCode::BAD_REQUEST,
        "{name}: bad input must be a client error: {error:?}"
    );
    assert!(
        CLIENT_ERRORS.contains(&error.kind),
        "{name}: not a Kinesis client exception: {error:?}"
    );
    // Only an unparseable body and an unknown operation get no message, as from Kinesis.
    let bare = matches!(
        error.kind,
        "SerializationException" | "UnknownOperationException"
    );
    assert!(
        bare || error
            .message
            .as_deref()
            .is_some_and(|text| !text.is_empty()),
        "{name}: {} without a message",
        error.kind
    );
    let body = protocol.error_body(error);
    let tree = protocol
        .decode(&body)
        .unwrap_or_else(|_| panic!("{name}: the error body does not parse: {body:?}"));
    let fields = Fields::new(&tree, protocol);
    assert_eq!(
        fields.string("__type").ok().flatten(),
        Some(error.kind),
        "{name}: the error body does not name the exception"
    );
}

/// Replaces the placeholders `$ITERATOR` and `$SEQUENCE` wherever they are a whole text value.
fn substitute(node: &mut Node<'_>, iterator: &str, sequence_number: &str) {
    match node {
        Node::Text(text) if text == "$ITERATOR" => *text = Cow::Owned(iterator.to_owned()),
        Node::Text(text) if text == "$SEQUENCE" => *text = Cow::Owned(sequence_number.to_owned()),
        Node::List(items) => items
            .iter_mut()
            .for_each(|item| substitute(item, iterator, sequence_number)),
        Node::Map(entries) => entries
            .iter_mut()
            .for_each(|(_, value)| substitute(value, iterator, sequence_number)),
        _ => {}
    }
}

/// The seed corpus: a valid request of every operation, each in JSON and in CBOR, and one
/// unknown operation. Each seed is `(file name, input)`.
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (operation, body) in seed_bodies() {
        let index = OPERATIONS
            .iter()
            .position(|name| *name == operation)
            .unwrap_or(OPERATIONS.len());
        let variant = seeds
            .iter()
            .filter(|(name, _): &&(String, Vec<u8>)| {
                name.starts_with(&format!("seed-{operation}-json"))
            })
            .count();
        let suffix = if variant == 0 {
            String::new()
        } else {
            format!("-{variant}")
        };
        let mut json = vec![selector(index, Protocol::Json)];
        json.extend_from_slice(body.to_string().as_bytes());
        seeds.push((format!("seed-{operation}-json{suffix}"), json));
        let mut cbor = vec![selector(index, Protocol::Cbor)];
        ciborium::ser::into_writer(&to_cbor(None, &body), &mut cbor)
            .expect("writing CBOR to a Vec cannot fail");
        seeds.push((format!("seed-{operation}-cbor{suffix}"), cbor));
    }
    seeds
}

/// Valid request bodies against the fixture, as JSON.
pub fn seed_bodies() -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::json;
    let shard0 = "shardId-000000000000";
    let shard1 = "shardId-000000000001";
    vec![
        (
            "CreateStream",
            json!({"StreamName": "t", "ShardCount": 1, "Tags": {"k": "v"}}),
        ),
        (
            "CreateStream",
            json!({"StreamName": "u", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}, "MaxRecordSizeInKiB": 2048}),
        ),
        (
            "DeleteStream",
            json!({"StreamName": STREAM, "EnforceConsumerDeletion": true}),
        ),
        (
            "DescribeStream",
            json!({"StreamName": STREAM, "Limit": 1, "ExclusiveStartShardId": shard0}),
        ),
        ("DescribeStreamSummary", json!({"StreamARN": STREAM_ARN})),
        (
            "ListStreams",
            json!({"Limit": 10, "ExclusiveStartStreamName": "a"}),
        ),
        (
            "PutRecord",
            json!({"StreamName": STREAM, "PartitionKey": "k", "Data": "aGVsbG8=", "SequenceNumberForOrdering": "$SEQUENCE"}),
        ),
        (
            "PutRecords",
            json!({"StreamARN": STREAM_ARN, "Records": [
            {"PartitionKey": "k", "Data": "aGk="},
            {"PartitionKey": "j", "Data": "", "ExplicitHashKey": "340282366920938463463374607431768211455"}]}),
        ),
        (
            "GetShardIterator",
            json!({"StreamName": STREAM, "ShardId": shard0, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "$SEQUENCE"}),
        ),
        (
            "GetShardIterator",
            json!({"StreamARN": STREAM_ARN, "ShardId": shard1, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 1_764_000_000.5}),
        ),
        (
            "GetRecords",
            json!({"ShardIterator": "$ITERATOR", "Limit": 2}),
        ),
        (
            "ListShards",
            json!({"StreamName": STREAM, "MaxResults": 1, "ShardFilter": {"Type": "AT_TRIM_HORIZON"}}),
        ),
        (
            "SplitShard",
            json!({"StreamName": STREAM, "ShardToSplit": shard0, "NewStartingHashKey": "1000"}),
        ),
        (
            "MergeShards",
            json!({"StreamName": STREAM, "ShardToMerge": shard0, "AdjacentShardToMerge": shard1}),
        ),
        (
            "UpdateShardCount",
            json!({"StreamName": STREAM, "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}),
        ),
        (
            "UpdateStreamMode",
            json!({"StreamARN": STREAM_ARN, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
        ),
        (
            "IncreaseStreamRetentionPeriod",
            json!({"StreamName": STREAM, "RetentionPeriodHours": 72}),
        ),
        (
            "DecreaseStreamRetentionPeriod",
            json!({"StreamName": STREAM, "RetentionPeriodHours": 24}),
        ),
        (
            "AddTagsToStream",
            json!({"StreamName": STREAM, "Tags": {"a": "b", "c": ""}}),
        ),
        (
            "RemoveTagsFromStream",
            json!({"StreamName": STREAM, "TagKeys": ["team"]}),
        ),
        (
            "ListTagsForStream",
            json!({"StreamName": STREAM, "Limit": 1}),
        ),
        (
            "TagResource",
            json!({"ResourceARN": STREAM_ARN, "Tags": {"a": "b"}}),
        ),
        (
            "UntagResource",
            json!({"ResourceARN": STREAM_ARN, "TagKeys": ["team"]}),
        ),
        ("ListTagsForResource", json!({"ResourceARN": STREAM_ARN})),
        ("DescribeLimits", json!({})),
        (
            "EnableEnhancedMonitoring",
            json!({"StreamName": STREAM, "ShardLevelMetrics": ["IncomingBytes", "ALL"]}),
        ),
        (
            "DisableEnhancedMonitoring",
            json!({"StreamName": STREAM, "ShardLevelMetrics": ["ALL"]}),
        ),
        (
            "UpdateMaxRecordSize",
            json!({"StreamARN": STREAM_ARN, "MaxRecordSizeInKiB": 2048}),
        ),
        ("NoSuchOperation", json!({"StreamName": STREAM})),
    ]
}

/// The CBOR form of a JSON body, as the SDKs send it: `Data` blobs as byte strings, timestamps as
/// tag 1 around integer milliseconds.
fn to_cbor(key: Option<&str>, value: &serde_json::Value) -> ciborium::Value {
    use ciborium::Value;
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(value) => Value::Bool(*value),
        serde_json::Value::Number(number) => {
            if matches!(key, Some("Timestamp" | "StreamCreationTimestamp")) {
                let ms = (number.as_f64().unwrap_or_default() * 1000.0).round() as u64;
                Value::Tag(1, Box::new(Value::Integer(ms.into())))
            } else if let Some(integer) = number.as_i64() {
                Value::Integer(integer.into())
            } else {
                Value::Float(number.as_f64().unwrap_or_default())
            }
        }
        serde_json::Value::String(text) if key == Some("Data") => {
            Value::Bytes(BASE64.decode(text).expect("seed data is base64"))
        }
        serde_json::Value::String(text) => Value::Text(text.clone()),
        serde_json::Value::Array(items) => {
            Value::Array(items.iter().map(|item| to_cbor(None, item)).collect())
        }
        serde_json::Value::Object(entries) => Value::Map(
            entries
                .iter()
                .map(|(name, value)| (Value::Text(name.clone()), to_cbor(Some(name), value)))
                .collect(),
        ),
    }
}
