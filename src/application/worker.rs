//! Reading: the leases of ready shards, handed out over the worker threads, and the step that
//! reads one batch of one shard, hands it to its processor and checkpoints.
//!
//! The [`Coordinator`] keeps which shards are ended and which are leased, under one lock. Whenever
//! a worker looks (at start, and each time the generation moves on), every ready shard nobody
//! holds is assigned to the worker holding the fewest leases, into that worker's inbox, and the
//! others are woken to take theirs up: shards spread evenly, and none waits for its worker to
//! look by chance. Each lease is read by its one worker only, so a shard's batches are handed over
//! in order and its checkpoint file has one writer. When a lease ends (its shard's end is
//! checkpointed, or retention forgot it), the generation moves on and every waiting worker is
//! woken to look for shards that became ready.
//!
//! Waiting: a worker with nothing to read waits on one of its shards' append notification (an
//! append wakes it at once), for at most `idle_wait` before trying its other shards; a log cannot
//! be waited on together with another, so with several shards per worker a record in a shard not
//! being waited on can wait up to `idle_wait` (one shard per worker never waits on a timer).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::checkpoints::{CheckpointDir, ShardProgress};
use super::lineage::ready_shards;
use super::processor::{Batch, Checkpointer, RecordProcessor};
use super::{ApplicationError, CheckpointPolicy};
use crate::sequence::{SequenceNumber, ShardIdentity};
use crate::stream::{
    Shard, ShardId, ShardMeta, ShardReader, StartingPosition, Stream, StreamError, StreamStatus,
};

/// How long a worker leaves a shard alone after a read was throttled (only PROVISIONED streams of
/// an engine that enforces Kinesis' limits throttle: 5 reads a second per shard).
const THROTTLED_WAIT: Duration = Duration::from_millis(200);

/// What every worker of one application shares.
pub(crate) struct Coordinator {
    pub(crate) stream: Arc<Stream>,
    pub(crate) store: CheckpointDir,
    pub(crate) policy: CheckpointPolicy,
    pub(crate) batch_records_max: usize,
    pub(crate) idle_wait: Duration,
    state: Mutex<State>,
    /// Signalled with `generation` and `stop`, for workers that hold no lease.
    changed: Condvar,
    /// Moves on whenever a lease ends: workers look for newly ready shards.
    generation: AtomicU64,
    stop: AtomicBool,
}

struct State {
    /// The checkpoints in force: loaded at open, then updated as leases end.
    progress: BTreeMap<u32, ShardProgress>,
    /// The last record delivered in each shard by a lease that ended before the shard did (the
    /// same instance, reading again, continues after it rather than after the checkpoint).
    delivered: BTreeMap<u32, SequenceNumber>,
    /// Shards leased to a worker now (opened, or waiting in its inbox). Invariant: a shard is
    /// leased to at most one worker.
    leased: BTreeSet<u32>,
    /// Shards assigned to each worker that it has not taken up yet.
    inbox: Vec<Vec<ShardMeta>>,
    /// Leases per worker, for spreading them.
    leases_per_worker: Vec<usize>,
}

/// One shard being read by one worker.
pub(crate) struct Lease<P> {
    shard: Arc<Shard>,
    identity: ShardIdentity,
    reader: ShardReader,
    processor: P,
    /// The last record handed to the processor.
    delivered: Option<SequenceNumber>,
    /// The last checkpoint in force.
    checkpointed: Option<SequenceNumber>,
    throttled_until: Option<Instant>,
}

/// What one step of a lease did.
enum Step {
    /// A batch was delivered.
    Delivered(usize),
    /// Nothing to read now.
    Idle,
    /// The lease is over, after delivering this many records: the shard's end is checkpointed,
    /// or retention forgot the shard.
    Over(usize),
}

impl Coordinator {
    pub(crate) fn new(
        stream: Arc<Stream>,
        store: CheckpointDir,
        progress: BTreeMap<u32, ShardProgress>,
        policy: CheckpointPolicy,
        batch_records_max: usize,
        idle_wait: Duration,
        workers: usize,
    ) -> Coordinator {
        Coordinator {
            stream,
            store,
            policy,
            batch_records_max,
            idle_wait,
            state: Mutex::new(State {
                progress,
                delivered: BTreeMap::new(),
                leased: BTreeSet::new(),
                inbox: vec![Vec::new(); workers],
                leases_per_worker: vec![0; workers],
            }),
            changed: Condvar::new(),
            generation: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    /// Asks every worker to stop, and wakes them.
    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake_all();
    }

    /// Clears a stop left by a failed run, for a new run in the caller's thread (no worker
    /// threads exist then: `Application::start` consumes the application).
    pub(crate) fn clear_stop(&self) {
        self.stop.store(false, Ordering::Release);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn wake_all(&self) {
        {
            let _state = self.state.lock();
            self.changed.notify_all();
        }
        for shard in self.stream.shards() {
            shard.log().wake_readers();
        }
    }

    /// Assigns every ready shard nobody holds to the worker holding the fewest leases (with
    /// `greedy`, to `worker`: a single caller reading everything), wakes the others if any went to
    /// them, and opens the leases waiting in `worker`'s inbox.
    fn claim<P, F>(
        &self,
        worker: usize,
        greedy: bool,
        leases: &mut Vec<Lease<P>>,
        make_processor: &F,
    ) -> Result<(), ApplicationError>
    where
        F: Fn(ShardId) -> P,
    {
        let listed: Vec<ShardMeta> = self
            .stream
            .shards()
            .iter()
            .map(|shard| shard.meta())
            .collect();
        let (mine, assigned_to_others) = {
            let mut state = self.state.lock();
            let state = &mut *state;
            let unassigned: Vec<ShardMeta> = ready_shards(&listed, &state.progress)
                .filter(|shard| !state.leased.contains(&shard.index))
                .cloned()
                .collect();
            let mut assigned_to_others = false;
            for meta in unassigned {
                let target = if greedy {
                    worker
                } else {
                    (0..state.leases_per_worker.len())
                        .min_by_key(|&candidate| state.leases_per_worker.get(candidate))
                        .unwrap_or(worker)
                };
                assigned_to_others |= target != worker;
                state.leased.insert(meta.index);
                if let Some(count) = state.leases_per_worker.get_mut(target) {
                    *count += 1;
                }
                if let Some(inbox) = state.inbox.get_mut(target) {
                    inbox.push(meta);
                }
            }
            let mine: Vec<(ShardMeta, Option<SequenceNumber>, Option<SequenceNumber>)> = state
                .inbox
                .get_mut(worker)
                .map(std::mem::take)
                .unwrap_or_default()
                .into_iter()
                .map(|meta| {
                    let checkpointed = match state.progress.get(&meta.index) {
                        Some(ShardProgress::After(number)) => Some(*number),
                        Some(ShardProgress::Ended) | None => None,
                    };
                    let delivered = state.delivered.get(&meta.index).copied();
                    (meta, checkpointed, delivered)
                })
                .collect();
            (mine, assigned_to_others)
        };
        if assigned_to_others {
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.wake_all();
        }
        let mut mine = mine.into_iter();
        while let Some((meta, checkpointed, delivered)) = mine.next() {
            let position = match delivered.or(checkpointed) {
                Some(number) => StartingPosition::AfterSequenceNumber(number),
                None => StartingPosition::TrimHorizon,
            };
            let opened = self.stream.shard(meta.id()).and_then(|shard| {
                let reader = self.stream.reader(meta.id(), position)?;
                Ok((shard, reader))
            });
            match opened {
                Ok((shard, reader)) => leases.push(Lease {
                    identity: meta.identity(),
                    shard,
                    reader,
                    processor: make_processor(meta.id()),
                    delivered,
                    checkpointed,
                    throttled_until: None,
                }),
                Err(error) => {
                    if let Err(error) = self.check_read_error(&meta, error) {
                        // The application fails: the shards not taken up go back.
                        self.release(worker, meta.index, None, delivered);
                        for (meta, _, delivered) in mine {
                            self.release(worker, meta.index, None, delivered);
                        }
                        return Err(error);
                    }
                    // Retention forgot it since it was listed: nothing is left to deliver.
                    self.release(worker, meta.index, Some(ShardProgress::Ended), None);
                }
            }
        }
        Ok(())
    }

    /// Ends `worker`'s lease of `index`, whose checkpoint in force is now `progress` and whose
    /// last record delivered is `delivered`: the next lease of the shard continues after it.
    fn release(
        &self,
        worker: usize,
        index: u32,
        progress: Option<ShardProgress>,
        delivered: Option<SequenceNumber>,
    ) {
        {
            let mut state = self.state.lock();
            match delivered {
                Some(delivered) => state.delivered.insert(index, delivered),
                None => state.delivered.remove(&index),
            };
            state.leased.remove(&index);
            if let Some(count) = state.leases_per_worker.get_mut(worker) {
                *count = count.saturating_sub(1);
            }
            if let Some(progress) = progress {
                state.progress.insert(index, progress);
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.wake_all();
    }

    /// `Ok` if reading `shard` failed because retention forgot it (the lease is over, nothing is
    /// left to deliver); the error to stop with otherwise.
    fn check_read_error(
        &self,
        shard: &ShardMeta,
        error: StreamError,
    ) -> Result<(), ApplicationError> {
        if self.stream.status() == StreamStatus::Deleting {
            return Err(ApplicationError::StreamDeleted {
                stream: self.stream.name().to_string(),
            });
        }
        let still_listed = self
            .stream
            .shard(shard.id())
            .is_ok_and(|listed| listed.meta().identity() == shard.identity());
        match error {
            StreamError::ResourceNotFound { .. } if !still_listed => Ok(()),
            error => Err(error.into()),
        }
    }

    /// Reads one batch of `lease`, hands it over, and checkpoints as the policy says.
    fn step<P: RecordProcessor>(&self, lease: &mut Lease<P>) -> Result<Step, ApplicationError> {
        if lease
            .throttled_until
            .is_some_and(|until| Instant::now() < until)
        {
            return Ok(Step::Idle);
        }
        let meta = lease.shard.meta();
        let batch = match lease.reader.next_batch(self.batch_records_max) {
            Ok(batch) => batch,
            Err(StreamError::ProvisionedThroughputExceeded { .. }) => {
                lease.throttled_until = Some(Instant::now() + THROTTLED_WAIT);
                return Ok(Step::Idle);
            }
            Err(error) => {
                self.check_read_error(&meta, error)?;
                return Ok(Step::Over(0));
            }
        };
        let shard_id = meta.id();
        let delivered = batch.records.len();
        if let Some(last) = batch.records.last() {
            lease.delivered = Some(last.sequence_number());
            let mut checkpointer =
                self.checkpointer(lease.identity, lease.delivered, &mut lease.checkpointed);
            lease
                .processor
                .process(
                    Batch {
                        shard_id,
                        records: &batch.records,
                        millis_behind_latest: batch.millis_behind_latest,
                    },
                    &mut checkpointer,
                )
                .map_err(|source| ApplicationError::Processor {
                    shard: shard_id,
                    source,
                })?;
            if self.policy == CheckpointPolicy::AfterEachBatch {
                checkpointer.checkpoint()?;
            }
        }
        if batch.child_shards.is_some() {
            let mut checkpointer =
                self.checkpointer(lease.identity, lease.delivered, &mut lease.checkpointed);
            lease
                .processor
                .shard_ended(shard_id, &mut checkpointer)
                .map_err(|source| ApplicationError::Processor {
                    shard: shard_id,
                    source,
                })?;
            checkpointer.store(ShardProgress::Ended)?;
            return Ok(Step::Over(delivered));
        }
        Ok(if delivered > 0 {
            Step::Delivered(delivered)
        } else {
            Step::Idle
        })
    }

    fn checkpointer<'a>(
        &'a self,
        shard: ShardIdentity,
        delivered: Option<SequenceNumber>,
        checkpointed: &'a mut Option<SequenceNumber>,
    ) -> Checkpointer<'a> {
        Checkpointer {
            stream: &self.stream,
            store: &self.store,
            shard,
            delivered,
            checkpointed,
        }
    }

    /// Runs worker `worker` until a stop is requested or an error: claims ready shards, reads
    /// them in turn, waits when none has records. At a stop, each processor's `stopping` is
    /// called. With `until_idle`, also returns (after the same `stopping` calls) as soon as no
    /// shard it could read has records: the single-threaded `process_available`.
    /// Returns how many records it delivered.
    pub(crate) fn run_worker<P, F>(
        &self,
        worker: usize,
        until_idle: bool,
        make_processor: &F,
    ) -> Result<u64, ApplicationError>
    where
        P: RecordProcessor,
        F: Fn(ShardId) -> P,
    {
        let mut leases: Vec<Lease<P>> = Vec::new();
        // A processor that panics must not leave its shards leased to nobody: the leases go back
        // below, then the panic goes on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.work(worker, until_idle, make_processor, &mut leases)
        }));
        // Only stopping cleanly asks the processors, and keeps what they were handed as this
        // instance's position; after a failure, each shard resumes from its checkpoint.
        let stopped = match outcome {
            Ok(Ok(delivered)) => leases
                .iter_mut()
                .try_for_each(|lease| {
                    let shard_id = ShardId::new(lease.identity.index);
                    let mut checkpointer =
                        self.checkpointer(lease.identity, lease.delivered, &mut lease.checkpointed);
                    lease
                        .processor
                        .stopping(shard_id, &mut checkpointer)
                        .map_err(|source| ApplicationError::Processor {
                            shard: shard_id,
                            source,
                        })
                })
                .map(|()| delivered),
            Ok(Err(error)) => Err(error),
            Err(panic) => {
                self.release_all(worker, leases, false);
                self.request_stop();
                std::panic::resume_unwind(panic);
            }
        };
        self.release_all(worker, leases, stopped.is_ok());
        if stopped.is_err() {
            self.request_stop(); // the other workers stop too: the application failed
        }
        stopped
    }

    /// Gives `leases` back; with `keep_positions`, the shards' next leases continue after what
    /// these delivered, else after their checkpoints.
    fn release_all<P>(&self, worker: usize, leases: Vec<Lease<P>>, keep_positions: bool) {
        for lease in leases {
            let progress = lease.checkpointed.map(ShardProgress::After);
            let delivered = lease.delivered.filter(|_| keep_positions);
            self.release(worker, lease.identity.index, progress, delivered);
        }
    }

    fn work<P, F>(
        &self,
        worker: usize,
        until_idle: bool,
        make_processor: &F,
        leases: &mut Vec<Lease<P>>,
    ) -> Result<u64, ApplicationError>
    where
        P: RecordProcessor,
        F: Fn(ShardId) -> P,
    {
        let mut delivered_total = 0u64;
        let mut seen_generation = None;
        let mut next_to_wait_on = 0usize;
        while !self.stopping() {
            let generation = self.generation.load(Ordering::Acquire);
            if seen_generation != Some(generation) {
                seen_generation = Some(generation);
                self.claim(worker, until_idle, leases, make_processor)?;
            }
            let mut progressed = false;
            let mut position = 0;
            while let Some(lease) = leases.get_mut(position) {
                match self.step(lease)? {
                    Step::Delivered(count) => {
                        delivered_total += count as u64;
                        progressed = true;
                        position += 1;
                    }
                    Step::Idle => position += 1,
                    Step::Over(count) => {
                        delivered_total += count as u64;
                        let index = lease.identity.index;
                        leases.swap_remove(position);
                        self.release(worker, index, Some(ShardProgress::Ended), None);
                        progressed = true;
                    }
                }
                if self.stopping() {
                    break;
                }
            }
            let claims_waiting = seen_generation != Some(self.generation.load(Ordering::Acquire));
            if progressed || claims_waiting {
                continue;
            }
            if until_idle {
                break;
            }
            self.wait(leases, &mut next_to_wait_on, generation);
        }
        Ok(delivered_total)
    }

    /// Waits for records in one of `leases` (taking them in turn), a change of generation or a
    /// stop, for at most `idle_wait`.
    fn wait<P>(&self, leases: &[Lease<P>], next_to_wait_on: &mut usize, generation: u64) {
        let deadline = Instant::now() + self.idle_wait;
        let interrupted =
            || self.stopping() || self.generation.load(Ordering::Acquire) != generation;
        let Some(lease) = leases.get(*next_to_wait_on % leases.len().max(1)) else {
            let mut state = self.state.lock();
            if !interrupted() {
                self.changed.wait_until(&mut state, deadline);
            }
            return;
        };
        *next_to_wait_on = next_to_wait_on.wrapping_add(1);
        if let Some(until) = lease
            .throttled_until
            .filter(|until| Instant::now() < *until)
        {
            std::thread::sleep(
                until
                    .min(deadline)
                    .saturating_duration_since(Instant::now()),
            );
            return;
        }
        let shard = &lease.shard;
        lease
            .reader
            .wait_for_records_or(deadline, || interrupted() || shard.closed_secs().is_some());
    }
}
