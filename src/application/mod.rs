//! Applications: reading a whole stream the way the Kinesis Client Library (KCL) does, with
//! checkpoints kept in the data directory instead of a DynamoDB lease table.
//!
//! Kinesis calls the names registered for enhanced fan-out *consumers* ([`crate::stream::consumers`]);
//! KCL calls the program that reads a whole stream under a name, and whose progress that name
//! keeps, an *application* (its `applicationName`). This module is the latter, hence its name: an
//! [`Application`] is a name, a stream, a [`RecordProcessor`] per shard and a checkpoint per shard.
//!
//! ```no_run
//! use shardlog::application::{Application, ApplicationOptions, Batch, Checkpointer, RecordProcessor};
//! use shardlog::application::ProcessorError;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let engine = shardlog::Engine::open("data", Default::default())?;
//! struct Printer;
//! impl RecordProcessor for Printer {
//!     fn process(&mut self, batch: Batch<'_>, _: &mut Checkpointer<'_>) -> Result<(), ProcessorError> {
//!         for record in batch.records {
//!             println!("{} {}", batch.shard_id, record.partition_key());
//!         }
//!         Ok(()) // then the application checkpoints after the batch (the default policy)
//!     }
//! }
//! let stream = engine.stream("orders")?;
//! let application = Application::open(&stream, "printer", ApplicationOptions::default())?;
//! let running = application.start(|_shard| Printer)?;
//! // ... until the program should stop:
//! running.stop()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Delivery promise
//!
//! - **At least once from the last checkpoint.** Every record that has not expired is delivered,
//!   and after a restart (clean, or after a crash or `kill -9` at any moment) delivery resumes
//!   right after the shard's last checkpoint: nothing up to it is delivered again, nothing after it
//!   is skipped. Records delivered but not checkpointed when the application stopped or crashed
//!   (for example between [`RecordProcessor::process`] returning and the checkpoint being
//!   written) are delivered again: processing should be idempotent, or checkpoint in the same
//!   transaction as its effect.
//! - **Order.** Within a shard, records come in sequence-number order, each batch after the
//!   previous. Across splits and merges (the shard's *lineage*), a child shard is started only when
//!   every parent is *drained*: read to its end, [`RecordProcessor::shard_ended`] returned `Ok`,
//!   and the end checkpointed (a parent retention has forgotten counts as drained: all of its
//!   records had expired). So the records of one partition key are delivered in the order they
//!   were written, even when a reshard moved the key to another shard.
//! - **Shard end.** When a closed shard is read to its end, [`RecordProcessor::shard_ended`] is
//!   called once, and the application then checkpoints the end whatever the policy: from then on
//!   every record of the shard counts as handled, and its children start.
//! - **Expiry.** A record that expires (passes the stream's retention period) before the
//!   application reads it is skipped, not delivered; delivery continues at the oldest record still
//!   kept. A checkpoint whose record expired resumes there too.
//! - **Where reading starts.** A shard with no checkpoint is read from its oldest record kept
//!   (`TRIM_HORIZON`), for the stream's first shards as for children.
//! - **Checkpoints** are durable when [`Checkpointer::checkpoint`] returns: written beside, fsynced,
//!   renamed over the previous one, directory fsynced, so a crash or a power loss leaves the old or
//!   the new one, never neither. A checkpoint file that does not read back as written is refused
//!   ([`ApplicationError::CorruptCheckpoint`]), never guessed around. They live in the stream's
//!   directory (`streams/<stream>/applications/<application>/`), so they go with it: a stream
//!   deleted and created again under the same name starts with no checkpoint. See `checkpoints.rs`.
//! - **One instance.** An application is open at most once per stream at a time (a lock file;
//!   [`ApplicationError::InUse`]), so two instances never deliver the same records side by side.
//!
//! # Checkpointing
//!
//! [`CheckpointPolicy::AfterEachBatch`] (the default) checkpoints after every batch the processor
//! returned `Ok` for. [`CheckpointPolicy::Manual`] leaves it to the processor: call
//! [`Checkpointer::checkpoint`] (at the last record delivered) or [`Checkpointer::checkpoint_at`]
//! (at a given record) when records are safely handled, for instance every N batches to spare
//! fsyncs, and in [`RecordProcessor::stopping`] when the application stops.
//!
//! # Threads
//!
//! [`Application::start`] reads with [`ApplicationOptions::workers`] threads: each ready shard is
//! leased to the worker holding the fewest, so a shard is read by one thread at a time and
//! shards spread evenly; a shard that becomes ready (its parents drained) is leased at once.
//! [`Application::process_available`] instead reads in the caller's thread until no ready shard
//! has a record (for batch jobs and tests). Appends wake a waiting worker directly (see
//! `worker.rs` for the one case that waits on a timer).
//!
//! # Layering
//!
//! Applications sit on top of [`Stream`]: they read through [`Stream::reader`] like any library
//! user, so they count as GetRecords calls in the metrics and, on an engine that enforces Kinesis'
//! limits, are throttled like one (they back off and retry). Neither the stream nor the engine
//! knows about applications; the stream's directory is only where their files live.

mod checkpoints;
mod error;
mod lineage;
mod name;
mod processor;
mod worker;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use self::checkpoints::ShardProgress;
pub use self::error::{ApplicationError, ProcessorError};
pub use self::name::{APPLICATION_NAME_CHARS_MAX, ApplicationName};
pub use self::processor::{Batch, Checkpointer, RecordProcessor};

use self::checkpoints::CheckpointDir;
use self::worker::Coordinator;
use crate::stream::{ShardId, Stream, StreamStatus};

/// Most worker threads an application runs.
pub const WORKERS_MAX: usize = 256;
/// Most records one batch hands a processor (GetRecords' own limit).
pub const BATCH_RECORDS_MAX: usize = 10_000;

/// When checkpoints are written; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckpointPolicy {
    /// After each batch the processor returned `Ok` for.
    #[default]
    AfterEachBatch,
    /// Only when the processor calls its [`Checkpointer`] (and at each shard's end).
    Manual,
}

/// How an application reads.
#[derive(Debug, Clone)]
pub struct ApplicationOptions {
    /// Worker threads of [`Application::start`], 1 to [`WORKERS_MAX`] (default 1).
    pub workers: usize,
    /// When checkpoints are written (default: after each batch).
    pub checkpoint_policy: CheckpointPolicy,
    /// Most records in one batch, 1 to [`BATCH_RECORDS_MAX`] (default 10 000).
    pub batch_records_max: usize,
    /// Longest a worker waits on one of its shards before trying its others and looking for newly
    /// ready shards (default 10 ms). An append to the shard waited on, a new ready shard and a stop
    /// all end the wait at once; only a worker holding several shards can leave a record waiting
    /// this long.
    pub idle_wait: Duration,
}

impl Default for ApplicationOptions {
    fn default() -> ApplicationOptions {
        ApplicationOptions {
            workers: 1,
            checkpoint_policy: CheckpointPolicy::AfterEachBatch,
            batch_records_max: BATCH_RECORDS_MAX,
            idle_wait: Duration::from_millis(10),
        }
    }
}

/// An application open on a stream: its checkpoints loaded and its directory locked. Read with
/// [`Application::start`] (worker threads) or [`Application::process_available`] (this thread).
pub struct Application {
    coordinator: Arc<Coordinator>,
    workers: usize,
}

impl Application {
    /// Opens application `name` on `stream`: creates its checkpoint directory if needed, locks it
    /// ([`ApplicationError::InUse`] if another instance holds it), and loads its checkpoints
    /// ([`ApplicationError::CorruptCheckpoint`] if one is damaged). Option values outside their
    /// ranges are brought into them.
    pub fn open(
        stream: &Arc<Stream>,
        name: &str,
        options: ApplicationOptions,
    ) -> Result<Application, ApplicationError> {
        let name = ApplicationName::new(name)?;
        // A handle of a deleted stream: its directory is gone, or another stream's by now.
        if stream.status() == StreamStatus::Deleting {
            return Err(ApplicationError::StreamDeleted {
                stream: stream.name().to_string(),
            });
        }
        let meta = stream.meta();
        let store = CheckpointDir::open(
            stream.file_system(),
            stream.dir(),
            meta.name.as_str(),
            meta.created_ms,
            &name,
        )?;
        let listed = meta
            .shards
            .iter()
            .map(|shard| (shard.index, shard.identity()))
            .collect();
        let progress = store.load(&listed)?;
        let workers = options.workers.clamp(1, WORKERS_MAX);
        Ok(Application {
            coordinator: Arc::new(Coordinator::new(
                Arc::clone(stream),
                store,
                progress,
                options.checkpoint_policy,
                options.batch_records_max.clamp(1, BATCH_RECORDS_MAX),
                options.idle_wait,
                workers,
            )),
            workers,
        })
    }

    /// Reads in this thread until no shard the application may read has a record ready, and
    /// returns how many records were delivered. Processors are made with `make_processor` for each
    /// shard read, and told [`RecordProcessor::stopping`] before this returns.
    pub fn process_available<P, F>(&mut self, make_processor: F) -> Result<u64, ApplicationError>
    where
        P: RecordProcessor,
        F: Fn(ShardId) -> P,
    {
        self.coordinator.clear_stop();
        self.coordinator.run_worker(0, true, &make_processor)
    }

    /// Starts the worker threads. They read until [`RunningApplication::stop`] (or an error, which
    /// stops them all; `stop` returns it).
    pub fn start<P, F>(self, make_processor: F) -> Result<RunningApplication, ApplicationError>
    where
        P: RecordProcessor + 'static,
        F: Fn(ShardId) -> P + Send + Sync + 'static,
    {
        let make_processor = Arc::new(make_processor);
        let mut threads = Vec::with_capacity(self.workers);
        for worker in 0..self.workers {
            let coordinator = Arc::clone(&self.coordinator);
            let make_processor = Arc::clone(&make_processor);
            let spawned = std::thread::Builder::new()
                .name(format!("shardlog-application-{worker}"))
                .spawn(move || coordinator.run_worker(worker, false, &*make_processor));
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(error) => {
                    let running = RunningApplication {
                        coordinator: Arc::clone(&self.coordinator),
                        threads,
                    };
                    let _ = running.stop();
                    return Err(ApplicationError::io("starting a worker thread", "", error));
                }
            }
        }
        Ok(RunningApplication {
            coordinator: self.coordinator,
            threads,
        })
    }
}

/// The worker threads of a started application. Dropping it stops them too, but throws their
/// outcome away.
pub struct RunningApplication {
    coordinator: Arc<Coordinator>,
    threads: Vec<JoinHandle<Result<u64, ApplicationError>>>,
}

impl RunningApplication {
    /// Whether the workers have stopped by themselves: a processor or a read failed (`stop`
    /// returns why), or the stream was deleted.
    pub fn has_failed(&self) -> bool {
        self.threads.iter().any(JoinHandle::is_finished)
    }

    /// Stops the workers (each finishes the batch in hand, then its processors are told
    /// [`RecordProcessor::stopping`]) and waits for them. Returns how many records they delivered,
    /// or the first error any worker stopped with.
    pub fn stop(mut self) -> Result<u64, ApplicationError> {
        self.join()
    }

    fn join(&mut self) -> Result<u64, ApplicationError> {
        self.coordinator.request_stop();
        let mut delivered = 0;
        let mut first_error = None;
        for (worker, thread) in self.threads.drain(..).enumerate() {
            match thread.join() {
                Ok(Ok(count)) => delivered += count,
                Ok(Err(error)) => {
                    first_error.get_or_insert(error);
                }
                Err(_panic) => {
                    first_error.get_or_insert(ApplicationError::WorkerPanicked { worker });
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(delivered),
        }
    }
}

impl Drop for RunningApplication {
    fn drop(&mut self) {
        let _ = self.join();
    }
}
