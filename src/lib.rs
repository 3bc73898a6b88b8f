//! # shardlog
//!
//! An embeddable storage engine that does what Amazon Kinesis Data Streams does, inside one process:
//! records from many producers are kept in order per shard for a retention period, and many
//! consumers can read and re-read them.
//!
//! This crate's foundation is the [`ShardLog`]: one shard's append-only log of memory-mapped,
//! preallocated, checksummed segment files, with Kinesis-style [`SequenceNumber`]s, a sparse index
//! for seeking by sequence number or arrival time, three documented [`Durability`] modes, crash
//! recovery that keeps an exact prefix of the log, and a retention operation.
//!
//! ```
//! use shardlog::{LogOptions, RecordInput, SeekTo, ShardIdentity, ShardLog};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let shard = ShardIdentity { index: 0, created_secs: 1_700_000_000 };
//! let options = LogOptions::new(shard).segment_bytes(4 << 20);
//! let (log, _report) = ShardLog::open(dir.path(), options)?;
//!
//! let first = log.append(RecordInput::new("user-1", b"hello"))?;
//! log.append(RecordInput::new("user-2", b"world"))?;
//!
//! let mut reader = log.reader(SeekTo::AtSequence(first))?;
//! let records = reader.next_batch(100)?;
//! assert_eq!(records.len(), 2);
//! assert_eq!(&records[0].data()[..], b"hello");
//! assert_eq!(records[1].partition_key(), "user-2");
//! # Ok(())
//! # }
//! ```
//!
//! See `ARCHITECTURE.md` for the map of the code and `docs/FORMAT.md` for the on-disk format and
//! the crash-safety argument.

// Library code decodes bytes from disk: every access is bounds-checked and nothing unwraps.
#![warn(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

pub mod application;
mod checksummed_text;
pub mod clock;
pub mod engine;
mod error;
pub mod file_system;
mod hex;
pub mod log;
mod record;
pub mod sequence;
pub mod stream;

pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::engine::{CreateStream, Engine, EngineOptions, StreamList};
pub use crate::error::{LogError, LogResult};
pub use crate::file_system::{FaultyFileSystem, FileSystem, OsFileSystem};
pub use crate::log::{
    Durability, LogOptions, LogPosition, LogReader, RecoveryReport, RetentionReport, SeekTo,
    ShardLog, Truncation,
};
pub use crate::record::{Record, RecordInput};
pub use crate::sequence::{SequenceNumber, SequenceNumberError, ShardIdentity};
pub use crate::stream::{
    GetRecordsOutput, PutRecordInput, PutRecordOutput, PutRecordsOutput, PutRecordsResult,
    RecordBatch, ShardDescription, ShardId, ShardReader, StartingPosition, Stream,
    StreamDescription, StreamError, StreamMode, StreamName, StreamResult, StreamStatus,
};
