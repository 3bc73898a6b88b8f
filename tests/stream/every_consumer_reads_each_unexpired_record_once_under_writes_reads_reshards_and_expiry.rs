//! Concurrency stress: everything at once on one PROVISIONED stream, against a manual clock that
//! runs about 36 000 times faster than real time.
//!
//! - 3 writer threads put records (alternating `put_record` and `put_records` batches of up to 4
//!   entries with distinct keys), each under 4 partition keys of its own;
//! - 8 consumers, on every iterator type: TRIM_HORIZON (two through tokens, one through the typed
//!   reader), LATEST (typed reader), AT_TIMESTAMP, AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER
//!   (tokens), half starting at once and half a third of the way in. Each follows the lineage as
//!   Kinesis asks: a child shard (from `ChildShards`) is read only once every parent it shares with
//!   the consumer's shards has been read to its end. A consumer on tokens renews an expired
//!   iterator after the last record it read (AFTER_SEQUENCE_NUMBER), or at its starting position;
//! - a resharder (splits, merges, UpdateShardCount, one every ~20 ms);
//! - a maintenance thread running `Engine::run_maintenance` (retention deletes segments and forgets
//!   expired closed shards) without pause;
//! - the clock advanced by an hour every 100 ms, and the retention period raised to 48 hours and
//!   lowered back to 24 every second.
//!
//! What "unexpired" means here: the trim horizon is `now − retention`, which only moves forward
//! (a retention rise keeps expired records expired). A consumer may skip a record only because it
//! had expired when the consumer read on past it, and may never read one that had expired before
//! the read began. So each read is stamped with the horizon before and after it, and a record the
//! consumer never read is owed unless it may have arrived before the horizon after the consumer's
//! next read in that shard (or, if there was none, the horizon at the end). A record's arrival is
//! bracketed by the clock before and after its put (arrivals are `max(clock, previous arrival in
//! the shard)`, never above the clock), so a record is owed when the clock *before* its put was at
//! or after that bound.
//!
//! At the end, for every consumer: no record is read twice; every record read was acknowledged,
//! intact, and within the consumer's reach (the shards it started on, positioned as asked, and their
//! descendants); every owed record within reach is read; and each key's records come in the order
//! they were put.
//!
//! The load runs for 12 s by default (about 20 s in all in a debug build on 2 cores). Set
//! `SHARDLOG_STRESS_SECS` to run it longer, for example `SHARDLOG_STRESS_SECS=600 cargo test
//! --release --test stream every_consumer_reads_each_unexpired_record_once_under_writes_reads_reshards_and_expiry`.
//! Writers are paced (at most 2 000 puts a second each), so memory grows with the run's length,
//! not with the machine's speed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::engine::open_shards_by_start;
use crate::support::engine::{HOUR_MS, clock, open, options, payload};
use shardlog::stream::ShardMeta;
use shardlog::{
    Clock, CreateStream, Engine, ManualClock, PutRecordInput, PutRecordsResult, Record,
    SequenceNumber, ShardId, ShardReader, StartingPosition, Stream, StreamError,
};

const WRITERS: u8 = 3;
/// Each writer's pace at most (a put is 1–4 records): about what a debug build manages anyway,
/// so that a long release run keeps its bookkeeping (every put and every read) in memory.
const PUT_EVERY: Duration = Duration::from_micros(500);
const KEYS_PER_WRITER: u64 = 4;
const LOAD_SECS_DEFAULT: u64 = 12;
const CLOCK_STEP_MS: u64 = HOUR_MS;
const CLOCK_STEP_EVERY: Duration = Duration::from_millis(100);
const RETENTION_TOGGLE_EVERY_STEPS: u64 = 10;
const RESHARD_EVERY: Duration = Duration::from_millis(20);
const OPEN_SHARDS_MAX: usize = 6;
const BATCH_LIMIT: usize = 200;
/// A hang guard only: the consumers' final drain must end well before this, after the load.
const DRAIN_DEADLINE: Duration = Duration::from_secs(300);

/// Every shard ever listed: index → (parent, adjacent parent).
type Lineage = BTreeMap<u32, (Option<u32>, Option<u32>)>;

/// An acknowledged put.
#[derive(Clone, Debug)]
struct Acked {
    writer: u8,
    /// The writer's running number for this record.
    n: u64,
    shard: u32,
    sequence_number: SequenceNumber,
    /// The clock just before the put was called and just after it returned.
    clock_before_ms: u64,
    clock_after_ms: u64,
    /// A global event count just before the put was called and just after it returned, to order
    /// puts against the creation of LATEST readers.
    event_before: u64,
    event_after: u64,
}

fn key(writer: u8, n: u64) -> String {
    format!("w{writer}-k{}", n % KEYS_PER_WRITER)
}

/// The writer and running number, then bytes derived from them.
fn data(writer: u8, n: u64) -> Vec<u8> {
    let mut data = vec![writer];
    data.extend_from_slice(&n.to_be_bytes());
    data.extend(payload(n * 7 + u64::from(writer), (n as usize * 31) % 300));
    data
}

/// The writer and number a record names, after checking its data and key are intact.
fn identity(record: &Record) -> (u8, u64) {
    let data = record.data();
    let writer = data[0];
    let n = u64::from_be_bytes(data[1..9].try_into().unwrap());
    assert!(
        data[..] == self::data(writer, n)[..],
        "record {writer}/{n} is damaged"
    );
    assert_eq!(record.partition_key(), key(writer, n));
    (writer, n)
}

/// What every thread shares.
struct Shared {
    engine: Engine,
    stream: Arc<Stream>,
    clock: Arc<ManualClock>,
    /// Writers, resharder, clock, maintenance: stop making changes.
    stop: AtomicBool,
    /// They all have stopped: consumers read what is left and finish.
    stopped: AtomicBool,
    events: AtomicU64,
    acked: Mutex<Vec<Acked>>,
    lineage: Mutex<Lineage>,
}

impl Shared {
    fn note_lineage(&self) {
        let meta = self.stream.meta();
        let mut lineage = self.lineage.lock().unwrap();
        for shard in meta.shards {
            lineage.insert(shard.index, (shard.parent, shard.adjacent_parent));
        }
    }
}

fn writer(shared: &Shared, writer: u8) -> u64 {
    let mut n = 0u64;
    let mut puts = 0u64;
    let started = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        // Paced, so a long run holds a bounded number of records per second in memory.
        let due = started + PUT_EVERY * u32::try_from(puts).unwrap_or(u32::MAX);
        if let Some(ahead) = due.checked_duration_since(Instant::now()) {
            thread::sleep(ahead);
        }
        let batch = 1 + (puts % 4);
        let numbers: Vec<u64> = (n..n + batch).collect();
        let keys: Vec<String> = numbers.iter().map(|&n| key(writer, n)).collect();
        let datas: Vec<Vec<u8>> = numbers.iter().map(|&n| data(writer, n)).collect();
        let inputs: Vec<PutRecordInput<'_>> = keys
            .iter()
            .zip(&datas)
            .map(|(key, data)| PutRecordInput::new(key, data))
            .collect();
        let event_before = shared.events.fetch_add(1, Ordering::SeqCst);
        let clock_before_ms = shared.clock.now_ms();
        let outputs = if puts.is_multiple_of(2) {
            let output = shared
                .stream
                .put_record(inputs[0])
                .unwrap_or_else(|error| panic!("writer {writer}: put_record: {error}"));
            vec![output]
        } else {
            let output = shared
                .stream
                .put_records(&inputs)
                .unwrap_or_else(|error| panic!("writer {writer}: put_records: {error}"));
            output
                .records
                .into_iter()
                .map(|result| match result {
                    PutRecordsResult::Success(output) => output,
                    PutRecordsResult::Failure(error_message) => {
                        panic!("writer {writer}: an entry failed: {error_message}")
                    }
                })
                .collect()
        };
        let clock_after_ms = shared.clock.now_ms();
        let event_after = shared.events.fetch_add(1, Ordering::SeqCst);
        let mut acked = shared.acked.lock().unwrap();
        for (output, &number) in outputs.iter().zip(&numbers) {
            acked.push(Acked {
                writer,
                n: number,
                shard: output.shard_id.index(),
                sequence_number: output.sequence_number,
                clock_before_ms,
                clock_after_ms,
                event_before,
                event_after,
            });
        }
        n += outputs.len() as u64;
        puts += 1;
    }
    n
}

/// Splits, merges and re-tiles in turn until told to stop; returns how many reshards it made.
fn resharder(shared: &Shared) -> usize {
    let stream = &shared.stream;
    let mut reshards = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        thread::sleep(RESHARD_EVERY);
        let open = open_shards_by_start(stream);
        let width = |shard: &ShardMeta| shard.hash_key_range.ending - shard.hash_key_range.starting;
        let outcome = match reshards % 3 {
            0 if open.len() < OPEN_SHARDS_MAX => {
                let widest = open.iter().max_by_key(|shard| width(shard)).unwrap();
                let range = widest.hash_key_range;
                let at = range.starting + (range.ending - range.starting) / 3;
                stream.split_shard(&widest.id().to_string(), &at.to_string())
            }
            1 if open.len() > 1 => {
                let pair = open
                    .windows(2)
                    .min_by_key(|pair| width(&pair[0]) / 2 + width(&pair[1]) / 2)
                    .unwrap();
                stream.merge_shards(&pair[0].id().to_string(), &pair[1].id().to_string())
            }
            _ => {
                let target = 2 + (reshards as u32 / 3) % 4;
                let target = target.clamp(open.len().div_ceil(2) as u32, 2 * open.len() as u32);
                stream.update_shard_count(target).map(|_| ())
            }
        };
        outcome.unwrap_or_else(|error| panic!("reshard {reshards}: {error}"));
        shared.note_lineage();
        reshards += 1;
    }
    reshards
}

/// Advances the clock and moves the retention period; returns the hours advanced.
fn clock_mover(shared: &Shared) -> u64 {
    let mut steps = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        thread::sleep(CLOCK_STEP_EVERY);
        shared.clock.advance_ms(CLOCK_STEP_MS);
        steps += 1;
        if steps % RETENTION_TOGGLE_EVERY_STEPS == 0 {
            let horizon_before = shared.stream.trim_horizon_ms();
            if (steps / RETENTION_TOGGLE_EVERY_STEPS) % 2 == 1 {
                shared.stream.increase_retention_period(48).unwrap();
            } else {
                shared.stream.decrease_retention_period(24).unwrap();
            }
            assert!(
                shared.stream.trim_horizon_ms() >= horizon_before,
                "a retention change moved the trim horizon back"
            );
        }
    }
    steps
}

/// Where a consumer starts.
#[derive(Clone, Copy, Debug)]
enum Start {
    TrimHorizon,
    Latest,
    AtTimestamp(u64),
    AtSequence(u32, SequenceNumber),
    AfterSequence(u32, SequenceNumber),
}

/// How a consumer reads a shard.
enum Cursor {
    Typed(ShardReader),
    Token(String),
}

/// A shard being read.
struct Active {
    cursor: Cursor,
    /// Where the consumer started in this shard: an expired token is renewed here if nothing
    /// was read yet.
    position: StartingPosition,
    /// The last record read.
    last: Option<SequenceNumber>,
}

/// What one poll of a shard came to.
enum Polled {
    Batch(shardlog::RecordBatch),
    Expired,
    Forgotten,
}

/// One record a consumer read.
#[derive(Clone, Copy)]
struct Read {
    shard: u32,
    sequence_number: SequenceNumber,
    writer: u8,
    n: u64,
    arrival_ms: u64,
    /// The trim horizon before the read: the record arrived at or after it.
    trim_before_ms: u64,
    /// The trim horizon after the read, at or above the one it used: no record that arrived at or
    /// after it can have been skipped as expired up to here.
    trim_after_ms: u64,
}

/// What one consumer did.
struct Consumed {
    start: Start,
    /// The shards it started on.
    start_shards: BTreeSet<u32>,
    /// Event counts around the creation of its readers (for LATEST).
    events_around_start: (u64, u64),
    /// (shard, sequence number, writer, n) in the order read.
    read: Vec<Read>,
    renewals: usize,
    /// (records read so far, what happened), for a failure to tell.
    history: Vec<(usize, String)>,
}

struct Consumer<'a> {
    shared: &'a Shared,
    typed: bool,
    start: Start,
    start_shards: BTreeSet<u32>,
    active: BTreeMap<u32, Active>,
    done: BTreeSet<u32>,
    read: Vec<Read>,
    renewals: usize,
    /// Shards started or finished so far: a pass that changes nothing is quiet.
    changes: usize,
    history: Vec<(usize, String)>,
}

impl<'a> Consumer<'a> {
    fn new(shared: &'a Shared, typed: bool, start: Start) -> (Consumer<'a>, (u64, u64)) {
        let meta = shared.stream.meta();
        let listed: BTreeSet<u32> = meta.shards.iter().map(|shard| shard.index).collect();
        let start_shards: BTreeSet<u32> = match start {
            Start::AtSequence(shard, _) | Start::AfterSequence(shard, _) => [shard].into(),
            _ => meta
                .shards
                .iter()
                .filter(|shard| {
                    [shard.parent, shard.adjacent_parent]
                        .into_iter()
                        .flatten()
                        .all(|parent| !listed.contains(&parent))
                })
                .map(|shard| shard.index)
                .collect(),
        };
        let mut consumer = Consumer {
            shared,
            typed,
            start,
            start_shards: start_shards.clone(),
            active: BTreeMap::new(),
            done: BTreeSet::new(),
            read: Vec::new(),
            renewals: 0,
            changes: 0,
            history: Vec::new(),
        };
        let before = shared.events.fetch_add(1, Ordering::SeqCst);
        for index in start_shards {
            let position = match start {
                Start::TrimHorizon => StartingPosition::TrimHorizon,
                Start::Latest => StartingPosition::Latest,
                Start::AtTimestamp(ms) => StartingPosition::AtTimestamp(ms),
                Start::AtSequence(_, number) => StartingPosition::AtSequenceNumber(number),
                Start::AfterSequence(_, number) => StartingPosition::AfterSequenceNumber(number),
            };
            consumer.activate(index, position, None);
        }
        let after = shared.events.fetch_add(1, Ordering::SeqCst);
        (consumer, (before, after))
    }

    /// Starts reading shard `index` at `position`, or just after `last` if a record was read
    /// there already; a shard already forgotten (all of it expired) is done.
    fn activate(&mut self, index: u32, position: StartingPosition, last: Option<SequenceNumber>) {
        self.changes += 1;
        let id = ShardId::new(index);
        let stream = &self.shared.stream;
        let at = last.map_or(position, StartingPosition::AfterSequenceNumber);
        let cursor = if self.typed {
            stream.reader(id, at).map(Cursor::Typed)
        } else {
            stream.shard_iterator(id, at).map(Cursor::Token)
        };
        self.history.push((
            self.read.len(),
            format!(
                "activate {index} at {at:?}: {}",
                if cursor.is_ok() { "ok" } else { "gone" }
            ),
        ));
        match cursor {
            Ok(cursor) => {
                self.active.insert(
                    index,
                    Active {
                        cursor,
                        position,
                        last,
                    },
                );
            }
            Err(StreamError::ResourceNotFound { .. }) => self.finish(index),
            Err(error) => panic!("reading shard {index} at {at:?}: {error}"),
        }
    }

    /// Shard `index` is read to its end (or was forgotten): start the children whose parents within
    /// reach are all done.
    fn finish(&mut self, index: u32) {
        self.history
            .push((self.read.len(), format!("finish {index}")));
        self.changes += 1;
        self.active.remove(&index);
        self.done.insert(index);
        // Children from the catalog, and from the lineage noted so far for those already forgotten
        // (whose own children must still be found).
        let meta = self.shared.stream.meta();
        let listed: BTreeSet<u32> = meta.shards.iter().map(|shard| shard.index).collect();
        let mut lineage = self.shared.lineage.lock().unwrap().clone();
        for shard in &meta.shards {
            lineage.insert(shard.index, (shard.parent, shard.adjacent_parent));
        }
        let children: Vec<(u32, Option<u32>, Option<u32>)> = lineage
            .iter()
            .filter(|(_, (parent, adjacent))| *parent == Some(index) || *adjacent == Some(index))
            .map(|(&child, &(parent, adjacent))| (child, parent, adjacent))
            .collect();
        for (child, parent, adjacent) in children {
            if self.active.contains_key(&child) || self.done.contains(&child) {
                continue;
            }
            // A parent outside the consumer's reach does not hold it up; a forgotten one held only
            // expired records.
            let reach = reach(&lineage, &self.start_shards);
            let ready = [parent, adjacent].into_iter().flatten().all(|parent| {
                self.done.contains(&parent) || !listed.contains(&parent) || !reach.contains(&parent)
            });
            if ready {
                self.activate(child, StartingPosition::TrimHorizon, None);
            }
        }
    }

    /// One batch from every active shard; returns how many records came.
    fn poll(&mut self) -> usize {
        let mut count = 0;
        let indexes: Vec<u32> = self.active.keys().copied().collect();
        for index in indexes {
            let Some(active) = self.active.get_mut(&index) else {
                continue; // finished while a parent finished
            };
            let trim_before_ms = self.shared.stream.trim_horizon_ms();
            let polled = match &mut active.cursor {
                Cursor::Typed(reader) => match reader.next_batch(BATCH_LIMIT) {
                    Ok(batch) => Polled::Batch(batch),
                    Err(StreamError::ResourceNotFound { .. }) => Polled::Forgotten,
                    Err(error) => panic!("reading shard {index}: {error}"),
                },
                Cursor::Token(token) => match self.shared.engine.get_records(token, BATCH_LIMIT) {
                    Ok(output) => {
                        if let Some(next) = output.next_shard_iterator {
                            *token = next;
                        }
                        Polled::Batch(output.batch)
                    }
                    Err(StreamError::ExpiredIterator { .. }) => Polled::Expired,
                    // A shard that expired and was forgotten while the token was fresh.
                    Err(StreamError::ResourceNotFound { .. }) => Polled::Forgotten,
                    Err(error) => panic!("reading shard {index}: {error}"),
                },
            };
            match polled {
                Polled::Batch(batch) => {
                    count += batch.records.len();
                    let trim_after_ms = self.shared.stream.trim_horizon_ms();
                    for record in &batch.records {
                        let (writer, n) = identity(record);
                        self.read.push(Read {
                            shard: index,
                            sequence_number: record.sequence_number(),
                            writer,
                            n,
                            arrival_ms: record.arrival_ms(),
                            trim_before_ms,
                            trim_after_ms,
                        });
                        active.last = Some(record.sequence_number());
                    }
                    if batch.child_shards.is_some() {
                        self.finish(index);
                    }
                }
                Polled::Expired => {
                    let (position, last) = (active.position, active.last);
                    self.renewals += 1;
                    self.active.remove(&index);
                    self.activate(index, position, last);
                }
                Polled::Forgotten => self.finish(index),
            }
        }
        count
    }

    fn into_consumed(self, events_around_start: (u64, u64)) -> Consumed {
        Consumed {
            start: self.start,
            start_shards: self.start_shards,
            events_around_start,
            read: self.read,
            renewals: self.renewals,
            history: self.history,
        }
    }
}

/// Runs a consumer until the load has stopped and a whole pass brought nothing new; a hang guard
/// fails it at `deadline`.
fn consume(shared: &Shared, typed: bool, start: Start, deadline: Instant) -> Consumed {
    let (mut consumer, events) = Consumer::new(shared, typed, start);
    let mut quiet_passes_after_stop = 0;
    while quiet_passes_after_stop < 2 {
        let stopped = shared.stopped.load(Ordering::SeqCst);
        let changes_before = consumer.changes;
        let count = consumer.poll();
        let quiet = count == 0 && consumer.changes == changes_before;
        quiet_passes_after_stop = if stopped && quiet {
            quiet_passes_after_stop + 1
        } else {
            0
        };
        if count == 0 && !stopped {
            thread::sleep(Duration::from_millis(2));
        }
        assert!(
            Instant::now() < deadline,
            "a consumer ({start:?}) did not finish"
        );
    }
    consumer.into_consumed(events)
}

/// The shards of `lineage` that are one of `roots` or descend from one. A child's index is always
/// above its parents' (indexes are handed out in order), so one pass in index order suffices.
fn reach(lineage: &Lineage, roots: &BTreeSet<u32>) -> BTreeSet<u32> {
    let mut reach = roots.clone();
    for (&index, &(parent, adjacent)) in lineage {
        if [parent, adjacent]
            .into_iter()
            .flatten()
            .any(|parent| reach.contains(&parent))
        {
            reach.insert(index);
        }
    }
    reach
}

/// Whether consumer `consumed` must read `record` (`Some(true)`), must not (`Some(false)`), or
/// may (`None`), leaving expiry aside.
fn owed(consumed: &Consumed, reach: &BTreeSet<u32>, record: &Acked) -> Option<bool> {
    if !reach.contains(&record.shard) {
        return Some(false);
    }
    if !consumed.start_shards.contains(&record.shard) {
        return Some(true); // descendants are read from their beginning
    }
    match consumed.start {
        Start::TrimHorizon => Some(true),
        Start::Latest => {
            let (before, after) = consumed.events_around_start;
            if record.event_after < before {
                Some(false)
            } else if record.event_before > after {
                Some(true)
            } else {
                None
            }
        }
        Start::AtTimestamp(ms) => {
            if record.clock_after_ms < ms {
                Some(false)
            } else if record.clock_before_ms >= ms {
                Some(true)
            } else {
                None
            }
        }
        Start::AtSequence(_, number) => Some(record.sequence_number >= number),
        Start::AfterSequence(_, number) => Some(record.sequence_number > number),
    }
}

fn load_duration() -> Duration {
    let secs = std::env::var("SHARDLOG_STRESS_SECS")
        .ok()
        .map(|text| {
            text.parse()
                .expect("SHARDLOG_STRESS_SECS is a number of seconds")
        })
        .unwrap_or(LOAD_SECS_DEFAULT);
    Duration::from_secs(secs)
}

#[test]
fn every_consumer_reads_each_unexpired_record_once_under_writes_reads_reshards_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut options = options(&clock);
    // The resharder calls UpdateShardCount about 13 times per clock day.
    options.limits.shard_count_updates_per_day = None;
    let engine = open(dir.path(), &options);
    let stream = engine
        .create_stream(CreateStream::provisioned("stressed", 2))
        .unwrap();
    let shared = Shared {
        engine,
        stream,
        clock,
        stop: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
        events: AtomicU64::new(0),
        acked: Mutex::new(Vec::new()),
        lineage: Mutex::new(BTreeMap::new()),
    };
    shared.note_lineage();
    let load = load_duration();
    let deadline = Instant::now() + load + DRAIN_DEADLINE;

    let (written, reshards, hours, maintenance_passes, consumed) = thread::scope(|scope| {
        let shared = &shared;
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| scope.spawn(move || writer(shared, w)))
            .collect();
        let resharder = scope.spawn(move || resharder(shared));
        let clock_mover = scope.spawn(move || clock_mover(shared));
        let maintenance = scope.spawn(move || {
            let mut passes = 0u64;
            while !shared.stop.load(Ordering::Relaxed) {
                shared.engine.run_maintenance().unwrap();
                passes += 1;
                thread::sleep(Duration::from_millis(1));
            }
            passes
        });
        let early: Vec<_> = [
            (false, Start::TrimHorizon),
            (true, Start::TrimHorizon),
            (true, Start::Latest),
            (false, Start::AtTimestamp(shared.clock.now_ms())),
        ]
        .into_iter()
        .map(|(typed, start)| scope.spawn(move || consume(shared, typed, start, deadline)))
        .collect();
        thread::sleep(load / 3);
        let late_timestamp = shared.clock.now_ms() - 2 * HOUR_MS;
        let (at, after) = {
            let acked = shared.acked.lock().unwrap();
            let at = &acked[acked.len() / 2];
            let after = &acked[acked.len() - 1];
            (
                Start::AtSequence(at.shard, at.sequence_number),
                Start::AfterSequence(after.shard, after.sequence_number),
            )
        };
        let late: Vec<_> = [
            (false, Start::TrimHorizon),
            (false, Start::AtTimestamp(late_timestamp)),
            (false, at),
            (false, after),
        ]
        .into_iter()
        .map(|(typed, start)| scope.spawn(move || consume(shared, typed, start, deadline)))
        .collect();
        thread::sleep(load - load / 3);
        shared.stop.store(true, Ordering::SeqCst);
        let written: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
        let reshards = resharder.join().unwrap();
        let hours = clock_mover.join().unwrap();
        let maintenance_passes = maintenance.join().unwrap();
        shared.note_lineage();
        shared.stopped.store(true, Ordering::SeqCst);
        let consumed: Vec<Consumed> = early
            .into_iter()
            .chain(late)
            .map(|consumer| consumer.join().unwrap())
            .collect();
        (written, reshards, hours, maintenance_passes, consumed)
    });

    // The open shards tile the hash keys.
    let mut expected_start = Some(0u128);
    for shard in open_shards_by_start(&shared.stream) {
        assert_eq!(Some(shard.hash_key_range.starting), expected_start);
        expected_start = shard.hash_key_range.ending.checked_add(1);
    }
    assert_eq!(expected_start, None, "the open shards stop short");

    let acked = shared.acked.lock().unwrap();
    let lineage = shared.lineage.lock().unwrap();
    let trim_end_ms = shared.stream.trim_horizon_ms();
    assert_eq!(acked.len() as u64, written);
    let by_position: HashMap<(u32, SequenceNumber), &Acked> = acked
        .iter()
        .map(|record| ((record.shard, record.sequence_number), record))
        .collect();
    assert_eq!(by_position.len(), acked.len(), "two puts got one position");
    let mut owed_total = 0;
    let mut read_total = 0;
    let mut renewals = 0;
    for consumed in &consumed {
        let context = format!(
            "consumer {:?} on {:?}",
            consumed.start, consumed.start_shards
        );
        let reach = reach(&lineage, &consumed.start_shards);
        let mut seen = BTreeSet::new();
        let mut last_n_by_key: HashMap<String, u64> = HashMap::new();
        for (position, read) in consumed.read.iter().enumerate() {
            let &Read {
                shard,
                sequence_number: number,
                writer,
                n,
                arrival_ms,
                trim_before_ms,
                ..
            } = read;
            assert!(
                seen.insert((shard, number)),
                "{context}: record {writer}/{n} read twice"
            );
            assert!(
                arrival_ms >= trim_before_ms,
                "{context}: record {writer}/{n} in shard {shard} had expired before it was read"
            );
            let record = by_position.get(&(shard, number)).unwrap_or_else(|| {
                panic!("{context}: read record {writer}/{n} at {shard}/{number}, never acknowledged there")
            });
            assert_eq!(
                (record.writer, record.n),
                (writer, n),
                "{context}: the record at {shard}/{number}"
            );
            assert_ne!(
                owed(consumed, &reach, record),
                Some(false),
                "{context}: read {writer}/{n} in shard {shard}, outside its reach"
            );
            let key = key(writer, n);
            if let Some(&previous) = last_n_by_key.get(&key) {
                assert!(
                    previous < n,
                    "{context}: key {key} read {previous} then {n} (read {position}, shard \
                     {shard}); lineage {lineage:?}; history {:?}",
                    consumed.history
                );
            }
            last_n_by_key.insert(key, n);
        }
        // Per shard, the reads in order: a record the consumer passed over is owed unless the
        // horizon when it read on past it (or at the end) could have been above its arrival.
        let mut reads_by_shard: HashMap<u32, Vec<&Read>> = HashMap::new();
        for read in &consumed.read {
            reads_by_shard.entry(read.shard).or_default().push(read);
        }
        let mut missing = Vec::new();
        for record in acked.iter() {
            let reads = reads_by_shard
                .get(&record.shard)
                .map_or(&[][..], Vec::as_slice);
            let next = reads.partition_point(|read| read.sequence_number <= record.sequence_number);
            let trim_bound_ms = reads
                .get(next)
                .map_or(trim_end_ms, |read| read.trim_after_ms);
            let unexpired = record.clock_before_ms >= trim_bound_ms;
            if unexpired && owed(consumed, &reach, record) == Some(true) {
                owed_total += 1;
                if !seen.contains(&(record.shard, record.sequence_number)) {
                    missing.push(format!(
                        "{}/{} in shard {}",
                        record.writer, record.n, record.shard
                    ));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{context}: {} owed records not read, first {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        read_total += consumed.read.len();
        renewals += consumed.renewals;
    }
    assert!(written >= 1_000, "only {written} records written");
    assert!(reshards >= 10, "only {reshards} reshards");
    assert!(
        owed_total >= 1_000,
        "only {owed_total} records owed to consumers"
    );
    println!(
        "{written} records put, {reshards} reshards, {hours} clock hours, {maintenance_passes} \
         maintenance passes; {} consumers read {read_total} records, {owed_total} of them owed \
         (unexpired and within reach) and all read; {renewals} expired iterators renewed",
        consumed.len()
    );
}
