//! Everything that can go wrong in an application, as data: a caller matches on the variant, and
//! each carries the context it needs (the application, the shard, the file).

use std::path::PathBuf;

use crate::sequence::SequenceNumber;
use crate::stream::{ShardId, StreamError};

/// What a [`RecordProcessor`](super::RecordProcessor) returns when it cannot handle a batch: any
/// error. The application stops and hands it back in [`ApplicationError::Processor`]; the records
/// after the last checkpoint are delivered again by the next run.
pub type ProcessorError = Box<dyn std::error::Error + Send + Sync>;

/// Why an application could not open, run or checkpoint.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplicationError {
    /// The application name breaks the naming rule (see [`ApplicationName`](super::ApplicationName)).
    #[error("invalid application name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Another instance of this application is open on this stream, in this process or another.
    #[error("application {application} is already open on stream {stream}")]
    InUse {
        /// The application.
        application: String,
        /// The stream.
        stream: String,
    },
    /// A checkpoint file does not read back as written (its checksum fails, or its content does
    /// not parse): the application refuses to guess where to resume. Remove the file to restart
    /// that shard from its oldest record, or restore it.
    #[error("checkpoint {path} is damaged: {reason}")]
    CorruptCheckpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        reason: String,
    },
    /// A checkpoint was asked for at a sequence number the processor cannot stand after: not a
    /// record of this shard delivered to it, or before the shard's last checkpoint.
    #[error("cannot checkpoint shard {shard} at {sequence_number}: {reason}")]
    InvalidCheckpoint {
        /// The shard.
        shard: ShardId,
        /// The sequence number asked for.
        sequence_number: SequenceNumber,
        /// Why not.
        reason: &'static str,
    },
    /// The stream is being deleted: the application ends, and its checkpoints go with the stream.
    #[error("stream {stream} is being deleted")]
    StreamDeleted {
        /// The stream.
        stream: String,
    },
    /// The record processor of `shard` failed; see `source`.
    #[error("the record processor of shard {shard} failed: {source}")]
    Processor {
        /// The shard.
        shard: ShardId,
        /// The processor's error.
        source: ProcessorError,
    },
    /// A worker thread panicked (in a record processor, most likely).
    #[error("worker thread {worker} panicked")]
    WorkerPanicked {
        /// The worker's number.
        worker: usize,
    },
    /// Reading or writing a checkpoint file failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Reading the stream failed.
    #[error(transparent)]
    Stream(#[from] StreamError),
}

impl ApplicationError {
    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> ApplicationError {
        ApplicationError::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
